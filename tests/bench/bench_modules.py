"""Benchmark: XML-RPC calls and time per object, first run and no-change run, for the foundation modules.

    .venv/bin/python tests/bench/bench_modules.py [--objects N] [--endpoint stand-in|6.10.5|7.0.2]

Against the stand-in (default) or a real oned built by scripts/build-oned.sh (counted by its proxy).
Prints a table; asserts nothing about time (timings belong here, not in tests).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / ".collections"), str(ROOT)]

from tests.modules.module_runner import ModuleRunner  # noqa: E402
from tests.oned import OnedServer, is_write  # noqa: E402
from tests.real_oned.endpoint import RealOnedEndpoint  # noqa: E402


def declarations(i: int) -> list[tuple[str, dict]]:
    return [
        ("one_cluster", {"name": f"hapy-{i}", "attributes": {"DESCRIPTION": f"school {i}"}}),
        ("one_host", {"name": f"node-{i}", "cluster": f"hapy-{i}", "im_mad": "dummy", "vm_mad": "dummy"}),
        ("one_vnet", {"name": f"CR_pedago_{i}", "vn_mad": "802.1Q", "phydev": "eth1", "vlan_id": 30,
                      "bridge": f"br-pedago-{i}", "attributes": {"GATEWAY": f"10.{i}.2.1"},
                      "address_ranges": [{"type": "IP4", "ip": f"10.{i}.2.1", "size": 49}],
                      "clusters": [f"hapy-{i}"]}),
        ("one_datastore", {"name": f"images-{i}", "type": "image", "ds_mad": "fs", "tm_mad": "shared",
                           "clusters": [f"hapy-{i}"]}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=20, help="objects of each kind")
    parser.add_argument("--endpoint", default="stand-in", help="stand-in, or a real oned version (7.0.2)")
    args = parser.parse_args()
    if args.endpoint == "stand-in":
        server = OnedServer(host="127.0.0.1", port=0, credentials="oneadmin:opennebula").start()
    else:
        server = RealOnedEndpoint(args.endpoint).start()
    os.environ.update(ONE_URL=server.url, ONE_USERNAME="oneadmin", ONE_PASSWORD="opennebula")
    run = ModuleRunner(server)
    stats: dict[tuple[str, str], list[tuple[int, int, float]]] = {}
    try:
        for phase in ("first", "no-change"):
            for i in range(args.objects):
                for module, decl in declarations(i):
                    start = time.perf_counter()
                    result = run(module, **decl)
                    elapsed = time.perf_counter() - start
                    assert not result.failed, result
                    writes = sum(n for m, n in result.calls.items() if is_write(m))
                    stats.setdefault((module, phase), []).append((sum(result.calls.values()), writes, elapsed))
    finally:
        server.stop()
    print(f"{'module':15} {'run':10} {'calls/object':>12} {'writes/object':>13} {'ms/object':>10}")
    print(f"({args.objects} objects of each kind, endpoint {args.endpoint})")
    for (module, phase), rows in stats.items():
        n = len(rows)
        print(f"{module:15} {phase:10} {sum(r[0] for r in rows) / n:12.1f} {sum(r[1] for r in rows) / n:13.1f} "
              f"{1000 * sum(r[2] for r in rows) / n:10.1f}")


if __name__ == "__main__":
    main()
