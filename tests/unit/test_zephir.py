"""Zéphir mode: the pure part (plugins/plugin_utils/hapy_site/zephir.py, the Zéphir guests' context) and the
controller's Zéphir client (plugins/action/hapy_zephir_guests.py) against the Zéphir-like endpoint tests/zephir."""

from __future__ import annotations

import base64
import copy
import socket
from typing import Any

import pytest
from ansible_collections.eole.hapy.plugins.action.hapy_zephir_guests import ZephirError, fetch_configs
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import academy as site_academy
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import context as site_context
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import plan as site_plan
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import validation as site_validation
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import zephir as site_zephir

from tests.zephir import ZephirServer, demo

SCHOOL = {"uai": "9749999Z", "name": "Collège de démonstration", "academy": "ac-reunion", "domain": "lan",
          "index": 99}
ZEPHIR = {"address": "zephir.ac-reunion.example", "user": demo.ZEPHIR_USER, "password": demo.ZEPHIR_PASSWORD}
ACADEMY = {"name": "ac-reunion", "uai_check_letter": False, "dns": ["10.99.0.1"], "zephir": ZEPHIR,
           "networks": [{"name": "dmz", "enabled": False}, {"name": "dmz_priv", "enabled": False}]}
MIXTE = {"mode": "zephir", "dp_mode": "mixte", "server_ids": [4242], "guests": {4242: {"labels": ["sauvegarde"]}}}


def plan() -> list[dict[str, Any]]:
    return site_plan.network_plan(SCHOOL, None, ACADEMY)


def configs(**changes: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The demo's configurations by server id, ``changes`` (``s4242={var: value}``) applied, None deletes."""
    found = {4241: copy.deepcopy(demo.AMON), 4242: copy.deepcopy(demo.SCRIBE)}
    for key, variables in changes.items():
        for var, value in variables.items():
            if value is None:
                found[int(key[1:])].pop(var, None)
            else:
                found[int(key[1:])][var] = value
    return found


def guests(deployment: dict[str, Any] = MIXTE, declared: list[dict[str, Any]] | None = None,
           **changes: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    return site_zephir.zephir_guests(configs(**changes), deployment, plan(), declared or [])


# ------------------------------------------------------------------------------------------------ the deployment
def test_deployment_is_checked_before_anything_is_read() -> None:
    assert site_zephir.validate_deployment(MIXTE, ACADEMY, SCHOOL) == []
    assert site_zephir.validate_deployment(None, ACADEMY, SCHOOL) == []
    assert site_zephir.validate_deployment({"mode": "generated"}, {}, SCHOOL) == [], "no Zéphir needed"
    errors = site_zephir.validate_deployment(
        {"mode": "zephir", "dp_mode": "liste", "server_ids": [0, "12", 7, 7], "rne": ["974"], "guest": {},
         "guests": {"x": {"image": "a", "ram": 1}}},
        {"zephir": {"address": "z", "password": "", "api_url": "ftp://z"}}, SCHOOL)
    assert errors == [
        "hapy_deployment.guest: unknown key; expected one of dp_mode, guests, mode, rne, server_ids",
        "hapy_deployment.dp_mode: 'liste'; expected one of 'site', 'liste manuelle', 'mixte' (Hâpy's dp_mode)",
        "hapy_deployment.server_ids[0]: 0; expected a Zéphir server id (an integer >= 1)",
        "hapy_deployment.server_ids[1]: '12'; expected a Zéphir server id (an integer >= 1)",
        "hapy_deployment.server_ids: 7 listed twice; expected each server once",
        "hapy_deployment.rne: ['974']; expected a list of school numbers like 9740001A (Hâpy's zephir_numero_etab; "
        "default the school's UAI)",
        "hapy_deployment.guests[x]: 'x' is not a server id; expected an integer key",
        "hapy_deployment.guests[x].ram: unknown key; expected one of image, labels, name",
        "hapy_academy.zephir.user: missing; expected a Zéphir login",
        "hapy_academy.zephir.password: missing; expected its password (vaulted)",
        "hapy_academy.zephir.api_url: 'ftp://z'; expected an URL like https://zephir.ac-x.fr:7080/",
    ]
    assert site_zephir.validate_deployment({"mode": "zephir", "dp_mode": "liste manuelle"}, {}, SCHOOL) == [
        "hapy_deployment.server_ids: empty; expected the Zéphir server ids with dp_mode 'liste manuelle'",
        "hapy_academy.zephir: missing; expected {address, user, password} of the academy's Zéphir with "
        "hapy_deployment.mode zephir"]
    assert site_zephir.validate_deployment({"mode": "zéphir"}, ACADEMY, SCHOOL) == [
        "hapy_deployment.mode: 'zéphir'; expected one of generated, zephir"]


def test_site_validation_checks_the_deployment_and_the_addc_password() -> None:
    site = {"hapy_school": SCHOOL, "hapy_academy": ACADEMY, "hapy_deployment": {"mode": "zephir", "dp_mode": "x"},
            "hapy_eole_addc_password": "weak"}
    errors = site_validation.validate_site(site)
    assert "hapy_deployment.dp_mode: 'x'; expected one of 'site', 'liste manuelle', 'mixte' (Hâpy's dp_mode)" in errors
    assert any(e.startswith("hapy_eole_addc_password: too weak (4 characters, 1 kinds)") for e in errors)
    assert "weak" not in " ".join(e.replace("too weak", "") for e in errors), "the password is never shown"


@pytest.mark.parametrize("dp_mode, expected", [("site", [4241, 4250]), ("liste manuelle", [4242, 4241]),
                                               ("mixte", [4241, 4250, 4242])])
def test_server_list_follows_hapy_dp_mode(dp_mode: str, expected: list[int]) -> None:
    """``site``: the school's servers sorted; ``liste manuelle``: the list as given; ``mixte``: both, once each."""
    assert site_zephir.server_list(dp_mode, [4250, 4241], [4242, 4241]) == expected


# ------------------------------------------------------------------------------------------ guests from Zéphir
def test_guests_from_zephir_configurations() -> None:
    found, errors = guests()
    assert errors == []
    amon, scribe = found
    assert {k: v for k, v in amon.items() if k != "zephir"} == {
        "name": "amon", "profile": "amon", "cpu": 0.5, "vcpu": 1, "memory": 1024, "disk": 10240,
        "image": "eole-2.9-amon",
        "nics": [{"network": "wan", "ip": "10.99.0.2"}, {"network": "admin", "ip": "10.99.1.1"},
                 {"network": "pedago", "ip": "10.99.2.1"}],
        "zephir_id": 4241, "eole_release": "2.9.0", "labels": []}
    assert amon["zephir"] == {"server_id": 4241, "index": 1, "netmasks": ["255.255.255.0"] * 3,
                              "gateway": "10.99.0.1", "dns": ["10.99.0.1", "9.9.9.9"], "proxy": None,
                              "active_directory": False}
    assert (scribe["name"], scribe["profile"], scribe["labels"], scribe["zephir"]["proxy"]) == (
        "scribe", "scribe", ["sauvegarde"], "http://10.99.2.1:3128")
    assert demo.CONFIG_SECRET not in repr(found), "nothing of the configuration but what the VM needs"


def test_guests_are_sorted_as_hapy_sorted_them() -> None:
    """By ``vm_index``, then server id (``deploy-auto``)."""
    found, _ = guests(s4241={"vm_index": "5"})
    assert [g["name"] for g in found] == ["scribe", "amon"]


def test_overrides_name_image_and_profile_of_a_configuration_without_vm_model() -> None:
    found, errors = guests({**MIXTE, "guests": {4242: {"name": "scribe-pedago", "image": "scribe-img"}}})
    assert errors == [] and (found[1]["name"], found[1]["image"]) == ("scribe-pedago", "scribe-img")


@pytest.mark.parametrize("changes, error", [
    ({"s4242": {"vm_cpu": None}}, "Zéphir server 4242: vm_cpu: missing; expected Hâpy's VM model variables "
                                  "(activer_modele_vm: oui)"),
    ({"s4242": {"vm_memory": "deux"}}, "Zéphir server 4242: vm_memory: 'deux'; expected an integer >= 1"),
    ({"s4242": {"vm_cpu": "0"}}, "Zéphir server 4242: vm_cpu: '0'; expected a number > 0"),
    ({"s4242": {"vm_vnet_name0": "CR_aca"}}, "Zéphir server 4242: vm_vnet_name0: 'CR_aca' is not a network of the "
                                             "school; expected one of CR_wan, CR_admin, CR_pedago"),
    ({"s4242": {"adresse_ip_eth0": "10.99.2.300"}}, "Zéphir server 4242: adresse_ip_eth0: '10.99.2.300'; expected "
                                                   "an IPv4 address"),
    ({"s4242": {"adresse_netmask_eth0": "255.255.0.0"}}, "Zéphir server 4242: adresse_netmask_eth0: '255.255.0.0'; "
                                                        "expected 255.255.255.0 (network pedago is 10.99.2.0/24)"),
    ({"s4242": {"nom_machine": "Scribe_1"}}, "Zéphir server 4242: nom_machine: 'scribe_1'; expected a lower-case "
                                             "host name (or hapy_deployment.guests[4242].name)"),
    ({"s4242": {"vm_app": "eole;scribe"}}, "Zéphir server 4242: vm_app: image: 'eole;scribe' contains ';'"),
    ({"s4242": {"eole_release": "latest"}}, "Zéphir server 4242: eole_release: 'latest'; expected an EOLE release "
                                            "like 2.9.0"),
    ({"s4242": {"adresse_ip_dns": "10.99.2.1|dns"}}, "Zéphir server 4242: adresse_ip_dns: 'dns'; expected IPv4 "
                                                     "addresses"),
    # the vnet ranges, as deploy-auto's check_vnet_range checked them, with the inventory's own rules
    ({"s4242": {"adresse_ip_eth0": "10.99.2.60"}}, "Zéphir server 4242: adresse_ip_eth0: 10.99.2.60 is outside the "
                                                  "OpenNebula range of 'pedago'; expected an address in "
                                                  "10.99.2.1-10.99.2.49"),
    ({"s4242": {"adresse_ip_eth0": "10.99.2.1"}}, "Zéphir server 4242: adresse_ip_eth0: 10.99.2.1 already given to "
                                                 "Zéphir server 4241: adresse_ip_eth2; expected unique addresses"),
    ({"s4241": {"vm_vnet_name0": "CR_admin", "vm_vnet_name1": "CR_wan", "adresse_ip_eth0": "10.99.1.1",
                "adresse_ip_eth1": "10.99.0.2"}},
     "Zéphir server 4241: vm_vnet_name0: 'admin'; expected wan (eth0 of an Amon is outside)"),
])
def test_zephir_configuration_errors_name_the_server_and_variable(changes: dict[str, Any], error: str) -> None:
    found, errors = guests(**changes)
    assert found == [] and any(e.startswith(error) for e in errors), errors


def test_zephir_guests_checked_with_the_inventory_guests() -> None:
    declared = [{"name": "scribe", "profile": "other", "nics": [{"network": "admin", "ip": "10.99.1.5"}]},
                {"name": "old", "profile": "other", "nics": [], "zephir_id": 4241}]
    found, errors = guests(declared=declared)
    assert found == []
    assert errors == ["hapy_guests[1].zephir_id: 4241 is also deployed from Zéphir (hapy_deployment); expected one "
                      "guest per Zéphir server"]
    found, errors = guests(declared=declared[:1])
    assert errors == ["Zéphir server 4242: name: duplicate guest name 'scribe' (also hapy_guests[0]); expected "
                      "unique names"]


# ------------------------------------------------------------------------------------------------- their context
def b64(text: str) -> str:
    return base64.b64decode(text).decode()


def zephir_guest(name: str) -> dict[str, Any]:
    return {g["name"]: g for g in guests()[0]}[name]


def test_context_of_a_zephir_guest_has_hapy_keys_and_no_config_eol() -> None:
    result = site_context.guest_context(zephir_guest("scribe"), SCHOOL, plan(), ACADEMY, root_password="Root-974!",
                                        addc_password="Ad-Secret-974", instance_timeout=5400)
    ctx = result["CONTEXT"]
    assert result["NIC"] == [{"NETWORK": "CR_pedago", "IP": "10.99.2.10", "MODEL": "virtio", "GATEWAY": "10.99.2.1",
                              "DNS": "10.99.2.1"}]
    assert {k: ctx[k] for k in ("IP_ETH0", "NETMASK_ETH0", "DNS_ETH0", "GW_ETH0", "ZEPHIR_ID", "VM_NAME", "VM_ID",
                                "PROXY", "NETWORK", "NETCFG_TYPE", "GROW_ROOTFS", "HAPY_HALT")} == {
        "IP_ETH0": "10.99.2.10", "NETMASK_ETH0": "255.255.255.0", "DNS_ETH0": "10.99.2.1", "GW_ETH0": "10.99.2.1",
        "ZEPHIR_ID": "4242", "VM_NAME": "scribe", "VM_ID": "$VMID", "PROXY": "http://10.99.2.1:3128",
        "NETWORK": "YES", "NETCFG_TYPE": "netplan", "GROW_ROOTFS": "NO", "HAPY_HALT": "YES"}
    assert "EOLE_CONFIG_EOL_BASE64" not in ctx and "SET_HOSTNAME" not in ctx
    assert (ctx["EOLE_RELEASE"], ctx["EOLE_INSTANCE_UNATTENDED"], ctx["HAPY_INSTANCE_TIMEOUT"]) == ("2.8.1", "YES",
                                                                                                    "5400")
    assert (ctx["ZEPHIR_ADDRESS"], ctx["ZEPHIR_USER"], ctx["ZEPHIR_MENU"]) == (ZEPHIR["address"], "hapy", "2")
    assert {k: b64(v) for k, v in result["SECRET_CONTEXT"].items()} == {
        "ZEPHIR_PASSWORD_BASE64": demo.ZEPHIR_PASSWORD, "HAPY_ADDC_PASSWORD_BASE64": "Ad-Secret-974"}
    assert result["STAGE_CONTEXT"] == {"HAPY_HALT": "YES", "NETCFG_TYPE": "netplan"}
    assert sorted(k for k, v in ctx.items() if "$" in v) == ["SSH_PUBLIC_KEY", "VM_ID"]
    for secret in ("Root-974!", "Ad-Secret-974", demo.ZEPHIR_PASSWORD):
        assert secret not in repr(ctx) and base64.b64encode(secret.encode()).decode() not in repr(ctx)


def test_context_of_a_zephir_amon_and_the_run_stage() -> None:
    result = site_context.guest_context(zephir_guest("amon"), SCHOOL, plan(), ACADEMY, stage="run",
                                        addc_password="Ad-Secret-974")
    ctx = result["CONTEXT"]
    assert [nic.get("METHOD") for nic in result["NIC"]] == [None, "skip", "skip"], "eth1.. left to EOLE's instance"
    assert result["NIC"][0]["DNS"] == "10.99.0.1 9.9.9.9" and ctx["DNS_ETH0"] == "10.99.0.1 9.9.9.9"
    assert [ctx[f"IP_ETH{i}"] for i in range(3)] == ["10.99.0.2", "10.99.1.1", "10.99.2.1"]
    assert "PROXY" not in ctx, "activer_proxy_client: non"
    assert (ctx["NETCFG_TYPE"], ctx["HAPY_HALT"]) == ("none", "NO")
    assert result["STAGE_CONTEXT"] == {"HAPY_HALT": "NO", "NETCFG_TYPE": "none"}
    assert "HAPY_ADDC_PASSWORD_BASE64" not in result["SECRET_CONTEXT"], "an Amon without AD gets no AD password"


@pytest.mark.parametrize("release, unattended", [("2.8.0", False), ("2.8.1", True), ("2.10.0", True)])
def test_instance_unattended_from_eole_2_8_1(release: str, unattended: bool) -> None:
    guest = {**zephir_guest("scribe"), "eole_release": release}
    ctx = site_context.guest_context(guest, SCHOOL, plan(), ACADEMY)["CONTEXT"]
    assert ("EOLE_INSTANCE_UNATTENDED" in ctx) is unattended


@pytest.mark.parametrize("password, fragment", [
    ("Ad-Secret-974", None), ("aB3$xyz", None), ("Ad Secret 974", "contains a blank"), ("Ad-Sécret-974", "non-ASCII"),
    ("abcdef12", "too weak (8 characters, 2 kinds)"), ("Ab1-", "too weak (4 characters, 4 kinds)"),
    ("MyAdmin-974", "contains the account name"),
])
def test_addc_password_policy(password: str, fragment: str | None) -> None:
    errors = site_context.addc_password_errors(password, "hapy_eole_addc_password")
    assert (errors == []) if fragment is None else (fragment in errors[0] and password not in errors[0])


def test_academy_refuses_one_addc_password_for_two_schools() -> None:
    school = {"hapy_school": SCHOOL, "hapy_academy": ACADEMY}
    other = {"hapy_school": {**SCHOOL, "uai": "9749998Y", "index": 98}, "hapy_academy": ACADEMY}
    errors = site_academy.validate_academy({"etb_a": {**school, "addc_password_digest": "d"},
                                            "etb_b": {**other, "addc_password_digest": "d",
                                                      "root_password_digest": "d"}})
    assert errors == ["etb_b: hapy_eole_addc_password is the same as etb_a's; expected one AD administrator password "
                      "per school (from the vault), never one academy-wide password"]


# -------------------------------------------------------------------------- the controller's Zéphir client
@pytest.fixture
def zephir():
    with ZephirServer(demo.servers(), users={demo.ZEPHIR_USER: demo.ZEPHIR_PASSWORD}) as server:
        yield server


def settings(server: ZephirServer, **changes: Any) -> dict[str, Any]:
    return site_zephir.zephir_settings({"zephir": {**ZEPHIR, "api_url": server.url, **changes}})


@pytest.mark.parametrize("dp_mode, ids", [("site", [4241]), ("liste manuelle", [4242]), ("mixte", [4241, 4242])])
def test_fetch_follows_dp_mode(zephir: ZephirServer, dp_mode: str, ids: list[int]) -> None:
    found = fetch_configs(settings(zephir), {**MIXTE, "dp_mode": dp_mode}, SCHOOL)
    assert list(found) == ids
    assert found[ids[-1]] == (demo.SCRIBE if ids[-1] == 4242 else demo.AMON)
    assert zephir.calls["serveurs.groupe_serveur"] == (0 if dp_mode == "liste manuelle" else 1)
    assert zephir.calls["get_permissions"] == 1 and zephir.calls["serveurs.get_config"] == len(ids)


def test_fetch_errors_say_what_to_fix_and_never_show_the_password(zephir: ZephirServer) -> None:
    with pytest.raises(ZephirError) as refused:
        fetch_configs(settings(zephir, password="wrong-pw"), MIXTE, SCHOOL)
    assert str(refused.value) == (f"Zéphir at {zephir.url} refused user 'hapy' (HTTP 401); expected "
                                  "hapy_academy.zephir.user and password of a Zéphir account allowed to read server "
                                  "configurations")
    with pytest.raises(ZephirError, match=r"serveurs.get_config\(9999\) \(hapy_deployment.server_ids or the site's "
                                          r"servers\) refused: serveur 9999 inconnu"):
        fetch_configs(settings(zephir), {**MIXTE, "dp_mode": "liste manuelle", "server_ids": [9999]}, SCHOOL)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    with pytest.raises(ZephirError, match=r"cannot reach Zéphir at .*check hapy_academy.zephir.address") as down:
        fetch_configs(settings(zephir, api_url=closed, timeout=5), MIXTE, SCHOOL)
    for error in (refused.value, down.value):
        assert demo.ZEPHIR_PASSWORD not in str(error) and "wrong-pw" not in str(error)


def test_zephir_settings_default_to_hapy_https_port() -> None:
    assert site_zephir.zephir_settings({"zephir": ZEPHIR})["api_url"] == "https://zephir.ac-reunion.example:7080/"
