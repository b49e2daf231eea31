"""The config.eol generator per EOLE release (hapy_site.releases, hapy_site.eole_config).

A sample school's guests are generated and compared, variable by variable, with expected files written by hand from
EOLE's own files (tests/unit/eole_expected/, docs/eole-variables.md gives each variable's source); the release
rules (modules, Horus, ERA models, device names) and the schema check are tested on their own.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import eole_config as site_eole
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import guests as site_guests
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import plan as site_plan
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import releases
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import HapySiteError
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.validation import validate_site

HERE = Path(__file__).parent
EXPECTED = HERE / "eole_expected"
DOC = HERE.parents[1] / "docs" / "eole-variables.md"

SCHOOL = {"uai": "9740100R", "name": "Lycée Sample", "academy": "ac-reunion", "domain": "lan", "index": 42}
REUNION = {
    "name": "ac-reunion",
    "dns": ["172.16.0.53", "172.16.0.54"],
    "ntp": ["ntp.ac-reunion.fr"],
    "update_servers": ["miroir-eole.ac-reunion.fr", "eole.ac-dijon.fr"],
    "proxy": {"address": "172.16.0.3", "port": 3128, "zones": [".in.adc.education.fr", ".in.orion.education.fr"]},
    "era_models": ["5zones-974"],
    "admin_networks": ["172.16.0.0/24"],
    "smtp_relay": "smtp.ac-reunion.fr",
    "mail_to": "eole@ac-reunion.fr",
}
# the same academy with a plain upstream proxy and only EOLE's own ERA models
GENERIC = {**{k: v for k, v in REUNION.items() if k != "era_models"}, "proxy": {"address": "172.16.0.3", "port": 3128}}

ZONES = ("wan", "admin", "pedago", "dmz", "dmz_priv")
AMON4 = {"name": "amon", "profile": "amon", "nics": [{"network": n} for n in ZONES[:4]]}
AMON5 = {"name": "amon", "profile": "amon", "eole_release": "2.8.1", "nics": [{"network": n} for n in ZONES]}
SCRIBE = {"name": "scribe", "profile": "scribe", "nics": [{"network": "pedago"}]}
HORUS = {"name": "horus", "profile": "horus", "eole_release": "2.7.2", "nics": [{"network": "admin"}]}
AMONECOLE = {"name": "amonecole", "profile": "amonecole", "eole_release": "2.10.0",
             "nics": [{"network": "wan"}, {"network": "pedago"}]}

# expected file -> (academy, the school's guests, the guest compared)
CASES: dict[str, tuple[dict[str, Any], list[dict[str, Any]], str]] = {
    "amon-5zones-974-2.8.1": (REUNION, [AMON5], "amon"),
    "amon-4zones-2.9.0": (GENERIC, [AMON4], "amon"),
    "scribe-2.9.0": (REUNION, [AMON4, SCRIBE], "scribe"),
    "scribe-2.8.1": (REUNION, [AMON4, {**SCRIBE, "eole_release": "2.8.1"}], "scribe"),
    "amonecole-2.10.0": (REUNION, [AMONECOLE], "amonecole"),
    "horus-2.7.2": (REUNION, [AMON4, HORUS], "horus"),
}


def generate(case: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The guest of ``case`` (resolved with its school's guests) and its generated config.eol."""
    academy, guests, name = CASES[case]
    plan = site_plan.network_plan(SCHOOL, None, academy)
    guest = next(g for g in site_guests.resolve_guests(copy.deepcopy(guests), plan) if g["name"] == name)
    return guest, site_eole.eole_config(guest, SCHOOL, plan, academy)


def differences(expected: dict[str, Any], generated: dict[str, Any]) -> list[str]:
    """One line per variable that differs, naming it."""
    lines = [f"{var}: expected {expected[var]!r}, generated {generated[var]!r}"
             for var in expected if var in generated and expected[var] != generated[var]]
    lines += [f"{var}: missing (expected {expected[var]!r})" for var in expected if var not in generated]
    lines += [f"{var}: not expected (generated {generated[var]!r})" for var in generated if var not in expected]
    return lines


@pytest.mark.parametrize("case", sorted(CASES))
def test_sample_school_inventory_is_valid(case: str) -> None:
    academy, guests, _ = CASES[case]
    assert validate_site({"hapy_school": SCHOOL, "hapy_academy": academy, "hapy_guests": guests}) == []


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_config_matches_the_expected_file_variable_by_variable(case: str) -> None:
    guest, generated = generate(case)
    expected = json.loads((EXPECTED / f"{case}.json").read_text(encoding="utf-8"))
    assert differences(expected, generated) == [], case
    release = guest.get("eole_release", releases.DEFAULT_RELEASE)
    assert site_eole.check_eole_config(generated, guest["profile"], release) == []


# What EOLE's real files show (docs/eole-variables.md): the ac-reunion Amon 2.8.1 (amon-ac-reunion-config.eol) and the
# Scribe 2.8.1 (dataset/lfikyoto/config.eol) of EOLE's CI repository: forms and semantics the generator must keep.
def test_forms_of_the_real_amon_2_8_1() -> None:
    _, amon = generate("amon-5zones-974-2.8.1")
    assert amon["___version___"] == "2.8.1"
    assert amon["nombre_interfaces"]["val"] == "5", "text, as the real file stores it"
    assert amon["type_amon"]["val"] == "5zones-974"
    # the real Amon: eth1..eth4 are ens4..ens7, nom_carte a one-item list, nom_zone the same device name
    assert [amon[f"nom_carte_eth{i}"]["val"] for i in range(1, 5)] == [["ens4"], ["ens5"], ["ens6"], ["ens7"]]
    assert [amon[f"nom_zone_eth{i}"]["val"] for i in range(1, 5)] == ["ens4", "ens5", "ens6", "ens7"]
    assert not any(var.startswith(("proxy_client", "activer_proxy_client")) for var in amon), \
        "an Amon's upstream proxy is its parent cache, not a proxy client"
    assert amon["nom_cache_pere_zone"]["val"] == ["172.16.0.3"] * 2
    assert amon["type_nom_zone_dns_cache"]["val"] == {"0": "DNS", "1": "DNS"}


def test_semantics_of_the_real_scribe_2_8_1() -> None:
    guest, scribe = generate("scribe-2.8.1")
    assert scribe["ad_domain"]["val"] == "9740100r.ac-reunion.lan", "the AD DNS domain (realm), not the workgroup"
    assert scribe["ad_server"]["val"] == scribe["nom_machine"]["val"] == scribe["smb_netbios_name"]["val"]
    assert scribe["ad_address"]["val"] == scribe["adresse_ip_eth0"]["val"]
    assert scribe["ad_public_address"]["val"] == guest["ad_ip"] != scribe["ad_address"]["val"]
    assert scribe["ad_local"]["val"] == "oui"
    assert scribe["bareos_dir_name"]["val"] == "scribe-dir"
    assert not any(var.startswith("bacula_") for var in scribe), "Bacula's names are EOLE 2.3's"
    assert (scribe["exim_relay_smtp"]["val"], scribe["exim_relay"]["val"]) == ("smtp.ac-reunion.fr", "oui")


def test_every_generated_variable_is_documented() -> None:
    """docs/eole-variables.md lists every variable the generator writes, with its source."""
    def per_interface(var: str) -> str:
        return re.sub(r"eth(\d+|N)$", "ethN", var)

    documented = {per_interface(v) for v in re.findall(r"`(_*[a-z][a-z0-9_]*N?)`", DOC.read_text(encoding="utf-8"))}
    generated = {per_interface(var) for case in CASES for var in generate(case)[1]}
    assert sorted(generated - documented) == []


# ---------------------------------------------------------------------------------------------------- releases
def test_release_precedence_and_form() -> None:
    guest, school, academy = {"eole_release": "2.8.1"}, {"eole_release": "2.10"}, {"eole_release": "2.7.2"}
    assert releases.release_of(guest, school, academy) == "2.8.1"
    assert releases.release_source({}, school, academy) == ("2.10", "hapy_school.eole_release")
    assert releases.release_source({}, None, academy) == ("2.7.2", "hapy_academy.eole_release")
    assert releases.release_source({}) == ("2.9.0", "default")
    assert releases.normalize("2.10") == "2.10.0" and releases.at_least("2.10.0", "2.9")
    assert list(releases.RELEASES) == ["2.7.2", "2.8.0", "2.8.1", "2.9.0", "2.10.0"]


@pytest.mark.parametrize(("value", "fragment"), [
    (2.10, "is a number; expected the release as text, like '2.10.0' (YAML reads 2.10 as the number 2.1"),
    ("2.9.x", "expected an EOLE release like 2.9.0"),
    ("2.6.2", "'2.6.2' is not a supported EOLE release; expected one of 2.7.2, 2.8.0, 2.8.1, 2.9.0, 2.10.0"),
    ("3.0", "is not a supported EOLE release"),
])
def test_release_errors_name_the_field(value: Any, fragment: str) -> None:
    for errors, path in (
            (validate_site({"hapy_school": SCHOOL, "hapy_guests": [{**SCRIBE, "eole_release": value}]}),
             "hapy_guests[0].eole_release: "),
            (validate_site({"hapy_school": {**SCHOOL, "eole_release": value}, "hapy_guests": [SCRIBE]}),
             "hapy_school.eole_release: "),
            (validate_site({"hapy_school": SCHOOL, "hapy_academy": {"eole_release": value}}),
             "hapy_academy.eole_release: ")):
        assert [e for e in errors if e.startswith(path)] and all(fragment in e for e in errors), errors


def test_horus_only_where_its_release_has_it() -> None:
    errors = validate_site({"hapy_school": SCHOOL, "hapy_guests": [{**HORUS, "eole_release": "2.9"}]})
    assert errors == ["hapy_guests[0].profile: horus is not shipped by EOLE 2.9.0 (its modules: amon, scribe, "
                      "amonecole; horus exists in 2.7.2, 2.8.0); expected another profile or an eole_release that "
                      "has it"]
    by_school = validate_site({"hapy_school": {**SCHOOL, "eole_release": "2.8.1"},
                               "hapy_guests": [{k: v for k, v in HORUS.items() if k != "eole_release"}]})
    assert by_school[0].endswith("(EOLE 2.8.1 from hapy_school.eole_release)")
    by_default = validate_site({"hapy_school": SCHOOL, "hapy_guests": [{"name": "horus", "profile": "horus",
                                                                        "nics": [{"network": "admin"}]}]})
    assert by_default[0].endswith("(no eole_release declared: the default 2.9.0)")
    for release in ("2.7.2", "2.8.0"):
        assert validate_site({"hapy_school": SCHOOL, "hapy_guests": [{**HORUS, "eole_release": release}]}) == []
    plan = site_plan.network_plan(SCHOOL)
    with pytest.raises(HapySiteError, match="horus is not shipped by EOLE 2.9.0"):
        site_eole.eole_config({**HORUS, "eole_release": "2.9.0"}, SCHOOL, plan)


def test_amonecole_only_from_2_8_1() -> None:
    errors = validate_site({"hapy_school": SCHOOL, "hapy_guests": [{**AMONECOLE, "eole_release": "2.7.2"}]})
    assert errors == ["hapy_guests[0].profile: amonecole is not shipped by EOLE 2.7.2 (its modules: amon, scribe, "
                      "horus; amonecole exists in 2.8.1, 2.9.0, 2.10.0); expected another profile or an eole_release "
                      "that has it"]


def test_interface_names_follow_the_machine_type() -> None:
    assert releases.interface_names("2.8.1", 3) == ["ens3", "ens4", "ens5"]  # i440FX: PCI slots 3, 4, 5
    assert releases.interface_names("2.9", 3) == ["enp2s0", "enp3s0", "enp4s0"]  # q35: PCIe buses 2, 3, 4
    assert [releases.RELEASES[r].machine for r in releases.RELEASES] == ["pc", "pc", "pc", "q35", "q35"]


def test_a_nic_may_name_its_device() -> None:
    guest = {**SCRIBE, "nics": [{"network": "pedago", "device": "eth0"}]}
    assert validate_site({"hapy_school": SCHOOL, "hapy_guests": [guest]}) == []
    doc = site_eole.eole_config(guest, SCHOOL, site_plan.network_plan(SCHOOL))
    assert (doc["nom_carte_eth0"]["val"], doc["nom_zone_eth0"]["val"]) == (["eth0"], "eth0")
    bad = validate_site({"hapy_school": SCHOOL, "hapy_guests": [{**SCRIBE, "nics": [{"network": "pedago",
                                                                                    "device": "a very long name"}]}]})
    assert bad == ["hapy_guests[0].nics[0].device: 'a very long name'; expected the interface name the guest sees, "
                   "like enp2s0 or ens3 (at most 15 characters)"]


# -------------------------------------------------------------------------------------------------- ERA models
def amon(nics: int, **changes: Any) -> dict[str, Any]:
    return {"name": "amon", "profile": "amon", "nics": [{"network": n} for n in ZONES[:nics]], **changes}


@pytest.mark.parametrize(("guest", "academy", "message"), [
    (amon(4, eole={"type_amon": "5zones"}), REUNION,
     "hapy_guests[0].eole.type_amon: '5zones' is not an ERA model of EOLE 2.9.0; expected one of 4zones, "
     "2zones-amonecole, 5zones-974 (hapy_academy.era_models adds the site's own models)"),
    (amon(4, eole={"type_amon": "5zones-974"}), REUNION,
     "hapy_guests[0].eole.type_amon: '5zones-974' is a 5-zone model and the amon has 4 NICs; expected a 4-zone model"),
    (amon(5), GENERIC,
     "hapy_guests[0].eole.type_amon: a 5-zone amon on EOLE 2.9.0 needs an ERA model and none is known; expected "
     "eole.type_amon naming one of 4zones, 2zones-amonecole, or the site's model added to hapy_academy.era_models"),
    (amon(4), {**GENERIC, "era_models": ["4zones-lycee"]},
     "hapy_guests[0].eole.type_amon: a 4-zone amon on EOLE 2.9.0 needs an ERA model and several fit (4zones, "
     "4zones-lycee); expected eole.type_amon naming one of"),
])
def test_unknown_or_unfit_type_amon_is_refused_with_the_accepted_models(guest, academy, message) -> None:
    errors = validate_site({"hapy_school": SCHOOL, "hapy_academy": academy, "hapy_guests": [guest]})
    assert len(errors) == 1 and errors[0].startswith(message), errors


def test_site_models_extend_a_release_or_every_release() -> None:
    per_release = {"era_models": {"2.8.1": ["5zones-974"]}}
    assert releases.era_models("2.8.1", per_release) == ("4zones", "2zones-amonecole", "5zones-974")
    assert releases.era_models("2.9.0", per_release) == ("4zones", "2zones-amonecole")
    assert releases.era_models("2.7.2", {"era_models": ["3zones-x"]}) == ("4zones", "3zones-x")
    assert validate_site({"hapy_school": SCHOOL, "hapy_academy": per_release,
                          "hapy_guests": [amon(5, eole_release="2.8.1")]}) == []
    assert validate_site({"hapy_school": SCHOOL, "hapy_academy": {"era_models": "5zones-974"}}) == [
        "hapy_academy.era_models: '5zones-974'; expected a list of ERA model names like 5zones-974 (files "
        "/usr/share/era/modeles/<name>.xml of the image)"]


def test_declared_model_is_written() -> None:
    guest = amon(5, eole={"type_amon": "5zones-974"})
    doc = site_eole.eole_config(guest, SCHOOL, site_plan.network_plan(SCHOOL, None, REUNION), REUNION)
    assert doc["type_amon"] == {"owner": "gen_config", "val": "5zones-974"}


# -------------------------------------------------------------------------------------- the AD controller address
def test_ad_address_comes_after_every_nic_and_may_be_given() -> None:
    plan = site_plan.network_plan(SCHOOL)
    other = {"name": "web", "profile": "other", "nics": [{"network": "pedago"}]}
    resolved = {g["name"]: g for g in site_guests.resolve_guests([AMON4, SCRIBE, other], plan)}
    assert (resolved["scribe"]["nics"][0]["ip"], resolved["web"]["nics"][0]["ip"]) == ("10.42.2.2", "10.42.2.3")
    assert resolved["scribe"]["ad_ip"] == "10.42.2.4", "NIC addresses never depend on the AD address"
    given = site_guests.resolve_guests([AMON4, {**SCRIBE, "ad_ip": "10.42.2.40"}], plan)
    assert given[1]["ad_ip"] == "10.42.2.40"


@pytest.mark.parametrize(("guest", "message"), [
    ({**SCRIBE, "ad_ip": "10.42.1.40"}, "hapy_guests[2].ad_ip: 10.42.1.40 is outside network 'pedago'"),
    ({**SCRIBE, "ad_ip": "10.42.2.1"}, "hapy_guests[2].ad_ip: 10.42.2.1 is reserved on 'pedago'"),
    ({**SCRIBE, "ad_ip": "10.42.2.5"}, "hapy_guests[2].ad_ip: 10.42.2.5 already given to hapy_guests[1].nics[0]"),
    ({**SCRIBE, "ad_ip": "nope"}, "hapy_guests[2].ad_ip: 'nope'; expected an IPv4 address"),
    ({**HORUS, "ad_ip": "10.42.1.40"}, "hapy_guests[2].ad_ip: profile 'horus' has no AD domain controller"),
])
def test_ad_address_errors(guest: dict[str, Any], message: str) -> None:
    web = {"name": "web", "profile": "other", "nics": [{"network": "pedago", "ip": "10.42.2.5"}]}
    errors = validate_site({"hapy_school": SCHOOL, "hapy_guests": [AMON4, web, guest]})
    assert any(e.startswith(message) for e in errors), errors


# -------------------------------------------------------------------------------------- academy settings
@pytest.mark.parametrize(("academy", "message"), [
    ({"admin_networks": ["172.16.0.1/24"]}, "hapy_academy.admin_networks: ['172.16.0.1/24']; expected a list of"),
    ({"smtp_relay": "smtp relay"}, "hapy_academy.smtp_relay: 'smtp relay'; expected a host name or IPv4 address"),
    ({"mail_to": "root"}, "hapy_academy.mail_to: 'root'; expected an e-mail address"),
    ({"proxy": {"address": "172.16.0.3", "port": 0}}, "hapy_academy.proxy.port: 0; expected a TCP port"),
    ({"proxy": {"address": "172.16.0.3", "zones": ".in.adc.education.fr"}}, "hapy_academy.proxy.zones: "),
    ({"proxy": {"port": 3128}}, "hapy_academy.proxy: {'port': 3128}; expected {address, port, zones?}"),
])
def test_academy_generator_settings_are_checked(academy: dict[str, Any], message: str) -> None:
    errors = validate_site({"hapy_school": SCHOOL, "hapy_academy": academy})
    assert any(e.startswith(message) for e in errors), errors


@pytest.mark.parametrize(("school", "message"), [
    ({**SCHOOL, "ad_domain": "lycee"}, "hapy_school.ad_domain: 'lycee'; expected the AD DNS domain (realm)"),
    ({**SCHOOL, "workgroup": "a workgroup name"}, "hapy_school.workgroup: 'a workgroup name'; expected a NetBIOS"),
])
def test_school_generator_settings_are_checked(school: dict[str, Any], message: str) -> None:
    assert any(e.startswith(message) for e in validate_site({"hapy_school": school})), message


def test_school_ad_domain_and_workgroup_are_used() -> None:
    school = {**SCHOOL, "ad_domain": "Lycee-Sample.AD.ac-reunion.fr", "workgroup": "LYCEE"}
    plan = site_plan.network_plan(school)
    doc = site_eole.eole_config(site_guests.resolve_guests([SCRIBE], plan)[0], school, plan)
    assert (doc["ad_domain"]["val"], doc["smb_workgroup"]["val"]) == ("lycee-sample.ad.ac-reunion.fr", "lycee")


def test_without_academy_settings_nothing_optional_is_written() -> None:
    plan = site_plan.network_plan(SCHOOL, [{"name": "admin", "enabled": False}])
    doc = site_eole.eole_config(site_guests.resolve_guests([AMON4 | {"nics": [{"network": "wan"}, {"network": "pedago"},
                                                                              {"network": "dmz"},
                                                                              {"network": "dmz_priv"}]}], plan)[0],
                                SCHOOL, plan, {"era_models": []})
    assert not any(var.startswith(("ssh_", "ip_ssh", "admin_", "ip_admin", "exim", "system_mail", "activer_cache",
                                   "nom_cache")) for var in doc), sorted(doc)


# ------------------------------------------------------------------------------------------------ schema check
def v(value: Any) -> dict[str, Any]:
    return {"owner": "gen_config", "val": value}


def follow(*values: Any) -> dict[str, Any]:
    return {"owner": {str(i): "gen_config" for i in range(len(values))},
            "val": {str(i): value for i, value in enumerate(values)}}


def broken(case: str, var: str, value: Any) -> dict[str, Any]:
    doc = generate(case)[1]
    if value is None:
        del doc[var]
    else:
        doc[var] = value
    return doc


@pytest.mark.parametrize(("case", "var", "value", "fragment"), [
    ("amon-4zones-2.9.0", "adresse_ip_eth1", v("10.42.1.256"), "adresse_ip_eth1: '10.42.1.256'; expected an IPv4"),
    ("amon-4zones-2.9.0", "adresse_netmask_eth1", v("255.0.255.0"), "expected a dotted netmask"),
    ("amon-4zones-2.9.0", "adresse_ip_dns", v("172.16.0.53"), "adresse_ip_dns: '172.16.0.53'; expected a list"),
    ("amon-4zones-2.9.0", "numero_etab", v("9740100R"), "numero_etab: '9740100R'; expected a lower-case UAI"),
    ("amon-4zones-2.9.0", "nombre_interfaces", v("x"), "nombre_interfaces: 'x'; expected a number of interfaces"),
    ("amon-4zones-2.9.0", "nom_carte_eth1", v("enp3s0"), "nom_carte_eth1: 'enp3s0'; expected a list of interface"),
    ("amon-4zones-2.9.0", "nom_zone_eth1", v("admin zone"), "nom_zone_eth1: 'admin zone'; expected an interface"),
    ("amon-4zones-2.9.0", "activer_dhcp", v(True), "activer_dhcp: True; expected oui or non"),
    ("amon-4zones-2.9.0", "port_cache_pere", v(70000), "port_cache_pere: 70000; expected a TCP port"),
    ("amon-4zones-2.9.0", "type_amon", None, "type_amon: missing; required for profile amon"),
    ("amon-4zones-2.9.0", "nom_zone_eth0", None, "nom_zone_eth0: missing; required for profile amon"),
    ("amon-4zones-2.9.0", "adresse_ip_eth2", None, "adresse_ip_eth2: missing; nombre_interfaces is 4"),
    ("amon-4zones-2.9.0", "ip_basse_dhcp", follow("10.42.1.128"),
     "ip_basse_dhcp: indexes ['0']; expected '0'..'1' like its leader adresse_network_dhcp"),
    ("amon-4zones-2.9.0", "netmask_ssh_eth0", follow("255.255.255.0", "255.255.255.0"),
     "netmask_ssh_eth0: indexes ['0', '1']; expected '0'..'0' like its leader ip_ssh_eth0"),
    ("amon-4zones-2.9.0", "ip_ssh_eth0", None, "netmask_ssh_eth0: follower of ip_ssh_eth0, which is missing"),
    ("amon-4zones-2.9.0", "___version___", "2.9", "___version___: '2.9'; expected '2.9.0'"),
    ("amon-5zones-974-2.8.1", "nom_zone_dns_cache", follow(".in.adc.education.fr"),
     "nom_zone_dns_cache: indexes ['0']; expected '0'..'1' like its leader nom_cache_pere_zone"),
    ("scribe-2.9.0", "ad_domain", v("etb9740100r"), "ad_domain: 'etb9740100r'; expected a dotted DNS domain"),
    ("scribe-2.9.0", "ad_public_address", v("10.42.2"), "ad_public_address: '10.42.2'; expected an IPv4 address"),
    ("scribe-2.9.0", "smb_netbios_name", v("a-netbios-name-too-long"), "smb_netbios_name: 'a-netbios-name-too-long'"),
    ("scribe-2.9.0", "ad_address", None, "ad_address: missing; required for profile scribe"),
    ("scribe-2.9.0", "system_mail_to", v("root"), "system_mail_to: 'root'; expected an e-mail address"),
])
def test_schema_check_rejects_bad_values(case: str, var: str, value: Any, fragment: str) -> None:
    guest = generate(case)[0]
    release = guest.get("eole_release", releases.DEFAULT_RELEASE)
    errors = site_eole.check_eole_config(broken(case, var, value), guest["profile"], release)
    assert any(fragment in e for e in errors), errors


def test_schema_check_accepts_any_supported_version_without_a_release() -> None:
    doc = generate("horus-2.7.2")[1]
    assert site_eole.check_eole_config(doc, "horus") == []
    assert site_eole.check_eole_config({**doc, "___version___": "2.6.2"}, "horus") == [
        "___version___: '2.6.2'; expected '2.7.2' or '2.8.0' or '2.8.1' or '2.9.0' or '2.10.0'"]


# ------------------------------------------------------------------------------------------------ other rules
def test_lan_guest_without_academy_ntp_uses_its_amon() -> None:
    plan = site_plan.network_plan(SCHOOL)
    scribe = site_guests.resolve_guests([AMON4, SCRIBE], plan)[1]
    doc = site_eole.eole_config(scribe, SCHOOL, plan, {"ntp": []})
    assert doc["serveur_ntp"] == v(["10.42.2.1"])


def test_extra_eole_variables_win() -> None:
    plan = site_plan.network_plan(SCHOOL)
    guest = {**SCRIBE, "eole": {"smb_workgroup": "lycee", "activer_clam": "oui",
                                "ip_ssh_eth0": {"owner": "forced", "val": ["0.0.0.0"]}}}
    doc = site_eole.eole_config(guest, SCHOOL, plan, REUNION)
    assert doc["smb_workgroup"] == v("lycee") and doc["activer_clam"] == v("oui")
    assert doc["ip_ssh_eth0"] == {"owner": "forced", "val": ["0.0.0.0"]}


def test_other_profile_has_no_config_eol() -> None:
    other = {"name": "pronote", "profile": "other", "nics": [{"network": "admin"}]}
    assert site_eole.eole_config(other, SCHOOL, site_plan.network_plan(SCHOOL)) is None


def test_dump_is_json_with_version_first_and_utf8() -> None:
    text = site_eole.dump_eole_config(generate("scribe-2.9.0")[1])
    assert text.startswith('{\n  "___version___": "2.9.0",\n')
    assert "Lycée Sample" in text
    assert json.loads(text)["numero_etab"] == v("9740100r")
