"""The fleet report (callback eole.hapy.fleet_report) of runs over a small academy, read back as JSON and as the page a
real headless Chromium shows.

Three schools of an academy file (the eole.hapy.academy inventory plugin), each with its own stand-in OpenNebula
except the third, whose API is down: a first run converges two schools and fails the third; then a vnet of the
second school is changed behind Ansible's back and a ``--check`` run reports that school drifted, attribute by
attribute. The schools have no guests: the guests' template task is ``no_log`` (its API calls are hidden from any
callback), and without it each school's API calls in the report can be compared with what its endpoint counted.
"""

from __future__ import annotations

import json
import socket
import xmlrpc.client

import pytest
import yaml

from tests.bench.make_academy import academy
from tests.browser import Chromium
from tests.oned import OnedServer, is_write
from tests.playbooks.playbook_runner import ROOT, run_playbook

PASSWORD = "bench-oneadmin"  # tests/bench/make_academy.py
SCREENSHOTS = ROOT / ".cache" / "fleet-report"


def _closed_port_url() -> str:
    """An API URL nobody listens on (a school whose OpenNebula is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/RPC2"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """The academy file, the endpoints of its schools (None: down) and the two runs' reports."""
    tmp = tmp_path_factory.mktemp("fleet")
    servers = [OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{PASSWORD}", step=0.05).start()
               for _ in range(2)]
    try:
        document = academy(3, 0)
        document["vars"].update(hapy_guests=[], hapy_host_level=False,  # the cloud level only, no guest
                                hapy_host_drivers={"im_mad": "dummy", "vm_mad": "dummy"},
                                datastores_tm_mad={"single": "dummy", "cluster": "dummy"})
        for entry, server in zip(document["schools"], [*servers, None], strict=True):
            entry["api_url"] = server.url if server else _closed_port_url()
        (tmp / "academy.yml").write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        uais = [entry["uai"] for entry in document["schools"]]
        env = {"ANSIBLE_CALLBACKS_ENABLED": "eole.hapy.fleet_report", "HAPY_FLEET_REPORT_DIR": str(tmp / "reports")}

        first = run_playbook("site.yml", str(tmp / "academy.yml"), "--tags", "cloud", env=env)
        first_report = json.loads((tmp / "reports" / "latest.json").read_text())
        first_calls = [dict(server.calls) for server in servers]

        one = xmlrpc.client.ServerProxy(servers[1].url)  # drift on the second school: a vnet's description
        vnets = one.one.vnpool.info(f"oneadmin:{PASSWORD}", -2, -1, -1)[1]
        vnet_id = int(vnets.split("<NAME>CR_pedago</NAME>")[0].rsplit("<ID>", 1)[1].split("<")[0])
        assert one.one.vn.update(f"oneadmin:{PASSWORD}", vnet_id, 'DESCRIPTION="changed by hand"', 1)[0]
        for server in servers:
            server.reset_calls()
        check = run_playbook("site.yml", str(tmp / "academy.yml"), "--tags", "cloud", "--check", "--diff", env=env)
        check_report = json.loads((tmp / "reports" / "latest.json").read_text())
        yield {"uais": uais, "first": first, "first_report": first_report, "first_calls": first_calls,
               "check": check, "check_report": check_report, "check_calls": [dict(s.calls) for s in servers],
               "reports": tmp / "reports"}
    finally:
        for server in servers:
            server.stop()


def by_uai(report: dict) -> dict[str, dict]:
    return {school["uai"]: school for school in report["schools"]}


def test_a_run_reports_converged_and_failed_schools_with_their_changes_and_api_calls(fleet):
    first, report = fleet["first"], fleet["first_report"]
    assert first.returncode != 0, "the third school failed"
    a, b, down = fleet["uais"]
    schools = by_uai(report)
    assert [schools[uai]["status"] for uai in (a, b, down)] == ["converged", "converged", "failed"]
    assert {key: report["totals"][key] for key in ("schools", "converged", "drifted", "failed")} == {
        "schools": 3, "converged": 2, "drifted": 0, "failed": 1}
    assert report["run"]["check_mode"] is False and report["run"]["playbook"] == "site.yml"
    created = {(c["kind"], c["object"]) for c in schools[a]["changes"] if c["action"] == "create"}
    assert {("cluster", f"hapy-{a.lower()}"), ("vnet", "CR_admin"), ("vnet", "CR_pedago"),
            ("datastore", "images-disques"), ("host", f"hapy-{a.lower()}")} <= created
    assert all(c["host"] == f"hapy-{a.lower()}" for c in schools[a]["changes"]), "delegated to localhost, counted " \
        "for the school's host"
    for uai, calls in zip((a, b), fleet["first_calls"], strict=True):
        counted = schools[uai]["api_calls"]
        assert counted == {"total": sum(calls.values()), "writes": sum(n for m, n in calls.items() if is_write(m))}, \
            "the report's API calls are the calls the school's endpoint received"
        assert schools[uai]["duration"] > 0 and schools[uai]["hidden_results"] == 0
    failure = schools[down]["failures"][0]
    assert failure["host"] == f"hapy-{down.lower()}" and "run lock" in failure["task"]
    assert "Connection refused" in failure["msg"] or "refused" in failure["msg"].lower(), failure
    assert schools[down]["changes"] == []


def test_a_check_run_reports_the_drifted_school_attribute_by_attribute(fleet):
    check, report = fleet["check"], fleet["check_report"]
    assert check.returncode != 0, "the third school still fails"
    assert fleet["check_calls"] and all(not is_write(m) for calls in fleet["check_calls"] for m in calls), \
        "check mode wrote nothing"
    a, b, down = fleet["uais"]
    schools = by_uai(report)
    assert report["run"]["check_mode"] is True
    assert [schools[uai]["status"] for uai in (a, b, down)] == ["converged", "drifted", "failed"]
    assert schools[a]["changes"] == []
    assert [(c["kind"], c["object"], c["action"], c["attributes"]) for c in schools[b]["changes"]] == [
        ("vnet", "CR_pedago", "update", ["template.DESCRIPTION"])]
    assert schools[b]["api_calls"]["writes"] == 0
    assert [s["uai"] for s in report["schools"]] == [down, b, a], "failed first, then drifted, then converged"
    json_files = sorted(fleet["reports"].glob("hapy-report-*.json"))
    assert len(json_files) == 2 and len(list(fleet["reports"].glob("hapy-report-*.html"))) == 2, "one pair per run"


def test_the_report_page_shows_every_school_in_a_real_browser(fleet):
    """The check run's page, opened from its file in headless Chromium: what an operator sees."""
    a, b, down = fleet["uais"]
    page_file = fleet["reports"] / "latest.html"
    with Chromium() as browser:
        page = browser.open(page_file)
        rows = page.evaluate("[...document.querySelectorAll('tr.school')].map(r => ({uai: r.dataset.uai, "
                             "status: r.querySelector('.status').innerText, text: r.innerText}))")
        totals = page.evaluate("document.querySelector('.totals').innerText")
        requests = page.evaluate("performance.getEntriesByType('resource').length")
        shot = page.screenshot(SCREENSHOTS / "check-run.png")
    assert [(r["uai"], r["status"]) for r in rows] == [(down, "failed"), (b, "drifted"), (a, "converged")]
    drifted = rows[1]["text"]
    assert "CR_pedago" in drifted and "would change template.DESCRIPTION" in drifted, drifted
    assert "Établissement 002" in drifted
    assert "refused" in rows[0]["text"].lower(), rows[0]["text"]
    assert "no change" in rows[2]["text"]
    assert "1 converged" in totals and "1 drifted" in totals and "1 failed" in totals, totals
    assert requests == 0, "the page loads nothing (no external asset)"
    assert shot.stat().st_size > 10_000
