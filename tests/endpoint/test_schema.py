"""Element names and order of every document, checked against pyone's generated
bindings (generateDS classes built from OpenNebula's share/doc/xsd/*.xsd)."""

from __future__ import annotations

import inspect
import re
import xml.etree.ElementTree as ET
import xmlrpc.client

import pyone
import pytest
from pyone.bindings import supbind

from tests.oned import OnedServer

S = "oneadmin:opennebula"


def _schema(cls_name: str) -> tuple[list, dict]:
    """Child element names (in XSD order) of a binding class and their binding classes."""
    cls = getattr(supbind, cls_name)
    names = [p for p in inspect.signature(cls.__init__).parameters
             if p not in ("self", "gds_collector_", "kwargs_")]
    src = inspect.getsource(cls._buildChildren)
    types = {}
    for name in names:
        block = re.search(rf"nodeName_ == '{name}'.*?(?=elif nodeName_|\Z)", src, re.DOTALL)
        found = re.search(r"obj_ = (\w+)\.factory", block.group(0)) if block else None
        types[name] = found.group(1) if found else None
    return names, types


def _check(elem: ET.Element, cls_name: str, path: str, problems: list) -> None:
    names, types = _schema(cls_name)
    last = -1
    for child in elem:
        where = f"{path}/{child.tag}"
        if child.tag not in names:
            problems.append(f"{where}: unknown in {cls_name}")
            continue
        if names.index(child.tag) < last:
            problems.append(f"{where}: out of XSD order")
        last = names.index(child.tag)
        if types[child.tag] and child.tag not in ("TEMPLATE", "USER_TEMPLATE"):
            _check(child, types[child.tag], where, problems)


def _problems(doc: str) -> list:
    root = ET.fromstring(doc)
    problems: list = []
    _check(root, root.tag, root.tag, problems)
    return problems


@pytest.fixture
def populated(one: pyone.OneServer, oned: OnedServer, settled) -> dict:
    ids = {"vn": one.vn.allocate('NAME="n"\nVN_MAD="bridge"\nAR=[TYPE="IP4_6",IP="10.0.0.1",'
                                 'SIZE="4",GLOBAL_PREFIX="2001:db8::"]', -1),
           "host": one.host.allocate("h", "dummy", "dummy", -1)}
    settled(lambda: one.host.info(ids["host"]).STATE, lambda s: s == 2)
    ids["template"] = one.template.allocate('NAME="t"\nCPU=1\nMEMORY=1\nNIC=[NETWORK_ID=0]')
    ids["vm"] = one.template.instantiate(ids["template"], "", False, "", False)
    ids["image"] = one.image.allocate('NAME="i"\nTYPE="DATABLOCK"\nSIZE="5"', 1)
    ids["backupjob"] = one.backupjob.allocate(
        'NAME="b"\nBACKUP_VMS="0"\nSCHED_ACTION=[REPEAT="3",DAYS="1",TIME="1",END_TYPE="0"]')
    settled(lambda: one.vm.info(ids["vm"]).LCM_STATE, lambda s: s == 3)
    return ids


def test_documents_follow_the_xsd(oned: OnedServer, populated: dict) -> None:
    rpc = xmlrpc.client.ServerProxy(oned.url).one
    docs = {
        "vn.info": rpc.vn.info(S, populated["vn"]), "vnpool": rpc.vnpool.info(S, -2, -1, -1),
        "host.info": rpc.host.info(S, populated["host"]), "hostpool": rpc.hostpool.info(S),
        "vm.info": rpc.vm.info(S, populated["vm"]), "vmpool": rpc.vmpool.info(S, -2, -1, -1, -1),
        "image.info": rpc.image.info(S, populated["image"]),
        "imagepool": rpc.imagepool.info(S, -2, -1, -1),
        "datastore.info": rpc.datastore.info(S, 1),
        "datastorepool": rpc.datastorepool.info(S, -2, -1, -1),
        "template.info": rpc.template.info(S, populated["template"], False, False),
        "templatepool": rpc.templatepool.info(S, -2, -1, -1),
        "cluster.info": rpc.cluster.info(S, 0), "clusterpool": rpc.clusterpool.info(S),
        "user.info": rpc.user.info(S, 0), "userpool": rpc.userpool.info(S),
        "group.info": rpc.group.info(S, 0), "grouppool": rpc.grouppool.info(S),
        "vdc.info": rpc.vdc.info(S, 0), "vdcpool": rpc.vdcpool.info(S),
        "acl.info": rpc.acl.info(S), "secgroup.info": rpc.secgroup.info(S, 0),
        "secgrouppool": rpc.secgrouppool.info(S, -2, -1, -1),
        "backupjob.info": rpc.backupjob.info(S, populated["backupjob"]),
        "backupjobpool": rpc.backupjobpool.info(S, -2, -1, -1),
        "zone.info": rpc.zone.info(S, 0), "zonepool": rpc.zonepool.info(S),
        "raftstatus": rpc.zone.raftstatus(S), "system.config": rpc.system.config(S),
    }
    bad = {name: _problems(answer[1]) for name, answer in docs.items()}
    assert {name: p for name, p in bad.items() if p} == {}
    for answer in docs.values():
        assert answer[0] is True and answer[2] == 0


def test_vnet_pool_lists_raw_address_ranges(one: pyone.OneServer, populated: dict) -> None:
    ar = one.vnpool.info(-2, -1, -1).VNET[0].AR_POOL.AR[0]
    assert (ar.AR_ID, ar.IP, ar.SIZE, ar.ALLOCATED) == ("0", "10.0.0.1", 4, " 0 68719476736")
    info = one.vn.info(populated["vn"]).AR_POOL.AR[0]
    assert info.IP6_GLOBAL == "2001:db8::aff:fe00:1"
    assert info.LEASES.LEASE[0].IP == "10.0.0.1"
