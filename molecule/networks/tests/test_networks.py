"""networks role: real state of the container after converge (see docs/test-matrix/networks.md).

Expectations follow the scenario's inventory (molecule.yml): the computed plan of school index 1 with the
ac-reunion override wan=VLAN 100, uplink eno1, plus br-native (untagged on eno2, MTU 9000) and br-isolated
(no uplink, MTU 1400); host address 10.1.1.250/24 on br-admin.
"""

import json

import pytest

VLAN_BRIDGES = {"br-wan": 100, "br-admin": 20, "br-pedago": 30, "br-dmz": 40, "br-dmz-priv": 50}
ALL_BRIDGES = [*VLAN_BRIDGES, "br-native", "br-isolated"]
NETDIR = "/etc/systemd/network"


def links(host):
    return {link["ifname"]: link for link in json.loads(host.check_output("ip -json -details addr show"))}


@pytest.fixture(scope="module")
def vlan_supported(host):
    """Can this kernel create an 802.1Q link at all? Tried once on a scratch veth pair, then removed."""
    host.run("ip link add hapyt0 type veth peer name hapyt1")
    probe = host.run("ip link add link hapyt0 name hapyt0.9 type vlan id 9")
    host.run("ip link delete hapyt0")
    return probe.rc == 0


def test_networkd_running(host):
    svc = host.service("systemd-networkd")
    assert svc.is_running
    assert svc.is_enabled


@pytest.mark.parametrize("bridge", ALL_BRIDGES)
def test_bridge_exists_and_configured(host, bridge):
    assert host.file(f"/sys/class/net/{bridge}/bridge").is_directory
    status = host.check_output(f"networkctl status --no-pager {bridge}")
    assert "State:" in status and "configured" in status


def test_untagged_uplink_is_bridge_port_with_mtu(host):
    assert host.check_output("ls /sys/class/net/br-native/brif").split() == ["eno2"]
    state = links(host)
    assert state["br-native"]["mtu"] == 9000
    assert state["eno2"]["mtu"] == 9000
    assert state["eno2"]["master"] == "br-native"
    assert state["br-native"]["operstate"] == "UP"


def test_internal_bridge_has_no_port(host):
    assert host.check_output("ls /sys/class/net/br-isolated/brif") == ""
    assert links(host)["br-isolated"]["mtu"] == 1400


def test_host_address_on_admin_bridge(host):
    addrs = [(a["local"], a["prefixlen"]) for a in links(host)["br-admin"]["addr_info"]]
    assert ("10.1.1.250", 24) in addrs


def test_unrelated_link_untouched(host):
    """eth0 (the container's own link, the SSH path on a real host) is not managed by networkd."""
    assert "unmanaged" in host.check_output("networkctl status --no-pager eth0")
    assert any(a["family"] == "inet" for a in links(host)["eth0"]["addr_info"])


def test_files_parsed_without_warnings(host):
    log = host.check_output("journalctl -u systemd-networkd --no-pager -o cat")
    bad = [line for line in log.splitlines() if "50-hapy-" in line and ("Unknown" in line or "ignoring" in line)]
    assert bad == []


@pytest.mark.parametrize(("bridge", "vlan"), sorted(VLAN_BRIDGES.items()))
def test_vlan_port(host, vlan_supported, bridge, vlan):
    link = f"eno1.{vlan}"
    netdev = host.file(f"{NETDIR}/50-hapy-{link}.netdev")
    assert netdev.contains(f"^Name={link}$") and netdev.contains("^Kind=vlan$") and netdev.contains(f"^Id={vlan}$")
    assert host.file(f"{NETDIR}/50-hapy-{link}.network").contains(f"^Bridge={bridge}$")
    assert host.file(f"{NETDIR}/50-hapy-eno1.network").contains(f"^VLAN={link}$")
    if vlan_supported:
        assert host.file(f"/sys/class/net/{bridge}/brif/{link}").exists
    else:
        # No 8021q here: networkd read the files and tried to create the link, the kernel refused.
        log = host.check_output("journalctl -u systemd-networkd --no-pager -o cat")
        assert f"{link}: netdev could not be created" in log or "eno1: Could not create stacked netdev" in log
        assert not host.file(f"/sys/class/net/{link}").exists
        pytest.skip(f"kernel has no 8021q: {link} rendered and parsed, not created")
