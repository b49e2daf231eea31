"""The whole example academy (inventories/reunion, 12 schools) at the cloud level, against OpenNebula test endpoints.

Each school has its own OpenNebula (its frontend): the test starts one in-process test endpoint per school, all in
this process, and points every school's ``hapy_one_api_url`` at its own with one ``-e`` file (the value is a
template, resolved per host). A single endpoint for all schools cannot work: datastore names are global in
OpenNebula and every school declares ``system-default``, ``images-disques``, ``iso-images`` and the same
``CR_<network>`` vnets.

Only the validation play and the cloud level run (``--tags cloud`` and ``hapy_host_level=false``).
"""

from __future__ import annotations

import base64
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyone
import pytest
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import guests as site_guests
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site import plan as site_plan

from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import ROOT, PlaybookRun, run_lock_writes, run_playbook
from tests.real_oned import endpoints

PLAYBOOK = "playbooks/site.yml"  # the whole-site playbook
ACADEMY = "inventories/reunion"
VAULT_PASS = ROOT / ACADEMY / ".vault-pass.demo"
DEMO = "inventories/demo"
DEMO_PASSWORD = "demo-oneadmin"  # inventories/demo/group_vars/all/site.yml
BAD = Path(__file__).parent / "bad_inventories"
FORKS = "4"
SITE_DATASTORES = {"system-default", "images-disques", "iso-images"}


# ------------------------------------------------------------------------------------------------ the inventory
_FACTS = ("{{ {'site': {'hapy_school': hapy_school, 'hapy_networks': hapy_networks | default([]), "
          "'hapy_academy': hapy_academy | default({}), 'hapy_guests': hapy_guests | default([])}, "
          "'password': hapy_one.oneadmin_password, "
          "'nodes': groups['etb_' ~ hapy_school.uai | lower] | intersect(groups['hapy_nodes'])} }}")


def _academy_schools() -> dict[str, dict[str, Any]]:
    """What the inventory declares per school (UAI -> expected OpenNebula objects), templated and decrypted by
    Ansible itself (an ad-hoc debug on the frontends), then computed with the collection's site code."""
    venv_bin = Path(sys.executable).parent
    proc = subprocess.run(
        [f"{venv_bin}/ansible", "-i", ACADEMY, "--vault-password-file", str(VAULT_PASS), "hapy_frontends",
         "-m", "ansible.builtin.debug", "-a", f"msg={_FACTS}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
             "ANSIBLE_STDOUT_CALLBACK": "oneline", "ANSIBLE_DEPRECATION_WARNINGS": "0", "ANSIBLE_NOCOLOR": "1"},
    )
    schools = {}
    for line in proc.stdout.splitlines():
        if " | SUCCESS => " not in line:
            continue
        facts = json.loads(line.split(" | SUCCESS => ", 1)[1])["msg"]
        site = facts["site"]
        school = site["hapy_school"]
        plan = site_plan.network_plan(school, site["hapy_networks"], site["hapy_academy"])
        guests = site_guests.resolve_guests(site["hapy_guests"], plan)
        schools[school["uai"]] = {
            "password": facts["password"],
            "cluster": f"hapy-{school['uai'].lower()}",
            "hosts": sorted(facts["nodes"]),
            "vnets": sorted(net["vnet_name"] for net in plan),
            "images": sorted({g["image"] for g in guests}),
            "guests": guests,
            "guests_by_name": {g["name"]: g for g in guests},
        }
    return schools


SCHOOLS = _academy_schools()


def test_the_example_academy_is_what_this_test_expects():
    """12 schools, 2 in cluster mode with 2 nodes each; the counts below are derived from the inventory."""
    assert len(SCHOOLS) == 12
    assert sorted(len(s["hosts"]) for s in SCHOOLS.values()).count(2) == 2
    assert SCHOOLS["9740005E"]["vnets"] == ["CR_admin", "CR_dmz", "CR_pedago", "CR_wan"]
    assert sorted(SCHOOLS["9740004D"]["guests_by_name"]) == ["amon", "horus", "pronote", "scribe"]
    assert sorted(SCHOOLS["9740009J"]["guests_by_name"]) == ["amonecole"]


# ------------------------------------------------------------------------------------------------ endpoints
class Academy:
    """One test endpoint per school, all in this process."""

    test_bed_vars: dict[str, Any] = {}  # what this test bed needs and a real site does not

    def __init__(self) -> None:
        self.servers = {uai: OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{s['password']}",
                                        step=0.05).start()
                        for uai, s in SCHOOLS.items()}
        self.imports = Path(tempfile.mkdtemp(prefix="hapy-academy-import-"))
        self.make_images()

    def make_images(self) -> None:
        """Real image files in each school's import directory (oned refuses a path that does not exist)."""
        for uai in self.servers:
            self.import_dir(uai).mkdir(parents=True, exist_ok=True)
            for image in SCHOOLS[uai]["images"]:
                subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2",
                                str(self.import_dir(uai) / f"{image}.qcow2"), "1G"], check=True)

    def import_dir(self, uai: str) -> Path:
        return self.imports / uai

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def extra_vars(self, directory: Path) -> str:
        """One extra-vars file pointing every school at its own endpoint and import directory."""
        path = directory / "academy-endpoints.json"
        path.write_text(json.dumps({
            "hapy_test_endpoints": {uai: server.url for uai, server in self.servers.items()},
            "hapy_test_import_dirs": {uai: str(self.import_dir(uai)) for uai in self.servers},
            "hapy_one_api_url": "{{ hapy_test_endpoints[hapy_school.uai] }}",
            "hapy_one_import_dir": "{{ hapy_test_import_dirs[hapy_school.uai] }}",
            "hapy_host_level": False,
            **self.test_bed_vars,
        }))
        return f"@{path}"

    def reset_calls(self) -> None:
        for server in self.servers.values():
            server.reset_calls()

    def calls(self) -> Counter:
        total: Counter = Counter()
        for server in self.servers.values():
            total.update(server.calls)
        return total

    def writes(self) -> dict[str, int]:
        return {m: n for m, n in self.calls().items() if is_write(m)}

    def client(self, uai: str) -> pyone.OneServer:
        return pyone.OneServer(self.servers[uai].url, session=f"oneadmin:{SCHOOLS[uai]['password']}")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_academy(academy: Academy, tmp: Path, *args: str) -> tuple[PlaybookRun, float]:
    start, cpu = time.monotonic(), _cpu()
    run = run_playbook(PLAYBOOK, ACADEMY, "--vault-password-file", str(VAULT_PASS), "--tags", "cloud",
                       "--forks", FORKS, "-e", academy.extra_vars(tmp), *args,
                       env={"ANSIBLE_PIPELINING": "1"})  # one process per module run instead of three
    run.cpu_seconds = _cpu() - cpu  # ansible-playbook and its module processes (load-independent measure)
    return run, time.monotonic() - start


def report(what: str, run: PlaybookRun, seconds: float, academy: Academy) -> None:
    calls = academy.calls()
    writes = academy.writes()
    print(f"\n[academy] {what}: {seconds:.1f} s wall, {run.cpu_seconds:.1f} s CPU, changed={run.changed}, "
          f"{sum(calls.values())} XML-RPC calls ({sum(writes.values())} writes): {dict(sorted(calls.items()))}")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    """The academy deployed once (first run), then run a second time; both runs and their measures."""
    tmp = tmp_path_factory.mktemp("academy")
    academy = Academy()
    try:
        first, first_time = run_academy(academy, tmp)
        report("first run", first, first_time, academy)
        first_writes = academy.writes()
        academy.reset_calls()
        second, second_time = run_academy(academy, tmp)
        report("second run", second, second_time, academy)
        second_writes = academy.writes()
        yield {"academy": academy, "first": first, "second": second, "first_writes": first_writes,
               "second_writes": second_writes}
    finally:
        academy.stop()


# ------------------------------------------------------------------------------------------------ the whole academy
def test_first_run_deploys_every_school(deployed):
    first = deployed["first"]
    assert first.returncode == 0, first.output[-5000:]
    assert first.failed == 0
    frontends = {f"hapy-{uai.lower()}" if len(s["hosts"]) == 1 else f"hapy-{uai.lower()}-fe"
                 for uai, s in SCHOOLS.items()}
    assert frontends <= set(first.recap), "every school's frontend ran"
    writes = deployed["first_writes"]
    assert writes.get("one.cluster.allocate") == 12
    assert writes.get("one.host.allocate") == sum(len(s["hosts"]) for s in SCHOOLS.values())
    assert writes.get("one.vn.allocate") == sum(len(s["vnets"]) for s in SCHOOLS.values())
    assert writes.get("one.datastore.allocate") == 3 * 12
    assert writes.get("one.image.allocate") == sum(len(s["images"]) for s in SCHOOLS.values())
    assert writes.get("one.template.allocate") == sum(len(s["guests"]) for s in SCHOOLS.values())
    assert writes.get("one.template.instantiate") == sum(len(s["guests"]) for s in SCHOOLS.values())


@pytest.mark.parametrize("uai", sorted(SCHOOLS))
def test_each_school_has_exactly_its_objects(deployed, uai):
    assert_school_objects(deployed["academy"].client(uai), SCHOOLS[uai])


def assert_school_objects(one: pyone.OneServer, school: dict[str, Any]) -> None:
    """The school's OpenNebula holds exactly what its inventory declares, every guest ACTIVE/RUNNING."""
    clusters = {c.NAME: c for c in one.clusterpool.info().CLUSTER}
    assert set(clusters) == {"default", school["cluster"]}
    cluster_id = clusters[school["cluster"]].ID
    hosts = one.hostpool.info().HOST
    assert sorted(h.NAME for h in hosts) == school["hosts"]
    assert {h.CLUSTER_ID for h in hosts} == {cluster_id}
    vnets = one.vnpool.info(-2, -1, -1).VNET
    assert sorted(v.NAME for v in vnets) == school["vnets"]
    datastores = {d.NAME: d for d in one.datastorepool.info().DATASTORE}
    assert SITE_DATASTORES <= set(datastores)
    assert all(cluster_id in datastores[name].CLUSTERS.ID for name in SITE_DATASTORES)
    images = one.imagepool.info(-2, -1, -1).IMAGE
    assert sorted(i.NAME for i in images) == school["images"]
    assert {i.DATASTORE for i in images} == {"images-disques"}
    templates = one.templatepool.info(-2, -1, -1).VMTEMPLATE
    assert sorted(t.NAME for t in templates) == sorted(school["guests_by_name"])
    vms = one.vmpool.infoextended(-2, -1, -1, -1).VM
    assert sorted(v.NAME for v in vms) == sorted(school["guests_by_name"])
    for vm in vms:
        guest = school["guests_by_name"][vm.NAME]
        assert (vm.STATE, vm.LCM_STATE) == (3, 3), f"{vm.NAME} is ACTIVE/RUNNING"
        assert vm.HISTORY_RECORDS.HISTORY[-1].HOSTNAME in school["hosts"], "placed on one of the school's nodes"
        template = vm.TEMPLATE
        nics = template["NIC"] if isinstance(template["NIC"], list) else [template["NIC"]]
        assert [(n["NETWORK"], n["IP"]) for n in nics] == [(f"CR_{n['network']}", n["ip"]) for n in guest["nics"]]
        assert sorted(filter(None, (vm.USER_TEMPLATE.get("LABELS") or "").split(","))) == \
            sorted(guest.get("labels") or [])


def changed_tasks(output: str) -> Counter:
    """Task name -> number of hosts/items the run reported as changed."""
    changed: Counter = Counter()
    task = ""
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = line[len("TASK ["):line.rindex("]")]
        elif line.startswith("changed: ["):
            changed[task] += 1
    return changed


def test_second_run_changes_nothing(deployed):
    second = deployed["second"]
    assert second.returncode == 0, second.output[-5000:]
    assert deployed["second_writes"] == run_lock_writes(len(SCHOOLS)), "a second run writes nothing but its locks"
    assert changed_tasks(second.output) == {}, "no task may report a change"
    assert second.changed == 0, second.output[-5000:]


def test_check_mode_predicts_the_first_run(deployed, tmp_path):
    fresh = Academy()
    try:
        predicted, seconds = run_academy(fresh, tmp_path, "--check")
        report("--check on fresh endpoints", predicted, seconds, fresh)
        assert predicted.returncode == 0, predicted.output[-5000:]
        assert fresh.writes() == {}, "check mode must not write"
        assert predicted.recap == deployed["first"].recap
        assert predicted.changed == deployed["first"].changed
    finally:
        fresh.stop()


# ------------------------------------------------------------------------------------------------ on real oned
# Three schools (two single-mode, one cluster-mode with its two nodes), each on a real oned of its own (distinct
# host names: every school's hosts are named after it). What a test oned needs, and a real site does not, comes in
# the extra-vars file: dummy host drivers (no hypervisor here), dummy transfer drivers (no host to ssh to), and the
# school's import directory holding its guests' disk images as real qcow2 files.
REAL_SCHOOLS = (sorted(u for u, s in SCHOOLS.items() if len(s["hosts"]) == 1)[:2]
                + sorted(u for u, s in SCHOOLS.items() if len(s["hosts"]) == 2)[:1])
REAL_VERSIONS = [p for p in endpoints.ALL if p != endpoints.STANDIN]


class RealAcademy(Academy):
    """One real oned (behind its counting proxy) per school of ``uais``."""

    # no hypervisor here (dummy host drivers), no host to ssh to (dummy transfer drivers)
    test_bed_vars = {"hapy_host_drivers": {"im_mad": "dummy", "vm_mad": "dummy"},
                     "datastores_tm_mad": {"single": "dummy", "cluster": "dummy"}}

    def __init__(self, version: str, uais: list[str]) -> None:
        self.servers = {}
        try:
            for uai in uais:
                self.servers[uai] = endpoints.fresh(version, password=SCHOOLS[uai]["password"])
            self.make_images()
        except BaseException:
            self.stop()
            raise

    def import_dir(self, uai: str) -> Path:
        return self.servers[uai].instance.root / "var" / "import"


@pytest.fixture(scope="module", params=REAL_VERSIONS)
def deployed_real(request, tmp_path_factory):
    """Three schools deployed on real oned (first run), then run a second time."""
    version = endpoints.version_of(request.param)
    endpoints.require_built(version)
    tmp = tmp_path_factory.mktemp(f"academy-{version}")
    academy = RealAcademy(version, REAL_SCHOOLS)
    limit = ["--limit", ":".join(f"etb_{uai.lower()}" for uai in REAL_SCHOOLS)]
    try:
        first, first_time = run_academy(academy, tmp, *limit)
        report(f"oned {version}, 3 schools, first run", first, first_time, academy)
        first_writes = academy.writes()
        academy.reset_calls()
        second, second_time = run_academy(academy, tmp, *limit)
        report(f"oned {version}, 3 schools, second run", second, second_time, academy)
        yield {"academy": academy, "first": first, "second": second, "first_writes": first_writes,
               "second_writes": academy.writes()}
    finally:
        academy.stop()


def test_real_oned_schools_are_the_expected_mix():
    assert len(REAL_SCHOOLS) == 3
    assert [len(SCHOOLS[uai]["hosts"]) for uai in REAL_SCHOOLS] == [1, 1, 2], "two single, one cluster school"


def test_real_oned_first_run_deploys_three_schools(deployed_real):
    first = deployed_real["first"]
    assert first.returncode == 0, first.output[-5000:]
    assert first.failed == 0
    schools = [SCHOOLS[uai] for uai in REAL_SCHOOLS]
    writes = deployed_real["first_writes"]
    assert writes.get("one.cluster.allocate") == 3
    assert writes.get("one.host.allocate") == sum(len(s["hosts"]) for s in schools)
    assert writes.get("one.vn.allocate") == sum(len(s["vnets"]) for s in schools)
    assert writes.get("one.datastore.allocate") == 3 * 3
    assert writes.get("one.image.allocate") == sum(len(s["images"]) for s in schools)
    assert writes.get("one.template.instantiate") == sum(len(s["guests"]) for s in schools)
    for uai in REAL_SCHOOLS:
        assert_school_objects(deployed_real["academy"].client(uai), SCHOOLS[uai])


def test_real_oned_second_run_changes_nothing(deployed_real):
    second = deployed_real["second"]
    assert second.returncode == 0, second.output[-5000:]
    assert deployed_real["second_writes"] == run_lock_writes(len(REAL_SCHOOLS)), \
        "a second run writes nothing but its run locks"
    assert changed_tasks(second.output) == {}, "no task may report a change"
    assert second.changed == 0, second.output[-5000:]


# ------------------------------------------------------------------------------------------------ EOLE end to end
def _config_eol(context: dict[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(context["EOLE_CONFIG_EOL_BASE64"]).decode("utf-8"))


def _val(doc: dict[str, Any], var: str) -> Any:
    return doc[var]["val"]


def test_sample_school_eole_configuration_end_to_end(deployed):
    """Collège Juliette Dodu (9740007G, index 7: 10.7.0.0/16; pedago on VLAN 130, two printers reserved on admin),
    EOLE 2.9.0, compared with values written by hand from docs/inventory.md and docs/eole-variables.md, read back
    from the endpoint."""
    one = deployed["academy"].client("9740007G")
    templates = {t.NAME: t for t in one.templatepool.info(-2, -1, -1).VMTEMPLATE}
    vms = {v.NAME: v for v in one.vmpool.infoextended(-2, -1, -1, -1).VM}

    scribe = _config_eol(vms["scribe"].TEMPLATE["CONTEXT"])
    assert scribe == _config_eol(templates["scribe"].TEMPLATE["CONTEXT"])
    assert scribe["___version___"] == "2.9.0"
    expected_scribe = {
        "numero_etab": "9740007g",
        "nom_machine": "scribe",
        "libelle_etab": "Collège Juliette Dodu",
        "nom_academie": "ac-reunion",
        "nom_domaine_local": "9740007g.ac-reunion.lan",
        "time_zone": "Indian/Reunion",
        "nombre_interfaces": "1",             # text, as EOLE stores it
        "adresse_ip_eth0": "10.7.2.2",        # first free address of pedago's range (.1 is the Amon)
        "adresse_netmask_eth0": "255.255.255.0",
        "nom_carte_eth0": ["enp2s0"],         # EOLE 2.9 guests are q35: the first virtio NIC is enp2s0
        "nom_zone_eth0": "enp2s0",
        "adresse_ip_gw": "10.7.2.1",          # its Amon
        "adresse_ip_dns": ["10.7.2.1"],
        "proxy_client_adresse": "10.7.2.1",
        "proxy_client_port": 3128,
        "serveur_ntp": ["ntp1.ac-reunion.fr", "ntp2.ac-reunion.fr"],
        "ip_ssh_eth0": ["172.16.0.0", "10.7.1.0"],  # the academy's admins and the school's admin network
        "ad_domain": "9740007g.ac-reunion.lan",     # the AD realm
        "ad_address": "10.7.2.2",
        "ad_public_address": "10.7.2.3",      # its domain controller: the next free address of pedago
        "smb_workgroup": "etb9740007g",
        "bareos_dir_name": "scribe-dir",
        "exim_relay_smtp": "smtp.ac-reunion.fr",
    }
    assert {var: _val(scribe, var) for var in expected_scribe} == expected_scribe
    owners = [entry["owner"] for var, entry in scribe.items() if var != "___version___"]
    assert all(o == "gen_config" or set(o.values()) == {"gen_config"} for o in owners), "followers: one per index"

    amon = _config_eol(vms["amon"].TEMPLATE["CONTEXT"])
    expected_amon = {
        "numero_etab": "9740007g",
        "nom_machine": "amon",
        "nombre_interfaces": "5",
        "type_amon": "5zones-974",            # the academy's ERA model (hapy_academy.era_models)
        "adresse_ip_eth0": "10.7.0.2",        # first address of the wan range (.1 is the academy router)
        "adresse_ip_gw": "10.7.0.1",
        "adresse_ip_dns": ["172.16.0.53", "172.16.0.54"],
        "adresse_ip_eth1": "10.7.1.1",        # gateway of admin
        "adresse_ip_eth2": "10.7.2.1",        # gateway of pedago
        "adresse_ip_eth3": "10.7.3.1",
        "adresse_ip_eth4": "10.7.4.1",
        "nom_zone_eth2": "enp4s0",            # the pedago zone's interface, as the firewall model reads it
        "activer_cache_pere_zone": "oui",     # the academy's proxy, for its intranet zones only
        "nom_cache_pere_zone": ["172.16.0.3", "172.16.0.3"],
        "nom_zone_dns_cache": {"0": ".in.adc.education.fr", "1": ".in.orion.education.fr"},
    }
    assert {var: _val(amon, var) for var in expected_amon} == expected_amon
    assert not [var for var in amon if var.startswith("proxy_client")]

    context = vms["amon"].TEMPLATE["CONTEXT"]
    assert context["SET_HOSTNAME"] == "amon"
    assert context["HAPY_HALT"] == "YES"
    assert "NETCFG_TYPE" not in context
    assert base64.b64decode(context["START_SCRIPT_BASE64"]).decode().startswith("#!/bin/bash")
    template = templates["scribe"].TEMPLATE
    assert template["OS"] == {"ARCH": "x86_64", "FIRMWARE": "UEFI", "MACHINE": "q35"}, "EOLE 2.9 boots UEFI on q35"
    assert template["GRAPHICS"]["TYPE"] == "VNC"
    assert template["INPUT"] == {"BUS": "usb", "TYPE": "tablet"}
    assert (template["CPU"], template["VCPU"], template["MEMORY"]) == ("2", "4", "8192")
    assert template["DISK"]["IMAGE"] == "eole-2.9-scribe" and template["DISK"]["SIZE"] == "204800"
    assert template["NIC"] == {"IP": "10.7.2.2", "MODEL": "virtio", "NETWORK": "CR_pedago",
                               "NETWORK_UNAME": "oneadmin"}


def test_legacy_horus_keeps_its_older_release(deployed):
    """Lycée de Bellepierre (9740004D) still runs a Horus, on EOLE 2.7.2 (Horus ends with 2.8.0): BIOS machine,
    i440FX device names, ``___version___`` 2.7.2, Bareos."""
    one = deployed["academy"].client("9740004D")
    horus = {t.NAME: t for t in one.templatepool.info(-2, -1, -1).VMTEMPLATE}["horus"].TEMPLATE
    assert horus["OS"] == {"ARCH": "x86_64"}, "EOLE before 2.9 boots with the BIOS"
    config = _config_eol(horus["CONTEXT"])
    assert config["___version___"] == "2.7.2"
    assert (_val(config, "nom_carte_eth0"), _val(config, "nom_zone_eth0")) == (["ens3"], "ens3")
    assert _val(config, "bareos_dir_name") == "horus-dir"
    assert not [var for var in config if var.startswith(("bacula_", "ad_"))]


def test_non_eole_guest_has_no_eole_context(deployed):
    """The PRONOTE server of 9740004D (profile other): network and host name only, BIOS boot."""
    one = deployed["academy"].client("9740004D")
    template = {t.NAME: t for t in one.templatepool.info(-2, -1, -1).VMTEMPLATE}["pronote"].TEMPLATE
    assert "EOLE_CONFIG_EOL_BASE64" not in template["CONTEXT"]
    assert template["CONTEXT"]["SET_HOSTNAME"] == "pronote"
    assert template["OS"] == {"ARCH": "x86_64"}
    assert template["NIC"]["IP"] == "10.4.1.40"


# ------------------------------------------------------------------------------------------------ bad inventories
@pytest.fixture
def demo_endpoint():
    server = OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{DEMO_PASSWORD}").start()
    yield server
    server.stop()


@pytest.mark.parametrize(("variant", "message"), [
    ("duplicate_vlan", "hapy_networks[0].vlan_id: 20 already used by network 'admin'; expected a unique vlan_id"),
    ("overlapping_subnets", "hapy_networks[0].cidr: 10.99.1.0/24 overlaps 10.99.1.0/24 of network 'admin'"),
    ("unknown_network", "hapy_guests[0].nics[0].network: unknown network 'pedag'; expected one of wan, admin, pedago"),
    ("missing_uai", "hapy_school.uai: None; expected 7 digits and a letter, like 9740001A"),
    ("quote_in_vnet_name", "hapy_networks[0].vnet_name: 'CR_\"admin' contains '\"'; OpenNebula names cannot contain"),
    ("quote_in_image", "hapy_guests[0].image: 'eole-2.9-\"scribe' contains '\"'"),
    ("backslash_description", "hapy_networks[0].description: a value ending in a backslash must be a single word"),
    ("wrong_uai_letter", "hapy_school.uai: 9740001A has the check letter A, expected 9740001H"),
    ("horus_on_2_9", "hapy_guests[0].profile: horus is not shipped by EOLE 2.9.0 (its modules: amon, scribe, "
                     "amonecole; horus exists in 2.7.2, 2.8.0)"),
    ("unknown_type_amon", "hapy_guests[0].eole.type_amon: '5zones' is not an ERA model of EOLE 2.9.0; expected one "
                          "of 4zones, 2zones-amonecole"),
])
def test_bad_inventory_fails_before_any_change(demo_endpoint, variant, message):
    run = run_playbook(PLAYBOOK, DEMO, "--tags", "cloud", "-e", f"hapy_one_api_url={demo_endpoint.url}",
                       "-e", f"@{BAD / (variant + '.yml')}")
    assert run.returncode != 0
    assert "error(s) in the site inventory" in run.output
    assert message in run.output
    assert [m for m in demo_endpoint.calls if is_write(m)] == [], "nothing may be written"
    assert not any(m.startswith("one.") for m in demo_endpoint.calls), "the API is not even reached"


def test_bad_eole_variables_fail_before_any_guest_object(demo_endpoint):
    """Inventory-valid guests whose config.eol breaks the schema: every error at once, no image/template/VM."""
    run = run_playbook(PLAYBOOK, DEMO, "--tags", "cloud", "-e", f"hapy_one_api_url={demo_endpoint.url}",
                       "-e", f"@{BAD / 'bad_eole_variables.yml'}")
    assert run.returncode != 0
    assert "3 error(s) in the guests of 9749999Z, nothing was changed" in run.output
    assert "hapy_guests[0] amon: activer_dhcp: 'peut-etre'; expected oui or non" in run.output
    assert "hapy_guests[1] scribe: numero_etab: '123'; expected a lower-case UAI like 9740001a" in run.output
    assert "hapy_guests[1] scribe: adresse_ip_dns: '10.99.2.300'; expected a list of IPv4 addresses" in run.output
    guest_calls = [m for m in demo_endpoint.calls if m.split(".")[1] in ("image", "template", "vm")]
    assert guest_calls == [], "the guests' objects are not even looked up"


# ------------------------------------------------------------------------------- academy-wide checks (issue 10)
def test_schools_colliding_with_a_school_outside_the_limit_fail_before_any_change(tmp_path, demo_endpoint):
    """--limit one school: the whole inventory is still read, so a twin school elsewhere stops the run."""
    twin = tmp_path / "twin.yml"
    twin.write_text(
        "all:\n  children:\n    hapy_frontends:\n      hosts:\n        hapy-twin: {ansible_host: 10.1.1.250}\n"
        "    etb_9740013n:\n      hosts:\n        hapy-twin:\n      vars:\n"
        "        hapy_school: {uai: 9740013N, name: Jumeau, academy: ac-reunion, domain: lan, index: 1}\n")
    run = run_playbook(PLAYBOOK, ACADEMY, "-i", str(twin), "--vault-password-file", str(VAULT_PASS),
                       "--limit", "etb_9740001a", "--tags", "cloud", "-e", f"hapy_one_api_url={demo_endpoint.url}")
    assert run.returncode != 0
    assert "error(s) across the academy's schools, nothing was changed" in run.output
    assert "etb_9740013n: hapy_school.index 1 already used by etb_9740001a; expected one index per school" in run.output
    assert "etb_9740013n: frontend address 10.1.1.250 already used by etb_9740001a" in run.output
    assert "etb_9740013n: network 10.1.0.0/24 overlaps" in run.output
    assert not any(m.startswith("one.") for m in demo_endpoint.calls), "the API is not even reached"


def test_an_inventory_without_schools_fails_with_a_clear_message(tmp_path):
    empty = tmp_path / "empty.yml"
    empty.write_text("all:\n  hosts: {}\n")
    run = run_playbook(PLAYBOOK, str(empty))
    assert run.returncode != 0
    assert "the inventory declares no school: expected at least one host in the group hapy_frontends" in run.output
