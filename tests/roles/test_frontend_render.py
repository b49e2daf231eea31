"""Role eole.hapy.frontend: defaults derived from the inventory model and facts, and the rendered oned.conf / apt pin.

The molecule scenario `frontend` runs the role for real on Debian 12 containers; this covers the distributions and
inventory shapes it does not (Ubuntu 22.04/24.04, official repository URL, database host/port, 7.0 without Sunstone),
by rendering the role's own defaults and templates with ansible-playbook on the controller.
"""

from __future__ import annotations

import json
import re
import sys

import pytest

from tests.playbooks.playbook_runner import run_playbook

PLAYBOOK = "tests/roles/frontend_render.yml"
DEBIAN12 = {"distribution": "Debian", "distribution_version": "12.8", "distribution_major_version": "12"}
UBUNTU2204 = {"distribution": "Ubuntu", "distribution_version": "22.04", "distribution_major_version": "22"}
UBUNTU2404 = {"distribution": "Ubuntu", "distribution_version": "24.04", "distribution_major_version": "24"}


def render(tmp_path, facts: dict, **extra) -> tuple[dict, str, str]:
    ev = {"render_facts": facts, "render_dir": str(tmp_path), "ansible_python_interpreter": sys.executable, **extra}
    run = run_playbook(PLAYBOOK, "localhost,", "-c", "local", "-e", json.dumps(ev))
    assert run.returncode == 0, run.output
    return (json.loads((tmp_path / "vars.json").read_text()), (tmp_path / "oned.conf").read_text(),
            (tmp_path / "opennebula.pref").read_text())


def parse(text: str) -> tuple[dict, dict]:
    """oned.conf top-level values and vectors (lists per name), comment lines dropped."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert text.count("[") == text.count("]"), "unbalanced vectors"
    vectors: dict[str, list] = {}
    for m in re.finditer(r"^([A-Z_]+)\s*=\s*\[(.*?)\]", text, re.M | re.S):
        pairs = re.findall(r'([A-Z_]+)\s*=\s*("[^"]*"|[^,\s\]]+)', m.group(2))
        vectors.setdefault(m.group(1), []).append({k: v.strip('"') for k, v in pairs})
    values = {m.group(1): m.group(2).strip('"')
              for m in re.finditer(r'^([A-Z_]+)\s*=\s*("[^"\n]*"|[^\[\s][^\n]*?)\s*$', text, re.M)}
    return values, vectors


def test_debian12_official_repository_mysql_on_another_server(tmp_path):
    model = {"hapy_one": {"version": "6.10", "oneadmin_password": "s3cret"},
             "hapy_db": {"backend": "mysql", "name": "one_db", "user": "one_user", "password": "dbpw",
                         "host": "10.1.1.5", "port": 3307}}
    dv, conf, pref = render(tmp_path, DEBIAN12, **model)
    assert dv["repo_url"] == "https://downloads.opennebula.io/repo/6.10/Debian/12"
    assert (dv["repo_suite"], dv["repo_components"]) == ("stable", ["opennebula"])
    assert dv["sunstone_packages"] == ["opennebula-fireedge", "opennebula-sunstone"]
    assert dv["oneadmin_password"] == "s3cret"
    assert "Pin: version 6.10.*" in pref and "Package: opennebula*" in pref
    values, vectors = parse(conf)
    assert vectors["DB"] == [{"BACKEND": "mysql", "SERVER": "10.1.1.5", "PORT": "3307", "USER": "one_user",
                              "PASSWD": "dbpw", "DB_NAME": "one_db", "CONNECTIONS": "25", "COMPARE_BINARY": "no"}]
    assert values["PORT"] == "2633"


@pytest.mark.parametrize("facts, release", [(UBUNTU2204, "22.04"), (UBUNTU2404, "24.04")])
def test_ubuntu_official_repository_70_sqlite(tmp_path, facts, release):
    model = {"hapy_one": {"version": "7.0", "oneadmin_password": "x"}, "hapy_db": {"backend": "sqlite"}}
    dv, conf, pref = render(tmp_path, facts, **model)
    assert dv["repo_url"] == f"https://downloads.opennebula.io/repo/7.0/Ubuntu/{release}"
    assert dv["sunstone_packages"] == ["opennebula-fireedge"]  # no Ruby Sunstone in 7.0
    assert "Pin: version 7.0.*" in pref
    _, vectors = parse(conf)
    assert vectors["DB"] == [{"BACKEND": "sqlite", "TIMEOUT": "2500"}]


def test_local_repository_is_flat_and_backend_defaults_to_mysql(tmp_path):
    model = {"hapy_one": {"version": "6.10", "oneadmin_password": "x"},
             "hapy_db": {"name": "opennebula", "user": "oneadmin", "password": "p"},
             "frontend_repo_url": "file:/srv/opennebula-repo", "frontend_listen_address": "10.1.1.250"}
    dv, conf, _ = render(tmp_path, DEBIAN12, **model)
    assert (dv["repo_suite"], dv["repo_components"]) == ("./", [])
    assert dv["db_backend"] == "mysql"
    assert dv["api_url"] == "http://10.1.1.250:2633/RPC2"
    values, vectors = parse(conf)
    assert values["LISTEN_ADDRESS"] == "10.1.1.250"
    assert vectors["DB"][0]["SERVER"] == "localhost" and vectors["DB"][0]["PORT"] == "0"


def test_driver_lists_follow_the_driver_confs(tmp_path):
    model = {"hapy_one": {"version": "6.10", "oneadmin_password": "x"}, "hapy_db": {"backend": "sqlite"},
             "frontend_tm_mad_conf": [{"NAME": "shared", "LN_TARGET": "NONE", "CLONE_TARGET": "SYSTEM",
                                       "SHARED": "YES"},
                                      {"NAME": "ssh", "LN_TARGET": "SYSTEM", "CLONE_TARGET": "SYSTEM",
                                       "SHARED": "NO"}],
             "frontend_vnc_ports_reserved": "32768:65536"}
    _, conf, _ = render(tmp_path, DEBIAN12, **model)
    _, vectors = parse(conf)
    assert vectors["TM_MAD"][0]["ARGUMENTS"] == "-t 15 -d shared,ssh"
    assert [c["NAME"] for c in vectors["TM_MAD_CONF"]] == ["shared", "ssh"]
    assert vectors["VNC_PORTS"] == [{"START": "5900", "RESERVED": "32768:65536"}]
    names = [c["NAME"] for c in vectors["DS_MAD_CONF"]]
    assert vectors["DATASTORE_MAD"][0]["ARGUMENTS"].startswith("-t 15 -d " + ",".join(names) + " -s ")


HA = {"vip": "10.2.1.250/24", "interface": "ens18",
      "servers": [{"name": "hapy-b", "address": "10.2.1.251"}, {"name": "localhost", "address": "10.2.1.252"},
                  {"name": "hapy-c", "address": "10.2.1.253"}]}


@pytest.mark.parametrize("zone_ids, server_id", [({}, -1), ({"hapy-b": 0, "localhost": 1, "hapy-c": 2}, 1)])
def test_ha_server_renders_its_zone_id_raft_hooks_and_the_floating_monitor_address(tmp_path, zone_ids, server_id):
    model = {"hapy_one": {"version": "7.0", "oneadmin_password": "x"}, "hapy_db": {"backend": "sqlite"},
             "hapy_ha": HA, "frontend_ha_zone_ids": zone_ids, "frontend_raft_election_timeout_ms": 3000}
    dv, conf, _ = render(tmp_path, DEBIAN12, **model)
    _, vectors = parse(conf)
    assert vectors["FEDERATION"] == [{"MODE": "STANDALONE", "ZONE_ID": "0", "SERVER_ID": str(server_id),
                                      "MASTER_ONED": ""}]
    assert vectors["RAFT"][0]["ELECTION_TIMEOUT_MS"] == "3000"
    assert vectors["RAFT_LEADER_HOOK"] == [{"COMMAND": "raft/hapy-vip.sh",
                                            "ARGUMENTS": "leader ens18 10.2.1.250/24"}]
    assert vectors["RAFT_FOLLOWER_HOOK"] == [{"COMMAND": "raft/hapy-vip.sh",
                                              "ARGUMENTS": "follower ens18 10.2.1.250/24"}]
    assert dv["ha_endpoint"] == "http://10.2.1.252:2633/RPC2", "its own address, never the floating one"
    _, monitord = parse((tmp_path / "monitord.conf").read_text())
    assert monitord["NETWORK"][0]["MONITOR_ADDRESS"] == "10.2.1.250", "the probes report to whoever leads"


def test_without_ha_there_is_no_raft_hook_and_raft_keeps_opennebula_defaults(tmp_path):
    model = {"hapy_one": {"version": "6.10", "oneadmin_password": "x"}, "hapy_db": {"backend": "sqlite"}}
    dv, conf, _ = render(tmp_path, DEBIAN12, **model)
    _, vectors = parse(conf)
    assert "RAFT_LEADER_HOOK" not in vectors and "RAFT_FOLLOWER_HOOK" not in vectors
    assert vectors["FEDERATION"][0]["SERVER_ID"] == "-1"
    assert vectors["RAFT"] == [{"LIMIT_PURGE": "100000", "LOG_RETENTION": "250000", "LOG_PURGE_TIMEOUT": "60",
                                "ELECTION_TIMEOUT_MS": "5000", "BROADCAST_TIMEOUT_MS": "500",
                                "XMLRPC_TIMEOUT_MS": "1000"}]
    _, monitord = parse((tmp_path / "monitord.conf").read_text())
    assert monitord["NETWORK"][0]["MONITOR_ADDRESS"] == "auto"
