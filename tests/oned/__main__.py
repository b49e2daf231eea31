"""``python3 -m tests.oned --listen 127.0.0.1 --port 2633 [--credentials u:p] [--state-file F]``."""

from __future__ import annotations

import argparse
import signal
import sys

from .server import OnedServer


def main(argv: list | None = None) -> int:
    """Parse arguments and serve until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python3 -m tests.oned",
                                     description="Fake OpenNebula oned XML-RPC endpoint (tests).")
    parser.add_argument("--listen", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=2633, help="TCP port (serves /RPC2)")
    parser.add_argument("--credentials", default="oneadmin:opennebula",
                        help="oneadmin user:password")
    parser.add_argument("--state-file", default=None, help="JSON file keeping the state")
    parser.add_argument("--version", default="6.10.0", help="answer of one.system.version")
    parser.add_argument("--step", type=float, default=0.3,
                        help="seconds per driver step (VM/host/image transitions)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    server = OnedServer(host=args.listen, port=args.port, credentials=args.credentials,
                        state_file=args.state_file, version=args.version, step=args.step,
                        verbose=args.verbose)

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"fake oned listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
