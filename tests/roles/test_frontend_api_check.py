"""Role eole.hapy.frontend, readiness check (tasks/check.yml) against the test endpoint: it waits for the API, passes
with the oneadmin password (XML-escaped in the request) and publishes the version, fails with a clear message when oned
refuses the password (oned keeps the password of its first start) or never answers."""

from __future__ import annotations

import json
import socket
import sys

import pytest

from tests.oned import OnedServer
from tests.playbooks.playbook_runner import run_playbook

PLAYBOOK = "tests/roles/frontend_api_check.yml"
PASSWORD = "pw&<with>:colon"  # XML special characters and a colon, as a vaulted password may have


@pytest.fixture
def oned():
    server = OnedServer(host="127.0.0.1", port=0, credentials=f"oneadmin:{PASSWORD}", step=0.05).start()
    yield server
    server.stop()


def check(url: str, password: str):
    ev = {"frontend_api_url": url, "frontend_oneadmin_password": password,
          "ansible_python_interpreter": sys.executable}
    return run_playbook(PLAYBOOK, "localhost,", "-c", "local", "-e", json.dumps(ev))


def test_ready_with_the_oneadmin_password(oned):
    run = check(oned.url, PASSWORD)
    assert run.returncode == 0, run.output
    assert "frontend_api_version=6.10.0" in run.output
    assert oned.calls.get("one.system.version", 0) >= 1
    assert PASSWORD not in run.output  # no_log on the request


def test_refused_password_fails_with_the_reason(oned):
    run = check(oned.url, "not-the-bootstrap-password")
    assert run.returncode != 0
    assert "refuses oneadmin" in run.output and "oneuser passwd" in run.output
    assert "User couldn't be authenticated" in run.output


def test_no_api_fails_after_the_retries():
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = check(f"http://127.0.0.1:{port}/RPC2", PASSWORD)
    assert run.returncode != 0
    assert "Wait until the XML-RPC API answers" in run.output and "FAILED - RETRYING" in run.output
