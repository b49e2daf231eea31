"""Role eole.hapy.eole_vms on the demo school (tests/roles/eole_vms.yml), against an in-process test endpoint.

The first run registers the two images, declares the two templates and starts the two VMs (read back through the
XML-RPC API); a second run changes and writes nothing; the run stage only changes the templates' CONTEXT; check
mode predicts the first run; a guest whose EOLE
variables break the config.eol schema stops the role before any image, template or VM is even looked up.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pyone
import pytest

from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import run_playbook

PLAYBOOK = "tests/roles/eole_vms.yml"  # cloud_site, datastores, eole_vms
DEMO = "inventories/demo"
PASSWORD = "demo-oneadmin"  # inventories/demo/group_vars/all/site.yml
BAD_EOLE = Path(__file__).parents[1] / "playbooks" / "bad_inventories" / "bad_eole_variables.yml"


@pytest.fixture
def oned():
    server = OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{PASSWORD}", step=0.05).start()
    yield server
    server.stop()


@pytest.fixture
def import_dir(tmp_path):
    """The school's import directory with real qcow2 files (OpenNebula refuses a path that does not exist)."""
    for image in ("eole-2.9-amon", "eole-2.9-scribe"):
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(tmp_path / f"{image}.qcow2"), "1G"], check=True)
    return tmp_path


def writes(server) -> dict[str, int]:
    return {m: n for m, n in server.calls.items() if is_write(m)}


def run(server, *args: str, import_dir: Path | None = None):
    extra = ["-e", f"hapy_one_import_dir={import_dir}"] if import_dir else []
    return run_playbook(PLAYBOOK, DEMO, "-e", f"hapy_one_api_url={server.url}", *extra, *args)


def test_guests_converge_then_nothing_changes(oned, import_dir):
    first = run(oned, import_dir=import_dir)
    assert first.returncode == 0, first.output[-4000:]
    first_writes = writes(oned)
    assert first_writes["one.image.allocate"] == 2
    assert first_writes["one.template.allocate"] == 2
    assert first_writes["one.template.instantiate"] == 2

    one = pyone.OneServer(oned.url, session=f"oneadmin:{PASSWORD}")
    images = {i.NAME: i for i in one.imagepool.info(-2, -1, -1).IMAGE}
    assert sorted(images) == ["eole-2.9-amon", "eole-2.9-scribe"]
    assert images["eole-2.9-amon"].PATH == str(import_dir / "eole-2.9-amon.qcow2")
    assert images["eole-2.9-amon"].DATASTORE == "images-disques"
    templates = {t.NAME: t.TEMPLATE for t in one.templatepool.info(-2, -1, -1).VMTEMPLATE}
    amon = templates["amon"]
    assert (amon["CPU"], amon["VCPU"], amon["MEMORY"]) == ("0.5", "1", "1024")
    assert amon["OS"] == {"ARCH": "x86_64", "FIRMWARE": "UEFI", "MACHINE": "q35"}
    assert amon["DISK"]["IMAGE"] == "eole-2.9-amon" and amon["DISK"]["SIZE"] == "10240"
    assert [(n["NETWORK"], n["IP"], n["MODEL"]) for n in amon["NIC"]] == [
        ("CR_wan", "10.99.0.2", "virtio"), ("CR_admin", "10.99.1.1", "virtio"), ("CR_pedago", "10.99.2.1", "virtio"),
        ("CR_dmz", "10.99.3.1", "virtio")]
    assert amon["GRAPHICS"]["TYPE"] == "VNC" and amon["INPUT"] == {"BUS": "usb", "TYPE": "tablet"}
    context = amon["CONTEXT"]
    hashed = base64.b64decode(context["EOLE_ROOT_PASSWORD_HASH_BASE64"]).decode()
    assert hashed.startswith("$6$rounds=100000$"), "a SHA-512 crypt hash, not the password"
    assert not any("demo-eole-root" in str(value) or base64.b64encode(b"demo-eole-root").decode() in str(value)
                   for value in context.values())
    config = json.loads(base64.b64decode(context["EOLE_CONFIG_EOL_BASE64"]))
    assert config["numero_etab"]["val"] == "9749999z" and config["type_amon"]["val"] == "4zones"
    assert config["nom_zone_eth0"]["val"] == "enp2s0", "EOLE 2.9 on q35: the device name, never a zone label"
    vms = {v.NAME: v for v in one.vmpool.infoextended(-2, -1, -1, -1).VM}
    assert sorted(vms) == ["amon", "scribe"]
    assert all((vm.STATE, vm.LCM_STATE) == (3, 3) for vm in vms.values()), "running"
    assert vms["scribe"].USER_TEMPLATE["LABELS"] == "sauvegarde"
    assert "LABELS" not in vms["amon"].USER_TEMPLATE or not vms["amon"].USER_TEMPLATE["LABELS"]
    # the guest labelled for backups gets hapy_backup's mode and keep_last as its BACKUP_CONFIG, the other none
    config = one.vm.info(vms["scribe"].ID).BACKUPS.BACKUP_CONFIG
    assert (config.MODE, config.KEEP_LAST) == ("FULL", "2")
    assert one.vm.info(vms["amon"].ID).BACKUPS.BACKUP_CONFIG.MODE is None

    oned.reset_calls()
    second = run(oned, import_dir=import_dir)
    assert second.returncode == 0, second.output[-4000:]
    assert second.changed == 0, second.output[-4000:]
    assert writes(oned) == {}, "a second run must not write anything"

    oned.reset_calls()
    run_stage = run(oned, "-e", "eole_vms_stage=run", import_dir=import_dir)
    assert run_stage.returncode == 0, run_stage.output[-4000:]
    # the templates' CONTEXT and the VMs' (one updateconf each): the guests' next boot leaves the network to EOLE
    assert writes(oned) == {"one.template.update": 2, "one.vm.updateconf": 2}, writes(oned)
    for template in one.templatepool.info(-2, -1, -1).VMTEMPLATE:
        assert template.TEMPLATE["CONTEXT"]["NETCFG_TYPE"] == "none"
        assert template.TEMPLATE["CONTEXT"]["HAPY_HALT"] == "NO"
    for vm in one.vmpool.infoextended(-2, -1, -1, -1).VM:
        assert (vm.TEMPLATE["CONTEXT"]["NETCFG_TYPE"], vm.TEMPLATE["CONTEXT"]["HAPY_HALT"]) == ("none", "NO")


def test_check_mode_predicts_first_run(oned, import_dir):
    predicted = run(oned, "--check", "--diff", import_dir=import_dir)
    assert predicted.returncode == 0, predicted.output[-4000:]
    assert writes(oned) == {}, "check mode must not write"
    real = run(oned, import_dir=import_dir)
    assert real.returncode == 0, real.output[-4000:]
    assert predicted.changed == real.changed


def test_bad_eole_variables_stop_the_role_before_any_guest_object(oned):
    result = run(oned, "-e", f"@{BAD_EOLE}")
    assert result.returncode != 0
    assert "3 error(s) in the guests of 9749999Z, nothing was changed" in result.output
    assert "hapy_guests[0] amon: activer_dhcp: 'peut-etre'; expected oui or non" in result.output
    assert not [m for m in oned.calls if m.split(".")[1] in ("image", "template", "vm")]


def test_validate_entry_point_alone_reaches_no_api(oned):
    result = run_playbook("tests/roles/eole_vms_validate.yml", DEMO, "-e", f"hapy_one_api_url={oned.url}",
                          "-e", f"@{BAD_EOLE}")
    assert result.returncode != 0
    assert "hapy_guests[1] scribe: numero_etab: '123'; expected a lower-case UAI like 9740001a" in result.output
    assert sum(oned.calls.values()) == 0
