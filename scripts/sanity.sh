#!/usr/bin/env bash
# ansible-test sanity on the collection as it ships (the artifact of galaxy.yml, unpacked in an
# ansible_collections/eole/hapy tree), offline but for PyPI: ansible-test's test environments are created with
# --venv and their pip bootstrapped by scripts/get_pip_offline.py instead of a download from ci-files.testing.ansible.com.
#   bash scripts/sanity.sh [ansible-test sanity options, e.g. --test pylint]
# The test environments are kept in .cache/ansible-test-home (a second run installs nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="$repo/.venv/bin:$PATH"
python=$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
home=$repo/.cache/ansible-test-home
pip_version=$(python3 -c 'from ansible_test._internal.python_requirements import get_venv_packages
from types import SimpleNamespace; print(get_venv_packages(SimpleNamespace(version="'"$python"'"))["pip"])')
mkdir -p "$home/.ansible/test/cache"
cp scripts/get_pip_offline.py "$home/.ansible/test/cache/get_pip_${pip_version//./_}.py"

work=$(mktemp -d -t hapy-sanity-XXXXXX)
trap 'rm -rf "$work"' EXIT
ansible-galaxy collection build --output-path "$work" . >/dev/null
mkdir -p "$work/ansible_collections/eole/hapy"
tar -xzf "$work"/eole-hapy-*.tar.gz -C "$work/ansible_collections/eole/hapy"
cd "$work/ansible_collections/eole/hapy"
HOME=$home ansible-test sanity --venv --python "$python" --color no "$@"
