"""Zéphir mode through site.yml: the demo school's guests declared by a Zéphir (the Zéphir-like endpoint
tests/zephir serving tests/zephir/demo.py), deployed on a fresh real oned 7.0.2 and on the stand-in, read back
through OpenNebula's API at each boot stage.

The guests themselves do not boot here (OpenNebula's dummy drivers): the test powers the VMs off where an
installed guest would halt itself, then runs the stage ``run``. What the first boot does inside a guest is
tests/unit/test_first_boot.py.
"""

from __future__ import annotations

import base64
import time
import xml.etree.ElementTree as ET

import pytest

from tests.playbooks.playbook_runner import run_lock_writes, run_playbook
from tests.playbooks.test_demo_quickstart import api_xml as api
from tests.playbooks.test_demo_quickstart import demo_args, demo_endpoint, writes
from tests.real_oned import endpoints
from tests.zephir import ZephirServer, demo

ROOT_PASSWORD = "demo-eole-root"  # inventories/demo: hapy_eole_root_password
ADDC_PASSWORD = "Ad-Secret-974"
IMAGES = ("eole-2.9-amon", "eole-2.8.1-scribe")  # the servers' vm_app
SECRETS = (demo.ZEPHIR_PASSWORD, ADDC_PASSWORD, ROOT_PASSWORD, demo.CONFIG_SECRET)

EXTRA = """
hapy_academy:
  name: ac-reunion
  uai_check_letter: false
  dns: [10.99.0.1]
  ntp: [pool.ntp.org]
  networks: [{{name: dmz, enabled: false}}, {{name: dmz_priv, enabled: false}}]
  zephir: {{address: zephir.ac-reunion.example, api_url: "{url}", user: {user}, password: {password}}}
hapy_deployment:
  mode: zephir
  dp_mode: mixte            # the school's servers with activer_modele_vm (4241, the Amon), then the list (4242)
  server_ids: [4242]
  guests: {{4242: {{labels: [sauvegarde]}}}}
hapy_guests: []
hapy_eole_addc_password: {addc}
"""


@pytest.fixture(params=[endpoints.STANDIN, "oned-7.0.2"])
def zephir_school(request, tmp_path):
    """(OpenNebula endpoint, Zéphir, the extra-vars arguments of the demo school in Zéphir mode)."""
    server, import_dir = demo_endpoint(request.param, tmp_path, IMAGES)
    zephir = ZephirServer(demo.servers(), users={demo.ZEPHIR_USER: demo.ZEPHIR_PASSWORD}).start()
    extra = tmp_path / "zephir.yml"
    extra.write_text(EXTRA.format(url=zephir.url, user=demo.ZEPHIR_USER, password=demo.ZEPHIR_PASSWORD,
                                  addc=ADDC_PASSWORD))
    yield server, zephir, ["-e", f"@{extra}", *demo_args(server, import_dir)]
    zephir.stop()
    server.stop()


def vms(server) -> dict[str, ET.Element]:
    """The school's VMs, each read in full (one.vm.info)."""
    pool = api(server, "one.vmpool.info", -2, -1, -1, -1)
    return {vm.findtext("NAME"): api(server, "one.vm.info", int(vm.findtext("ID"))) for vm in pool
            if vm.find("ID") is not None}


def context(vm: ET.Element) -> dict[str, str]:
    return {item.tag: item.text or "" for item in vm.find("TEMPLATE/CONTEXT")}


def leaks(element: ET.Element) -> list[str]:
    text = ET.tostring(element, encoding="unicode")
    return [s for s in SECRETS if s in text or base64.b64encode(s.encode()).decode() in text]


def wait_poweroff(server, names: list[str]) -> None:
    for _ in range(300):
        if all(vm.findtext("STATE") == "8" for name, vm in vms(server).items() if name in names):
            return
        time.sleep(0.2)
    raise AssertionError("the VMs did not reach POWEROFF")


def test_zephir_mode_deploys_the_guests_zephir_declares_then_hands_the_network_to_eole(zephir_school):
    server, zephir, args = zephir_school

    # stage install: the guests Zéphir declares, Hâpy's context keys, the secrets on the VMs only
    install = run_playbook("site.yml", "inventories/demo", *args)
    assert install.returncode == 0, install.output[-3000:]
    assert zephir.calls["serveurs.get_config"] == 2, "Zéphir read once per run (validation play), not per play"
    assert zephir.calls["serveurs.groupe_serveur"] == 1
    installed = vms(server)
    assert sorted(installed) == ["amon", "scribe"]
    amon, scribe = installed["amon"], installed["scribe"]
    for vm in (amon, scribe):
        assert (vm.findtext("STATE"), vm.findtext("LCM_STATE")) == ("3", "3"), "ACTIVE/RUNNING on the dummy host"
    ctx = context(amon)
    assert {k: ctx.get(k) for k in ("IP_ETH0", "IP_ETH1", "IP_ETH2", "NETMASK_ETH1", "DNS_ETH0", "GW_ETH0",
                                    "ZEPHIR_ID", "VM_NAME", "VM_ID", "NETWORK", "NETCFG_TYPE", "HAPY_HALT",
                                    "EOLE_RELEASE", "EOLE_INSTANCE_UNATTENDED", "ZEPHIR_MENU")} == {
        "IP_ETH0": "10.99.0.2", "IP_ETH1": "10.99.1.1", "IP_ETH2": "10.99.2.1", "NETMASK_ETH1": "255.255.255.0",
        "DNS_ETH0": "10.99.0.1 9.9.9.9", "GW_ETH0": "10.99.0.1", "ZEPHIR_ID": "4241", "VM_NAME": "amon",
        "VM_ID": amon.findtext("ID"), "NETWORK": "YES", "NETCFG_TYPE": "netplan", "HAPY_HALT": "YES",
        "EOLE_RELEASE": "2.9.0", "EOLE_INSTANCE_UNATTENDED": "YES", "ZEPHIR_MENU": "2"}
    assert "EOLE_CONFIG_EOL_BASE64" not in ctx, "a Zéphir guest's config.eol comes from Zéphir"
    assert "PROXY" not in ctx and context(scribe)["PROXY"] == "http://10.99.2.1:3128"
    assert base64.b64decode(ctx["ZEPHIR_PASSWORD_BASE64"]).decode() == demo.ZEPHIR_PASSWORD, "the installing VM"
    assert base64.b64decode(context(scribe)["HAPY_ADDC_PASSWORD_BASE64"]).decode() == ADDC_PASSWORD
    assert "HAPY_ADDC_PASSWORD_BASE64" not in ctx, "an Amon creates no AD domain"
    nics = amon.findall("TEMPLATE/NIC")
    assert [(n.findtext("NETWORK"), n.findtext("IP"), n.findtext("METHOD")) for n in nics] == [
        ("CR_wan", "10.99.0.2", None), ("CR_admin", "10.99.1.1", "skip"), ("CR_pedago", "10.99.2.1", "skip")]
    assert (nics[0].findtext("GATEWAY"), nics[0].findtext("DNS")) == ("10.99.0.1", "10.99.0.1 9.9.9.9")
    assert {k: amon.findtext(f"TEMPLATE/OS/{k}") for k in ("FIRMWARE", "MACHINE", "SD_DISK_BUS")} == {
        "FIRMWARE": "/usr/share/OVMF/OVMF_CODE.fd", "MACHINE": "q35", "SD_DISK_BUS": "scsi"}, "EOLE 2.9: UEFI"
    assert scribe.find("TEMPLATE/OS/FIRMWARE") is None, "EOLE 2.8.1: BIOS"
    assert (scribe.findtext("TEMPLATE/VCPU"), scribe.findtext("TEMPLATE/MEMORY")) == ("2", "2048")
    assert scribe.findtext("USER_TEMPLATE/LABELS") == "sauvegarde"
    templates = api(server, "one.templatepool.info", -2, -1, -1)
    for template in templates.findall("VMTEMPLATE"):
        assert leaks(template) == [], template.findtext("NAME")
        assert template.find("TEMPLATE/CONTEXT/ZEPHIR_PASSWORD_BASE64") is None
    assert [leak for leak in leaks(amon) + leaks(scribe) if leak not in (demo.ZEPHIR_PASSWORD, ADDC_PASSWORD)] == []

    # the installed guests power themselves off (here: the test, as the dummy driver boots nothing)
    for vm in (amon, scribe):
        api(server, "one.vm.action", "poweroff", int(vm.findtext("ID")))
    wait_poweroff(server, ["amon", "scribe"])

    # stage run: NETCFG_TYPE=none on the VMs, the secrets removed, the guests booted again
    server.reset_calls()
    run = run_playbook("site.yml", "inventories/demo", *args, "-e", "eole_vms_stage=run")
    assert run.returncode == 0, run.output[-3000:]
    assert writes(server).get("one.vm.updateconf") == 2, writes(server)
    assert demo.ZEPHIR_PASSWORD not in run.output and ADDC_PASSWORD not in run.output
    final = vms(server)
    for name, vm in final.items():
        ctx = context(vm)
        assert (ctx["NETCFG_TYPE"], ctx["HAPY_HALT"]) == ("none", "NO"), name
        assert leaks(vm) == [], f"VM {name} after the install"
        assert ctx["ZEPHIR_ID"] == ("4241" if name == "amon" else "4242") and ctx["VM_ID"] == vm.findtext("ID")
        assert (vm.findtext("STATE"), vm.findtext("LCM_STATE")) == ("3", "3"), f"{name} booted again"
    assert final["amon"].findtext("TEMPLATE/OS/FIRMWARE") == "/usr/share/OVMF/OVMF_CODE.fd", "updateconf kept OS"
    for template in api(server, "one.templatepool.info", -2, -1, -1).findall("VMTEMPLATE"):
        assert template.findtext("TEMPLATE/CONTEXT/NETCFG_TYPE") == "none"

    server.reset_calls()
    again = run_playbook("site.yml", "inventories/demo", *args, "-e", "eole_vms_stage=run")
    assert again.returncode == 0 and again.changed == 0, again.output[-3000:]
    assert writes(server) == run_lock_writes(1)


@pytest.mark.parametrize("zephir_school", [endpoints.STANDIN], indirect=True)  # checked before any OpenNebula call
def test_zephir_mode_refuses_a_wrong_zephir_before_any_write(zephir_school):
    """A Zéphir server whose address is outside its network's OpenNebula range: the run stops in the validation
    play, naming the server and variable, and writes nothing."""
    server, zephir, args = zephir_school
    zephir.servers[4242]["config"]["adresse_ip_eth0"] = "10.99.2.60"
    refused = run_playbook("site.yml", "inventories/demo", *args)
    assert refused.returncode != 0
    assert ("Zéphir server 4242: adresse_ip_eth0: 10.99.2.60 is outside the OpenNebula range of 'pedago'; expected "
            "an address in 10.99.2.1-10.99.2.49") in refused.output, refused.output[-3000:]
    assert writes(server) == {}
    assert demo.ZEPHIR_PASSWORD not in refused.output
