"""The eole.hapy filters through Ansible itself, and the example inventories (load, groups, every school valid)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
VAULT_PASS = REPO / "inventories/reunion/.vault-pass.demo"
VALIDATE = REPO / "tests/unit/playbooks/validate_site.yml"
FILTERS = ("hapy_network_plan", "hapy_validate_site", "hapy_validate_academy", "hapy_resolve_guests",
           "hapy_eole_config", "hapy_eole_config_check", "hapy_guest_context")


def ansible(tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run an Ansible command from the venv with this checkout's ansible.cfg (collection under .collections)."""
    assert (REPO / ".collections/ansible_collections/eole/hapy").exists(), "run scripts/setup.sh (collection link)"
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"), "PATH": f"{BIN}:{os.environ['PATH']}"}
    result = subprocess.run([str(BIN / tool), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


INVENTORY = """
all:
  hosts:
    localhost:
      ansible_connection: local
      hapy_school: {uai: 9740100R, name: "Lycée Sample", academy: ac-reunion, domain: lan, index: 42}
      hapy_academy: {dns: [172.16.0.53], ntp: [ntp.ac-reunion.fr]}
      hapy_guests:
        - {name: amon, profile: amon, nics: [{network: wan}, {network: admin}, {network: pedago}, {network: dmz}]}
        - {name: horus, profile: horus, eole_release: "2.7.2", nics: [{network: admin}]}
        - {name: bad, profile: horus, nics: [{network: pedag}]}
"""

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  vars:
    plan: "{{ hapy_school | eole.hapy.hapy_network_plan([{'name': 'pedago', 'vlan_id': 33}], hapy_academy) }}"
    resolved: "{{ hapy_guests[:2] | eole.hapy.hapy_resolve_guests(plan) }}"
  tasks:
    - ansible.builtin.copy:
        dest: "{{ out }}"
        mode: "0600"
        content: "{{ {
          'plan': plan,
          'errors': hostvars[inventory_hostname] | eole.hapy.hapy_validate_site,
          'amon': resolved[0] | eole.hapy.hapy_eole_config(hapy_school, plan, hapy_academy),
          'check': resolved[1] | eole.hapy.hapy_eole_config(hapy_school, plan, hapy_academy)
                   | eole.hapy.hapy_eole_config_check('horus'),
          'context': resolved[1] | eole.hapy.hapy_guest_context(hapy_school, plan, hapy_academy, 'run'),
        } | to_json }}"
"""


@pytest.fixture(scope="module")
def through_ansible(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("hapy")
    (tmp / "hosts.yml").write_text(INVENTORY)
    (tmp / "play.yml").write_text(PLAYBOOK)
    ansible("ansible-playbook", "-i", str(tmp / "hosts.yml"), str(tmp / "play.yml"), "-e", f"out={tmp}/out.json",
            "-e", f"ansible_python_interpreter={sys.executable}")
    return json.loads((tmp / "out.json").read_text())


def test_network_plan_filter(through_ansible: dict[str, Any]) -> None:
    assert [(n["name"], n["vlan_id"], n["cidr"]) for n in through_ansible["plan"]] == [
        ("wan", 10, "10.42.0.0/24"), ("admin", 20, "10.42.1.0/24"), ("pedago", 33, "10.42.2.0/24"),
        ("dmz", 40, "10.42.3.0/24"), ("dmz_priv", 50, "10.42.4.0/24")]


def test_validate_site_filter_on_hostvars(through_ansible: dict[str, Any]) -> None:
    assert through_ansible["errors"] == [
        "hapy_guests[2].nics[0].network: unknown network 'pedag'; expected one of wan, admin, pedago, dmz, dmz_priv"]


def test_eole_filters(through_ansible: dict[str, Any]) -> None:
    amon = through_ansible["amon"]
    assert amon["___version___"] == "2.9.0"
    assert amon["adresse_ip_eth2"] == {"owner": "gen_config", "val": "10.42.2.1"}
    assert amon["ip_basse_dhcp"]["val"] == {"0": "10.42.1.128", "1": "10.42.2.128"}
    assert through_ansible["check"] == []
    context = through_ansible["context"]
    assert context["NIC"] == [{"NETWORK": "CR_admin", "IP": "10.42.1.2", "MODEL": "virtio"}]
    assert context["CONTEXT"]["NETCFG_TYPE"] == "none"


def test_filter_error_is_an_ansible_failure() -> None:
    result = ansible("ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "debug", "-a",
                     "msg={{ {'uai': '9740001A', 'index': 999} | eole.hapy.hapy_network_plan }}", check=False)
    assert result.returncode != 0
    assert "hapy_school.index: 999; expected an integer 0..255" in result.stdout + result.stderr


@pytest.mark.parametrize("name", FILTERS)
def test_ansible_doc_renders(name: str) -> None:
    out = ansible("ansible-doc", "-t", "filter", f"eole.hapy.{name}").stdout
    assert f"eole.hapy.{name}" in out and "EXAMPLES" in out


def inventory(name: str) -> dict[str, Any]:
    args = ["-i", f"inventories/{name}", "--list"]
    if name == "reunion":
        args += ["--vault-password-file", str(VAULT_PASS)]
    return json.loads(ansible("ansible-inventory", *args).stdout)


def school_groups(inv: dict[str, Any]) -> dict[str, list[str]]:
    return {g: inv[g]["hosts"] for g in inv["all"]["children"] if g.startswith("etb_")}


def test_reunion_inventory_shape() -> None:
    inv = inventory("reunion")
    schools = school_groups(inv)
    hostvars = inv["_meta"]["hostvars"]
    frontends, nodes = set(inv["hapy_frontends"]["hosts"]), set(inv["hapy_nodes"]["hosts"])
    assert len(schools) >= 10
    clusters = 0
    for group, hosts in schools.items():
        first = hostvars[hosts[0]]
        assert group == "etb_" + first["hapy_school"]["uai"].lower()
        if first["hapy_mode"] == "single":
            assert len(hosts) == 1 and hosts[0] in frontends and hosts[0] in nodes
        else:
            clusters += 1
            assert len(hosts) == 3
            assert len(frontends & set(hosts)) == 1 and len(nodes & set(hosts)) == 2
            assert {"portal", "target_iqn", "lun_wwid", "chap_user", "chap_secret"} <= set(first["hapy_san"])
    assert clusters >= 2


def test_reunion_secrets_are_vaulted() -> None:
    texts = [p.read_text() for p in (REPO / "inventories/reunion").rglob("*.yml")]
    assert sum(t.count("$ANSIBLE_VAULT;1.1;AES256") for t in texts) >= 6
    assert not any("demo-chap-" in t or "demo-oneadmin" in t for t in texts)
    assert "NOT-FOR-REAL-SITES" in VAULT_PASS.read_text()


def test_demo_inventory_shape() -> None:
    inv = inventory("demo")
    (hosts,) = school_groups(inv).values()
    host = inv["_meta"]["hostvars"][hosts[0]]
    assert host["hapy_mode"] == "single" and host["hapy_one_api_url"] == "http://127.0.0.1:2633/RPC2"
    assert hosts[0] in inv["hapy_frontends"]["hosts"] and hosts[0] in inv["hapy_nodes"]["hosts"]


@pytest.mark.parametrize("name", ["reunion", "demo"])
def test_every_school_validates_clean(name: str) -> None:
    inv = inventory(name)
    args = ["-i", f"inventories/{name}", str(VALIDATE)]
    if name == "reunion":
        args += ["--vault-password-file", str(VAULT_PASS)]
    out = ansible("ansible-playbook", *args).stdout
    assert out.count("HAPY-OK ") == len(inv["_meta"]["hostvars"])


def test_validation_playbook_reports_named_fields() -> None:
    result = ansible("ansible-playbook", "-i", "inventories/demo", str(VALIDATE), "-e",
                     json.dumps({"hapy_networks": [{"name": "pedago", "vlan_id": 5000}],
                                 "hapy_backup": {"schedule": "daily"}}), check=False)
    assert result.returncode != 0
    assert "hapy_networks[0].vlan_id: 5000; expected an integer 1..4094" in result.stdout
    assert "hapy_backup.schedule: 'daily'; expected a cron expression" in result.stdout


SITE_CHECK = """
- hosts: all
  gather_facts: false
  tasks:
    - eole.hapy.hapy_site_check:
      register: site
    - ansible.builtin.debug:
        msg: "PLAN {{ site.plan | map(attribute='vnet_name') | join(',') }} IPS {{ site.guests
              | map(attribute='nics') | flatten | map(attribute='ip') | join(',') }}"
"""


def test_site_check_action(tmp_path: Path) -> None:
    (tmp_path / "check.yml").write_text(SITE_CHECK)
    out = ansible("ansible-playbook", "-i", "inventories/demo", str(tmp_path / "check.yml")).stdout
    assert "PLAN CR_wan,CR_admin,CR_pedago,CR_dmz IPS 10.99.0.2,10.99.1.1,10.99.2.1,10.99.3.1,10.99.2.10" in out
    bad = ansible("ansible-playbook", "-i", "inventories/demo", str(tmp_path / "check.yml"), "-e",
                  json.dumps({"hapy_mode": "ha", "hapy_guests": [{"name": "x", "profile": "amon",
                                                                  "nics": [{"network": "nope"}]}]}), check=False)
    assert bad.returncode != 0
    assert "3 error(s) in the site inventory" in bad.stdout
    assert "hapy_mode: 'ha'; expected one of single, cluster" in bad.stdout
    assert "hapy_guests[0].nics[0].network: unknown network 'nope'" in bad.stdout


def test_validation_playbook_catches_colliding_schools() -> None:
    same = {"hapy_school": {"uai": "9740001A", "name": "Everywhere", "academy": "ac-reunion", "domain": "lan",
                            "index": 1}}
    result = ansible("ansible-playbook", "-i", "inventories/reunion", "--vault-password-file", str(VAULT_PASS),
                     str(VALIDATE), "-e", json.dumps(same), check=False)
    assert result.returncode != 0
    assert "hapy_school.uai 9740001A already used by etb_9740001a" in result.stdout
    assert "overlaps 10.1.0.0/24 of etb_9740001a" in result.stdout
