"""The demo school as an HA school on a real Raft zone (tests/real_oned/ha.py), for tests/ha/ and tests/bench/.

``demo_zone(version, tmp)`` renders each server's ``oned.conf``/``monitord.conf`` with the frontend role's own
defaults and templates (``tests/roles/frontend_render.yml``) from the school's ``hapy_ha``, bootstraps the zone,
writes the HA demo inventory and yields ``(zone, inventory)``; it removes everything it made, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from tests.playbooks.playbook_runner import ROOT, run_playbook
from tests.real_oned import endpoints
from tests.real_oned.ha import RaftZone, ZoneNetwork

PASSWORD = "demo-oneadmin"  # the demo school's (inventories/demo)
DEMO_IMAGES = ("eole-2.9-amon", "eole-2.9-scribe")
RENDER = "tests/roles/frontend_render.yml"
HOOK_SOURCE = "roles/frontend/files/hapy-vip.sh"  # installed by the role as <remotes>/hooks/raft/hapy-vip.sh
HOOK = "var/remotes/hooks/raft/hapy-vip.sh"
DEBIAN12 = {"distribution": "Debian", "distribution_version": "12.8", "distribution_major_version": "12"}


def site_vars(network: ZoneNetwork, names: list[str], version: str) -> dict:
    """The demo school as an HA school: the demo's site variables, ``hapy_ha`` with the zone's 4 addresses, the API
    URL left to be derived from the floating address."""
    demo = yaml.safe_load((ROOT / "inventories/demo/group_vars/all/site.yml").read_text())
    demo.pop("hapy_one_api_url")
    demo["hapy_one"] = {"version": version.rsplit(".", 1)[0], "oneadmin_password": PASSWORD}
    demo["hapy_ha"] = {"vip": f"{network.vip}/{network.prefix}", "interface": "eth0",
                       "servers": [{"name": n, "address": a} for n, a in zip(names, network.addresses, strict=True)]}
    return demo


def role_overrides() -> dict:
    """Site settings of this test bed for the frontend role: no hypervisor (OpenNebula's dummy drivers only, as the
    demo's hosts use: three oneds start faster on a loaded 2-core machine), no internet (no public marketplace
    driver), the dummy system datastore driver of the demo's datastores, a 1 s scheduling window (7.0)."""
    return {"frontend_vm_mads": [{"NAME": "dummy", "SUNSTONE_NAME": "Testing", "EXECUTABLE": "one_vmm_dummy",
                                  "TYPE": "xml"}],
            "frontend_im_mads": [{"NAME": "dummy", "SUNSTONE_NAME": "Testing", "EXECUTABLE": "one_im_sh",
                                  "ARGUMENTS": "-r 3 -t 15 -w 90 dummy", "THREADS": 0}],
            "frontend_market_mad_conf": [{"NAME": "http", "SUNSTONE_NAME": "HTTP server",
                                          "REQUIRED_ATTRS": "BASE_URL,PUBLIC_DIR",
                                          "APP_ACTIONS": "create, delete, monitor"}],
            "frontend_system_tm_drivers": ["dummy", "shared", "ssh", "fs_lvm", "fs_lvm_ssh", "qcow2"],
            "frontend_sched_max_wnd_time": 1}


def render_confs(tmp: Path, site: dict, names: list[str]) -> list[dict[str, str]]:
    """Each server's oned.conf as the role renders it before the server is a zone member (SERVER_ID -1) and once it
    is (the id the zone gives it, in hapy_ha.servers order), and its monitord.conf."""
    inventory = tmp / "render-hosts.yml"
    confs: list[dict[str, str]] = [{} for _ in names]
    for stage, ids in (("solo", {}), ("member", {n: i for i, n in enumerate(names)})):
        hosts = {n: {"render_dir": str(tmp / stage / n)} for n in names}
        for host in hosts.values():
            Path(host["render_dir"]).mkdir(parents=True)
        inventory.write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
        extra = {**{k: site[k] for k in ("hapy_one", "hapy_db", "hapy_ha")}, **role_overrides(),
                 "render_facts": DEBIAN12, "frontend_ha_zone_ids": ids,
                 "ansible_python_interpreter": sys.executable}
        run = run_playbook(RENDER, str(inventory), "-e", json.dumps(extra))
        assert run.returncode == 0, run.output[-3000:]
        for i, name in enumerate(names):
            confs[i][stage] = (tmp / stage / name / "oned.conf").read_text()
            confs[i]["monitord"] = (tmp / stage / name / "monitord.conf").read_text()
    return confs


def write_inventory(tmp: Path, site: dict, names: list[str]) -> Path:
    """The HA demo school: three frontends (also its KVM nodes, dummy drivers), the demo's site variables. No
    ``ansible_host``: the cloud level can only reach the school through the floating address of ``hapy_ha``."""
    inventory = tmp / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "group_vars" / "all" / "site.yml").write_text(yaml.safe_dump(site, sort_keys=False))
    hosts = {n: {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
             for n in names}
    (inventory / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {
        "etb_9749999z": {"hosts": hosts},
        "hapy_frontends": {"hosts": dict.fromkeys(names)},
        "hapy_nodes": {"hosts": dict.fromkeys(names)}}}}))
    return inventory


@contextlib.contextmanager
def demo_zone(version: str, tmp: Path, servers: int = 3) -> Iterator[tuple[RaftZone, Path]]:
    """A bootstrapped zone of ``servers`` oneds of ``version`` and the HA demo school's inventory."""
    endpoints.require_built(version)
    missing = [tool for tool in ("arping", "sudo", "curl", "sqlite3") if shutil.which(tool) is None]
    if missing:  # the role's hook runs `sudo -n ip address`, `sudo -n arping`, curl; onedb dumps SQLite with sqlite3
        raise RuntimeError(f"{', '.join(missing)} missing: run scripts/setup.sh (requirements/apt.txt)")
    network = ZoneNetwork(servers).create()
    names = [f"{network.tag}-fe{i + 1}" for i in range(servers)]
    zone = None
    try:
        site = site_vars(network, names, version)
        confs = render_confs(tmp, site, names)
        zone = RaftZone(version, network, confs, PASSWORD, names, programs={HOOK: (ROOT / HOOK_SOURCE).read_text()})
        import_dir = zone.root / "import"
        import_dir.mkdir()
        site["hapy_one_import_dir"] = str(import_dir)
        for image in DEMO_IMAGES:
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(import_dir / f"{image}.qcow2"), "1G"],
                           check=True)
        inventory = write_inventory(tmp, site, names)
        zone.bootstrap()
        yield zone, inventory
    finally:
        if zone is not None:
            zone.stop()
        else:
            network.destroy()


def wait_new_leader(zone: RaftZone, old: int, timeout: float = 120.0) -> int:
    """The server that the floating address answers for as leader, once it is not ``old``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for candidate in range(len(zone.servers)):
            if candidate == old:
                continue
            try:
                zone.wait_vip_answers(candidate, timeout=0.01)
                return candidate
            except TimeoutError:
                continue
    raise TimeoutError(f"no new leader answers at the floating address after {timeout:.0f} s")
