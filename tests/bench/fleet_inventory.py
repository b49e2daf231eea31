"""An academy inventory of N schools for the fleet benchmark (``bench_fleet.py``), in the layout of
inventories/reunion: one ``etb_<uai>`` group per school, every 6th school in cluster mode (a frontend and two
nodes), the others single; the academy defaults and standard guests of the example academy; plain-text secrets
(a benchmark, not a site: no vault).

    .venv/bin/python tests/bench/fleet_inventory.py 120 /tmp/academy-120

Once the fleet inventory plugin exists (one academy file -> school groups), this generator should become an input
file for it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
REUNION = ROOT / "inventories" / "reunion"
BENCH_PASSWORD = "bench-oneadmin"


def uai(index: int) -> str:
    """A fictional UAI per school (the academy does not check UAI letters)."""
    return f"974{index:04d}{'ABCDEFGHJKLMNPRSTUVWXYZ'[index % 23]}"


def generate(count: int, directory: Path) -> Path:
    """Write the inventory of ``count`` schools (1 to 250: the school index is the second octet of 10.N.0.0/16)."""
    if not 1 <= count <= 250:
        raise ValueError("1 to 250 schools")
    group_vars = directory / "group_vars"
    (group_vars / "all").mkdir(parents=True, exist_ok=True)
    for name in ("academy.yml", "guests.yml"):
        shutil.copy(REUNION / "group_vars" / "all" / name, group_vars / "all" / name)
    secrets = {"vault_hapy_oneadmin_password": BENCH_PASSWORD, "vault_hapy_db_password": "bench-db",
               "vault_hapy_zephir_password": "bench-zephir"}
    children: dict = {}
    frontends: dict = {}
    nodes: dict = {}
    for index in range(1, count + 1):
        code = uai(index)
        group = f"etb_{code.lower()}"
        cluster = index % 6 == 2
        base = f"hapy-{code.lower()}"
        address = f"10.{index}.1"
        if cluster:
            hosts = {f"{base}-fe": {"ansible_host": f"{address}.250"},
                     f"{base}-n1": {"ansible_host": f"{address}.251"},
                     f"{base}-n2": {"ansible_host": f"{address}.252"}}
            frontends[f"{base}-fe"] = None
            nodes.update({f"{base}-n1": None, f"{base}-n2": None})
        else:
            hosts = {base: {"ansible_host": f"{address}.250"}}
            frontends[base] = None
            nodes[base] = None
        children[group] = {"hosts": hosts}
        secrets[f"vault_hapy_eole_root_password_{code.lower()}"] = f"bench-root-{code.lower()}"
        school = {
            "hapy_school": {"uai": code, "name": f"Établissement {index}", "academy": "ac-reunion", "domain": "lan",
                            "index": index},
            "hapy_mode": "cluster" if cluster else "single",
            "hapy_one_api_url": f"http://{address}.250:2633/RPC2",
        }
        if cluster:
            school["hapy_san"] = {"portal": f"{address}.254:3260",
                                  "target_iqn": f"iqn.2026-11.fr.ac-reunion:san.{index}",
                                  "lun_wwid": f"36001405{index:024x}", "chap_user": f"{base}",
                                  "chap_secret": f"bench-chap-{index:04d}", "cluster_name": f"hapy{code.lower()}",
                                  "fs_name": "one-datastores"}
        (group_vars / f"{group}.yml").write_text("---\n" + yaml.safe_dump(school, allow_unicode=True))
    children["hapy_frontends"] = {"hosts": frontends}
    children["hapy_nodes"] = {"hosts": nodes}
    (group_vars / "all" / "secrets.yml").write_text("---\n" + yaml.safe_dump(secrets))
    (directory / "hosts.yml").write_text("---\n" + yaml.safe_dump({"all": {"children": children}}))
    return directory


if __name__ == "__main__":
    print(generate(int(sys.argv[1]), Path(sys.argv[2])))
