"""Unit tests of plugins/plugin_utils/hapy_site/: network plan, validation, config.eol, schema check, context."""

from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import academy as site_academy
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import common as site_common
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import context as site_context
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import eole_config as site_eole
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import guests as site_guests
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import plan as site_plan
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import validation as site_validation

REPO = Path(__file__).resolve().parents[2]

SCHOOL = {"uai": "9740100R", "name": "Lycée Sample", "academy": "ac-reunion", "domain": "lan", "index": 42}
ACADEMY = {
    "dns": ["172.16.0.53"],
    "ntp": ["ntp.ac-reunion.fr"],
    "update_servers": ["miroir-eole.ac-reunion.fr"],
    "proxy": {"address": "172.16.0.3", "port": 3128},
    "era_models": ["3zones-site"],  # the site's own 3-zone firewall model (EOLE ships 4zones)
}
AMON = {"name": "amon", "profile": "amon", "cpu": 1, "vcpu": 2, "memory": 2048, "disk": 20480, "image": "eole-amon",
        "nics": [{"network": "wan"}, {"network": "admin"}, {"network": "pedago"}]}
HORUS = {"name": "horus", "profile": "horus", "eole_release": "2.7.2", "nics": [{"network": "admin"}]}
SCRIBE = {"name": "scribe", "profile": "scribe", "nics": [{"network": "pedago", "ip": "10.42.2.10"}]}
OTHER = {"name": "pronote", "profile": "other", "nics": [{"network": "admin", "ip": "10.42.1.40"}]}


def site(**overrides: Any) -> dict[str, Any]:
    """A valid site; keyword arguments replace whole variables."""
    base = {
        "hapy_school": copy.deepcopy(SCHOOL),
        "hapy_mode": "single",
        "hapy_academy": copy.deepcopy(ACADEMY),
        "hapy_networks": [],
        "hapy_guests": copy.deepcopy([AMON, HORUS, SCRIBE, OTHER]),
        "hapy_backup": {"device": "/dev/sdb", "label": "SAUVEGARDES", "mountpoint": "/mnt/sauvegardes",
                        "keep_last": 7, "schedule": "30 1 * * *", "vm_label": "sauvegarde", "mode": "FULL"},
        "hapy_one": {"version": "6.10", "api_url": "http://127.0.0.1:2633/RPC2", "oneadmin_password": "x"},
        "hapy_db": {"backend": "mysql", "name": "opennebula", "user": "oneadmin", "password": "y"},
    }
    base.update(overrides)
    return base


def plan(**kwargs: Any) -> list[dict[str, Any]]:
    return site_plan.network_plan(kwargs.get("school", SCHOOL), kwargs.get("networks"), kwargs.get("academy", ACADEMY))


def by_name(networks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n["name"]: n for n in networks}


def v(value: Any) -> dict[str, Any]:
    """Expected config.eol entry written by Hâpy."""
    return {"owner": "gen_config", "val": value}


def follow(*values: Any) -> dict[str, Any]:
    """Expected follower entry of a multi group."""
    return {"owner": {str(i): "gen_config" for i in range(len(values))},
            "val": {str(i): x for i, x in enumerate(values)}}


# ---------------------------------------------------------------------------------------------------------------------
# Network plan
# ---------------------------------------------------------------------------------------------------------------------

def test_plan_of_school_42_standard_networks() -> None:
    keys = ("name", "zone", "vlan_id", "cidr", "gateway", "vnet_name", "bridge", "ar", "dhcp")
    rows = [tuple(n[k] for k in keys) for n in plan()]
    assert rows == [
        ("wan", "exterieur", 10, "10.42.0.0/24", "10.42.0.1", "CR_wan", "br-wan", {"ip": "10.42.0.2", "size": 8}, None),
        ("admin", "admin", 20, "10.42.1.0/24", "10.42.1.1", "CR_admin", "br-admin", {"ip": "10.42.1.1", "size": 49},
         {"start": "10.42.1.128", "end": "10.42.1.249"}),
        ("pedago", "pedago", 30, "10.42.2.0/24", "10.42.2.1", "CR_pedago", "br-pedago", {"ip": "10.42.2.1", "size": 49},
         {"start": "10.42.2.128", "end": "10.42.2.249"}),
        ("dmz", "dmz-pub", 40, "10.42.3.0/24", "10.42.3.1", "CR_dmz", "br-dmz", {"ip": "10.42.3.1", "size": 49}, None),
        ("dmz_priv", "dmz-priv", 50, "10.42.4.0/24", "10.42.4.1", "CR_dmz_priv", "br-dmz-priv",
         {"ip": "10.42.4.1", "size": 49}, None),
    ]


def test_plan_network_keys_and_derived_values() -> None:
    admin = by_name(plan())["admin"]
    assert {"name", "vnet_name", "vlan_id", "cidr", "network", "netmask", "prefix", "gateway", "dns", "bridge",
            "phydev", "vn_mad", "ar"} <= set(admin)
    assert (admin["network"], admin["netmask"], admin["prefix"], admin["broadcast"]) == \
        ("10.42.1.0", "255.255.255.0", 24, "10.42.1.255")
    assert admin["dns"] == ["10.42.1.1"]  # the Amon resolves for the internal networks
    assert admin["reserved"] == ["10.42.1.1", "10.42.1.128-10.42.1.249"]
    assert (admin["phydev"], admin["vn_mad"], admin["internal"]) == ("eth1", "bridge", True)
    wan = by_name(plan())["wan"]
    assert wan["dns"] == ["172.16.0.53"] and wan["internal"] is False


def test_plan_other_index_and_explicit_block() -> None:
    assert [n["cidr"] for n in plan(school={**SCHOOL, "index": 7})][:3] == ["10.7.0.0/24", "10.7.1.0/24", "10.7.2.0/24"]
    block = {**SCHOOL, "block": "10.200.0.0/16"}
    del block["index"]
    assert by_name(plan(school=block))["pedago"]["gateway"] == "10.200.2.1"


def test_plan_is_deterministic() -> None:
    assert plan() == plan()
    reordered = site_plan.network_plan(dict(reversed(SCHOOL.items())), None, ACADEMY)
    assert json.dumps(plan(), sort_keys=True) == json.dumps(reordered, sort_keys=True)


def test_plan_academy_layout_scales_small_networks() -> None:
    academy = {**ACADEMY, "base": "172.20.0.0/14", "school_prefix": 20, "network_prefix": 26}
    nets = by_name(plan(school={**SCHOOL, "index": 3}, academy=academy))
    assert nets["wan"]["cidr"] == "172.20.48.0/26"
    admin = nets["admin"]
    assert (admin["cidr"], admin["gateway"]) == ("172.20.48.64/26", "172.20.48.65")
    assert admin["ar"] == {"ip": "172.20.48.65", "size": 31}
    assert admin["dhcp"] == {"start": "172.20.48.96", "end": "172.20.48.121"}


def test_plan_academy_then_school_overrides() -> None:
    academy = {**ACADEMY, "phydev": "eno1", "vn_mad": "802.1Q",
               "networks": [{"name": "wan", "vlan_id": 100}, {"name": "pedago", "vlan_id": 300, "dhcp": False}]}
    nets = by_name(plan(academy=academy, networks=[{"name": "pedago", "vlan_id": 301, "bridge": "brped"}]))
    assert nets["wan"]["vlan_id"] == 100
    assert (nets["pedago"]["vlan_id"], nets["pedago"]["bridge"], nets["pedago"]["dhcp"]) == (301, "brped", None)
    assert {n["phydev"] for n in nets.values()} == {"eno1"} and {n["vn_mad"] for n in nets.values()} == {"802.1Q"}


def test_plan_cidr_override_recomputes_layout() -> None:
    pedago = by_name(plan(networks=[{"name": "pedago", "cidr": "192.168.50.0/24"}]))["pedago"]
    assert (pedago["gateway"], pedago["ar"], pedago["dns"]) == ("192.168.50.1", {"ip": "192.168.50.1", "size": 49},
                                                               ["192.168.50.1"])


def test_plan_disable_and_extra_networks() -> None:
    nets = plan(networks=[{"name": "dmz_priv", "enabled": False},
                          {"name": "wifi", "vlan_id": 60, "subnet_index": 6, "dhcp": True},
                          {"name": "san", "vlan_id": 70, "cidr": "10.99.9.0/28", "zone": "stockage"}])
    assert [n["name"] for n in nets] == ["wan", "admin", "pedago", "dmz", "wifi", "san"]
    wifi, san = nets[4], nets[5]
    assert (wifi["cidr"], wifi["zone"], wifi["vnet_name"], wifi["dhcp"]["start"]) == \
        ("10.42.6.0/24", "wifi", "CR_wifi", "10.42.6.128")
    assert (san["cidr"], san["ar"], san["zone"]) == ("10.99.9.0/28", {"ip": "10.99.9.1", "size": 7}, "stockage")


def test_plan_mtu_only_when_declared() -> None:
    nets = by_name(plan(networks=[{"name": "dmz", "mtu": 9000}]))
    assert nets["dmz"]["mtu"] == 9000 and "mtu" not in nets["admin"]
    backup = {"keep_days": 30, "jobs": [{"name": "nightly"}], "db_on_calendar": "*-*-* 01:00"}
    assert errors_of(hapy_networks=[{"name": "dmz", "mtu": 9000}], hapy_backup=backup) == []


def test_plan_ovswitch_uses_one_switch() -> None:
    nets = plan(academy={**ACADEMY, "vn_mad": "ovswitch"})
    assert {n["bridge"] for n in nets} == {"vswitch"}
    assert site_validation.validate_site(site(hapy_academy={**ACADEMY, "vn_mad": "ovswitch"})) == []


def test_plan_raises_on_bad_index() -> None:
    with pytest.raises(site_common.HapySiteError, match=r"hapy_school.index: 256; expected an integer 0\.\.255"):
        plan(school={**SCHOOL, "index": 256})


def test_time_zone_and_local_domain() -> None:
    assert site_common.time_zone({}, "ac-reunion") == "Indian/Reunion"
    assert site_common.time_zone({}, "ac-lyon") == "Europe/Paris"
    assert site_common.time_zone({"time_zone": "Indian/Mayotte"}, "ac-reunion") == "Indian/Mayotte"
    assert site_common.local_domain(SCHOOL) == "9740100r.ac-reunion.lan"
    assert site_common.local_domain({**SCHOOL, "domain": "lyc-sample.ac-reunion.lan"}) == "lyc-sample.ac-reunion.lan"


# ---------------------------------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------------------------------

def test_valid_site_has_no_error() -> None:
    assert site_validation.validate_site(site()) == []


def errors_of(**overrides: Any) -> list[str]:
    return site_validation.validate_site(site(**overrides))


def assert_error(errors: list[str], path: str, *fragments: str) -> None:
    """One error starts with ``path:`` and contains every fragment."""
    matching = [e for e in errors if e.startswith(path + ":")]
    assert matching, f"no error for {path} in {errors}"
    assert any(all(f in e for f in fragments) for e in matching), matching


@pytest.mark.parametrize(("school", "path", "fragment"), [
    ({**SCHOOL, "uai": "974010P"}, "hapy_school.uai", "expected 7 digits and a letter"),
    ({**SCHOOL, "uai": "97401000"}, "hapy_school.uai", "like 9740001A"),
    ({k: v for k, v in SCHOOL.items() if k != "uai"}, "hapy_school.uai", "None"),
    ({**SCHOOL, "name": ""}, "hapy_school.name", "expected the school's name"),
    ({**SCHOOL, "academy": "Ac Reunion"}, "hapy_school.academy", "like ac-reunion"),
    ({**SCHOOL, "domain": "bad_domain!"}, "hapy_school.domain", "expected a DNS domain"),
    ({**SCHOOL, "index": -1}, "hapy_school.index", "expected an integer >= 0"),
    ({**SCHOOL, "index": None}, "hapy_school.index", "or hapy_school.block"),
    ({**SCHOOL, "block": "10.1.2.3/16"}, "hapy_school.block", "expected an IPv4 network"),
])
def test_school_errors(school: dict[str, Any], path: str, fragment: str) -> None:
    assert_error(errors_of(hapy_school=school), path, fragment)


def test_bad_mode_does_not_hide_guest_errors() -> None:
    errors = errors_of(hapy_mode="ha", hapy_guests=guests_with(1, nics=[{"network": "pedag"}]))
    assert_error(errors, "hapy_mode", "expected one of single, cluster")
    assert_error(errors, "hapy_guests[1].nics[0].network", "unknown network 'pedag'")


def test_missing_school_and_bad_mode() -> None:
    assert_error(errors_of(hapy_school=None), "hapy_school", "expected {uai, name, academy, domain")
    assert_error(errors_of(hapy_mode="ha"), "hapy_mode", "expected one of single, cluster")


@pytest.mark.parametrize(("networks", "path", "fragments"), [
    ([{"name": "pedago", "vlan_id": 0}], "hapy_networks[0].vlan_id", ("0;", "expected an integer 1..4094")),
    ([{"name": "pedago", "vlan_id": 4095}], "hapy_networks[0].vlan_id", ("4095", "1..4094")),
    ([{"name": "pedago", "vlan_id": "30"}], "hapy_networks[0].vlan_id", ("'30'",)),
    ([{"name": "pedago", "vlan_id": 20}], "hapy_networks[0].vlan_id", ("20 already used by network 'admin'",)),
    ([{"name": "pedago", "cidr": "10.42.2.0/33"}], "hapy_networks[0].cidr", ("expected an IPv4 network address",)),
    ([{"name": "pedago", "cidr": "10.42.2.5/24"}], "hapy_networks[0].cidr", ("'10.42.2.5/24'",)),
    ([{"name": "pedago", "cidr": "pedago-net"}], "hapy_networks[0].cidr", ("like 10.1.2.0/24",)),
    ([{"name": "pedago", "cidr": "10.42.1.128/25"}], "hapy_networks[0].cidr",
     ("overlaps 10.42.1.0/24 of network 'admin'", "expected disjoint subnets")),
    ([{"name": "pedago", "gateway": "10.42.9.1"}], "hapy_networks[0].gateway",
     ("outside 10.42.2.0/24", "expected a host address")),
    ([{"name": "pedago", "gateway": "10.42.2"}], "hapy_networks[0].gateway", ("expected an IPv4 address",)),
    ([{"name": "pedago", "ar": {"ip": "10.42.2.250", "size": 10}}], "hapy_networks[0].ar", ("leaves 10.42.2.0/24",)),
    ([{"name": "pedago", "ar": {"ip": "10.42.2.100", "size": 40}}], "hapy_networks[0].dhcp",
     ("overlaps the OpenNebula range",)),
    ([{"name": "pedago", "dhcp": {"start": "10.42.2.200"}}], "hapy_networks[0].dhcp", ("expected true, false",)),
    ([{"name": "pedago", "vlan": 30}], "hapy_networks[0].vlan", ("unknown key", "vlan_id")),
    ([{"name": "wifi", "vlan_id": 60}], "hapy_networks[0].cidr", ("non-standard network 'wifi'",)),
    ([{"name": "wifi", "cidr": "10.42.6.0/24"}], "hapy_networks[0].vlan_id", ("non-standard network 'wifi'",)),
    ([{"name": "Pedago"}], "hapy_networks[0].name", ("expected a lower-case name",)),
    ([{"name": "pedago", "bridge": "br-pedagogique-1"}], "hapy_networks[0].bridge", ("at most 15 chars",)),
    ([{"name": "pedago", "bridge": "br-admin"}], "hapy_networks[0].bridge", ("already used by network 'admin'",)),
    ([{"name": "pedago", "vn_mad": "ovs"}], "hapy_networks[0].vn_mad", ("expected one of bridge, 802.1Q",)),
    ([{"name": "pedago", "vnet_name": "CR_admin"}], "hapy_networks[0].vnet_name", ("already used",)),
    ([{"name": "pedago", "reserved": ["10.42.2.9-10.42.2.3"]}], "hapy_networks[0].reserved[0]",
     ("expected an IPv4 address or a range",)),
    ([{"name": "pedago", "dns": ["dns.ac-reunion.fr"]}], "hapy_networks[0].dns[0]", ("expected an IPv4 address",)),
    ([{"name": "pedago", "mtu": 20000}], "hapy_networks[0].mtu", ("expected an integer 576..9216",)),
    ([{"name": "dmz", "cidr": "10.42.3.0/28", "dhcp": True}], "hapy_networks[dmz].dhcp", ("at least /27",)),
    ("pedago", "hapy_networks", ("expected a list",)),
])
def test_network_errors(networks: Any, path: str, fragments: tuple[str, ...]) -> None:
    assert_error(errors_of(hapy_networks=networks), path, *fragments)


def test_academy_network_errors_name_the_academy_path() -> None:
    academy = {**ACADEMY, "networks": [{"name": "admin", "vlan_id": 9999}]}
    assert_error(errors_of(hapy_academy=academy), "hapy_academy.networks[0].vlan_id", "1..4094")


def guests_with(index: int, **changes: Any) -> list[dict[str, Any]]:
    guests = copy.deepcopy([AMON, HORUS, SCRIBE, OTHER])
    guests[index].update(changes)
    return guests


@pytest.mark.parametrize(("guests", "path", "fragments"), [
    (guests_with(1, nics=[{"network": "pedag"}]), "hapy_guests[1].nics[0].network",
     ("unknown network 'pedag'; expected one of wan, admin, pedago, dmz, dmz_priv",)),
    (guests_with(2, name="horus"), "hapy_guests[2].name", ("duplicate guest name 'horus'", "hapy_guests[1]")),
    (guests_with(2, name="Scribe_1"), "hapy_guests[2].name", ("expected a lower-case host name",)),
    (guests_with(2, profile="seth"), "hapy_guests[2].profile", ("expected one of amon, horus, scribe",)),
    (guests_with(2, nics=[{"network": "pedago", "ip": "10.42.3.10"}]), "hapy_guests[2].nics[0].ip",
     ("outside network 'pedago'", "10.42.2.0/24")),
    (guests_with(2, nics=[{"network": "pedago", "ip": "10.42.2.255"}]), "hapy_guests[2].nics[0].ip",
     ("outside network 'pedago'",)),
    (guests_with(2, nics=[{"network": "pedago", "ip": "10.42.2.60"}]), "hapy_guests[2].nics[0].ip",
     ("outside the OpenNebula range", "10.42.2.1-10.42.2.49")),
    (guests_with(2, nics=[{"network": "pedago", "ip": "10.42.2.1"}]), "hapy_guests[2].nics[0].ip",
     ("reserved on 'pedago' (10.42.2.1)",)),
    (guests_with(2, nics=[{"network": "pedago", "ip": "10.42.2.300"}]), "hapy_guests[2].nics[0].ip",
     ("expected an IPv4 address",)),
    (guests_with(3, nics=[{"network": "admin", "ip": "10.42.1.40"}], name="pronote2") + [
        {"name": "pronote3", "profile": "other", "nics": [{"network": "admin", "ip": "10.42.1.40"}]}],
     "hapy_guests[4].nics[0].ip", ("already given to hapy_guests[3].nics[0]",)),
    (guests_with(0, nics=[{"network": "admin"}, {"network": "wan"}]), "hapy_guests[0].nics[0].network",
     ("expected wan",)),
    (guests_with(2, memory=2.5), "hapy_guests[2].memory", ("expected an integer >= 1 (MiB)",)),
    (guests_with(2, vcpu=0), "hapy_guests[2].vcpu", ("expected an integer >= 1",)),
    (guests_with(2, cpu="one"), "hapy_guests[2].cpu", ("expected a number > 0",)),
    (guests_with(3, eole={"nom_machine": "x"}), "hapy_guests[3].eole", ("profile 'other' has no EOLE",)),
    (guests_with(2, eole={"Bad-Name": 1}), "hapy_guests[2].eole.Bad-Name", ("invalid EOLE variable name",)),
    (guests_with(2, nics=[]), "hapy_guests[2].nics", ("expected a non-empty list",)),
    (guests_with(2, nics=[{"network": "pedago", "address": "10.42.2.10"}]), "hapy_guests[2].nics[0].address",
     ("unknown key",)),
    (guests_with(2, ram=4096), "hapy_guests[2].ram", ("unknown key",)),
    (guests_with(2, labels="sauvegarde"), "hapy_guests[2].labels", ("expected a list of strings",)),
    ({"name": "amon"}, "hapy_guests", ("expected a list",)),
])
def test_guest_errors(guests: Any, path: str, fragments: tuple[str, ...]) -> None:
    assert_error(errors_of(hapy_guests=guests), path, *fragments)


def test_dhcp_pool_and_reserved_ranges_keep_guests_out() -> None:
    networks = [{"name": "pedago", "ar": {"ip": "10.42.2.1", "size": 230}, "dhcp": {"start": "10.42.2.220",
                                                                                    "end": "10.42.2.240"}}]
    assert_error(errors_of(hapy_networks=networks), "hapy_networks[0].dhcp", "overlaps the OpenNebula range")
    networks[0]["reserved"] = ["10.42.2.10-10.42.2.19"]
    networks[0]["dhcp"] = False
    assert_error(errors_of(hapy_networks=networks), "hapy_guests[2].nics[0].ip", "reserved on 'pedago'",
                 "10.42.2.10-10.42.2.19")


def test_full_range_is_reported() -> None:
    networks = [{"name": "admin", "ar": {"ip": "10.42.1.1", "size": 2}}]
    guests = copy.deepcopy([AMON, HORUS, {**HORUS, "name": "h2"}])
    assert_error(errors_of(hapy_networks=networks, hapy_guests=guests), "hapy_guests",
                 "no free address left", "larger ar.size")


@pytest.mark.parametrize(("backup", "path", "fragment"), [
    ({"device": "sdb"}, "hapy_backup.device", "like /dev/sdb"),
    ({"keep_last": 0}, "hapy_backup.keep_last", "integer >= 1"),
    ({"schedule": "daily"}, "hapy_backup.schedule", "cron expression"),
    ({"mode": "incremental"}, "hapy_backup.mode", "FULL, INCREMENT"),
    ({"mountpoint": "mnt/sauvegardes"}, "hapy_backup.mountpoint", "absolute path"),
    ({"label": "A-VERY-LONG-BACKUP-LABEL"}, "hapy_backup.label", "1..16 chars"),
    ({"keep": 3}, "hapy_backup.keep", "unknown key"),
    ({"keep_days": -2}, "hapy_backup.keep_days", "integer >= 0"),
    ({"jobs": "nightly"}, "hapy_backup.jobs", "list of backup job definitions"),
    ("disk", "hapy_backup", "expected {device"),
])
def test_backup_errors(backup: Any, path: str, fragment: str) -> None:
    assert_error(errors_of(hapy_backup=backup), path, fragment)


SAN = {"portal": "10.42.1.240:3260", "target_iqn": "iqn.2026-11.fr.ac-reunion:san.9740100r",
       "lun_wwid": "36001405a1b2c3d4e5f60718293a4b5c6", "chap_user": "hapy", "chap_secret": "s3cret"}


@pytest.mark.parametrize(("san", "path", "fragment"), [
    (None, "hapy_san", "in cluster mode"),
    ({**SAN, "portal": "san.local"}, "hapy_san.portal", "like 10.9.0.10:3260"),
    ({**SAN, "portal": "10.42.1.240:99999"}, "hapy_san.portal", "iSCSI portal"),
    ({**SAN, "target_iqn": "san1"}, "hapy_san.target_iqn", "expected an IQN"),
    ({**SAN, "lun_wwid": "xyz"}, "hapy_san.lun_wwid", "16..40 hex digits"),
    ({**SAN, "chap_secret": ""}, "hapy_san.chap_secret", "CHAP secret"),
    ({k: v for k, v in SAN.items() if k != "chap_user"}, "hapy_san.chap_user", "CHAP user"),
    ({**SAN, "fs_name": "a-gfs2-name-too-long"}, "hapy_san.fs_name", "at most 16 chars"),
])
def test_san_errors_in_cluster_mode(san: Any, path: str, fragment: str) -> None:
    assert_error(errors_of(hapy_mode="cluster", hapy_san=san), path, fragment)


def test_cluster_with_san_is_valid() -> None:
    assert errors_of(hapy_mode="cluster", hapy_san=SAN) == []


def test_one_and_db_errors() -> None:
    assert_error(errors_of(hapy_one={"api_url": "127.0.0.1:2633"}), "hapy_one.api_url", "like http://127.0.0.1")
    assert_error(errors_of(hapy_one={"version": "latest"}), "hapy_one.version", "like 6.10")
    assert_error(errors_of(hapy_db={"backend": "postgresql"}), "hapy_db.backend", "mysql, sqlite")
    assert_error(errors_of(hapy_db={"backend": "mysql", "name": "one", "user": "one"}), "hapy_db.password",
                 "with the mysql backend")
    assert errors_of(hapy_db={"backend": "sqlite"}) == []


HA = {"vip": "10.42.1.250/24", "interface": "eth0",
      "servers": [{"name": "hapy-a", "address": "10.42.1.251"}, {"name": "hapy-b", "address": "10.42.1.252"},
                  {"name": "hapy-c", "address": "10.42.1.253"}]}


def ha_with(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(HA), **changes}


def test_api_url_of_an_ha_school_is_its_floating_address_unless_set() -> None:
    """The one derivation of a school's API URL (hapy_site_check returns it, the cloud-level roles read it): after
    merging HA with the scale work, site.yml's HA set_fact came after hapy_site_check and was never read."""
    assert site_common.api_url(None, None, "10.42.1.251", HA) == "http://10.42.1.250:2633/RPC2"
    assert site_common.api_url(None, None, "10.42.1.251", None) == "http://10.42.1.251:2633/RPC2"
    assert site_common.api_url(None, "http://one.lan:2633/RPC2", "10.42.1.251", HA) == "http://one.lan:2633/RPC2"
    assert site_common.api_url({"api_url": "http://a:1/RPC2"}, "http://b:2/RPC2", "f", HA) == "http://a:1/RPC2"


def test_ha_zone_of_three_in_the_admin_subnet_is_valid() -> None:
    assert errors_of(hapy_ha=HA) == []
    assert errors_of(hapy_ha=None) == []
    assert site_validation.ha_warnings(HA) == []


@pytest.mark.parametrize(("ha", "path", "fragments"), [
    ("10.42.1.250", "hapy_ha", ("not a mapping", "expected {vip")),
    (ha_with(vip="10.42.1.250"), "hapy_ha.vip", ("with its prefix", "like 10.42.1.250/24")),
    (ha_with(vip="10.42.1.0/24"), "hapy_ha.vip", ("a host address",)),
    (ha_with(vip="10.42.1.255/24"), "hapy_ha.vip", ("a host address",)),
    (ha_with(vip="10.42.1.250/31"), "hapy_ha.vip", ("expected the floating address",)),
    (ha_with(interface="a-very-long-interface0"), "hapy_ha.interface", ("at most 15 characters",)),
    (ha_with(servers=HA["servers"][:2]), "hapy_ha.servers", ("2", "at least 3 servers", "majority")),
    (ha_with(servers="hapy-a,hapy-b,hapy-c"), "hapy_ha.servers", ("expected a list of at least 3",)),
    (ha_with(servers=[*HA["servers"][:2], {"name": "hapy-c", "address": "10.42.1.250"}]),
     "hapy_ha.servers[2].address", ("10.42.1.250 is already hapy_ha.vip", "4 distinct addresses")),
    (ha_with(servers=[*HA["servers"][:2], {"name": "hapy-c", "address": "10.42.1.251"}]),
     "hapy_ha.servers[2].address", ("already hapy_ha.servers[0].address",)),
    (ha_with(servers=[*HA["servers"][:2], {"name": "hapy-c", "address": "10.42.9.253"}]),
     "hapy_ha.servers[2].address", ("outside 10.42.1.0/24", "in one subnet")),
    (ha_with(servers=[*HA["servers"][:2], {"name": "hapy-c", "address": "hapy-c.lan"}]),
     "hapy_ha.servers[2].address", ("expected the server's IPv4 address",)),
    (ha_with(servers=[*HA["servers"][:2], {"name": "hapy-a", "address": "10.42.1.253"}]),
     "hapy_ha.servers[2].name", ("already used by hapy_ha.servers[0]",)),
    (ha_with(servers=[*HA["servers"][:2], {"address": "10.42.1.253"}]),
     "hapy_ha.servers[2].name", ("expected the server's inventory name",)),
    (ha_with(servers=[*HA["servers"][:2], {"name": "hapy c#", "address": "10.42.1.253"}]),
     "hapy_ha.servers[2].name", ("#",)),
    (ha_with(servers=[*HA["servers"][:2], {"name": "hapy-c", "address": "10.42.1.253", "id": 2}]),
     "hapy_ha.servers[2].id", ("unknown key",)),
    (ha_with(floating="10.42.1.250"), "hapy_ha.floating", ("unknown key", "interface, servers, vip")),
    # the plan hands out .1 (gateway), .1-.49 (OpenNebula range) and .128-.249 (DHCP pool) of the admin network
    (ha_with(vip="10.42.1.20/24"), "hapy_ha.vip", ("in the OpenNebula range 10.42.1.1-10.42.1.49", "'admin'")),
    (ha_with(servers=[*HA["servers"][:2], {"name": "hapy-c", "address": "10.42.1.130"}]),
     "hapy_ha.servers[2].address", ("in the DHCP pool 10.42.1.128-10.42.1.249",)),
    (ha_with(vip="10.42.1.1/24"), "hapy_ha.vip", ("is the gateway of network 'admin'", ".250-.254")),
])
def test_ha_errors(ha: Any, path: str, fragments: tuple[str, ...]) -> None:
    assert_error(errors_of(hapy_ha=ha), path, *fragments)


def test_ha_addresses_outside_the_plan_are_valid_and_an_even_zone_is_a_warning() -> None:
    servers = [{"name": f"hapy-{i}", "address": f"192.168.7.{11 + i}"} for i in range(4)]
    four = {"vip": "192.168.7.10/24", "servers": servers}
    assert errors_of(hapy_ha=four) == []
    assert site_validation.ha_warnings(four) == [
        "hapy_ha.servers: 4 servers survive the loss of 1, as 3 would; an odd count is advised (Raft needs a "
        "majority up)"]
    assert site_validation.ha_warnings({**four, "servers": servers[:2]}) == []  # an error, not a warning


def test_academy_schools_do_not_share_ha_addresses() -> None:
    other = site(hapy_school={**SCHOOL, "uai": "9740200Z", "index": 43},
                 hapy_ha=ha_with(vip="10.43.1.250/24", servers=[{"name": "x-a", "address": "10.42.1.251"}]))
    errors = site_academy.validate_academy({"etb_9740100r": site(hapy_ha=HA), "etb_9740200z": other})
    assert errors == ["etb_9740200z: HA address 10.42.1.251 already used by etb_9740100r; expected the floating "
                      "and server addresses of one school only"]


def test_db_backend_defaults_to_mysql_as_the_roles_do() -> None:
    """hapy_db without backend is MariaDB/MySQL (frontend and backups roles' default): its password is required,
    name/user/host default like the roles' (opennebula, oneadmin, localhost); SQLite only when a site says so."""
    assert_error(errors_of(hapy_db={}), "hapy_db.password", "mysql backend (the default; hapy_db.backend: sqlite")
    assert_error(errors_of(hapy_db={"name": "opennebula", "user": "oneadmin"}), "hapy_db.password", "default")
    assert errors_of(hapy_db={"password": "vaulted"}) == []
    assert_error(errors_of(hapy_db={"password": "x", "user": ""}), "hapy_db.user", "default oneadmin")
    assert errors_of(hapy_db={"backend": "sqlite"}) == []


def test_every_error_names_its_path_and_expected_form() -> None:
    broken = site(hapy_networks=[{"name": "pedago", "vlan_id": 99999, "cidr": "x"}], hapy_backup={"keep_last": -1},
                  hapy_mode="cluster")
    errors = site_validation.validate_site(broken)
    assert len(errors) >= 4
    assert all(re.match(r"^hapy_[a-z_]+(\[[^]]+\])?[\w.\[\]-]*: .*expected ", e) for e in errors), errors


def test_academy_schools_do_not_collide() -> None:
    other = site(hapy_school={**SCHOOL, "uai": "9740200Z", "index": 43})
    assert site_academy.validate_academy({"etb_9740100r": site(), "etb_9740200z": other}) == []


def test_academy_duplicate_uai_and_overlapping_schools() -> None:
    twin = site(hapy_school={**SCHOOL, "index": 43})
    overlap = site(hapy_school={**SCHOOL, "uai": "9740300H", "index": None, "block": "10.42.2.0/23"},
                   hapy_academy={**ACADEMY, "network_prefix": 27})
    broken = site(hapy_school={"uai": "x"})
    errors = site_academy.validate_academy(
        {"etb_9740100r": site(), "etb_twin": twin, "etb_9740300h": overlap, "etb_x": broken})
    assert "etb_twin: hapy_school.uai 9740100R already used by etb_9740100r; expected one group per school" in errors
    assert ("etb_9740300h: network 10.42.2.32/27 overlaps 10.42.2.0/24 of etb_9740100r; expected disjoint school "
            "subnets (check hapy_school.index/block)") in errors
    overlaps = [e for e in errors if " overlaps " in e]
    assert len(overlaps) == 5  # the 5 /27 of etb_9740300h all fall in 10.42.2.0/24 of etb_9740100r
    assert all("etb_9740100r" in e and "etb_9740300h" in e for e in overlaps)
    assert not any(e.startswith("etb_x") for e in errors)


# ---------------------------------------------------------------------------------------------------------------------
# Guests: addresses, config.eol, schema check
# ---------------------------------------------------------------------------------------------------------------------

def resolved() -> dict[str, dict[str, Any]]:
    return {g["name"]: g for g in site_guests.resolve_guests(copy.deepcopy([AMON, HORUS, SCRIBE, OTHER]), plan())}


def test_resolve_guests_addresses() -> None:
    guests = resolved()
    assert [n["ip"] for n in guests["amon"]["nics"]] == ["10.42.0.2", "10.42.1.1", "10.42.2.1"]
    assert [n["interface"] for n in guests["amon"]["nics"]] == ["eth0", "eth1", "eth2"]
    assert guests["horus"]["nics"] == [{"network": "admin", "ip": "10.42.1.2", "vnet_name": "CR_admin",
                                        "netmask": "255.255.255.0", "interface": "eth0"}]
    assert guests["scribe"]["nics"][0]["ip"] == "10.42.2.10"
    second = site_guests.resolve_guests(
        [AMON, HORUS, {"name": "h2", "profile": "horus", "nics": [{"network": "admin"}]}], plan())
    assert second[2]["nics"][0]["ip"] == "10.42.1.3"


def test_resolve_guests_skips_reserved_and_taken() -> None:
    nets = plan(networks=[{"name": "admin", "reserved": ["10.42.1.2-10.42.1.4"]}])
    guests = site_guests.resolve_guests(
        [{"name": "a", "profile": "other", "nics": [{"network": "admin", "ip": "10.42.1.5"}]},
         {"name": "b", "profile": "other", "nics": [{"network": "admin"}]}], nets)
    assert guests[1]["nics"][0]["ip"] == "10.42.1.6"


# The config.eol generator and its schema check: tests/unit/test_eole_config.py.


# ---------------------------------------------------------------------------------------------------------------------
# OpenNebula context and start script
# ---------------------------------------------------------------------------------------------------------------------

def b64(text: str) -> str:
    return base64.b64decode(text).decode("utf-8")


def test_context_of_an_eole_guest_at_install() -> None:
    guest = resolved()["horus"]
    result = site_context.guest_context(guest, SCHOOL, plan(), ACADEMY, root_password="R00t!")
    assert result["NIC"] == [{"NETWORK": "CR_admin", "IP": "10.42.1.2", "MODEL": "virtio"}]
    ctx = result["CONTEXT"]
    assert (ctx["NETWORK"], ctx["SET_HOSTNAME"], ctx["HAPY_HALT"]) == ("YES", "horus", "YES")
    assert "NETCFG_TYPE" not in ctx
    assert json.loads(b64(ctx["EOLE_CONFIG_EOL_BASE64"])) == site_eole.eole_config(guest, SCHOOL, plan(), ACADEMY)
    assert b64(ctx["START_SCRIPT_BASE64"]) == site_context.START_SCRIPT
    assert crypt_matches(b64(ctx["EOLE_ROOT_PASSWORD_HASH_BASE64"]), "R00t!")
    assert "R00t!" not in repr(result) and base64.b64encode(b"R00t!").decode() not in repr(result)
    assert not any(key.startswith("ZEPHIR") for key in ctx) and result["SECRET_CONTEXT"] == {}
    assert all(isinstance(value, str) for value in ctx.values())
    # oned reads '$' in a VM's CONTEXT as a variable: a raw "$6$rounds=..." hash failed the instantiation on real
    # oned ("syntax error, unexpected EQUAL"); only the SSH key variable is meant
    assert [key for key, value in ctx.items() if "$" in value] == ["SSH_PUBLIC_KEY"]


def crypt_matches(hashed: str, password: str) -> bool:
    """The hash checked the way the guest's login does: glibc's crypt(3) through openssl (same algorithm)."""
    salt = hashed.split("$")[3] if hashed.startswith("$6$rounds=") else hashed.split("$")[2]
    rounds = int(hashed.split("$")[2].split("=")[1]) if hashed.startswith("$6$rounds=") else 5000
    from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.shadow_crypt import sha512_crypt
    return hashed.startswith("$6$") and sha512_crypt(password, salt, rounds) == hashed


def test_root_password_hash_is_stable_and_per_guest() -> None:
    guests = resolved()
    first = site_context.guest_context(guests["horus"], SCHOOL, plan(), ACADEMY, root_password="same")["CONTEXT"]
    again = site_context.guest_context(guests["horus"], SCHOOL, plan(), ACADEMY, root_password="same")["CONTEXT"]
    other = site_context.guest_context(guests["amon"], SCHOOL, plan(), ACADEMY, root_password="same")["CONTEXT"]
    key = "EOLE_ROOT_PASSWORD_HASH_BASE64"
    assert first[key] == again[key], "a re-run rewrites no template"
    assert first[key] != other[key], "two guests with one password: two salts, two hashes"


def test_context_run_stage_leaves_network_to_eole() -> None:
    ctx = site_context.guest_context(resolved()["amon"], SCHOOL, plan(), ACADEMY, stage="run")["CONTEXT"]
    assert (ctx["NETCFG_TYPE"], ctx["HAPY_HALT"]) == ("none", "NO")
    with pytest.raises(site_common.HapySiteError, match="expected install or run"):
        site_context.guest_context(resolved()["amon"], SCHOOL, plan(), ACADEMY, stage="final")


def test_context_of_other_profile_is_network_only() -> None:
    result = site_context.guest_context(resolved()["pronote"], SCHOOL, plan(), ACADEMY, stage="run", root_password="x")
    assert result == {"NIC": [{"NETWORK": "CR_admin", "IP": "10.42.1.40", "MODEL": "virtio"}],
                      "CONTEXT": {"NETWORK": "YES", "SET_HOSTNAME": "pronote",
                                  "SSH_PUBLIC_KEY": "$USER[SSH_PUBLIC_KEY]"},
                      "SECRET_CONTEXT": {}, "STAGE_CONTEXT": {}}


def test_context_zephir_registration_and_guest_password() -> None:
    academy = {**ACADEMY, "zephir": {"address": "zephir.ac-reunion.fr", "user": "hapy", "password": "zpw"}}
    guest = {**resolved()["scribe"], "zephir_id": 1234, "root_password": "guest-pw"}
    result = site_context.guest_context(guest, SCHOOL, plan(), academy, root_password="academy-pw")
    ctx = result["CONTEXT"]
    assert (ctx["ZEPHIR_ADDRESS"], ctx["ZEPHIR_USER"], ctx["ZEPHIR_ID"], ctx["ZEPHIR_MENU"]) == \
        ("zephir.ac-reunion.fr", "hapy", "1234", "1")
    assert "ZEPHIR_PASSWORD_BASE64" not in ctx, "never in the template"
    assert {k: b64(v) for k, v in result["SECRET_CONTEXT"].items()} == {"ZEPHIR_PASSWORD_BASE64": "zpw"}
    assert crypt_matches(b64(ctx["EOLE_ROOT_PASSWORD_HASH_BASE64"]), "guest-pw")


# ------------------------------------------------------------------------ values that reach OpenNebula (issue 10)
@pytest.mark.parametrize("uai, letter", [("0750654D", "D"), ("0750655E", "E"), ("9740100R", "R"), ("9740001H", "H")])
def test_uai_check_letter_is_the_digits_modulo_23(uai, letter):
    assert site_common.uai_check_letter(uai[:7]) == letter
    assert errors_of(hapy_school={**SCHOOL, "uai": uai}) == []


def test_wrong_uai_check_letter_is_refused_unless_the_academy_says_its_uais_are_fictional():
    assert_error(errors_of(hapy_school={**SCHOOL, "uai": "9740100P"}), "hapy_school.uai",
                 "check letter P, expected 9740100R", "hapy_academy.uai_check_letter: false")
    assert errors_of(hapy_school={**SCHOOL, "uai": "9740100P"},
                     hapy_academy={**ACADEMY, "uai_check_letter": False}) == []


@pytest.mark.parametrize("override, path, fragment", [
    ({"hapy_networks": [{"name": "admin", "vnet_name": "CR admin;x"}]}, "hapy_networks[0].vnet_name", "contains ';'"),
    ({"hapy_networks": [{"name": "admin", "vnet_name": "x" * 129}]}, "hapy_networks[0].vnet_name", "at most 128"),
    ({"hapy_networks": [{"name": "admin", "description": "bell\x07"}]}, "hapy_networks[0].description", "U+0007"),
    ({"hapy_school": {**SCHOOL, "name": "Lycée ]]> x"}}, "hapy_school.name", "']]>'"),
    ({"hapy_guests": [{**AMON, "image": "eole amon$"}]}, "hapy_guests[0].image", "contains '$'"),
    ({"hapy_guests": [{**AMON, "image": ""}]}, "hapy_guests[0].image", "cannot be empty"),
    ({"hapy_guests": [{**AMON, "description": "ends in \\"}]}, "hapy_guests[0].description", "backslash"),
    ({"hapy_guests": [{**AMON, "labels": ["sauvegarde,x"]}]}, "hapy_guests[0].labels[0]", "contains ','"),
    ({"hapy_backup": {"datastore": "sauve|gardes"}}, "hapy_backup.datastore", "contains '|'"),
])
def test_values_opennebula_cannot_keep_are_errors_naming_the_field(override, path, fragment):
    assert_error(errors_of(**override), path, fragment)


def test_hostile_but_storable_text_is_accepted():
    """Quotes, brackets, backslashes inside and non-ASCII reach OpenNebula verbatim (one_template.quote)."""
    assert errors_of(hapy_networks=[{"name": "admin", "description": 'Réseau "admin" [C:\\ok] = 974'}],
                     hapy_guests=[{**AMON, "description": "l'Amon \\ \"pare-feu\""}]) == []


def test_academy_duplicate_index_frontend_and_api_url() -> None:
    one = {"api_url": "http://10.42.1.250:2633/RPC2"}
    first = site(hapy_one=one)
    second = site(hapy_school={**SCHOOL, "uai": "9740200Z"}, hapy_one=one)
    errors = site_academy.validate_academy({"etb_9740100r": first, "etb_9740200z": second},
                                 {"etb_9740100r": ["10.42.1.250"], "etb_9740200z": ["10.42.1.250"]})
    assert "etb_9740200z: hapy_school.index 42 already used by etb_9740100r; expected one index per school" in errors
    assert ("etb_9740200z: frontend address 10.42.1.250 already used by etb_9740100r; "
            "expected one OpenNebula frontend per school") in errors
    assert ("etb_9740200z: hapy_one.api_url http://10.42.1.250:2633/RPC2 already used by etb_9740100r; "
            "expected one OpenNebula per school") in errors


def test_academy_loopback_api_urls_may_repeat() -> None:
    """A loopback URL names the controller's own end (a tunnel, a test bed), not one school's OpenNebula."""
    local = {"api_url": "http://127.0.0.1:2633/RPC2"}
    other = site(hapy_school={**SCHOOL, "uai": "9740200Z", "index": 43}, hapy_one=local)
    assert site_academy.validate_academy({"etb_9740100r": site(hapy_one=local), "etb_9740200z": other}) == []


def test_academy_refuses_one_root_password_for_two_schools() -> None:
    """The guests' root password is per school: one academy-wide secret would open every school's guests."""
    second = {"hapy_school": {**SCHOOL, "uai": "9740200Z", "index": 43}}
    shared = site_academy.validate_academy({"etb_9740100r": site(root_password_digest="d1"),
                                  "etb_9740200z": site(**second, root_password_digest="d1")})
    assert shared == ["etb_9740200z: hapy_eole_root_password is the same as etb_9740100r's; expected one root "
                      "password per school (from the vault), never one academy-wide password"]
    assert site_academy.validate_academy({"etb_9740100r": site(root_password_digest="d1"),
                                "etb_9740200z": site(**second, root_password_digest="d2")}) == []
