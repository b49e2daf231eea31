#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula virtual network."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_vnet
short_description: Manage an OpenNebula virtual network, its address ranges and cluster membership
description:
  - Declarative, name-keyed management of an OpenNebula virtual network (C(one.vn.*) XML-RPC methods).
  - The network driver, bridge, physical device, VLAN id and free attributes are kept in the network's template;
    only the declared attributes are compared and merged, attributes OpenNebula adds itself are left alone.
  - Address ranges are matched to the declaration (by type and first address) and added, updated or removed so that
    the network has exactly the declared ranges, keeping the ids and leases of ranges that did not change.
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them
    attribute by attribute.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the virtual network (unique in the OpenNebula zone).
    type: str
  state:
    description: C(present) creates or updates the network, C(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  vn_mad:
    description:
      - Network driver. C(802.1Q) and C(vxlan) need O(phydev); C(bridge) and C(ovswitch) use O(bridge).
      - Required to create a network.
    type: str
    choices: [bridge, 802.1Q, vxlan, ovswitch, ovswitch_vxlan, fw, ebtables, dummy]
  bridge:
    description: Name of the Linux bridge (or Open vSwitch switch) on the hosts.
    type: str
  phydev:
    description: Physical interface carrying the VLAN or VXLAN traffic on the hosts.
    type: str
  vlan_id:
    description: VLAN id (1-4094) for C(802.1Q), C(ovswitch) and C(vxlan) networks.
    type: int
  mtu:
    description: MTU of the network's interfaces on the hosts.
    type: int
  attributes:
    description:
      - Further template attributes, for example C(GATEWAY), C(DNS), C(NETWORK_ADDRESS), C(NETWORK_MASK),
        C(DESCRIPTION), C(SECURITY_GROUPS). Keys are case-insensitive; values are strings, numbers, booleans
        (rendered C(YES)/C(NO)) or dicts for vector attributes.
    type: dict
  address_ranges:
    description:
      - The complete list of address ranges the network must have. Omit to leave the ranges alone; an empty list
        removes them all.
      - Each item takes C(type) (C(IP4), C(IP4_6), C(IP6), C(IP6_STATIC), C(ETHER)), C(ip) (first IPv4 address),
        C(size), C(mac) (first MAC address, optional), C(global_prefix), C(ula_prefix), and any other AR attribute.
      - A declared range matches an existing one of the same type with the same first IP (or MAC when no IP is
        declared); matched ranges are updated in place, others are added, existing ranges left over are removed.
    type: list
    elements: dict
  clusters:
    description:
      - Names (or ids) of the OpenNebula clusters the network must belong to, exactly. Omit to leave membership alone.
      - Declared by ids, they are compared as ids, without reading the cluster pool.
    type: list
    elements: str
extends_documentation_fragment:
  - eole.hapy.one_objects
  - eole.hapy.one_connection
  - eole.hapy.one_ownership
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
  - Removing an address range that has leases in use fails with OpenNebula's own error.
seealso:
  - module: eole.hapy.one_cluster
  - name: OpenNebula virtual network template reference
    description: Attributes of virtual network templates.
    link: https://docs.opennebula.io/6.10/management_and_operations/network_management/manage_vnets.html
"""

EXAMPLES = r"""
- name: The pedagogical network of a school, VLAN 20 on bond0
  eole.hapy.one_vnet:
    api_url: "http://{{ hapy_frontend_address }}:2633/RPC2"
    api_username: oneadmin
    api_password: "{{ vault_oneadmin_password }}"
    name: CR_pedago
    vn_mad: 802.1Q
    phydev: bond0
    vlan_id: 20
    bridge: br-pedago
    attributes:
      GATEWAY: 10.20.0.1
      DNS: 10.20.0.1
      NETWORK_ADDRESS: 10.20.0.0
      NETWORK_MASK: 255.255.255.0
    address_ranges:
      - type: IP4
        ip: 10.20.0.10
        size: 200
    clusters: [hapy-9740001a]
  delegate_to: localhost

- name: An internal-only network, bridged, no addressing
  eole.hapy.one_vnet:
    name: CR_interne
    vn_mad: bridge
    bridge: br-interne
    address_ranges:
      - type: ETHER
        size: 64
  delegate_to: localhost

- name: Remove a network
  eole.hapy.one_vnet:
    name: CR_old
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
vnet:
  description: The virtual network after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the network.
      type: int
      sample: 3
    name:
      description: Name of the network.
      type: str
      sample: CR_pedago
    template:
      description: The declared template attributes with their current values (upper-case keys).
      type: dict
      sample: {VN_MAD: 802.1Q, PHYDEV: bond0, VLAN_ID: "20", BRIDGE: br-pedago}
    address_ranges:
      description: Address ranges with their OpenNebula id (C(AR_ID)) and attributes.
      type: list
      elements: dict
      sample: [{AR_ID: "0", TYPE: IP4, IP: 10.20.0.10, SIZE: "200", MAC: "02:00:0a:14:00:0a"}]
    cluster_ids:
      description: Ids of the clusters the network belongs to.
      type: list
      elements: int
      sample: [100]
    clusters:
      description:
        - The clusters the network belongs to (when O(clusters) is declared), as declared (ids when declared by ids).
      type: list
      elements: str
      sample: [hapy-9740001a]
    owner:
      description: Owner of the network (user name).
      type: str
      sample: oneadmin
    group:
      description: Group of the network, e.g. the group of the school's VDC.
      type: str
      sample: etb_9740001a
    permissions:
      description: Permissions in octal form (owner, group, others; USE=4, MANAGE=2, ADMIN=1).
      type: str
      sample: "640"
changes:
  description: The keys of the declaration that differed (C(template), C(address_ranges), C(clusters)).
  returned: when changed and the network existed
  type: list
  elements: str
  sample: [address_ranges]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 2, writes: 0}
"""

import ipaddress
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    element_dict,
    id_list,
    owner_facts,
    template_with_fields,
    update_template,
)

AR_TYPES = ("IP4", "IP4_6", "IP6", "IP6_STATIC", "ETHER")
DRIVER_FIELDS = ("VN_MAD", "BRIDGE", "PHYDEV", "VLAN_ID")
#: AR sub-attributes OpenNebula computes; never compared nor sent back.
AR_COMPUTED = ("AR_ID", "USED_LEASES", "LEASES", "IP_END", "MAC_END", "IP6_END", "IP6_GLOBAL", "IP6_ULA",
               "IP6_GLOBAL_END", "IP6_ULA_END", "PARENT_NETWORK_AR_ID", "ALLOCATED")


class VnetModule(OneObjectModule):
    kind = KINDS["vn"]
    references = {"clusters": "cluster"}
    fact_name = "vnet"
    batchable = True
    ownable = True
    argument_spec = {
        "vn_mad": {"type": "str", "choices": ["bridge", "802.1Q", "vxlan", "ovswitch", "ovswitch_vxlan", "fw",
                                              "ebtables", "dummy"]},
        "bridge": {"type": "str"},
        "phydev": {"type": "str"},
        "vlan_id": {"type": "int"},
        "mtu": {"type": "int"},
        "attributes": {"type": "dict"},
        "address_ranges": {"type": "list", "elements": "dict"},
        "clusters": {"type": "list", "elements": "str"},
    }

    # ------------------------------------------------------------------ input
    def validate(self) -> None:
        p = self.params
        if p["state"] == "absent":
            return
        if p["vlan_id"] is not None and not 1 <= p["vlan_id"] <= 4094:
            raise OneError(f"vlan_id: {p['vlan_id']} is out of range; expected an integer from 1 to 4094")
        if p["mtu"] is not None and not 68 <= p["mtu"] <= 65535:
            raise OneError(f"mtu: {p['mtu']} is out of range; expected an integer from 68 to 65535")
        if p["vn_mad"] in ("802.1Q", "vxlan", "ovswitch_vxlan") and not p["phydev"]:
            raise OneError(f"phydev: required when vn_mad is {p['vn_mad']} (the host interface carrying the traffic)")
        for index, ar in enumerate(p["address_ranges"] or []):
            self._validate_ar(index, ar)

    @staticmethod
    def _validate_ar(index: int, ar: dict) -> None:
        where = f"address_ranges[{index}]"
        fields = {str(k).upper(): v for k, v in ar.items()}
        ar_type = str(fields.get("TYPE", "")).upper()
        if ar_type not in AR_TYPES:
            raise OneError(f"{where}.type: {fields.get('TYPE')!r} is not an address range type; expected one of "
                           f"{', '.join(AR_TYPES)}")
        size = fields.get("SIZE")
        if ar_type != "IP6_STATIC" and (size is None or not str(size).isdigit() or int(size) < 1):
            raise OneError(f"{where}.size: expected a positive integer, got {size!r}")
        if ar_type in ("IP4", "IP4_6"):
            try:
                ipaddress.IPv4Address(str(fields.get("IP", "")))
            except ValueError:
                raise OneError(f"{where}.ip: {fields.get('IP')!r} is not an IPv4 address; an {ar_type} range needs "
                               f"its first address, e.g. 10.20.0.10") from None
        mac = fields.get("MAC")
        if mac is not None and not _is_mac(str(mac)):
            raise OneError(f"{where}.mac: {mac!r} is not a MAC address; expected the form 02:00:0a:14:00:0a")

    # ------------------------------------------------------------------ views
    def desired(self) -> dict[str, Any]:
        p = self.params
        template = one_template.normalize(p["attributes"], "attributes")
        for field, value in (("VN_MAD", p["vn_mad"]), ("BRIDGE", p["bridge"]), ("PHYDEV", p["phydev"]),
                             ("VLAN_ID", p["vlan_id"]), ("MTU", p["mtu"])):
            if value is not None:
                template[field] = one_template.scalar(value)
        view: dict[str, Any] = {"template": template}
        if p["address_ranges"] is not None:
            view["address_ranges"] = [one_template.normalize(ar, f"address_ranges[{i}]")
                                      for i, ar in enumerate(p["address_ranges"])]
        if p["clusters"] is not None:
            view["clusters"] = sorted(str(c) for c in p["clusters"])
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        view = {"template": template_with_fields(obj, DRIVER_FIELDS), "address_ranges": current_ars(obj)}
        if self.params["clusters"] is not None:  # names cost one more read: only when declared
            view["clusters"] = self.clusters_view(obj, self.params["clusters"])
        return view

    def facts(self, obj: Any) -> dict[str, Any]:
        declared = self.desired()["template"] if self.params["state"] == "present" else {}
        current = self.current(obj)
        return {
            "id": int(obj.ID),
            "name": obj.NAME,
            "template": {k: current["template"].get(k) for k in {*DRIVER_FIELDS, *declared}
                         if current["template"].get(k) is not None},
            "address_ranges": current["address_ranges"],
            "cluster_ids": id_list(obj.CLUSTERS),
            **({"clusters": current["clusters"]} if "clusters" in current else {}),
            **owner_facts(obj),
        }

    def same(self, key: str, desired: Any, current: Any) -> bool:
        if key == "address_ranges":
            return ar_plan(desired, current) == ([], [], [])
        return super().same(key, desired, current)

    # ------------------------------------------------------------------ states
    def lookup(self, name: str) -> Any | None:
        """The network, or None; one being deleted (LOCK_DELETE) is waited for until gone and counts as absent."""
        obj = super().lookup(name)
        if obj is not None and int(obj.STATE) == LOCK_DELETE:
            self._wait_gone(int(obj.ID))
            return None
        return obj

    def after_create(self, object_id: int) -> Any:
        """oned creates a network asynchronously (LOCK_CREATE, ARs not yet in AR_POOL): wait until READY."""
        return self.wait_state(object_id, lambda vn: int(vn.STATE) == READY, f"virtual network {object_id} to be READY",
                               failed=_vnet_error)

    def settle(self, obj: Any) -> Any:
        if int(obj.STATE) == READY:
            return obj
        return self.after_create(int(obj.ID))

    def delete(self, obj: Any) -> None:
        super().delete(obj)
        self._wait_gone(int(obj.ID))

    def _wait_gone(self, vnet_id: int) -> None:
        self.wait_state(vnet_id, lambda vn: vn is None, f"virtual network {vnet_id} to be deleted",
                        fetch=self.info_or_none,
                        failed=lambda vn: _vnet_error(vn) if vn is not None else None)

    # ------------------------------------------------------------------ writes
    def create(self, desired: dict[str, Any]) -> int:
        template = {"NAME": self.params["name"], **desired["template"]}
        if "VN_MAD" not in template:
            raise OneError("vn_mad: required to create a virtual network (e.g. bridge or 802.1Q)")
        if desired.get("address_ranges"):
            template["AR"] = desired["address_ranges"]
        cluster_ids = [self.id_of("cluster", c, "clusters") for c in desired.get("clusters", [])]
        new_id = int(self.call("vn.allocate", one_template.render(template), cluster_ids[0] if cluster_ids else -1))
        if len(cluster_ids) > 1:
            self.sync_clusters("vnet", new_id, cluster_ids[:1], desired["clusters"])
        return new_id

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        vnet_id = int(obj.ID)
        if "template" in changes:
            current = template_with_fields(obj, DRIVER_FIELDS)
            update_template(self, vnet_id, one_template.differences(changes["template"], current))
        if "address_ranges" in changes:
            removes, updates, adds = ar_plan(changes["address_ranges"], current_ars(obj))
            for ar_id in removes:
                self.call("vn.rm_ar", vnet_id, ar_id)
            for ar in updates:
                self.call("vn.update_ar", vnet_id, one_template.render({"AR": ar}))
            for ar in adds:
                self.call("vn.add_ar", vnet_id, one_template.render({"AR": ar}))
        if "clusters" in changes:
            self.sync_clusters("vnet", vnet_id, id_list(obj.CLUSTERS), changes["clusters"])


# VirtualNetwork::VirtualNetworkState (LOCK_CREATE is 2); one name per line (ansible-doc reads this module's AST)
READY = 1
LOCK_DELETE = 3
ERROR = 5


def _vnet_error(vn: Any) -> str | None:
    """The network's error when oned put it in ERROR (its driver failed), else None."""
    if int(vn.STATE) != ERROR:
        return None
    error = one_template.from_pyone(getattr(vn, "TEMPLATE", None)).get("ERROR")
    return f"the network is in ERROR state: {error or 'no error message from oned'}"


def _is_mac(text: str) -> bool:
    parts = text.split(":")
    return len(parts) == 6 and all(len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts)


def current_ars(obj: Any) -> list[dict[str, str]]:
    """The network's address ranges as flat dicts (every sub-attribute OpenNebula returns)."""
    pool = getattr(obj, "AR_POOL", None)
    ars = getattr(pool, "AR", None) or []
    return [{k: v for k, v in element_dict(ar).items() if k != "LEASES"}
            for ar in (ars if isinstance(ars, list) else [ars])]


def _ar_start(ar: dict[str, Any]) -> tuple[str, str]:
    """The identity of a range: its type and first address (IP, else MAC, else IPv6 prefixes)."""
    ar_type = str(ar.get("TYPE", "")).upper()
    for key in ("IP", "MAC", "GLOBAL_PREFIX", "ULA_PREFIX"):
        if ar.get(key):
            return ar_type, f"{key}={str(ar[key]).lower()}"
    return ar_type, ""


def ar_plan(desired: list[dict[str, Any]], current: list[dict[str, Any]]) -> tuple[list[int], list[dict], list[dict]]:
    """What to do so the network holds exactly the desired ranges: (ids to remove, ARs to update, ARs to add).

    A desired range matches the current range of the same type and start; a desired range without a start
    address matches, in order, the remaining current ranges of its type.
    """
    unmatched = list(current)
    updates: list[dict] = []
    adds: list[dict] = []
    pending: list[dict] = []
    for ar in desired:
        match = next((c for c in unmatched if _ar_start(c) == _ar_start(ar) and _ar_start(ar)[1]), None)
        if match is None:
            pending.append(ar)
            continue
        unmatched.remove(match)
        _plan_one(ar, match, updates)
    for ar in pending:
        match = next((c for c in unmatched if not _ar_start(ar)[1]
                      and str(c.get("TYPE", "")).upper() == str(ar.get("TYPE", "")).upper()), None)
        if match is None:
            adds.append(ar)
        else:
            unmatched.remove(match)
            _plan_one(ar, match, updates)
    removes = sorted(int(c["AR_ID"]) for c in unmatched)
    return removes, updates, adds


def _plan_one(desired: dict[str, Any], current: dict[str, Any], updates: list[dict]) -> None:
    compared = {k: v for k, v in desired.items() if k not in AR_COMPUTED}
    if compared.get("MAC"):
        compared["MAC"] = str(compared["MAC"]).lower()
    current_cmp = {k: (str(v).lower() if k == "MAC" else v) for k, v in current.items()}
    if one_template.differences(compared, current_cmp):
        updates.append({"AR_ID": current["AR_ID"], **{k: v for k, v in desired.items() if k not in AR_COMPUTED}})


def main() -> None:
    VnetModule().run()


if __name__ == "__main__":
    main()
