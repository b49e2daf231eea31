# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declarative engine every ``one_*`` module stands on.

A module describes one OpenNebula object kind (:class:`OneKind`) and four things about it: the *desired view*
(what the task declares), the *current view* (the same keys read from OpenNebula), how to create it and how to
apply a set of changed keys. This class does the rest the same way for every kind: name lookup, check mode,
attribute-level ``--diff``, idempotence (no write call when nothing differs), waiting, facts and error handling.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import (
    CONNECTION_ARGSPEC,
    Credentials,
    OneClient,
    OneError,
)

View = dict[str, Any]


class OneKind:
    """How one OpenNebula object kind is reached through the XML-RPC API."""

    def __init__(self, api: str, pool: str, element: str, label: str, pool_args: tuple = ()):
        self.api = api  # method prefix: "vn" -> one.vn.allocate, one.vn.info, ...
        self.pool = pool  # pool method: "vnpool.info"
        self.element = element  # element of one object in the pool answer: "VNET"
        self.label = label  # words for messages: "virtual network"
        self.pool_args = pool_args  # filter arguments of the pool method (-2 = every object)


KINDS: dict[str, OneKind] = {
    kind.api: kind
    for kind in (
        OneKind("cluster", "clusterpool.info", "CLUSTER", "cluster"),
        OneKind("host", "hostpool.info", "HOST", "host"),
        OneKind("vn", "vnpool.info", "VNET", "virtual network", (-2, -1, -1)),
        OneKind("datastore", "datastorepool.info", "DATASTORE", "datastore"),
        OneKind("image", "imagepool.info", "IMAGE", "image", (-2, -1, -1)),
        OneKind("template", "templatepool.info", "VMTEMPLATE", "VM template", (-2, -1, -1)),
        OneKind("vm", "vmpool.info", "VM", "virtual machine", (-2, -1, -1, -1)),
        OneKind("secgroup", "secgrouppool.info", "SECURITY_GROUP", "security group", (-2, -1, -1)),
        OneKind("user", "userpool.info", "USER", "user"),
        OneKind("group", "grouppool.info", "GROUP", "group"),
        OneKind("vdc", "vdcpool.info", "VDC", "VDC"),
        OneKind("backupjob", "backupjobpool.info", "BACKUPJOB", "backup job", (-2, -1, -1)),
    )
}


def id_list(element: Any) -> list[int]:
    """Ids from an ``<X><ID>1</ID><ID>2</ID></X>`` element as parsed by pyone (None, an object with ID, or a list)."""
    if element is None:
        return []
    ids = getattr(element, "ID", element)
    if ids is None:
        return []
    if not isinstance(ids, list):
        ids = [ids]
    return sorted(int(i) for i in ids)


class OneObjectModule:
    """Base of a declarative, name-keyed module for one OpenNebula object kind.

    Subclasses set :attr:`kind` and :attr:`fact_name`, add their options to :attr:`argument_spec`, and implement
    :meth:`desired`, :meth:`current`, :meth:`create` and :meth:`apply` (plus :meth:`facts` for extra return data).
    """

    kind: OneKind
    fact_name: str
    argument_spec: dict[str, Any] = {}
    #: keys of the view whose change cannot be applied to an existing object
    immutable: tuple[str, ...] = ()
    #: view keys naming other objects -> their kind's api (resolved before any write, so typos change nothing)
    references: dict[str, str] = {}
    mutually_exclusive: list = []
    required_if: list = []

    def __init__(self) -> None:
        spec = {
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        }
        spec.update(copy.deepcopy(self.argument_spec))
        spec.update(copy.deepcopy(CONNECTION_ARGSPEC))
        self.module = AnsibleModule(
            argument_spec=spec,
            supports_check_mode=True,
            mutually_exclusive=self.mutually_exclusive,
            required_if=self.required_if,
        )
        self.params = self.module.params
        self.client: OneClient | None = None
        self._id_cache: dict[tuple[str, str], int] = {}
        self._pool_cache: dict[str, list[Any]] = {}

    # ----------------------------------------------------------------- hooks for subclasses
    def validate(self) -> None:
        """Check the arguments before any API call; raise :class:`OneError` naming the field."""

    def desired(self) -> View:
        """The declared state, as a view: only the keys the task declares."""
        raise NotImplementedError

    def current(self, obj: Any) -> View:
        """The object's state as a view with the same keys as :meth:`desired`."""
        raise NotImplementedError

    def create(self, desired: View) -> int:
        """Create the object; return its id."""
        raise NotImplementedError

    def apply(self, obj: Any, changes: View, desired: View) -> None:
        """Bring an existing object to the desired state for the changed keys."""
        raise NotImplementedError

    def facts(self, obj: Any) -> dict[str, Any]:
        """What the module returns about the object (id, name and the current view by default)."""
        return {"id": int(obj.ID), "name": obj.NAME, **self.current(obj)}

    def same(self, key: str, desired: Any, current: Any) -> bool:
        """Whether a declared value is in place; override for keys with their own comparison."""
        return one_template.same_value(desired, current)

    def after_create(self, object_id: int) -> Any:
        """Wait until a new object is usable (default: read it once)."""
        return self.info(object_id)

    def delete(self, obj: Any) -> None:
        self.call(f"{self.kind.api}.delete", int(obj.ID))

    # ----------------------------------------------------------------- API helpers
    def call(self, method: str, *args: Any) -> Any:
        assert self.client is not None
        return self.client.call(method, *args)

    def info(self, object_id: int) -> Any:
        return self.call(f"{self.kind.api}.info", object_id)

    def pool(self, kind: OneKind) -> list[Any]:
        """Every object of a kind (one pool call per kind and run)."""
        if kind.api not in self._pool_cache:
            answer = self.call(kind.pool, *kind.pool_args)
            items = getattr(answer, kind.element, None) or []
            self._pool_cache[kind.api] = items if isinstance(items, list) else [items]
        return self._pool_cache[kind.api]

    def find(self, kind: OneKind, name: str) -> Any | None:
        """The object of a kind with that name, or None; several with that name is an error."""
        matches = [obj for obj in self.pool(kind) if obj.NAME == name]
        if len(matches) > 1:
            ids = ", ".join(str(obj.ID) for obj in matches)
            raise OneError(f"several {kind.label}s are named '{name}' (ids {ids}); names must be unique to be managed")
        return matches[0] if matches else None

    def id_of(self, api: str, name: str | int, field: str) -> int:
        """Id of a related object given by name (or id); a clear error naming ``field`` when it does not exist."""
        kind = KINDS[api]
        if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
            return int(name)
        key = (api, name)
        if key not in self._id_cache:
            obj = self.find(kind, name)
            if obj is None:
                raise OneError(f"{field}: no {kind.label} named '{name}' exists in OpenNebula")
            self._id_cache[key] = int(obj.ID)
        return self._id_cache[key]

    def names_of(self, api: str, ids: list[int]) -> list[str]:
        """Names of related objects by id (ids whose object is gone are shown as numbers)."""
        by_id = {int(obj.ID): obj.NAME for obj in self.pool(KINDS[api])}
        return sorted(by_id.get(i, str(i)) for i in ids)

    def sync_clusters(self, member: str, object_id: int, current_ids: list[int], names: list[str]) -> None:
        """Make the object (a ``vnet``, ``datastore`` or ``host``) belong to exactly the named clusters."""
        wanted = {self.id_of("cluster", name, "clusters") for name in names}
        for cluster_id in sorted(wanted - set(current_ids)):
            self.call(f"cluster.add{member}", cluster_id, object_id)
        for cluster_id in sorted(set(current_ids) - wanted):
            self.call(f"cluster.del{member}", cluster_id, object_id)

    def declared_template(self, current: Mapping[str, Any]) -> dict[str, Any]:
        """The current values of the template attributes the task declares (for the returned facts)."""
        if self.params["state"] != "present":
            return {}
        declared = one_template.normalize(self.params.get("attributes"), "attributes")
        return {key: current.get(key) for key in declared}

    # ----------------------------------------------------------------- the declarative run
    def run(self) -> None:
        try:
            self.validate()
            self.client = OneClient(Credentials.resolve(self.params))
            result = self._converge()
        except OneError as exc:
            self.module.fail_json(msg=str(exc), error_kind=exc.kind, api_calls=self._call_counts())
        except one_template.TemplateError as exc:
            self.module.fail_json(msg=str(exc), error_kind="input", api_calls=self._call_counts())
        result["api_calls"] = self._call_counts()
        self.module.exit_json(**result)

    def _call_counts(self) -> dict[str, int]:
        if self.client is None:
            return {"total": 0, "writes": 0}
        return {"total": sum(self.client.calls.values()), "writes": self.client.writes}

    def _converge(self) -> dict[str, Any]:
        name = self.params["name"]
        obj = self.find(self.kind, name)
        if self.params["state"] == "absent":
            if obj is None:
                return {"changed": False, self.fact_name: {}}
            before = self.facts(obj)
            if not self.module.check_mode:
                self.delete(obj)
            return {"changed": True, self.fact_name: {}, "diff": {"before": before, "after": {}}}

        desired = self.desired()
        self._resolve_references(desired)
        if obj is None:
            after = {"name": name, **desired}
            if self.module.check_mode:
                return {"changed": True, self.fact_name: after, "diff": {"before": {}, "after": after}}
            new_id = self.create(desired)
            obj = self.after_create(new_id)
            return {"changed": True, self.fact_name: self.facts(obj), "diff": {"before": {}, "after": after}}

        current = self.current(obj)
        changes = {k: v for k, v in desired.items() if not self.same(k, v, current.get(k))}
        if not changes:
            return {"changed": False, self.fact_name: self.facts(obj)}
        blocked = sorted(set(changes) & set(self.immutable))
        if blocked:
            detail = "; ".join(f"{k}: is {current.get(k)!r}, declared {changes[k]!r}" for k in blocked)
            raise OneError(
                f"{self.kind.label} '{name}' (id {obj.ID}) cannot change {', '.join(blocked)} in place ({detail}); "
                f"delete it first (state: absent) to re-create it"
            )
        diff = {
            "before": {"name": name, **{k: current.get(k) for k in changes}},
            "after": {"name": name, **{k: self._after_value(v, current.get(k)) for k, v in changes.items()}},
        }
        if self.module.check_mode:
            return {"changed": True, self.fact_name: self.facts(obj), "diff": diff, "changes": sorted(changes)}
        self.apply(obj, changes, desired)
        return {"changed": True, self.fact_name: self.facts(self.info(int(obj.ID))), "diff": diff, "changes": sorted(changes)}

    def _resolve_references(self, desired: View) -> None:
        """Fail, naming the field, when a declared related object does not exist (before any write)."""
        for key, api in self.references.items():
            value = desired.get(key)
            for name in value if isinstance(value, list) else ([] if value is None else [value]):
                self.id_of(api, name, key)

    @staticmethod
    def _after_value(desired: Any, current: Any) -> Any:
        """What a key will hold after the change: declared sub-attributes merged over the current ones."""
        if isinstance(desired, Mapping) and isinstance(current, Mapping):
            return {**current, **desired}
        return desired


def update_template(module: OneObjectModule, object_id: int, attributes: Mapping[str, Any]) -> None:
    """Merge attributes into an object's template (``one.<kind>.update`` with type 1 = merge)."""
    if attributes:
        module.call(f"{module.kind.api}.update", object_id, one_template.render(attributes), 1)


def element_dict(obj: Any) -> dict[str, str]:
    """A flat ``{TAG: text}`` dict of an object's simple child elements (e.g. one address range).

    pyone keeps the parsed XML element of each object, which also holds attributes its schema does not name.
    """
    node = getattr(obj, "gds_elementtree_node_", None)
    if node is not None:
        return {child.tag: (child.text or "") for child in node if len(child) == 0}
    return {k: one_template.scalar(v) for k, v in vars(obj).items()
            if k.isupper() and isinstance(v, (str, int, float))}


def template_with_fields(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """An object's TEMPLATE as a dict, with the given top-level elements (e.g. ``VN_MAD``, ``TM_MAD``) laid over it."""
    template = one_template.from_pyone(getattr(obj, "TEMPLATE", None))
    for field in fields:
        value = getattr(obj, field, None)
        if value not in (None, ""):
            template[field] = one_template.scalar(value)
    return template
