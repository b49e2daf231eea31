"""The eole.hapy.academy inventory plugin through Ansible itself (ansible-inventory, ansible): groups and variables,
precedence beside group_vars/, vaulted values, --limit, and the checks made when the file is read."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.unit.test_hapy_ansible import REPO, VAULT_PASS, ansible

BENCH = REPO / "tests/bench/academy120.yml"
VAULTED = """!vault |
  $ANSIBLE_VAULT;1.1;AES256
  38303062643463613838306562353939626361346635336236623866356531316435313065336366
  3832383234326231383236623464353132363364323933330a363061633431316165346662306661
  30616430643164653763373265633437376162356461616233666262313762623734306261336431
  3166623737383239650a613135333163653931653534363232336461633736343230303935656430
  31396161323964623234393062363538363732393564626133353161373261393634"""  # "demo" password (reunion's vault)


def inventory_list(source: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return ansible("ansible-inventory", "-i", str(source), "--list", *args, check=check)


def write_academy(directory: Path, schools: list[dict[str, Any]], academy_vars: dict[str, Any] | None = None,
                  extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    document = {"plugin": "eole.hapy.academy", "academy": "ac-reunion",
                "vars": {"hapy_academy": {"name": "ac-reunion", "uai_check_letter": False}, **(academy_vars or {})},
                "schools": schools}
    path = directory / "academy.yml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False) + extra)
    return path


def test_the_120_school_academy_of_the_benchmarks(tmp_path):
    """tests/bench/academy120.yml (tests/bench/make_academy.py): 120 school groups, 12 of them clusters."""
    listed = json.loads(inventory_list(BENCH).stdout)
    schools = {group: data["hosts"] for group, data in listed.items() if group.startswith("etb_")}
    assert len(schools) == 120
    assert sorted(len(hosts) for hosts in schools.values()).count(3) == 12
    assert len(listed["hapy_frontends"]["hosts"]) == 120
    assert len(listed["hapy_nodes"]["hosts"]) == 108 + 24
    hostvars = listed["_meta"]["hostvars"]
    assert hostvars["hapy-9740010t-n2"]["ansible_host"] == "10.10.1.252"
    assert hostvars["hapy-9740010t-fe"]["hapy_one_api_url"] == "http://10.10.1.250:2633/RPC2"
    assert hostvars["hapy-9740010t-fe"]["hapy_school"] == {
        "uai": "9740010T", "name": "Établissement 010", "academy": "ac-reunion", "domain": "lan", "index": 10}
    limited = ansible("ansible", "-i", str(BENCH), "etb_9740010t", "--list-hosts").stdout
    assert limited.split() == ["hosts", "(3):", "hapy-9740010t-fe", "hapy-9740010t-n1", "hapy-9740010t-n2"]
    graph = ansible("ansible-inventory", "-i", str(BENCH), "--graph", "hapy_frontends").stdout
    assert graph.count("|--hapy-") == 120


PRECEDENCE = f"""plugin: eole.hapy.academy
academy: ac-reunion
vars:
  hapy_academy: {{name: ac-reunion, uai_check_letter: false}}
  hapy_one: {{version: "6.10"}}
  backup_hour: 1
  from_file: academy
  vaulted: {VAULTED.replace(chr(10), chr(10) + "    ")}
schools:
  - {{uai: 9740001A, name: Un, index: 1, frontend: 10.1.1.250, vars: {{backup_hour: 3}}}}
  - {{uai: 9740002B, name: Deux, index: 2, frontend: 10.2.1.250, vars: {{secret_of_the_school: "{{{{ vaulted }}}}"}}}}
"""


def test_precedence_beside_group_vars_and_vaulted_values(tmp_path):
    """The file's vars are the weakest (group_vars/all overrides them); a school's own keys and vars override
    group_vars/ files; host_vars/ files override those. A vaulted value stays encrypted until the play."""
    (tmp_path / "academy.yml").write_text(PRECEDENCE)
    (tmp_path / "group_vars/all").mkdir(parents=True)
    (tmp_path / "group_vars/all/site.yml").write_text("hapy_one: {version: '7.0'}\nfrom_group_vars_all: true\n")
    (tmp_path / "group_vars/etb_9740001a.yml").write_text("backup_hour: 2\nonly_here: 1\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars/hapy-9740002b.yml").write_text("hapy_one_api_url: https://one.example:2633/RPC2\n")
    hostvars = json.loads(inventory_list(tmp_path).stdout)["_meta"]["hostvars"]
    one, two = hostvars["hapy-9740001a"], hostvars["hapy-9740002b"]
    assert one["hapy_one"] == {"version": "7.0"} and one["from_group_vars_all"] is True, "group_vars/all wins"
    assert one["backup_hour"] == 3, "the school's vars win over group_vars/etb_<uai>.yml"
    assert one["only_here"] == 1 and one["from_file"] == "academy"
    assert two["hapy_one_api_url"] == "https://one.example:2633/RPC2", "host_vars/ wins over the school's keys"
    assert two["backup_hour"] == 1
    assert "$ANSIBLE_VAULT" in json.dumps(two["vaulted"]), "still encrypted in the inventory"
    shown = ansible("ansible", "-i", str(tmp_path), "hapy-9740002b", "--vault-password-file", str(VAULT_PASS),
                    "-m", "ansible.builtin.debug", "-a", "msg={{ secret_of_the_school }}")
    decrypted = shown.stdout.split('"msg": "', 1)[1].split('"', 1)[0]
    assert decrypted and "ANSIBLE_VAULT" not in decrypted, shown.stdout


def parse_errors(source: Path) -> str:
    """The plugin's message when the file does not parse (the inventory then fails: unparsed_is_failed)."""
    result = ansible("ansible-inventory", "-i", str(source), "--graph", check=False)
    assert result.returncode != 0, "an academy file with errors is not an inventory"
    return result.stdout + result.stderr


def test_the_file_itself_is_checked_naming_the_school_and_the_field(tmp_path):
    output = parse_errors(write_academy(tmp_path, [
        {"uai": "9740001A", "name": "Un", "index": 1, "frontend": "10.1.1.250", "nodes": ["10.1.1.251"]},
        {"uai": "9740002B", "name": "Deux", "index": 2, "mode": "cluster", "frontend": "10.2.1.250"},
        {"uai": "974003C", "name": "Trois", "index": 3, "frontend": "10.3.1.250"},
        {"uai": "9740004D", "name": "Quatre", "index": 4, "frontend": "10.4.1.300", "mdoe": "single"},
        {"uai": "9740001a", "name": "Un bis", "index": 5, "frontend": "10.5.1.250"},
        {"uai": "9740006F", "name": "Six", "index": 6, "frontend": "10.6.1.250", "vars": {"hapy_mode": "cluster"}},
    ]))
    for line in (
        "schools[0] 9740001A: nodes: ['10.1.1.251']; a single-mode school's frontend is its only node",
        "schools[1] 9740002B: nodes: None; expected the list of the cluster's KVM node addresses",
        "schools[2] 974003C: hapy_school.uai: '974003C'; expected 7 digits and a letter, like 9740001A",
        "schools[3] 9740004D: school.mdoe: unknown key; expected one of ad_domain, api_url, block,",
        "schools[3] 9740004D: frontend: '10.4.1.300'; expected the server's IPv4 address or DNS name",
        "schools[4] 9740001a: hapy_school.uai 9740001a already used by schools[0] 9740001A",
        "schools[5] 9740006F: vars.hapy_mode: set by the school's own keys; expected mode at the school's level",
    ):
        assert line in output, output
    assert "7 error(s) in the academy file" in output


def test_each_school_is_checked_like_a_hand_written_inventory_when_read(tmp_path):
    """The site checks of site.yml (hapy_site_check, hapy_validate_academy) run when the file is read, with the same
    messages, prefixed by the school; templates resolve with the group_vars/ beside the file."""
    (tmp_path / "group_vars/all").mkdir(parents=True)
    (tmp_path / "group_vars/all/guests.yml").write_text(
        "amon: {name: amon, profile: amon, nics: [{network: wan}, {network: admin}, {network: pedago}]}\n")
    output = parse_errors(write_academy(tmp_path, [
        {"uai": "9740001A", "name": "Un", "index": 1, "frontend": "10.1.1.250",
         "vars": {"hapy_networks": [{"name": "pedago", "vlan_id": 5000}]}},
        {"uai": "9740002B", "name": "Deux", "index": 2, "frontend": "10.2.1.250",
         "vars": {"hapy_guests": ["{{ amon }}", {"name": "scribe", "profile": "scribe",
                                                  "nics": [{"network": "pedag"}]}]}},
        {"uai": "9740003C", "name": "Trois", "index": 1, "frontend": "10.3.1.250", "mode": "cluster",
         "nodes": ["10.3.1.251"]},
        {"uai": "9740004D", "name": "Quatre", "index": 4, "frontend": "10.4.1.250",
         "vars": {"hapy_guests": "{{ only_in_extra_vars }}"}},  # left to the play: not an error when read
    ], {"hapy_guests": []}))
    for line in (
        "schools[0] 9740001A: hapy_networks[0].vlan_id: 5000; expected an integer 1..4094",
        "schools[1] 9740002B: hapy_guests[1].nics[0].network: unknown network 'pedag'; expected one of wan, admin",
        "schools[2] 9740003C: hapy_san: missing or not a mapping; expected {portal, target_iqn, lun_wwid, chap_user, "
        "chap_secret} in cluster mode",
        "schools[2] 9740003C: hapy_school.index 1 already used by etb_9740001a; expected one index per school",
    ):
        assert line in output, output
    assert "schools[3]" not in output


def test_a_school_entry_gives_its_eole_release_and_ad_domain(tmp_path):
    """``eole_release`` and ``ad_domain`` of a school entry become ``hapy_school``'s, and the release checks of
    site.yml see them when the file is read: a Horus is accepted in a school on EOLE 2.7.2, refused (naming the
    school) in one on the academy's 2.9.0."""
    horus = {"name": "horus", "profile": "horus", "nics": [{"network": "admin"}]}
    schools = [
        {"uai": "9740001A", "name": "Un", "index": 1, "frontend": "10.1.1.250", "eole_release": "2.7.2",
         "ad_domain": "un.ac-reunion.lan"},
        {"uai": "9740002B", "name": "Deux", "index": 2, "frontend": "10.2.1.250"},
    ]
    academy_vars = {"hapy_academy": {"name": "ac-reunion", "uai_check_letter": False, "eole_release": "2.9.0"},
                    "hapy_guests": [horus]}
    output = parse_errors(write_academy(tmp_path / "both", schools, academy_vars))
    assert "schools[1] 9740002B: hapy_guests[0].profile: horus is not shipped by EOLE 2.9.0" in output, output
    assert "schools[0]" not in output, output
    hostvars = json.loads(inventory_list(write_academy(tmp_path / "one", schools[:1], academy_vars)).stdout)[
        "_meta"]["hostvars"]["hapy-9740001a"]
    assert hostvars["hapy_school"]["eole_release"] == "2.7.2"
    assert hostvars["hapy_school"]["ad_domain"] == "un.ac-reunion.lan"
