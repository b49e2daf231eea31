"""Connection settings, error translation and waiting of the client layer."""

from __future__ import annotations

import pytest
from ansible_collections.eole.hapy.plugins.module_utils import one_client as c


def test_options_win_over_environment():
    env = {"ONE_URL": "http://env:2633/RPC2", "ONE_USERNAME": "envuser", "ONE_PASSWORD": "envpw"}
    creds = c.Credentials.resolve({"api_url": "http://opt/RPC2", "api_username": "u", "api_password": "p"}, env)
    assert (creds.url, creds.session) == ("http://opt/RPC2", "u:p")
    creds = c.Credentials.resolve({}, env)
    assert (creds.url, creds.session) == ("http://env:2633/RPC2", "envuser:envpw")


def test_one_xmlrpc_and_default_url():
    assert c.Credentials.resolve({}, {"ONE_XMLRPC": "http://x/RPC2", "ONE_USERNAME": "a", "ONE_PASSWORD": "b"}).url \
        == "http://x/RPC2"
    assert c.Credentials.resolve({}, {"ONE_USERNAME": "a", "ONE_PASSWORD": "b"}).url == c.DEFAULT_API_URL


def test_one_auth_file(tmp_path):
    auth = tmp_path / "one_auth"
    auth.write_text("oneadmin:s3cret\n")
    creds = c.Credentials.resolve({}, {"ONE_AUTH": str(auth)})
    assert creds.session == "oneadmin:s3cret"
    home = tmp_path / "home"
    (home / ".one").mkdir(parents=True)
    (home / ".one" / "one_auth").write_text("admin:pw:with:colons\n")
    assert c.Credentials.resolve({}, {"HOME": str(home)}).password == "pw:with:colons"


def test_malformed_one_auth_and_missing_credentials(tmp_path):
    auth = tmp_path / "one_auth"
    auth.write_text("no-colon\n")
    with pytest.raises(c.OneError, match="expected 'username:password'"):
        c.Credentials.resolve({}, {"ONE_AUTH": str(auth)})
    with pytest.raises(c.OneError, match="credentials missing"):
        c.Credentials.resolve({}, {"HOME": str(tmp_path)})


def test_connection_refused_is_translated():
    creds = c.Credentials("http://127.0.0.1:9/RPC2", "a", "b", timeout=5)
    client = c.OneClient(creds)
    expected = r"cannot reach OpenNebula at http://127.0.0.1:9/RPC2 \(one.vnpool.info\)"
    with pytest.raises(c.OneError, match=expected) as err:
        client.call("vnpool.info", -2, -1, -1)
    assert err.value.kind == "connection"
    assert client.calls["vnpool.info"] == 1 and client.writes == 0


def test_is_read():
    assert c.is_read("vnpool.info") and c.is_read("system.version")
    assert not c.is_read("vn.allocate") and not c.is_read("vn.update_ar")


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_for_ready_failed_and_timeout():
    clock = FakeClock()
    values = iter([1, 2, 3])
    assert c.wait_for(lambda: next(values), lambda v: v == 3, 10, "three", sleep=clock.sleep, clock=clock) == 3
    with pytest.raises(c.OneError, match="vm: state FAILURE") as err:
        c.wait_for(lambda: "FAILURE", lambda v: v == "RUNNING", 10, "vm", failed=lambda v: f"state {v}",
                   sleep=clock.sleep, clock=clock)
    assert err.value.kind == "state"
    with pytest.raises(c.OneError, match="timed out after 5s waiting for never") as err:
        c.wait_for(lambda: 0, lambda v: False, 5, "never", sleep=clock.sleep, clock=clock)
    assert err.value.kind == "timeout"
