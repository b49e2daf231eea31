"""Cluster mode, verified with the real tools on the real state of the three containers.

Each check that needs a kernel feature this machine lacks (iscsi_tcp, dlm, gfs2) is skipped at run time with the
reason; docs/test-matrix/gfs2_san.md lists them.
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import (
    CHAP_SECRET,
    CHAP_USER,
    CLUSTER,
    FS_NAME,
    NODES,
    SAN_LUN,
    TARGET_IQN,
    instance,
)

testinfra_hosts = ["podman://hapy-node1"]

MOUNT_UNIT = "/etc/systemd/system/var-lib-one-datastores.mount"


def initiator_name(node) -> str:
    text = node.file("/etc/iscsi/initiatorname.iscsi").content_string
    return re.search(r"^InitiatorName=(\S+)$", text, re.M).group(1)


# --- corosync ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NODES)
def test_corosync_quorate_with_both_nodes(name):
    node = instance(name)
    assert node.service("corosync").is_running
    assert node.service("corosync").is_enabled
    out = node.check_output("corosync-quorumtool -s")
    assert re.search(r"^Quorate:\s+Yes$", out, re.M), out
    assert re.search(r"^Nodes:\s+2$", out, re.M), out
    flags = re.search(r"^Flags:\s+(.*)$", out, re.M).group(1).split()
    assert "2Node" in flags and "Quorate" in flags, out
    for member in NODES:
        assert re.search(rf"^\s+\d+\s+1\s+{member}( \(local\))?$", out, re.M), out


@pytest.mark.parametrize("name", NODES)
def test_corosync_link_to_the_other_node(name):
    node = instance(name)
    out = node.check_output("corosync-cfgtool -s")
    assert re.search(r"transport knet", out), out
    assert re.search(r"^LINK ID 0", out, re.M), out
    other_id = 2 if name == "hapy-node1" else 1
    assert re.search(rf"nodeid:\s+{other_id}:\s+connected", out), out


def test_corosync_conf_and_shared_authkey():
    sums = set()
    for name in NODES:
        node = instance(name)
        conf = node.run("corosync-cmapctl -g totem.cluster_name").stdout
        assert conf.strip().endswith(f"= {CLUSTER}")
        assert node.check_output("corosync-cmapctl -g quorum.two_node").strip().endswith("= 1")
        assert node.check_output("corosync-cmapctl -g totem.crypto_cipher").strip().endswith("= aes256")
        key = node.file("/etc/corosync/authkey")
        assert key.mode == 0o400 and key.user == "root"
        assert key.size >= 128
        sums.add(key.sha256sum)
    assert len(sums) == 1, "the nodes do not share one authkey"


def test_three_host_rendering_uses_plain_votequorum(host):
    conf = host.file("/var/lib/hapy-test/corosync-3hosts.conf").content_string
    assert "two_node" not in conf
    assert "provider: corosync_votequorum" in conf
    assert len(re.findall(r"^\s+node \{", conf, re.M)) == 3
    assert host.run("corosync -t -c /var/lib/hapy-test/corosync-3hosts.conf").rc == 0


# --- dlm, lvmlockd ------------------------------------------------------------------------------------------------


def test_dlm_configured(host):
    conf = host.file("/etc/dlm/dlm.conf")
    assert conf.mode == 0o600
    assert re.search(r"^enable_fencing=0$", conf.content_string, re.M)  # the scenario is a lab without fencing


def test_dlm_conf_with_ipmi_fencing(host):
    """The role's dlm.conf template for a site with one IPMI BMC per node (rendered by converge, not run)."""
    conf = host.file("/var/lib/hapy-test/dlm-ipmi.conf").content_string
    assert re.search(r"^enable_fencing=1$", conf, re.M)
    assert re.search(
        r"^device  ipmi1 /usr/sbin/fence_ipmilan ip=192\.0\.2\.11 username=admin password=bmc-secret-1 lanplus=1"
        r" method=onoff$",
        conf,
        re.M,
    ), conf
    assert re.search(r"^connect ipmi1 node=1$", conf, re.M), conf
    assert re.search(r"^device  ipmi2 .* ip=192\.0\.2\.12 .* lanplus=0 ", conf, re.M), conf
    assert re.search(r"^connect ipmi2 node=2$", conf, re.M), conf


def test_dlm_runs(host, kernel):
    if not kernel["dlm"]:
        pytest.skip("kernel has no dlm module/configfs: dlm_controld cannot start (ExecStartPre modprobe dlm fails)")
    assert host.service("dlm").is_running
    assert host.run("dlm_tool status").rc == 0


@pytest.mark.parametrize("name", NODES)
def test_lvm_uses_lvmlockd(name):
    node = instance(name)
    assert node.check_output("lvmconfig global/use_lvmlockd").strip() == "use_lvmlockd=1"
    assert node.service("lvmlockd").is_running


# --- iSCSI --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NODES)
def test_initiator_name_and_chap_settings(name):
    node = instance(name)
    assert initiator_name(node) == f"iqn.2026-11.fr.ac-reunion:{name}"
    conf = node.file("/etc/iscsi/iscsid.conf")
    assert conf.mode == 0o600
    text = conf.content_string
    assert re.search(r"^node\.session\.auth\.authmethod = CHAP$", text, re.M)
    assert re.search(rf"^node\.session\.auth\.username = {CHAP_USER}$", text, re.M)
    assert re.search(rf"^node\.session\.auth\.password = {CHAP_SECRET}$", text, re.M)
    assert re.search(r"^node\.startup = automatic$", text, re.M)


@pytest.mark.parametrize("name", NODES)
def test_userspace_initiator_reads_the_lun_with_chap(name, kernel):
    """libiscsi's userspace initiator: discovery, CHAP login with this node's initiator name, LUN size."""
    node = instance(name)
    iqn = initiator_name(node)
    portal = kernel["portal"]
    url = f"iscsi://{CHAP_USER}%{CHAP_SECRET}@{portal}/{TARGET_IQN}/1"
    listing = node.check_output(f"iscsi-ls -i {iqn} -s iscsi://{CHAP_USER}%{CHAP_SECRET}@{portal}/")
    assert f"Target:{TARGET_IQN}" in listing
    assert re.search(r"Lun:1\s+Type:DIRECT_ACCESS", listing), listing
    capacity = node.check_output(f"iscsi-readcapacity16 -i {iqn} {url}")
    size = int(re.search(r"Total size:(\d+)", capacity).group(1))
    assert size == instance("hapy-frontend").file(SAN_LUN).size == 512 * 1024 * 1024
    inquiry = node.check_output(f"iscsi-inq -i {iqn} {url}")
    assert "Peripheral Device Type:DIRECT_ACCESS" in inquiry


def test_target_refuses_wrong_chap_and_unknown_initiator(host, kernel):
    iqn = initiator_name(host)
    portal = kernel["portal"]
    wrong_secret = host.run(f"iscsi-inq -i {iqn} iscsi://{CHAP_USER}%not-the-secret@{portal}/{TARGET_IQN}/1")
    assert wrong_secret.rc != 0
    # The frontend is not in the target's ACL (neither its address nor this initiator name): refused even with CHAP.
    stranger = instance("hapy-frontend").run(
        f"iscsi-inq -i iqn.2026-11.fr.ac-reunion:stranger iscsi://{CHAP_USER}%{CHAP_SECRET}@{portal}/{TARGET_IQN}/1"
    )
    assert stranger.rc != 0
    # ... while the same request with a node's initiator name is admitted (the ACL, not the network, decides).
    admitted = instance("hapy-frontend").run(
        f"iscsi-inq -i {iqn} iscsi://{CHAP_USER}%{CHAP_SECRET}@{portal}/{TARGET_IQN}/1"
    )
    assert admitted.rc == 0, admitted.stderr


def test_kernel_iscsi_discovery(host, kernel):
    if not kernel["iscsi_tcp"]:
        pytest.skip("kernel has no iscsi_tcp module: iscsiadm discovery/login and iscsid (NETLINK_ISCSI) cannot run")
    portal = kernel["portal"]
    out = host.check_output(f"iscsiadm -m discovery -t sendtargets -p {portal}")
    assert TARGET_IQN in out
    assert TARGET_IQN in host.check_output("iscsiadm -m session")


# --- multipath ----------------------------------------------------------------------------------------------------


def test_multipath_config_parsed_by_multipath(host):
    dump = host.check_output("multipath -t")
    assert re.search(r'wwid "36001405a1b2c3d4e5f60718293a4b5c6"\s*\n\s*alias "?hapy_san"?', dump), dump
    assert re.search(r'blacklist_exceptions \{\s*\n\s*wwid "36001405a1b2c3d4e5f60718293a4b5c6"', dump), dump


# --- GFS2 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NODES)
def test_gfs2_superblock_seen_by_every_node(name):
    node = instance(name)
    out = node.check_output(f"tunegfs2 -l {SAN_LUN}")
    assert re.search(rf'^Lock table:\s+"?{CLUSTER}:{FS_NAME}"?$', out, re.M), out
    assert re.search(r'^Lock protocol:\s+"?lock_dlm"?$', out, re.M), out
    jindex = node.check_output(f"gfs2_edit -p jindex {SAN_LUN}")
    journals = re.findall(r"File\s+journal\d+$", jindex, re.M)
    assert len(journals) == 3, jindex  # 2 nodes + 1 spare


def test_gfs2_fsck_clean(host):
    result = host.run(f"fsck.gfs2 -n {SAN_LUN}")
    assert result.rc == 0, result.stdout + result.stderr


def test_gfs2_never_reformatted():
    """The UUID recorded at the first converge is the one on the LUN after the idempotence run."""
    uuids = set()
    for name in NODES:
        node = instance(name)
        first = node.file("/var/lib/hapy-test/gfs2-uuid.first").content_string.strip()
        now = re.search(r"^File system UUID:\s+(\S+)$", node.check_output(f"tunegfs2 -l {SAN_LUN}"), re.M).group(1)
        assert first == now
        uuids.add(now)
    assert len(uuids) == 1


# --- mount unit ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NODES)
def test_mount_unit_rendered_and_verified(name):
    node = instance(name)
    text = node.file(MOUNT_UNIT).content_string
    assert re.search(r"^Requires=dlm\.service lvmlockd\.service$", text, re.M)
    assert re.search(r"^After=dlm\.service lvmlockd\.service$", text, re.M)
    assert re.search(r"^Where=/var/lib/one/datastores$", text, re.M)
    assert re.search(r"^Type=gfs2$", text, re.M)
    assert re.search(r"^Options=.*\b_netdev\b", text, re.M)
    assert re.search(rf"^What={re.escape(SAN_LUN)}$", text, re.M)
    result = node.run(f"systemd-analyze verify {MOUNT_UNIT}")
    assert result.rc == 0, result.stderr
    assert node.file("/var/lib/one/datastores").is_directory


def test_mounted(host, kernel):
    if not kernel["gfs2"]:
        pytest.skip("kernel has no gfs2 filesystem: the mount unit cannot be started")
    assert host.mount_point("/var/lib/one/datastores").filesystem == "gfs2"


# --- refusals -----------------------------------------------------------------------------------------------------


def test_refuses_to_format_a_device_holding_ext4(host):
    record = json.loads(host.file("/var/lib/hapy-test/refusals.json").content_string)
    device = record["device"]
    assert "REFUSING to format" in record["format_msg"]
    assert device in record["format_msg"] and "ext4" in record["format_msg"]
    assert record["sha256_before"] == record["sha256_after"]
    assert host.file(device).sha256sum == record["sha256_before"]
    assert host.check_output(f"blkid -p -o value -s TYPE {device}").strip() == "ext4"
    assert "VERSION_ID" in host.check_output(f"debugfs -R 'cat canary.txt' {device}")


def test_refuses_a_cluster_without_fencing(host):
    record = json.loads(host.file("/var/lib/hapy-test/refusals.json").content_string)
    assert "NO FENCING DECLARED" in record["fencing_msg"]
