"""Stand-in for pypa's get-pip.py, which ansible-test downloads from ci-files.testing.ansible.com to put pip into
each of its empty virtual environments (that host is not reachable here; PyPI is).

ansible-test runs it as ``python get_pip_<version>.py [pip options] pip==<version> [--no-setuptools] [--no-wheel]``;
this bootstraps pip with the interpreter's own ensurepip, then lets that pip install the requested pip from PyPI.
scripts/sanity.sh puts it where ansible-test looks for a cached copy (~/.ansible/test/cache/).
"""

import subprocess
import sys

GET_PIP_OPTIONS = ("--no-setuptools", "--no-wheel")  # get-pip.py's own options, not pip's

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                       *(arg for arg in sys.argv[1:] if arg not in GET_PIP_OPTIONS)])
