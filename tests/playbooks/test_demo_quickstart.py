"""The README's quick start: the demo school's cloud level, twice, against the stand-in and against real oned.

Each test gets an OpenNebula of its own (a fresh stand-in, or a fresh real oned of the version via
``endpoints.fresh``) with the demo's oneadmin password; the demo's guest disk images are real qcow2 files in that
OpenNebula's import directory, as ``scripts/quickstart.sh`` does.
"""

from __future__ import annotations

import base64
import subprocess
import xml.etree.ElementTree as ET
import xmlrpc.client
from pathlib import Path

import pytest

from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import RUN_LOCK_TYPE, run_lock_writes, run_playbook
from tests.real_oned import endpoints

DEMO_PASSWORD = "demo-oneadmin"  # inventories/demo/group_vars/all/site.yml
DEMO_IMAGES = ("eole-2.9-amon", "eole-2.9-scribe")  # hapy_guests[*].image
DEMO_VMS = ("amon", "scribe")


def demo_endpoint(param: str, tmp_path: Path, images: tuple[str, ...] = DEMO_IMAGES):
    """A fresh OpenNebula for the demo school (``param``: the stand-in or ``oned-<version>``) and its import
    directory holding ``images`` as real qcow2 files; the caller stops it."""
    if param == endpoints.STANDIN:
        server = OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{DEMO_PASSWORD}").start()
        import_dir = tmp_path / "import"
        import_dir.mkdir()
    else:
        server = endpoints.fresh(endpoints.version_of(param), password=DEMO_PASSWORD)
        import_dir = server.instance.root / "var" / "import"
    for image in images:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(import_dir / f"{image}.qcow2"), "1G"],
                       check=True)
    return server, import_dir


@pytest.fixture(params=endpoints.ALL)
def demo_oned(request, tmp_path):
    """(endpoint, import directory holding the demo's images as real qcow2 files)."""
    server, import_dir = demo_endpoint(request.param, tmp_path)
    yield server, import_dir
    server.stop()


def writes(server) -> dict[str, int]:
    return {m: n for m, n in server.calls.items() if is_write(m)}


def demo_args(server, import_dir: Path) -> list[str]:
    return ["-e", f"hapy_one_api_url={server.url}", "-e", f"hapy_one_import_dir={import_dir}"]


def pool(server, method: str, *args) -> list[ET.Element]:
    """Read straight from the endpoint (after the counts were taken)."""
    answer = getattr(xmlrpc.client.ServerProxy(server.url), method)(f"oneadmin:{DEMO_PASSWORD}", *args)
    assert answer[0], answer[1]
    return [obj for obj in ET.fromstring(answer[1]) if obj.find("ID") is not None]


def test_demo_site_check_then_converge_then_change_nothing(demo_oned):
    """The quick start as a user runs it: ``--check --diff`` on the fresh OpenNebula predicts the first run without
    a write, the first run converges, the second run changes and writes nothing. One fresh OpenNebula for the three
    runs (a real oned takes ~20 s to start and monitor its datastores)."""
    server, import_dir = demo_oned
    predicted = run_playbook("site.yml", "inventories/demo", "--check", "--diff", *demo_args(server, import_dir))
    assert predicted.returncode == 0, predicted.output[-3000:]
    assert writes(server) == {}, "check mode must not write"
    assert "CR_pedago" in predicted.output, "--diff shows the networks it would create"

    server.reset_calls()
    first = run_playbook("site.yml", "inventories/demo", *demo_args(server, import_dir))
    assert first.returncode == 0, first.output[-3000:]
    assert first.changed > 0
    assert predicted.changed == first.changed, "check mode predicted every change of the first run"
    assert predicted.recap == first.recap
    first_writes = writes(server)
    assert first_writes.get("one.vn.allocate") == 4, "wan, admin, pedago and dmz networks (no private DMZ)"
    assert first_writes.get("one.cluster.allocate") == 1
    assert first_writes.get("one.host.allocate") == 1
    assert first_writes.get("one.image.allocate") == len(DEMO_IMAGES)
    assert first_writes.get("one.template.instantiate") == len(DEMO_VMS)

    # what the first run left: a monitored dummy host, images registered from the real files, RUNNING guests
    hosts = pool(server, "one.hostpool.info")
    assert [(h.findtext("NAME"), h.findtext("IM_MAD"), h.findtext("STATE")) for h in hosts] == [
        ("hapy-demo", "dummy", "2")], "the demo host is MONITORED"
    images = {i.findtext("NAME"): i for i in pool(server, "one.imagepool.info", -2, -1, -1)}
    for name in DEMO_IMAGES:
        image = images[name]
        assert image.findtext("PATH") == str(import_dir / f"{name}.qcow2")
        assert image.findtext("STATE") in ("1", "2"), f"{name} READY or USED, not ERROR"
        assert image.findtext("DATASTORE") == "images-disques"
        safe_dirs = [d.findtext("TEMPLATE/SAFE_DIRS") for d in pool(server, "one.datastorepool.info")
                     if d.findtext("NAME") == "images-disques"]
        assert safe_dirs == [str(import_dir)]
        if not isinstance(server, OnedServer):  # a real oned copied the file into the datastore
            assert Path(image.findtext("SOURCE")).is_file(), image.findtext("SOURCE")
    vms = {v.findtext("NAME"): v for v in pool(server, "one.vmpool.info", -2, -1, -1, -1)}
    assert {name: (vms[name].findtext("STATE"), vms[name].findtext("LCM_STATE")) for name in DEMO_VMS} == {
        name: ("3", "3") for name in DEMO_VMS}, "every guest ACTIVE/RUNNING on the dummy host"

    server.reset_calls()
    second = run_playbook("site.yml", "inventories/demo", *demo_args(server, import_dir))
    assert second.returncode == 0, second.output[-3000:]
    assert second.changed == 0, second.output[-3000:]
    assert writes(server) == run_lock_writes(1), "a second run writes nothing but its run lock"
    assert pool(server, "one.documentpool.info", -2, -1, -1, RUN_LOCK_TYPE) == [], "the run lock was released"


def test_demo_site_refuses_a_school_locked_by_another_run(demo_oned):
    """A run holding the school's lock: a second run fails before any change, naming the holder; once the holder
    is gone, ``-e hapy_lock_break=true`` takes the lock over."""
    server, import_dir = demo_oned
    text = 'NAME="hapy-site-run"\nHOLDER="AWX job 41"\nRUN_ID="r41"\nSINCE="1764748800"\n'  # 2025-12-03 08:00 UTC
    answer = xmlrpc.client.ServerProxy(server.url).one.document.allocate(f"oneadmin:{DEMO_PASSWORD}", text,
                                                                         RUN_LOCK_TYPE)
    assert answer[0], answer[1]
    server.reset_calls()
    refused = run_playbook("site.yml", "inventories/demo", "-e", "hapy_lock_stale_after=0",
                           *demo_args(server, import_dir))
    assert refused.returncode != 0
    assert "held by AWX job 41 since 2025-12-03T08:00:00+00:00 (run r41" in refused.output, refused.output[-3000:]
    assert writes(server) == {}, "nothing is changed under another run's lock"

    taken_over = run_playbook("site.yml", "inventories/demo", "-e", "hapy_lock_break=true",
                              *demo_args(server, import_dir))
    assert taken_over.returncode == 0, taken_over.output[-3000:]
    assert "broke the run lock held by AWX job 41" in taken_over.output
    assert pool(server, "one.documentpool.info", -2, -1, -1, RUN_LOCK_TYPE) == []


ZEPHIR_VARS = """
hapy_academy:
  name: ac-reunion
  uai_check_letter: false
  dns: [10.99.0.1]
  ntp: [pool.ntp.org]
  networks: [{name: dmz_priv, enabled: false}]
  zephir: {address: zephir.ac-reunion.example, user: hapy, password: zephir-secret-pw}
hapy_guests:
  - {name: amon, profile: amon, cpu: 0.5, vcpu: 1, memory: 1024, disk: 10240, image: eole-2.9-amon,
     nics: [{network: wan}, {network: admin}, {network: pedago}, {network: dmz}], zephir_id: 4242}
  - {name: scribe, profile: scribe, cpu: 0.5, vcpu: 1, memory: 2048, disk: 20480, image: eole-2.9-scribe,
     nics: [{network: pedago, ip: 10.99.2.10}], labels: [sauvegarde]}
"""


def test_demo_guest_secrets_are_not_readable_through_opennebula(demo_oned, tmp_path):
    """The root password reaches OpenNebula as a crypt hash only; Zéphir's password is given to the VM alone (never
    its template) and removed from it when the guests are installed (stage run). Read back as oneadmin."""
    server, import_dir = demo_oned
    extra = tmp_path / "zephir.yml"
    extra.write_text(ZEPHIR_VARS)
    install = run_playbook("site.yml", "inventories/demo", "-e", f"@{extra}", *demo_args(server, import_dir))
    assert install.returncode == 0, install.output[-3000:]
    secrets = ("demo-eole-root", "zephir-secret-pw")
    encoded = [base64.b64encode(s.encode()).decode() for s in secrets]

    def leaks(element: ET.Element) -> list[str]:
        text = ET.tostring(element, encoding="unicode")
        return [s for s in (*secrets, *encoded) if s in text]

    templates = {t.findtext("NAME"): t for t in pool(server, "one.templatepool.info", -2, -1, -1)}
    for name, template in templates.items():
        assert leaks(template) == [], f"template {name}"
        assert template.find("TEMPLATE/CONTEXT/ZEPHIR_PASSWORD_BASE64") is None
        hashed = base64.b64decode(template.findtext("TEMPLATE/CONTEXT/EOLE_ROOT_PASSWORD_HASH_BASE64")).decode()
        assert hashed.startswith("$6$rounds=100000$"), hashed
    vms = {v.findtext("NAME"): v for v in pool(server, "one.vmpool.info", -2, -1, -1, -1)}
    amon = api_xml(server, "one.vm.info", int(vms["amon"].findtext("ID")))
    assert amon.findtext("TEMPLATE/CONTEXT/ZEPHIR_PASSWORD_BASE64") == encoded[1], "the installing guest has it"
    assert amon.findtext("TEMPLATE/CONTEXT/ZEPHIR_ID") == "4242"
    assert "demo-eole-root" not in ET.tostring(amon, encoding="unicode")

    server.reset_calls()
    installed = run_playbook("site.yml", "inventories/demo", "-e", f"@{extra}", "-e", "eole_vms_stage=run",
                             "--diff", *demo_args(server, import_dir))
    assert installed.returncode == 0, installed.output[-3000:]
    # one updateconf per VM: NETCFG_TYPE=none on both, Zéphir's password removed from the Amon in the same call
    assert writes(server).get("one.vm.updateconf") == 2, writes(server)
    assert "zephir-secret-pw" not in installed.output and encoded[1] not in installed.output
    for name in DEMO_VMS:
        vm = api_xml(server, "one.vm.info", int(vms[name].findtext("ID")))
        assert leaks(vm) == [], f"VM {name} after the install"
        assert vm.findtext("TEMPLATE/CONTEXT/ZEPHIR_ID") == ("4242" if name == "amon" else None)
        assert vm.findtext("TEMPLATE/OS/ARCH") == "x86_64", "updateconf kept the VM's other configuration"
        assert vm.findtext("TEMPLATE/CONTEXT/NETCFG_TYPE") == "none", "EOLE owns the network from the next boot"
        assert (vm.findtext("STATE"), vm.findtext("LCM_STATE")) == ("3", "3"), "still running"


def api_xml(server, method: str, *args) -> ET.Element:
    """One call as oneadmin, its XML answer parsed (an action's id as it is)."""
    answer = getattr(xmlrpc.client.ServerProxy(server.url), method)(f"oneadmin:{DEMO_PASSWORD}", *args)
    assert answer[0], answer[1]
    return ET.fromstring(answer[1]) if isinstance(answer[1], str) else answer[1]
