"""frontend role, HA zone (hapy_ha) on three containers with the real oned 7.0.2 packages: what the role's own tasks
(tasks/ha*.yml, over the podman connection, with systemd, onezone and onedb) left, then a failover.

Checks run once for the zone (not per host); expected values come from the scenario inventory (molecule.yml)."""

import json
import re
import time

import pytest
import testinfra
import yaml

SCENARIO = yaml.safe_load(open(__file__.rsplit("/tests/", 1)[0] + "/molecule.yml"))
MODEL = SCENARIO["provisioner"]["inventory"]["group_vars"]["all"]
HA = MODEL["hapy_ha"]
NAMES = [s["name"] for s in HA["servers"]]
VIP = HA["vip"].split("/")[0]
ONE = "ONE_AUTH=/var/lib/one/.one/one_auth "


@pytest.fixture(scope="module")
def boxes():
    return {name: testinfra.get_host(f"podman://{name}") for name in NAMES}


def zone(box) -> list[dict]:
    """Zone 0's servers as this server's oned lists them, with each one's Raft state (onezone show)."""
    answer = json.loads(box.check_output(ONE + "onezone show 0 --json"))
    return [answer["ZONE"]["SERVER_POOL"]["SERVER"]] if isinstance(answer["ZONE"]["SERVER_POOL"]["SERVER"], dict) \
        else answer["ZONE"]["SERVER_POOL"]["SERVER"]


def states(boxes) -> dict[str, str]:
    """Each server's own Raft state as it reports it (STATE: 3 leader, 2 follower; '-' when it does not answer)."""
    for box in boxes.values():
        cmd = box.run(ONE + "onezone show 0 --json")
        if cmd.rc == 0:
            return {s["NAME"]: s["STATE"] for s in zone(box)}
    return {}


def vip_holders(boxes) -> list[str]:
    return [name for name, box in boxes.items()
            if f" {VIP}/" in box.check_output("ip -o -4 address show dev eth0")]


def raftstatus_at_vip(box) -> str:
    """one.zone.raftstatus through the floating address, from ``box``."""
    auth = MODEL["vault_hapy_oneadmin_password"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = ('<?xml version="1.0"?><methodCall><methodName>one.zone.raftstatus</methodName><params><param><value>'
            f"<string>oneadmin:{auth}</string></value></param></params></methodCall>")
    cmd = box.run(f"curl -s -m 5 -H 'Content-Type: text/xml' --data-binary @- http://{VIP}:2633/RPC2 <<'EOF'\n"
                  f"{body}\nEOF")
    return cmd.stdout


def wait_for(what, condition, timeout=180):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(1)


def test_zone_lists_the_servers_in_order_with_one_leader(boxes):
    for box in boxes.values():
        assert [(s["ID"], s["NAME"], s["ENDPOINT"]) for s in zone(box)] == [
            (str(i), s["name"], f"http://{s['address']}:2633/RPC2") for i, s in enumerate(HA["servers"])]
    assert sorted(states(boxes).values()) == ["2", "2", "3"]


def test_each_server_runs_with_its_zone_id_and_the_hook(boxes):
    for i, (name, box) in enumerate(boxes.items()):
        conf = box.file("/etc/one/oned.conf").content_string
        assert re.search(rf"SERVER_ID\s*=\s*{i},", conf), name
        assert f'ARGUMENTS = "leader eth0 {HA["vip"]}"' in conf
        assert box.file("/var/lib/one/remotes/hooks/raft/hapy-vip.sh").mode == 0o755
        assert f'MONITOR_ADDRESS = "{VIP}"' in box.file("/etc/one/monitord.conf").content_string
        assert box.run("visudo -cf /etc/sudoers.d/eole-hapy-ha").rc == 0


def test_floating_address_on_the_leader_only_answering_the_api(boxes):
    leader = next(name for name, state in states(boxes).items() if state == "3")
    assert vip_holders(boxes) == [leader]
    follower = next(name for name in NAMES if name != leader)
    answer = raftstatus_at_vip(boxes[follower])
    assert f"&lt;SERVER_ID&gt;{NAMES.index(leader)}&lt;/SERVER_ID&gt;&lt;STATE&gt;3&lt;" in answer, answer


def test_servers_share_the_leaders_credentials_and_the_oneadmin_key(boxes):
    files = ["/var/lib/one/.one/one_auth", "/var/lib/one/.one/oneflow_auth", "/var/lib/one/.one/onegate_auth",
             "/var/lib/one/.one/sunstone_auth", "/var/lib/one/.ssh/id_ed25519", "/var/lib/one/.ssh/id_ed25519.pub"]
    for path in files:
        sums = {name: box.file(path).sha256sum for name, box in boxes.items()}
        assert len(set(sums.values())) == 1, (path, sums)
        assert all(box.file(path).user == "oneadmin" for box in boxes.values())


def test_leader_oned_killed_another_leads_with_the_address_and_it_comes_back_as_follower(boxes):
    leader = next(name for name, state in states(boxes).items() if state == "3")
    killed = time.monotonic()
    boxes[leader].check_output("systemctl kill --signal=SIGKILL opennebula")
    others = {name: box for name, box in boxes.items() if name != leader}
    new_leader = wait_for("a new leader", lambda: next(
        (n for n, s in states(others).items() if s == "3" and n != leader), None))
    wait_for("the floating address on the new leader only", lambda: vip_holders(boxes) == [new_leader])
    answer = wait_for("the floating address answering as the new leader", lambda: (
        lambda a: a if f"&lt;SERVER_ID&gt;{NAMES.index(new_leader)}&lt;" in a else None)(
            raftstatus_at_vip(boxes[leader])))
    print(f"\n[ha molecule] failover {leader} -> {new_leader}: {time.monotonic() - killed:.1f} s")
    assert "&lt;STATE&gt;3&lt;" in answer
    # systemd: ExecStopPost follower_cleanup ran the follower hook (address lowered), Restart=on-failure started oned
    wait_for("the killed server back as follower", lambda: states(boxes).get(leader) == "2")
    assert vip_holders(boxes) == [new_leader]
