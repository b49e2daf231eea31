"""``python -m tests.real_oned.calls URL [reset]``: API calls counted by the endpoint (stand-in or counting proxy)."""

from __future__ import annotations

import sys
import xmlrpc.client

from tests.oned import is_write


def main(argv: list[str]) -> int:
    server = xmlrpc.client.ServerProxy(argv[0])
    if argv[1:] == ["reset"]:
        server.sim.reset_calls()
        return 0
    calls = server.sim.calls()
    writes = {m: n for m, n in calls.items() if is_write(m)}
    print(f"{sum(calls.values())} API calls, {sum(writes.values())} writes"
          + (f" ({', '.join(f'{m} {n}' for m, n in sorted(writes.items()))})" if writes else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
