"""site-host: a frontend and a node in two containers; the node trusted over SSH and registered in OpenNebula."""

import json

import pytest

CLUSTER = "hapy-9740002b"
NODE = "hapy-sh-node1"
# Every test reaches both containers itself (fixtures below): run each once, not once per inventory host.
testinfra_hosts = ["ansible://hapy-sh-frontend"]

HOST_STATES = {0: "INIT", 1: "MONITORING_MONITORED", 2: "MONITORED", 3: "ERROR", 4: "DISABLED", 8: "OFFLINE"}

# Runs on the frontend: reads the host pool through the frontend's own XML-RPC API with oneadmin's credentials
# (from /var/lib/one/.one/one_auth, as every OpenNebula CLI does).
HOSTPOOL = r"""
import json, xml.etree.ElementTree as ET, xmlrpc.client
auth = open('/var/lib/one/.one/one_auth').read().strip()
ok, body, *_ = xmlrpc.client.ServerProxy('http://127.0.0.1:2633/RPC2').one.hostpool.info(auth)
assert ok, body
print(json.dumps([{'name': h.findtext('NAME'), 'state': int(h.findtext('STATE')), 'cluster': h.findtext('CLUSTER'),
                   'im_mad': h.findtext('IM_MAD'), 'vm_mad': h.findtext('VM_MAD')} for h in ET.fromstring(body)]))
"""


@pytest.fixture(scope="module")
def frontend(host):
    return host.get_host("ansible://hapy-sh-frontend", ansible_inventory=host.backend.ansible_inventory)


@pytest.fixture(scope="module")
def node(host):
    return host.get_host(f"ansible://{NODE}", ansible_inventory=host.backend.ansible_inventory)


def test_frontend_api_running(frontend):
    assert frontend.service("opennebula").is_running
    assert frontend.socket("tcp://0.0.0.0:2633").is_listening


def test_node_libvirt(node):
    assert node.service("libvirtd").is_running
    out = node.run("runuser -u oneadmin -- virsh -c qemu:///system list --all")
    assert out.rc == 0, out.stderr


def test_oneadmin_ssh_frontend_to_node(frontend):
    """No password, no host-key prompt: BatchMode fails on either."""
    out = frontend.run(f"runuser -u oneadmin -- ssh -o BatchMode=yes oneadmin@{NODE} true")
    assert out.rc == 0, out.stderr


def test_node_bridges(node):
    for bridge in ("br-wan", "br-admin", "br-pedago", "br-dmz", "br-dmz-priv"):
        assert node.file(f"/sys/class/net/{bridge}/bridge").is_directory
        assert node.file(f"/etc/systemd/network/50-hapy-{bridge}.network").exists


def test_node_registered_monitored_in_cluster(frontend):
    hosts = {h["name"]: h for h in json.loads(frontend.check_output("python3 -c %s", HOSTPOOL))}
    assert NODE in hosts, hosts
    h = hosts[NODE]
    assert HOST_STATES.get(h["state"]) == "MONITORED", h
    assert h["cluster"] == CLUSTER
    assert (h["im_mad"], h["vm_mad"]) == ("kvm", "kvm")
