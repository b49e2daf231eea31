"""Objects: defaults of a fresh oned, XML parsed by pyone, ids, names, updates."""

from __future__ import annotations

from pathlib import Path

import pyone
import pytest

from tests.oned import OnedServer


def test_fresh_oned_defaults(one: pyone.OneServer) -> None:
    assert [u.NAME for u in one.userpool.info().USER] == ["oneadmin", "serveradmin"]
    assert [(g.ID, g.NAME) for g in one.grouppool.info().GROUP] == [(0, "oneadmin"), (1, "users")]
    assert one.group.info(0).USERS.ID == [0, 1]
    assert [(c.ID, c.NAME) for c in one.clusterpool.info().CLUSTER] == [(0, "default")]
    dss = one.datastorepool.info(-2, -1, -1).DATASTORE
    assert [(d.ID, d.NAME, d.TYPE) for d in dss] == [(0, "system", 1), (1, "default", 0),
                                                    (2, "files", 2)]
    assert one.cluster.info(0).DATASTORES.ID == [0, 1, 2]
    vdc = one.vdc.info(0)
    assert vdc.NAME == "default" and vdc.GROUPS.ID == [1]
    assert vdc.CLUSTERS.CLUSTER[0].CLUSTER_ID == -10
    assert one.secgroup.info(0).NAME == "default"
    acl = one.acl.info().ACL
    assert acl[0].STRING.startswith("@1 VM+NET+IMAGE+TEMPLATE")
    assert one.zone.raftstatus().SERVER_ID == -1


def test_ids_increase_and_are_never_reused(one: pyone.OneServer) -> None:
    first = one.vn.allocate('NAME="a"\nVN_MAD="bridge"', -1)
    second = one.vn.allocate('NAME="b"\nVN_MAD="bridge"', -1)
    assert (first, second) == (0, 1)
    one.vn.delete(second)
    assert one.vn.allocate('NAME="c"\nVN_MAD="bridge"', -1) == 2
    assert one.cluster.allocate("c1") == 100
    assert one.group.allocate("g1") == 100
    assert one.user.allocate("u1", "pw", "core", []) == 2
    assert one.datastore.allocate('NAME="img"\nDS_MAD="fs"\nTM_MAD="ssh"', -1) == 100


def test_vnet_document(one: pyone.OneServer) -> None:
    vid = one.vn.allocate(
        'NAME = "lan"\nVN_MAD = "802.1Q"\nPHYDEV = "eth0"\nVLAN_ID = 42\n'
        'DNS = "10.0.0.254"\n'
        'AR = [ TYPE = "IP4", IP = "10.0.0.10", SIZE = "5" ]\n'
        'AR = [ TYPE = "ETHER", SIZE = "3", MAC = "02:00:aa:bb:cc:00" ]', -1)
    vn = one.vn.info(vid)
    assert (vn.NAME, vn.VN_MAD, vn.PHYDEV, vn.VLAN_ID, vn.BRIDGE) == (
        "lan", "802.1Q", "eth0", "42", "onebr.42")
    assert vn.BRIDGE_TYPE == "linux"
    assert vn.CLUSTERS.ID == [0]
    assert vn.UNAME == "oneadmin" and vn.PERMISSIONS.OWNER_U == 1 and vn.PERMISSIONS.OTHER_U == 0
    ar0, ar1 = vn.AR_POOL.AR
    assert (ar0.AR_ID, ar0.TYPE, ar0.IP, ar0.SIZE, ar0.MAC) == ("0", "IP4", "10.0.0.10", 5,
                                                                 "02:00:0a:00:00:0a")
    assert ar0.IP_END == "10.0.0.14" and ar0.USED_LEASES == "0"
    assert (ar1.AR_ID, ar1.TYPE, ar1.MAC, ar1.MAC_END) == ("1", "ETHER", "02:00:aa:bb:cc:00",
                                                           "02:00:aa:bb:cc:02")
    assert "AR" not in vn.TEMPLATE and "NAME" not in vn.TEMPLATE
    assert vn.TEMPLATE["DNS"] == "10.0.0.254"
    assert vn.TEMPLATE["SECURITY_GROUPS"] == "0"
    assert one.cluster.info(0).VNETS.ID == [vid]


def test_vnet_validation_errors(one: pyone.OneServer) -> None:
    with pytest.raises(pyone.OneInternalException,
                       match=r"^\[one.vn.allocate\] No VN_MAD in template for Virtual Network\.$"):
        one.vn.allocate('NAME="x"', -1)
    with pytest.raises(pyone.OneInternalException, match="PHYDEV is mandatory for driver 802.1Q"):
        one.vn.allocate('NAME="x"\nVN_MAD="802.1Q"\nVLAN_ID=3', -1)
    with pytest.raises(pyone.OneInternalException, match="Unknown or missing address range TYPE"):
        one.vn.allocate('NAME="x"\nVN_MAD="bridge"\nAR=[SIZE=2]', -1)
    vid = one.vn.allocate('NAME="x"\nVN_MAD="bridge"', -1)
    assert one.vn.info(vid).BRIDGE == f"onebr{vid}"
    with pytest.raises(pyone.OneInternalException,
                       match=rf"^\[one.vn.allocate\] NAME is already taken by NET {vid}\.$"):
        one.vn.allocate('NAME="  x "\nVN_MAD="bridge"', -1)
    with pytest.raises(pyone.OneInternalException, match="Invalid NAME, char '/' is not allowed"):
        one.vn.allocate('NAME="a/b"\nVN_MAD="bridge"', -1)


def test_address_ranges(one: pyone.OneServer) -> None:
    vid = one.vn.allocate('NAME="n"\nVN_MAD="bridge"\nAR=[TYPE="IP4",IP="192.168.0.1",SIZE="2"]', -1)
    assert one.vn.add_ar(vid, 'AR=[TYPE="IP4",IP="192.168.1.1",SIZE="10"]') == vid
    assert [a.AR_ID for a in one.vn.info(vid).AR_POOL.AR] == ["0", "1"]
    one.vn.rm_ar(vid, 1)
    one.vn.add_ar(vid, 'AR=[TYPE="IP4_6",IP="192.168.2.1",SIZE="4",GLOBAL_PREFIX="2001:db8::"]')
    ars = one.vn.info(vid).AR_POOL.AR
    assert [a.AR_ID for a in ars] == ["0", "2"]
    one.vn.update_ar(vid, 'AR=[AR_ID="2",SIZE="8",GATEWAY="192.168.2.254"]')
    ar = one.vn.info(vid).AR_POOL.AR[1]
    assert (ar.SIZE, ar.IP, ar.TYPE, ar.IP_END) == (8, "192.168.2.1", "IP4_6", "192.168.2.8")
    with pytest.raises(pyone.OneActionException, match="Address Range does not exist"):
        one.vn.rm_ar(vid, 9)
    with pytest.raises(pyone.OneActionException, match="Address Range with ID 7 was not found"):
        one.vn.update_ar(vid, 'AR=[AR_ID="7",SIZE="1"]')


def test_update_replace_and_merge(one: pyone.OneServer) -> None:
    vid = one.vn.allocate('NAME="n"\nVN_MAD="bridge"\nA="1"\nB="2"\nV=[X="1",Y="2"]', -1)
    one.vn.update(vid, 'B="3"\nV=[X="9"]\nC="4"', 1)
    tmpl = one.vn.info(vid).TEMPLATE
    assert (tmpl["A"], tmpl["B"], tmpl["C"]) == ("1", "3", "4")
    assert tmpl["V"] == {"X": "9"}
    one.vn.update(vid, 'ONLY="yes"', 0)
    tmpl = one.vn.info(vid).TEMPLATE
    assert "A" not in tmpl and tmpl["ONLY"] == "yes"
    assert tmpl["VN_MAD"] == "bridge" and tmpl["BRIDGE"] == f"onebr{vid}"


def test_template_syntax(one: pyone.OneServer) -> None:
    tid = one.template.allocate(
        '# a comment\nname = "t1"\ncpu = 1\nMEMORY = 512\n'
        'DESCRIPTION = "say \\"hi\\" \\\\ bye"\n'
        'DISK = [ IMAGE_ID = "0" ]\nDISK = [\n  SIZE = "10",\n  TYPE = "fs" ]\n'
        'CONTEXT = [ NETWORK = "YES", SSH_PUBLIC_KEY = "$USER[SSH_PUBLIC_KEY]" ]\nEMPTY =\n')
    tmpl = one.template.info(tid, False, False).TEMPLATE
    assert tmpl["CPU"] == "1" and tmpl["MEMORY"] == "512"
    # oned only unescapes \" (template_syntax.y): other backslashes are kept
    assert tmpl["DESCRIPTION"] == 'say "hi" \\\\ bye'
    assert isinstance(tmpl["DISK"], list) and tmpl["DISK"][1] == {"SIZE": "10", "TYPE": "fs"}
    assert tmpl["CONTEXT"]["SSH_PUBLIC_KEY"] == "$USER[SSH_PUBLIC_KEY]"
    assert "EMPTY" in tmpl  # empty value (pyone gives None for an empty CDATA)
    xid = one.template.allocate({"TEMPLATE": {"NAME": "t2", "CPU": "2", "NIC": {"NETWORK": "x"}}})
    assert one.template.info(xid, False, False).TEMPLATE["NIC"] == {"NETWORK": "x"}


@pytest.mark.parametrize(("text", "message"), [
    ('= "x"', "unexpected EQUAL, expecting $end or VARIABLE at line 1, columns 1:3"),
    ('NAME = "x", CPU = 1', "unexpected COMMA, expecting $end or VARIABLE"),
    ('NAME = a b', "unexpected $end, expecting EQUAL or EQUAL_EMPTY"),
    ('NAME = "x"\nV = [ A = 1\n B = 2 ]', "unexpected VARIABLE, expecting COMMA or CBRACKET at line 3"),
])
def test_template_syntax_errors(one: pyone.OneServer, text: str, message: str) -> None:
    with pytest.raises(pyone.OneInternalException) as exc:
        one.template.allocate(text)
    assert str(exc.value).startswith("[one.template.allocate] Parse error: syntax error, ")
    assert message in str(exc.value)


def test_rename_chmod_chown(one: pyone.OneServer) -> None:
    a = one.template.allocate('NAME="a"')
    b = one.template.allocate('NAME="b"')
    one.template.rename(a, "a2")
    assert one.template.info(a, False, False).NAME == "a2"
    with pytest.raises(pyone.OneActionException, match="collides with virtual machine template"):
        one.template.rename(a, "b")
    one.template.chmod(b, -1, -1, -1, 1, 0, 0, 1, 0, 0)
    perms = one.template.info(b, False, False).PERMISSIONS
    assert (perms.OWNER_U, perms.OWNER_M, perms.GROUP_U, perms.OTHER_U) == (1, 1, 1, 1)
    uid = one.user.allocate("bob", "pw", "", [1])
    one.template.chown(b, uid, 1)
    t = one.template.info(b, False, False)
    assert (t.UID, t.UNAME, t.GID, t.GNAME) == (uid, "bob", 1, "users")
    with pytest.raises(pyone.OneNoExistsException, match=r"Error getting user \[99\]"):
        one.template.chown(b, 99, -1)


def test_pool_filters_and_ranges(one: pyone.OneServer, oned) -> None:
    for name in "abcd":
        one.template.allocate(f'NAME="{name}"')
    uid = one.user.allocate("alice", "pw", "core", [])
    alice = pyone.OneServer(oned.url, session="alice:pw")
    mine = alice.template.allocate('NAME="hers"')
    assert [t.ID for t in one.templatepool.info(-2, -1, -1).VMTEMPLATE] == [0, 1, 2, 3, 4]
    assert [t.ID for t in one.templatepool.info(-2, 1, 2).VMTEMPLATE] == [1, 2]
    assert [t.ID for t in one.templatepool.info(-2, 2, -1).VMTEMPLATE] == [2, 3, 4]
    assert [t.ID for t in one.templatepool.info(uid, -1, -1).VMTEMPLATE] == [mine]
    assert [t.ID for t in alice.templatepool.info(-3, -1, -1).VMTEMPLATE] == [mine]
    assert [t.ID for t in one.templatepool.info(-3, -1, -1).VMTEMPLATE] == [0, 1, 2, 3]
    assert alice.user.info(-1).GNAME == "users"


def test_cluster_membership(one: pyone.OneServer, settled) -> None:
    cid = one.cluster.allocate("edge")
    hid = one.host.allocate("node1", "dummy", "dummy", -1)
    assert one.host.info(hid).CLUSTER_ID == 0
    one.cluster.addhost(cid, hid)
    host = one.host.info(hid)
    assert (host.CLUSTER_ID, host.CLUSTER) == (cid, "edge")
    assert one.cluster.info(cid).HOSTS.ID == [hid]
    assert one.cluster.info(0).HOSTS.ID == []
    one.cluster.adddatastore(cid, 1)
    assert one.datastore.info(1).CLUSTERS.ID == [0, cid]
    vid = one.vn.allocate('NAME="n"\nVN_MAD="bridge"', cid)
    assert one.cluster.info(cid).VNETS.ID == [vid]
    with pytest.raises(pyone.OneActionException, match=f"Cluster {cid} is not empty"):
        one.cluster.delete(cid)
    one.cluster.delhost(cid, hid)
    assert one.host.info(hid).CLUSTER_ID == 0
    one.cluster.deldatastore(cid, 1)
    one.cluster.delvnet(cid, vid)
    one.cluster.delete(cid)
    with pytest.raises(pyone.OneNoExistsException):
        one.cluster.info(cid)


def test_host_monitoring_and_status(one: pyone.OneServer, settled) -> None:
    hid = one.host.allocate("kvm1", "dummy", "dummy", -1)
    assert one.host.info(hid).STATE == 0
    host = settled(lambda: one.host.info(hid), lambda h: h.STATE == 2)
    assert host.HOST_SHARE.TOTAL_CPU > 0 and host.TEMPLATE["HYPERVISOR"] == "dummy"
    assert host.MONITORING.CAPACITY.FREE_CPU == host.HOST_SHARE.TOTAL_CPU
    one.host.status(hid, 1)
    assert one.host.info(hid).STATE == 4
    one.host.status(hid, 2)
    assert one.host.info(hid).STATE == 8
    one.host.status(hid, 0)
    settled(lambda: one.host.info(hid).STATE, lambda s: s == 2)
    with pytest.raises(pyone.OneInternalException, match="NAME is already taken by HOST"):
        one.host.allocate("kvm1", "dummy", "dummy", -1)


def test_datastores(one: pyone.OneServer) -> None:
    with pytest.raises(pyone.OneInternalException, match=r"No DS_MAD in template\."):
        one.datastore.allocate('NAME="x"\nTM_MAD="ssh"', -1)
    did = one.datastore.allocate('NAME="bk"\nTYPE="BACKUP_DS"\nDS_MAD="rsync"', -1)
    ds = one.datastore.info(did)
    assert (ds.TYPE, ds.DS_MAD, ds.TM_MAD, ds.BASE_PATH) == (3, "rsync", "-",
                                                           f"/var/lib/one//datastores/{did}")
    assert ds.TOTAL_MB >= ds.FREE_MB > 0
    sid = one.datastore.allocate('NAME="sys"\nTYPE="SYSTEM_DS"\nTM_MAD="shared"', 0)
    assert one.datastore.info(sid).DS_MAD == "-"


@pytest.fixture
def safe_dir():
    """A directory under /var/tmp, the default datastores' SAFE_DIRS (their RESTRICTED_DIRS is "/")."""
    import shutil
    import tempfile
    path = tempfile.mkdtemp(prefix="hapy-", dir="/var/tmp")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


def test_images(one: pyone.OneServer, settled, safe_dir) -> None:
    disk = safe_dir / "disk.img"
    disk.write_bytes(b"\0" * (3 * 1024 * 1024))
    iid = one.image.allocate(f'NAME="deb"\nPATH="{disk}"\nTYPE="OS"', 1)
    img = one.image.info(iid)
    assert (img.STATE, img.SIZE, img.DATASTORE, img.PATH) == (4, 3, "default", str(disk))
    img = settled(lambda: one.image.info(iid), lambda i: i.STATE == 1)
    assert img.SOURCE.startswith("/var/lib/one//datastores/1/")
    assert one.datastore.info(1).IMAGES.ID == [iid]
    blank = one.image.allocate('NAME="data"\nTYPE="DATABLOCK"\nSIZE="100"', 1, False)
    settled(lambda: one.image.info(blank).STATE, lambda s: s == 1)
    one.image.persistent(blank, True)
    assert one.image.info(blank).PERSISTENT == 1
    one.image.enable(blank, False)
    assert one.image.info(blank).STATE == 3
    with pytest.raises(pyone.OneException, match="New images can only be allocated"):
        one.image.allocate('NAME="x"\nSIZE="1"\nTYPE="DATABLOCK"', 0)
    taken = r"^\[one.image.allocate\] Error allocating a new image. NAME is already taken by IMAGE \d+\.$"
    with pytest.raises(pyone.OneException, match=taken):  # ALLOCATE (0x4000): no pyone class
        one.image.allocate('NAME="data"\nTYPE="DATABLOCK"\nSIZE="1"', 1)


def test_image_path_must_exist_and_be_allowed(one: pyone.OneServer, settled, tmp_path, safe_dir) -> None:
    """Real oned stats the file at allocate (SIZE), and the fs driver's cp refuses paths under RESTRICTED_DIRS
    ("/" by default) that no SAFE_DIRS entry (/var/tmp) allows: the image ends in ERROR."""
    missing = safe_dir / "missing.qcow2"
    with pytest.raises(pyone.OneInternalException,
                       match=rf"Cannot parse image SIZE: cannot access '{missing}' \(No such file or directory\)"):
        one.image.allocate(f'NAME="x"\nPATH="{missing}"\nTYPE="OS"', 1)
    assert not one.imagepool.info(-2, -1, -1).IMAGE
    disk = tmp_path / "disk.qcow2"
    disk.write_bytes(b"\0" * 1024)
    iid = one.image.allocate(f'NAME="restricted"\nPATH="{disk}"\nTYPE="OS"', 1)
    img = settled(lambda: one.image.info(iid), lambda i: i.STATE != 4)
    assert (img.STATE, img.SOURCE) == (5, "")
    assert img.TEMPLATE["ERROR"].endswith(f": Error copying image in the datastore: Not allowed to copy image "
                                          f"from {disk}, check RESTRICTED_DIRS in your datastore")
    one.datastore.update(1, f'SAFE_DIRS="/var/tmp {tmp_path}"', 1)
    allowed = one.image.allocate(f'NAME="allowed"\nPATH="{disk}"\nTYPE="OS"', 1)
    assert settled(lambda: one.image.info(allowed).STATE, lambda s: s != 4) == 1


def test_users_groups_vdcs_acls(one: pyone.OneServer, oned) -> None:
    gid = one.group.allocate("school")
    uid = one.user.allocate("teacher", "pw", "core", [gid])
    user = one.user.info(uid)
    assert (user.GID, user.GROUPS.ID, user.AUTH_DRIVER) == (gid, [gid], "core")
    one.user.addgroup(uid, 1)
    assert one.user.info(uid).GROUPS.ID == [1, gid]
    one.group.addadmin(gid, uid)
    assert one.group.info(gid).ADMINS.ID == [uid]
    one.user.passwd(uid, "new")
    assert pyone.OneServer(oned.url, session="teacher:new").user.info(-1).ID == uid
    one.user.update(uid, 'SSH_PUBLIC_KEY="ssh-ed25519 AAA"', 1)
    assert one.user.info(uid).TEMPLATE["SSH_PUBLIC_KEY"] == "ssh-ed25519 AAA"
    with pytest.raises(pyone.OneInternalException, match="NAME is already taken by USER"):
        one.user.allocate("teacher", "x", "core", [])
    vdc = one.vdc.allocate('NAME="site"')
    one.vdc.addgroup(vdc, gid)
    one.vdc.addcluster(vdc, 0, 0)
    one.vdc.adddatastore(vdc, 0, 1)
    info = one.vdc.info(vdc)
    assert info.GROUPS.ID == [gid] and info.CLUSTERS.CLUSTER[0].CLUSTER_ID == 0
    assert info.DATASTORES.DATASTORE[0].DATASTORE_ID == 1
    one.vdc.delcluster(vdc, 0, 0)
    assert one.vdc.info(vdc).CLUSTERS.CLUSTER == []
    rule = one.acl.addrule("0x200000064", "0x1000400000000", "0x1")
    acl = next(a for a in one.acl.info().ACL if a.ID == rule)
    assert (acl.USER, acl.RESOURCE, acl.RIGHTS, acl.STRING) == (
        "200000064", "1000400000000", "1", "@100 SECGROUP/* USE #0")
    one.acl.delrule(rule)
    assert rule not in [a.ID for a in one.acl.info().ACL]


def test_backupjobs(one: pyone.OneServer, oned, settled) -> None:
    vm1 = one.vm.allocate('NAME="a"\nCPU="1"\nMEMORY="64"', True)
    vm2 = one.vm.allocate('NAME="b"\nCPU="1"\nMEMORY="64"', True)
    bid = one.backupjob.allocate(
        f'NAME="nightly"\nBACKUP_VMS="{vm1},{vm2},77"\nDATASTORE_ID="100"\nKEEP_LAST="3"\n'
        'MODE="increment"\nPRIORITY="60"\nFS_FREEZE="bogus"\n'
        'SCHED_ACTION=[REPEAT="3",DAYS="1",TIME="1700000000",END_TYPE="0"]')
    job = one.backupjob.info(bid)
    assert (job.NAME, job.PRIORITY, job.OUTDATED_VMS.ID, job.UPDATED_VMS.ID) == ("nightly", 60, [], [])
    tmpl = job.TEMPLATE
    assert (tmpl["KEEP_LAST"], tmpl["MODE"], tmpl["INCREMENT_MODE"], tmpl["FS_FREEZE"]) == (
        "3", "INCREMENT", "CBT", "NONE")
    assert (tmpl["EXECUTION"], tmpl["BACKUP_VOLATILE"], "PRIORITY" in tmpl) == ("SEQUENTIAL", "NO", False)
    assert tmpl["SCHED_ACTION"]["REPEAT"] == "3" and tmpl["SCHED_ACTION"]["ACTION"] == "backup"
    assert job.SCHED_ACTIONS.ID == [0]
    assert "SCHED_ACTION" not in one.backupjobpool.info(-2, -1, -1).BACKUPJOB[0].TEMPLATE
    assert one.vm.info(vm1).BACKUPS.BACKUP_CONFIG.BACKUP_JOB_ID == str(bid)
    with pytest.raises(pyone.OneInternalException,
                       match=f"Unable to add VM {vm1} to Backup Job {bid + 1}. It's already in Backup Job {bid}"):
        one.backupjob.allocate(f'NAME="other"\nBACKUP_VMS="{vm1}"')
    one.backupjob.backup(bid)
    job = settled(lambda: one.backupjob.info(bid), lambda j: not j.OUTDATED_VMS.ID)
    assert (job.UPDATED_VMS.ID, job.ERROR_VMS.ID, job.LAST_BACKUP_TIME > 0) == ([vm1, vm2], [77], True)
    one.vm.action("terminate", vm2)
    assert one.backupjob.info(bid).TEMPLATE["BACKUP_VMS"] == f"{vm1},77"
    one.backupjob.update(bid, f'BACKUP_VMS="{vm1}"', 1)
    job = one.backupjob.info(bid)
    assert (job.UPDATED_VMS.ID, job.ERROR_VMS.ID) == ([vm1], [])
    one.backupjob.rename(bid, "weekly")
    assert [j.NAME for j in one.backupjobpool.info(-2, -1, -1).BACKUPJOB] == ["weekly"]
    one.backupjob.delete(bid)


def test_backupjob_scheduled_actions(one: pyone.OneServer) -> None:
    bid = one.backupjob.allocate('NAME="b"\nBACKUP_VMS="0"')
    assert one.backupjob.info(bid).SCHED_ACTIONS.ID == []
    sa = one.backupjob.schedadd(bid, 'SCHED_ACTION=[TIME="1700000000",REPEAT="0",DAYS="0,6",END_TYPE="0"]')
    one.backupjob.schedupdate(bid, sa, 'SCHED_ACTION=[DAYS="1"]')
    job = one.backupjob.info(bid)
    assert job.SCHED_ACTIONS.ID == [sa]
    assert (job.TEMPLATE["SCHED_ACTION"]["DAYS"], job.TEMPLATE["SCHED_ACTION"]["TIME"]) == ("1", "1700000000")
    with pytest.raises(pyone.OneInternalException, match=r"SCHED_ACTION with id = 9 doesn't exist"):
        one.backupjob.schedupdate(bid, 9, 'SCHED_ACTION=[DAYS="1"]')
    with pytest.raises(pyone.OneActionException, match="No SCHED_ACTION attribute in template"):
        one.backupjob.schedadd(bid, 'X="1"')
    one.backupjob.scheddelete(bid, sa)
    with pytest.raises(pyone.OneNoExistsException, match=rf"Error getting scheduled action \[{sa}\]"):
        one.backupjob.scheddelete(bid, sa)
    one.backupjob.priority(bid, 10)
    assert one.backupjob.info(bid).PRIORITY == 10


def test_failed_allocation_consumes_no_id(one: pyone.OneServer) -> None:
    with pytest.raises(pyone.OneInternalException, match="PHYDEV is mandatory"):
        one.vn.allocate('NAME="v"\nVN_MAD="802.1Q"\nVLAN_ID="7"', -1)
    assert one.vn.allocate('NAME="v"\nVN_MAD="802.1Q"\nVLAN_ID="7"\nPHYDEV="eth1"', -1) == 0


def test_delete_rules(one: pyone.OneServer, oned, settled) -> None:
    with pytest.raises(pyone.OneActionException,
                       match=r"^\[one.cluster.delete\] Cannot delete cluster. System Clusters"):
        one.cluster.delete(0)
    with pytest.raises(pyone.OneActionException, match=r"Cannot delete user. oneadmin cannot be deleted\."):
        one.user.delete(0)
    with pytest.raises(pyone.OneActionException, match=r"The default security group \(ID 0\) cannot be deleted"):
        one.secgroup.delete(0)
    gid = one.group.allocate("g")
    uid = one.user.allocate("u", "pw", "core", [gid])
    with pytest.raises(pyone.OneActionException, match=rf"Group {gid} is not empty\."):
        one.group.delete(gid)
    one.user.delete(uid)
    one.group.delete(gid)
    assert gid not in one.vdc.info(0).GROUPS.ID
    hid = one.host.allocate("h", "dummy", "dummy", -1)
    vnid = one.vn.allocate('NAME="n"\nVN_MAD="bridge"\nAR=[TYPE="ETHER",SIZE="4"]', -1)
    vid = one.vm.allocate(f'CPU="1"\nMEMORY="8"\nNIC=[NETWORK_ID="{vnid}"]', False)
    oned.settle()
    with pytest.raises(pyone.OneActionException, match="Can not remove a host with running VMs"):
        one.host.delete(hid)
    with pytest.raises(pyone.OneActionException, match="Can not remove a virtual network with leases in use"):
        one.vn.delete(vnid)
    one.vm.action("terminate-hard", vid)
    oned.settle()
    one.vn.delete(vnid)
    one.host.delete(hid)


def test_pool_pagination(one: pyone.OneServer) -> None:
    for i in range(6):
        one.secgroup.allocate(f'NAME="sg{i}"')
    ids = [s.ID for s in one.secgrouppool.info(-2, -1, -1).SECURITY_GROUP]
    assert ids == [0, 100, 101, 102, 103, 104, 105]
    assert [s.ID for s in one.secgrouppool.info(-2, 101, -3).SECURITY_GROUP] == [101, 102, 103]
    with pytest.raises(pyone.OneApiException):
        one.secgrouppool.info(-5, -1, -1)


def test_chgrp_and_secondary_groups(one: pyone.OneServer) -> None:
    gid = one.group.allocate("teachers")
    uid = one.user.allocate("t", "pw", "core", [])
    assert one.user.info(uid).GID == 1
    one.user.chgrp(uid, gid)
    user = one.user.info(uid)
    assert (user.GID, user.GNAME, user.GROUPS.ID) == (gid, "teachers", [gid])
    one.user.addgroup(uid, 1)
    with pytest.raises(pyone.OneActionException):
        one.user.delgroup(uid, gid)
    one.user.delgroup(uid, 1)
    assert one.group.info(gid).USERS.ID == [uid]


def test_backup_while_pending_is_refused() -> None:
    srv = OnedServer(port=0, step=60).start()  # driver steps never come by themselves
    try:
        one = pyone.OneServer(srv.url, session="oneadmin:opennebula")
        bid = one.backupjob.allocate('NAME="b"\nBACKUP_VMS="5"')
        one.backupjob.backup(bid)
        assert one.backupjob.info(bid).OUTDATED_VMS.ID == [5]
        with pytest.raises(pyone.OneActionException, match="pending backups in progress"):
            one.backupjob.backup(bid)
        srv.settle()
        assert one.backupjob.info(bid).ERROR_VMS.ID == [5]
        one.backupjob.retry(bid)
        assert one.backupjob.info(bid).OUTDATED_VMS.ID == [5]
        one.backupjob.cancel(bid)
        assert one.backupjob.info(bid).OUTDATED_VMS.ID == []
    finally:
        srv.stop()


def test_reservations(one: pyone.OneServer) -> None:
    pid = one.vn.allocate('NAME="pub"\nVN_MAD="bridge"\nAR=[TYPE="IP4",IP="10.9.0.1",SIZE="10"]', -1)
    with pytest.raises(pyone.OneActionException, match="NAME for reservation has to be set"):
        one.vn.reserve(pid, 'SIZE="2"')
    rid = one.vn.reserve(pid, 'SIZE="3"\nNAME="mine"')
    res = one.vn.info(rid)
    assert (res.PARENT_NETWORK_ID, res.BRIDGE, res.VN_MAD) == (str(pid), f"onebr{pid}", "bridge")
    ar = res.AR_POOL.AR[0]
    assert (ar.IP, ar.SIZE, ar.PARENT_NETWORK_AR_ID) == ("10.9.0.1", 3, "0")
    assert one.vn.reserve(pid, f'SIZE="2"\nNETWORK_ID="{rid}"\nAR_ID="0"\nIP="10.9.0.8"') == rid
    parent_ar = one.vn.info(pid).AR_POOL.AR[0]
    assert parent_ar.USED_LEASES == "5"
    assert {lease.VNET for lease in parent_ar.LEASES.LEASE} == {rid}
    with pytest.raises(pyone.OneActionException, match="Not enough free addresses"):
        one.vn.reserve(pid, 'SIZE="6"\nNAME="big"')
    one.vn.delete(rid)
    assert one.vn.info(pid).AR_POOL.AR[0].USED_LEASES == "0"
