"""Unit tests of plugins/plugin_utils/hapy_site/academy_file.py: schools of an academy file as inventory schools."""

from __future__ import annotations

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.academy_file import expand_schools


def test_single_and_cluster_schools_become_groups_hosts_and_variables():
    errors, schools = expand_schools([
        {"uai": "9740001A", "name": "Un", "index": 1, "frontend": "10.1.1.250"},
        {"uai": "9740002B", "name": "Deux", "block": "10.200.0.0/16", "mode": "cluster", "domain": "etb.lan",
         "frontend": {"address": "one.etb2.example", "name": "fe2", "vars": {"ansible_user": "deploy"}},
         "nodes": ["10.2.1.251", {"address": "10.2.1.252", "vars": {"ansible_port": 2222}}],
         "api_url": "https://one.etb2.example/RPC2", "vars": {"hapy_san": {"portal": "10.2.1.254:3260"}}},
    ], "ac-reunion")
    assert errors == []
    one, two = schools
    assert (one.group, one.label) == ("etb_9740001a", "schools[0] 9740001A")
    assert [(h.name, h.address, h.frontend, h.node, h.vars) for h in one.hosts] == [
        ("hapy-9740001a", "10.1.1.250", True, True, {"ansible_host": "10.1.1.250"})]
    assert one.vars == {"hapy_school": {"uai": "9740001A", "name": "Un", "academy": "ac-reunion", "domain": "lan",
                                        "index": 1},
                        "hapy_mode": "single", "hapy_one_api_url": "http://10.1.1.250:2633/RPC2"}
    assert [(h.name, h.frontend, h.node) for h in two.hosts] == [
        ("fe2", True, False), ("hapy-9740002b-n1", False, True), ("hapy-9740002b-n2", False, True)]
    assert two.hosts[0].vars == {"ansible_host": "one.etb2.example", "ansible_user": "deploy"}
    assert two.hosts[2].vars == {"ansible_host": "10.2.1.252", "ansible_port": 2222}
    assert two.vars["hapy_school"]["block"] == "10.200.0.0/16" and two.vars["hapy_school"]["domain"] == "etb.lan"
    assert two.vars["hapy_one_api_url"] == "https://one.etb2.example/RPC2"
    assert two.vars["hapy_san"] == {"portal": "10.2.1.254:3260"} and two.vars["hapy_mode"] == "cluster"


def test_every_error_of_the_file_at_once_naming_the_school_and_the_field():
    errors, schools = expand_schools([
        "9740001A",
        {"uai": "9740002B", "name": "Deux", "index": 2, "mode": "ha", "frontend": "10.2.1.250"},
        {"uai": "9740003C", "name": "Trois", "index": 3},
        {"uai": "9740004D", "name": "Quatre", "index": 4, "frontend": {"adress": "10.4.1.250"}},
        {"uai": "9740005E", "name": "Cinq", "index": 5, "frontend": "10.5.1.250", "vars": {"hapy_school": {}}},
        {"uai": "9740006F", "name": "Six", "index": 6, "frontend": "10.6.1.250", "nodes": [], "mode": "cluster"},
        {"uai": "9740007G", "name": "Sept", "index": 7, "frontend": {"address": "10.7.1.250", "name": "hapy-x"}},
        {"uai": "9740008H", "name": "Huit", "index": 8, "frontend": {"address": "10.8.1.250", "name": "hapy-x"}},
    ], "ac-reunion")
    assert errors == [
        "schools[0]: '9740001A'; expected a mapping {uai, name, index, frontend, ...}",
        "schools[1] 9740002B: mode: 'ha'; expected one of single, cluster",
        "schools[2] 9740003C: frontend: missing; expected the frontend's address, like 10.1.1.250",
        "schools[3] 9740004D: frontend.adress: unknown key; expected one of address, name, vars",
        "schools[3] 9740004D: frontend.address: None; expected the server's IPv4 address or DNS name, like 10.1.1.250",
        "schools[4] 9740005E: vars.hapy_school: set by the school's own keys; expected uai, name, domain, index, "
        "block, workgroup, ad_domain, eole_release at the school's level",
        "schools[5] 9740006F: nodes: []; expected the list of the cluster's KVM node addresses",
        "schools[7] 9740008H: host name hapy-x already used by schools[6] 9740007G; expected one name per server",
    ]
    assert [s.uai for s in schools] == ["9740007G", "9740008H"]
    assert expand_schools([], "ac-reunion")[0] == ["schools: []; expected a list of schools {uai, name, index, "
                                                   "frontend, ...}"]
