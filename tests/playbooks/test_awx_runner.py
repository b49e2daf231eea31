"""site.yml through ansible-runner, the engine AWX runs jobs with: the reunion inventory with its vault, one school
(``--limit``) pointed at a stand-in OpenNebula, the fleet report enabled as an AWX job would enable it; the runner's
status, events and artifacts read back.

Lean on purpose: the cloud level only (``--tags cloud``, ``hapy_host_level: false``) and the school's guests left out
(``hapy_guests: []``, extra vars): the guests' objects are covered by test_academy.py and the quick start.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import ansible_runner
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import ROOT

REUNION = ROOT / "inventories" / "reunion"
VAULT_PASS = REUNION / ".vault-pass.demo"
SCHOOL, HOST = "9740001A", "hapy-9740001a"


def vaulted(name: str) -> str:
    """A value of the reunion vault (group_vars/all/vault.yml), decrypted with the demo password."""
    loader = type("VaultLoader", (yaml.SafeLoader,), {})
    loader.add_constructor("!vault", lambda self, node: self.construct_scalar(node))
    ciphertext = yaml.load((REUNION / "group_vars/all/vault.yml").read_text(), Loader=loader)[name]
    secret = VaultSecret(VAULT_PASS.read_bytes().strip())
    return VaultLib([("default", secret)]).decrypt(ciphertext).decode()


def test_site_through_ansible_runner_with_the_reunion_inventory(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    server = OnedServer(host="127.0.0.1", port=0, step=0.05,
                        credentials=f"oneadmin:{vaulted('vault_hapy_oneadmin_password')}").start()
    reports = tmp_path / "reports"
    (tmp_path / "runner").mkdir()
    try:
        run = ansible_runner.run(
            private_data_dir=str(tmp_path / "runner"), project_dir=str(ROOT), playbook="site.yml",
            inventory=str(REUNION), limit=f"etb_{SCHOOL.lower()}", tags="cloud",
            cmdline=f"--vault-password-file {VAULT_PASS}",
            extravars={"hapy_one_api_url": server.url, "hapy_host_level": False, "hapy_guests": [],
                       "hapy_host_drivers": {"im_mad": "dummy", "vm_mad": "dummy"},
                       "datastores_tm_mad": {"single": "dummy", "cluster": "dummy"},
                       "awx_job_id": 4242, "awx_job_template_name": "hapy-site"},
            envvars={"ANSIBLE_CALLBACKS_ENABLED": "eole.hapy.fleet_report", "HAPY_FLEET_REPORT_DIR": str(reports),
                     "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".collections")},
            quiet=True)
        writes = {m: n for m, n in server.calls.items() if is_write(m)}
    finally:
        server.stop()
    stdout = run.stdout.read()
    assert (run.status, run.rc) == ("successful", 0), stdout[-3000:]
    assert run.stats["changed"].get(HOST, 0) > 0 and not run.stats["failures"], run.stats
    assert set(run.stats["ok"]) <= {HOST, "localhost"}, "--limit kept one school"
    assert writes.get("one.cluster.allocate") == 1 and writes.get("one.vn.allocate") == 5, writes

    events = list(run.events)
    actions = {e["event_data"].get("task_action") for e in events if e["event"] == "runner_on_ok"}
    assert {"eole.hapy.hapy_site_check", "eole.hapy.one_cluster", "eole.hapy.one_vnet"} <= actions
    # 'verbose' events are lines the process printed outside the playbook (a Python warning of a library at start
    # up, e.g. cryptography's DSA deprecation): the playbook's own events start with playbook_on_start
    kinds = [e["event"] for e in events if e["event"] != "verbose"]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats", kinds
    artifacts = Path(run.config.artifact_dir)
    assert (artifacts / "status").read_text() == "successful" and (artifacts / "rc").read_text() == "0"
    assert len(list((artifacts / "job_events").glob("*.json"))) == len(events)

    report = json.loads((reports / "hapy-report-awx-4242.json").read_text())
    assert report["run"]["awx"] == {"job_id": 4242, "job_template_name": "hapy-site"}
    (school,) = report["schools"]
    assert (school["uai"], school["status"], school["name"]) == (SCHOOL, "converged", "Lycée Leconte de Lisle")
    assert {c["object"] for c in school["changes"] if c["kind"] == "vnet"} == {
        "CR_wan", "CR_admin", "CR_pedago", "CR_dmz", "CR_dmz_priv"}
