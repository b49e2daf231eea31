#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Declarative OpenNebula datastore."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: one_datastore
short_description: Manage an OpenNebula datastore (system, image, file or backup) and its clusters
description:
  - Declarative, name-keyed management of an OpenNebula datastore (C(one.datastore.*) XML-RPC methods),
    covering its type,
    datastore and transfer drivers, template attributes and cluster membership.
  - System and image datastores on a shared filesystem (GFS2, NFS) use O(tm_mad=shared); local ones C(ssh) or
    C(local). Backup datastores use O(ds_mad=rsync) (or C(restic) on OpenNebula Enterprise Edition).
  - The type of an existing datastore cannot change; the module fails, naming it, rather than deleting a datastore
    that holds images.
  - A second run with the same arguments makes no write call. Check mode predicts the changes; diff mode shows them.
version_added: 0.1.0
author: eole.hapy contributors (!UNKNOWN)
options:
  name:
    description: Name of the datastore. Hâpy's names are C(system-default), C(images-disques) and C(iso-images).
    type: str
  state:
    description:
      - C(present) creates or updates the datastore, C(absent) deletes it.
      - OpenNebula refuses to delete a datastore that still holds images.
    type: str
    choices: [present, absent]
    default: present
  type:
    description: Kind of datastore. Required to create one.
    type: str
    choices: [image, system, file, backup]
  ds_mad:
    description:
      - Datastore driver, e.g. C(fs) for image and file datastores, C(rsync) or C(restic) for backup datastores.
      - Required to create an image, file or backup datastore; system datastores have none.
    type: str
  tm_mad:
    description:
      - Transfer driver, e.g. C(shared), C(ssh), C(local), C(qcow2). Required to create a system or image datastore.
    type: str
  attributes:
    description:
      - Further template attributes, e.g. C(BASE_PATH), C(SAFE_DIRS), C(RSYNC_HOST), C(RSYNC_USER), C(LIMIT_MB),
        C(BRIDGE_LIST), C(DESCRIPTION). Declared attributes only are compared and merged.
    type: dict
  clusters:
    description:
      - Names (or ids) of the clusters the datastore must belong to, exactly. Omit to leave membership alone.
      - Declared by ids, they are compared as ids, without reading the cluster pool.
    type: list
    elements: str
extends_documentation_fragment:
  - eole.hapy.one_objects
  - eole.hapy.one_connection
notes:
  - Runs on the host that reaches the OpenNebula XML-RPC endpoint (usually the controller); needs C(pyone).
seealso:
  - module: eole.hapy.one_cluster
  - name: OpenNebula datastore reference
    description: Datastore types and drivers.
    link: https://docs.opennebula.io/6.10/open_cluster_deployment/storage_setup/overview.html
"""

EXAMPLES = r"""
- name: Shared system datastore on the site's GFS2 filesystem (cluster mode)
  eole.hapy.one_datastore:
    name: system-default
    type: system
    tm_mad: shared
    clusters: [hapy-9740002b]
  delegate_to: localhost

- name: Image datastore for the guests' disks
  eole.hapy.one_datastore:
    name: images-disques
    type: image
    ds_mad: fs
    tm_mad: shared
    clusters: [hapy-9740002b]
  delegate_to: localhost

- name: Backup datastore on the site's backup disk
  eole.hapy.one_datastore:
    name: sauvegardes
    type: backup
    ds_mad: rsync
    attributes:
      RSYNC_HOST: 10.1.0.2
      RSYNC_USER: oneadmin
      BASE_PATH: /mnt/sauvegardes/one
  delegate_to: localhost
"""

RETURN = r"""
datastore:
  description: The datastore after the task (empty when absent). In check mode, the declared state.
  returned: always
  type: dict
  contains:
    id:
      description: OpenNebula id of the datastore.
      type: int
      sample: 100
    name:
      description: Name of the datastore.
      type: str
      sample: images-disques
    type:
      description: image, system, file or backup.
      type: str
      sample: image
    ds_mad:
      description: Datastore driver.
      type: str
      sample: fs
    tm_mad:
      description: Transfer driver.
      type: str
      sample: shared
    base_path:
      description: Where the datastore lives on the hosts.
      type: str
      sample: /var/lib/one//datastores/100
    template:
      description: The declared template attributes with their current values.
      type: dict
      sample: {RSYNC_HOST: 10.1.0.2}
    cluster_ids:
      description: Ids of the clusters the datastore belongs to.
      type: list
      elements: int
      sample: [100]
    clusters:
      description: The clusters (when O(clusters) is declared), as declared (ids when declared by ids).
      type: list
      elements: str
      sample: [hapy-9740002b]
changes:
  description: The keys of the declaration that differed.
  returned: when changed and the datastore existed
  type: list
  elements: str
  sample: [tm_mad]
api_calls:
  description: XML-RPC calls the task made, in total and writes only.
  returned: always
  type: dict
  sample: {total: 1, writes: 0}
"""

from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import (
    KINDS,
    OneObjectModule,
    id_list,
    template_with_fields,
    update_template,
)

#: option value -> (TYPE attribute of the template, numeric TYPE in the datastore's XML)
DATASTORE_TYPES = {
    "image": ("IMAGE_DS", 0),
    "system": ("SYSTEM_DS", 1),
    "file": ("FILE_DS", 2),
    "backup": ("BACKUP_DS", 3),
}


class DatastoreModule(OneObjectModule):
    kind = KINDS["datastore"]
    references = {"clusters": "cluster"}
    fact_name = "datastore"
    batchable = True
    immutable = ("type",)
    argument_spec = {
        "type": {"type": "str", "choices": list(DATASTORE_TYPES)},
        "ds_mad": {"type": "str"},
        "tm_mad": {"type": "str"},
        "attributes": {"type": "dict"},
        "clusters": {"type": "list", "elements": "str"},
    }

    def validate(self) -> None:
        p = self.params
        if p["state"] == "present" and p["type"] == "system" and p["ds_mad"]:
            raise OneError("ds_mad: a system datastore has no datastore driver; declare only tm_mad (e.g. shared, ssh)")
        attrs = {str(k).upper() for k in (p["attributes"] or {})}
        clash = sorted(attrs & {"TYPE", "DS_MAD", "TM_MAD", "NAME"})
        if clash:
            raise OneError(
                f"attributes: {', '.join(clash)} must be given with the type/ds_mad/tm_mad options, not in attributes"
            )

    def desired(self) -> dict[str, Any]:
        p = self.params
        view: dict[str, Any] = {"template": one_template.normalize(p["attributes"], "attributes")}
        for option in ("type", "ds_mad", "tm_mad"):
            if p[option] is not None:
                view[option] = p[option]
        if p["clusters"] is not None:
            view["clusters"] = sorted(str(c) for c in p["clusters"])
        return view

    def current(self, obj: Any) -> dict[str, Any]:
        kind = next((name for name, (_label, code) in DATASTORE_TYPES.items() if code == int(obj.TYPE)), str(obj.TYPE))
        view = {"type": kind, "ds_mad": obj.DS_MAD, "tm_mad": obj.TM_MAD, "template": template_with_fields(obj, ())}
        if self.params["clusters"] is not None:
            view["clusters"] = self.clusters_view(obj, self.params["clusters"])
        return view

    def facts(self, obj: Any) -> dict[str, Any]:
        current = self.current(obj)
        return {"id": int(obj.ID), "name": obj.NAME, **current, "base_path": obj.BASE_PATH,
                "template": self.declared_template(current["template"]),
                "cluster_ids": id_list(obj.CLUSTERS)}

    def create(self, desired: dict[str, Any]) -> int:
        kind = desired.get("type")
        if kind is None:
            raise OneError("type: required to create a datastore; expected one of image, system, file, backup")
        if kind != "system" and not desired.get("ds_mad"):
            raise OneError(f"ds_mad: required to create a {kind} datastore (e.g. fs, or rsync for backups)")
        if kind in ("image", "system") and not desired.get("tm_mad"):
            raise OneError(f"tm_mad: required to create a {kind} datastore (e.g. shared, ssh, local)")
        template = {"NAME": self.params["name"], "TYPE": DATASTORE_TYPES[kind][0], **desired["template"]}
        for option in ("ds_mad", "tm_mad"):
            if desired.get(option):
                template[option.upper()] = desired[option]
        cluster_ids = [self.id_of("cluster", c, "clusters") for c in desired.get("clusters", [])]
        first_cluster = cluster_ids[0] if cluster_ids else -1
        new_id = int(self.call("datastore.allocate", one_template.render(template), first_cluster))
        if len(cluster_ids) > 1:
            self.sync_clusters("datastore", new_id, cluster_ids[:1], desired["clusters"])
        return new_id

    def apply(self, obj: Any, changes: dict[str, Any], desired: dict[str, Any]) -> None:
        ds_id = int(obj.ID)
        attributes = one_template.differences(changes.get("template", {}), template_with_fields(obj, ()))
        for option in ("ds_mad", "tm_mad"):
            if option in changes:
                attributes[option.upper()] = changes[option]
        update_template(self, ds_id, attributes)
        if "clusters" in changes:
            self.sync_clusters("datastore", ds_id, id_list(obj.CLUSTERS), changes["clusters"])


def main() -> None:
    DatastoreModule().run()


if __name__ == "__main__":
    main()
