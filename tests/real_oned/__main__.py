"""Serve a real oned behind the counting proxy until SIGTERM/SIGINT (the quick start's OpenNebula).

    python -m tests.real_oned --version 7.0.2 --port 2633 --password demo-oneadmin [--workdir DIR]

oned listens on a free loopback port; the counting proxy (``sim.calls``/``sim.reset_calls``, like the stand-in)
listens on ``--port``. The proxy's port opens only once oned answers. On SIGTERM both are stopped: oned's process
group (oned, drivers, monitord, scheduler) and the proxy, nothing else. The import directory (image files the
demo registers) is ``<workdir>/var/import``; the line ``import_dir=<path>`` on stdout says where.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from .instance import VERSIONS, OnedInstance
from .proxy import CountingProxy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.real_oned", description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSIONS[-1], choices=VERSIONS)
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2633, help="port of the counting proxy (the API URL's)")
    parser.add_argument("--password", default="opennebula", help="oneadmin's password")
    parser.add_argument("--workdir", help="instance directory (etc/ and var/ are laid out afresh); default: a temp dir")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    instance = OnedInstance(args.version, password=args.password, workdir=args.workdir)
    proxy = None
    try:
        instance.start()
        proxy = CountingProxy(("127.0.0.1", instance.port), listen=(args.listen, args.port)).start()
        print(f"oned {args.version} at {proxy.url} (oned itself on port {instance.port})", flush=True)
        print(f"import_dir={instance.root / 'var' / 'import'}", flush=True)
        stop.wait()
    finally:
        if proxy is not None:
            proxy.stop()
        instance.remove()  # stops oned's process group; deletes the directory only if it made it
    return 0


if __name__ == "__main__":
    sys.exit(main())
