"""Benchmark: an HA zone of real oneds (tests/ha/demo_zone.py), its election at start and repeated failovers.

    .venv/bin/python tests/bench/bench_ha.py [--version 7.0.2|6.10.5] [--failovers 3] [--converge]

Bootstraps the three-server zone in network namespaces (the frontend role's oned.conf and raft hook),
then kills the leader ``--failovers`` times (SIGKILL of all its processes, link down), each time measuring the time
until the floating address answers the API as the new leader and until the dead server, started again, follows.
``--converge`` also runs the demo school's cloud level through the floating address before the first failover and
after the last one. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / ".collections"), str(ROOT)]

from tests.ha.demo_zone import demo_zone, wait_new_leader  # noqa: E402
from tests.playbooks.playbook_runner import run_playbook  # noqa: E402
from tests.real_oned.instance import VERSIONS  # noqa: E402


def converge(inventory: Path) -> float:
    start = time.monotonic()
    run = run_playbook("site.yml", str(inventory))
    if run.returncode != 0:
        raise SystemExit(run.output[-3000:])
    return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=VERSIONS[-1], choices=VERSIONS)
    parser.add_argument("--failovers", type=int, default=3)
    parser.add_argument("--converge", action="store_true", help="run the demo's cloud level before and after")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ha-bench-") as tmp, demo_zone(args.version, Path(tmp)) as (zone, inv):
        for step, seconds in zone.timings.items():
            print(f"{step:45s} {seconds:6.1f} s")
        if args.converge:
            print(f"{'converge through the VIP (first run)':45s} {converge(inv):6.1f} s")
        failovers, rejoins = [], []
        for _ in range(args.failovers):
            leader = zone.wait_leader()
            killed = time.monotonic()
            zone.fail(leader)
            new_leader = wait_new_leader(zone, old=leader)
            failovers.append(time.monotonic() - killed)
            start = time.monotonic()
            zone.revive(leader)
            zone.wait_state(leader, "follower")
            rejoins.append(time.monotonic() - start)
            print(f"failover {leader} -> {new_leader}: {failovers[-1]:5.1f} s, old leader back as follower in "
                  f"{rejoins[-1]:5.1f} s")
        if failovers:
            print(f"{'failover (kill -> VIP answers as new leader)':45s} median {statistics.median(failovers):5.1f} s"
                  f", max {max(failovers):5.1f} s")
        if args.converge:
            print(f"{'converge through the VIP (after failovers)':45s} {converge(inv):6.1f} s")


if __name__ == "__main__":
    main()
