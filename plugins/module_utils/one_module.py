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
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import (
    CONNECTION_ARGSPEC,
    Credentials,
    OneClient,
    OneError,
    wait_for,
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
        OneKind("acl", "acl.info", "ACL", "ACL rule"),
    )
}

#: Options of kinds that have an owner, a group and permissions (``ownable`` modules).
OWNERSHIP_ARGSPEC: dict[str, dict[str, Any]] = {
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "permissions": {"type": "str"},
}
OWNERSHIP_KEYS = tuple(OWNERSHIP_ARGSPEC)
_PERM_BITS = (("OWNER", 0), ("GROUP", 1), ("OTHER", 2))


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
    #: keys only used when creating: a difference on an existing object is a warning, not a change
    create_only: tuple[str, ...] = ()
    #: the option naming the object (its identity)
    key_option: str = "name"
    #: characters oned refuses in the NAME of this kind (PoolObjectSQL::INVALID_NAME_CHARS; users refuse more)
    invalid_name_chars: str = one_template.ONE_INVALID_NAME_CHARS
    #: accepted values of ``state`` ("absent" deletes) and the default one
    states: tuple[str, ...] = ("present", "absent")
    default_state: str = "present"
    #: whether the kind has an owner, a group and permissions (adds ``owner``/``group``/``permissions``)
    ownable: bool = False
    #: seconds before the first poll of :meth:`wait_state` (then growing by half each time, up to 5 s)
    poll_interval: float = 0.5
    mutually_exclusive: list = []
    required_if: list = []
    #: whether the module also takes ``objects``: several objects of its kind converged in one run (one pool read
    #: per kind for all of them), each declared with the options of one object
    batchable: bool = False

    def __init__(self) -> None:
        #: the options of one object (everything but the connection)
        self.object_spec: dict[str, Any] = {
            self.key_option: {"type": "str", "required": True},
            "state": {"type": "str", "default": self.default_state, "choices": list(self.states)},
        }
        if self.ownable:
            self.object_spec.update(copy.deepcopy(OWNERSHIP_ARGSPEC))
        self.object_spec.update(copy.deepcopy(self.argument_spec))
        spec = copy.deepcopy(self.object_spec)
        batch: dict[str, Any] = {}
        if self.batchable:
            spec[self.key_option]["required"] = False
            spec["objects"] = {"type": "list", "elements": "dict", "options": _item_spec(self.object_spec)}
            batch = {"required_one_of": [[self.key_option, "objects"]],
                     "mutually_exclusive": [[self.key_option, "objects"]]}
        spec.update(copy.deepcopy(CONNECTION_ARGSPEC))
        self.module = AnsibleModule(
            argument_spec=spec,
            supports_check_mode=True,
            mutually_exclusive=self.mutually_exclusive + batch.get("mutually_exclusive", []),
            required_if=self.required_if,
            required_one_of=batch.get("required_one_of"),
        )
        #: the options of the object being converged: the module's parameters, or (``objects``) one object's
        #: options over the shared ones; set by :meth:`select` only
        self.params: dict[str, Any] = self.module.params
        #: name of the object being converged (the key option, or one instance of a counted set)
        self.name: str = self.params[self.key_option]
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

    def lookup(self, name: str) -> Any | None:
        """The existing object the task is about, or None (default: the object of the kind with that name)."""
        return self.find(self.kind, name)

    def settle(self, obj: Any) -> Any:
        """An existing, unchanged object before it is reported (e.g. wait for it to be ready); default: as is."""
        return obj

    # ----------------------------------------------------------------- API helpers
    def call(self, method: str, *args: Any) -> Any:
        if self.client is None:  # run() connects before any call
            raise OneError(f"{method}: called before the module connected to OpenNebula")
        return self.client.call(method, *args)

    def info(self, object_id: int) -> Any:
        return self.call(f"{self.kind.api}.info", object_id)

    def info_or_none(self, object_id: int) -> Any | None:
        """The object, or None once oned no longer knows it (to wait for an asynchronous deletion)."""
        try:
            return self.info(object_id)
        except OneError as exc:
            if exc.kind == "not_found":
                return None
            raise

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

    def remember(self, obj: Any) -> None:
        """Keep this kind's cached pool true after a write: ``obj`` (as just read) replaces its cached copy."""
        self._cache_put(int(obj.ID), obj)
        if getattr(obj, "NAME", None) is not None:  # ACL rules have none
            self._id_cache[(self.kind.api, obj.NAME)] = int(obj.ID)

    def forget(self, obj: Any) -> None:
        """Drop a deleted object from this kind's cached pool and ids (a later lookup finds it gone)."""
        self._cache_put(int(obj.ID), None)
        self._id_cache = {key: value for key, value in self._id_cache.items()
                          if not (key[0] == self.kind.api and value == int(obj.ID))}

    def _cache_put(self, object_id: int, obj: Any | None) -> None:
        items = self._pool_cache.get(self.kind.api)
        if items is not None:
            self._pool_cache[self.kind.api] = [o for o in items if int(o.ID) != object_id] + \
                ([obj] if obj is not None else [])

    def id_of(self, api: str, name: str | int, field: str) -> int:
        """Id of a related object given by name (or id); a clear error naming ``field`` when it does not exist."""
        kind = KINDS[api]
        if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
            return int(name)
        key = (api, name)
        if key not in self._id_cache:
            obj = self.find(kind, name)
            if obj is None and self.module.check_mode:
                # In check mode an earlier task of the same run may only have predicted its creation.
                self.module.warn(f"{field}: no {kind.label} named '{name}' exists yet; assuming an earlier task "
                                 f"creates it (check mode). A real run fails here if it still does not exist.")
                self._id_cache[key] = -1
            elif obj is None:
                raise self.missing(kind, name, field)
            else:
                self._id_cache[key] = int(obj.ID)
        return self._id_cache[key]

    def missing(self, kind: OneKind, name: str, field: str) -> OneError:
        """The error for a related object that is not found (pools only list what the API user may see)."""
        user = self.client.credentials.username if self.client is not None else "oneadmin"
        hint = "" if user == "oneadmin" else f" (or user '{user}' is not allowed to see it)"
        return OneError(f"{field}: no {kind.label} named '{name}' exists in OpenNebula{hint}")

    def names_of(self, api: str, ids: list[int]) -> list[str]:
        """Names of related objects by id (ids whose object is gone are shown as numbers)."""
        by_id = {int(obj.ID): obj.NAME for obj in self.pool(KINDS[api])}
        return sorted(by_id.get(i, str(i)) for i in ids)

    def ids_of(self, api: str, names: Iterable[str | int], field: str) -> list[int]:
        """Ids of related objects given by name or id (see :meth:`id_of`), sorted."""
        return sorted({self.id_of(api, name, field) for name in names})

    def wait_state(self, object_id: int, ready: Callable[[Any], bool], what: str,
                   failed: Callable[[Any], str | None] | None = None, timeout: float | None = None,
                   fetch: Callable[[int], Any] | None = None) -> Any:
        """Read the object (``fetch``, default ``info``) until ``ready`` holds (``wait_timeout`` option by default);
        fail on ``failed``."""
        if timeout is None:
            timeout = float(self.params.get("wait_timeout") or 300)
        read = fetch or self.info
        return wait_for(lambda: read(object_id), ready, timeout, what, failed, interval=self.poll_interval)

    # ----------------------------------------------------------------- owner, group, permissions
    def _ownership_desired(self) -> View:
        if not self.ownable or self.params["state"] == "absent":
            return {}
        return {key: self.params[key] for key in OWNERSHIP_KEYS if self.params.get(key) is not None}

    def _ownership_current(self, obj: Any, declared: View) -> View:
        view: View = {}
        if "owner" in declared:
            view["owner"] = str(obj.UID) if str(declared["owner"]).isdigit() else obj.UNAME
        if "group" in declared:
            view["group"] = str(obj.GID) if str(declared["group"]).isdigit() else obj.GNAME
        if "permissions" in declared:
            view["permissions"] = permissions_of(obj)
        return view

    def _apply_ownership(self, object_id: int, changes: View) -> None:
        if "owner" in changes or "group" in changes:
            uid = self.id_of("user", changes["owner"], "owner") if "owner" in changes else -1
            gid = self.id_of("group", changes["group"], "group") if "group" in changes else -1
            self.call(f"{self.kind.api}.chown", object_id, uid, gid)
        if "permissions" in changes:
            self.call(f"{self.kind.api}.chmod", object_id, *permission_bits(changes["permissions"]))

    def _validate_declared_values(self) -> None:
        """Refuse, before any call, a name oned would refuse and attributes its template lexer cannot take back."""
        if self.key_option == "name":
            one_template.check_name(self.name, self.key_option, self.invalid_name_chars)
        if "attributes" in self.params:
            one_template.normalize(self.params["attributes"], "attributes")

    def _validate_ownership(self) -> None:
        perms = self.params.get("permissions") if self.ownable else None
        if perms is not None and not re.fullmatch(r"[0-7]{3}", str(perms)):
            raise OneError(f"permissions: {perms!r} is not a permission mode; expected three octal digits "
                           f"(owner, group, others; USE=4, MANAGE=2, ADMIN=1), e.g. '640'")

    def clusters_view(self, obj: Any, declared: list[str]) -> list[str]:
        """The clusters of an object (``CLUSTERS``) as declared: ids when every declared one is an id (nothing to
        read), else names (one read of the cluster pool)."""
        ids = id_list(obj.CLUSTERS)
        if declared and all(str(name).isdigit() for name in declared):
            return sorted(str(i) for i in ids)
        return self.names_of("cluster", ids)

    def sync_clusters(self, member: str, object_id: int, current_ids: list[int], names: list[str]) -> None:
        """Make the object (a ``vnet``, ``datastore`` or ``host``) belong to exactly the named clusters."""
        sync_ids(current_ids, self.ids_of("cluster", names, "clusters"),
                 lambda cluster_id: self.call(f"cluster.add{member}", cluster_id, object_id),
                 lambda cluster_id: self.call(f"cluster.del{member}", cluster_id, object_id))

    def declared_template(self, current: Mapping[str, Any],
                          declared: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The current values of the template attributes the task declares (``attributes`` unless ``declared``)."""
        if self.params["state"] == "absent":
            return {}
        if declared is None:
            declared = one_template.normalize(self.params.get("attributes"), "attributes")
        return {key: current.get(key) for key in declared}

    # ----------------------------------------------------------------- the declarative run
    def run(self) -> None:
        if self.batchable and self.module.params.get("objects") is not None:
            self.run_objects()
        try:
            self.check_input()
            self.client = OneClient(Credentials.resolve(self.params))
            result = self._converge()
        except OneError as exc:
            self.module.fail_json(msg=str(exc), error_kind=exc.kind, api_calls=self._call_counts())
        except one_template.TemplateError as exc:
            self.module.fail_json(msg=str(exc), error_kind="input", api_calls=self._call_counts())
        result["api_calls"] = self._call_counts()
        self.module.exit_json(**result)

    def check_input(self) -> None:
        """Every check of the selected object's options that needs no API call (raises naming the field)."""
        self._validate_ownership()
        self._validate_declared_values()
        self.validate()

    def select(self, params: dict[str, Any]) -> None:
        """Make ``params`` (one object's options) the object being converged."""
        self.params = params
        self.name = params[self.key_option]

    def object_params(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """One entry of ``objects`` over the shared options, checked against the options of one object."""
        declared = {k: v for source in (self.module.params, item) for k, v in source.items()
                    if k in self.object_spec and v is not None}  # what is not given is left to the defaults
        checked = ArgumentSpecValidator(self.object_spec, mutually_exclusive=self.mutually_exclusive,
                                        required_if=self.required_if).validate(declared)
        if checked.error_messages:
            raise OneError("; ".join(checked.error_messages), kind="input")
        connection = {k: v for k, v in self.module.params.items() if k in CONNECTION_ARGSPEC}
        return {**checked.validated_parameters, **connection}

    def run_objects(self) -> None:
        """Converge every object of ``objects`` in their order in one process, then exit with a result per object.

        Every object's input is checked first: one bad object fails the task, naming it, before any call. Then
        each object is converged as a task of its own would be (check mode, diff, facts, calls); an object that
        fails is reported, naming it, and the next ones are still converged (as the items of a loop were), except
        after a connection or authentication failure, when the rest are reported as not attempted.
        """
        declared: list[dict[str, Any]] = []
        errors: list[str] = []
        names: dict[str, int] = {}
        for index, item in enumerate(self.module.params["objects"]):
            where = f"objects[{index}]" + (f" ({item.get(self.key_option)})" if item.get(self.key_option) else "")
            try:
                params = self.object_params(item)
                self.select(params)
                self.check_input()
            except (OneError, one_template.TemplateError) as exc:
                errors.append(f"{where}: {exc}")
                continue
            if params[self.key_option] in names:
                errors.append(f"{where}: {self.kind.label} '{self.name}' is declared twice (also objects"
                              f"[{names[self.name]}]); declare each object once")
            names.setdefault(self.name, index)
            declared.append(params)
        if errors:
            self.module.fail_json(msg=f"{len(errors)} of the {len(self.module.params['objects'])} declared "
                                      f"{self.kind.label}s are wrong, nothing was changed: {' | '.join(errors)}",
                                  error_kind="input", errors=errors, api_calls=self._call_counts())
        try:
            self.client = OneClient(Credentials.resolve(self.module.params))
            for index, params in enumerate(declared):  # what they name exists, before any write
                self.select(params)
                try:
                    if params["state"] != "absent":
                        self.declared_views()
                except (OneError, one_template.TemplateError) as exc:
                    if getattr(exc, "kind", "input") in ("connection", "authentication"):
                        raise
                    errors.append(f"objects[{index}] ({self.name}): {exc}")
        except OneError as exc:
            self.module.fail_json(msg=str(exc), error_kind=exc.kind, api_calls=self._call_counts())
        if errors:
            self.module.fail_json(msg=f"{len(errors)} of the {len(declared)} declared {self.kind.label}s name "
                                      f"objects that do not exist, nothing was changed: {' | '.join(errors)}",
                                  error_kind="input", errors=errors, api_calls=self._call_counts())
        results: list[dict[str, Any]] = []
        stopped: dict[str, Any] | None = None  # the failure after which no call can succeed
        for params in declared:
            if stopped is not None:
                results.append({"name": params[self.key_option], "changed": False, "not_attempted": True})
                continue
            results.append(self._converge_declared(params))
            if results[-1].get("error_kind") in ("connection", "authentication"):
                stopped = results[-1]
        outcome: dict[str, Any] = {"changed": any(r.get("changed") for r in results), "objects": results,
                                   "api_calls": self._call_counts()}
        diffs = [{**r["diff"], "before_header": f"{self.kind.label} {r['name']}",
                  "after_header": f"{self.kind.label} {r['name']}"} for r in results if "diff" in r]
        if diffs:
            outcome["diff"] = diffs
        failed = [r for r in results if r.get("failed")]
        if failed:
            skipped = sum(1 for r in results if r.get("not_attempted"))
            tail = f" ({skipped} not attempted after: {stopped['msg']})" if stopped and skipped else ""
            self.module.fail_json(msg=f"{len(failed)} of {len(results)} {self.kind.label}s failed: "
                                      f"{' | '.join(r['msg'] for r in failed)}{tail}", **outcome)
        self.module.exit_json(**outcome)

    def _converge_declared(self, params: dict[str, Any]) -> dict[str, Any]:
        """One object of ``objects``: its result with its own API calls, or its failure naming it."""
        assert self.client is not None
        self.select(params)
        result: dict[str, Any] = {"name": self.name}
        total, writes = sum(self.client.calls.values()), self.client.writes
        try:
            result.update(self._converge())
        except (OneError, one_template.TemplateError) as exc:
            kind = getattr(exc, "kind", "input")
            result.update(failed=True, error_kind=kind, msg=f"{self.kind.label} '{self.name}': {exc}")
            result["changed"] = self.client.writes > writes  # what it did before failing
        result["api_calls"] = {"total": sum(self.client.calls.values()) - total, "writes": self.client.writes - writes}
        return result

    def _call_counts(self) -> dict[str, int]:
        if self.client is None:
            return {"total": 0, "writes": 0}
        return {"total": sum(self.client.calls.values()), "writes": self.client.writes}

    def _converge(self) -> dict[str, Any]:
        return self.converge_object(self.params[self.key_option])

    def converge_object(self, name: str) -> dict[str, Any]:
        """Bring the object called ``name`` to the declared state; the result of the task for that object."""
        self.name = name
        obj = self.lookup(name)
        if self.params["state"] == "absent":
            if obj is None:
                return {"changed": False, self.fact_name: {}}
            before = self.facts(obj)
            if not self.module.check_mode:
                self.delete(obj)
                self.forget(obj)
            return {"changed": True, self.fact_name: {}, "diff": {"before": before, "after": {}}}

        desired, own = self.declared_views()
        if obj is None:
            after = {"name": name, **desired, **own}
            if self.module.check_mode:
                return {"changed": True, self.fact_name: after, "diff": {"before": {}, "after": after}}
            new_id = self.create(desired)
            obj = self.after_create(new_id)
            if own:
                current_own = self._ownership_current(obj, own)
                todo = {k: v for k, v in own.items() if not one_template.same_value(v, current_own.get(k))}
                if todo:
                    self._apply_ownership(new_id, todo)
                    obj = self.info(new_id)
            self.remember(obj)
            return {"changed": True, self.fact_name: self.facts(obj), "diff": {"before": {}, "after": after}}

        desired = {**desired, **own}
        current = {**self.current(obj), **self._ownership_current(obj, own)}
        changes = {k: v for k, v in desired.items() if not self.same(k, v, current.get(k))}
        result: dict[str, Any] = {}
        skipped = sorted(set(changes) & set(self.create_only))
        if skipped:
            for key in skipped:
                self.module.warn(f"{self.kind.label} '{name}' (id {obj.ID}): {key} differs (is {current.get(key)!r}, "
                                 f"declared {changes.pop(key)!r}) but is only used at creation; not applied")
            result["not_applied"] = skipped
        if not changes:
            if not self.module.check_mode:
                obj = self.settle(obj)
            return {"changed": False, self.fact_name: self.facts(obj), **result}
        blocked = sorted(set(changes) & set(self.immutable))
        if blocked:
            detail = "; ".join(f"{k}: is {current.get(k)!r}, declared {changes[k]!r}" for k in blocked)
            raise OneError(
                f"{self.kind.label} '{name}' (id {obj.ID}) cannot change {', '.join(blocked)} in place ({detail}); "
                f"delete it first (state: absent) to re-create it"
            )
        diff: dict[str, dict[str, Any]] = {"before": {"name": name}, "after": {"name": name}}
        for key, value in changes.items():
            diff["before"][key], diff["after"][key] = self._diff_values(value, current.get(key))
        result.update(changed=True, diff=diff, changes=sorted(changes))
        if self.module.check_mode:
            return {**result, self.fact_name: self.facts(obj)}
        own_changes = {k: changes.pop(k) for k in OWNERSHIP_KEYS if k in changes and self.ownable}
        if changes:
            self.apply(obj, changes, desired)
        self._apply_ownership(int(obj.ID), own_changes)
        obj = self.info(int(obj.ID))
        self.remember(obj)
        return {**result, self.fact_name: self.facts(obj)}

    def declared_views(self) -> tuple[View, View]:
        """The desired view and the declared ownership, every object they name resolved (fails naming the field
        before any write)."""
        own = self._ownership_desired()
        desired = self.desired()
        self._resolve_references(desired)
        if own:
            self._resolve_references(own, {"owner": "user", "group": "group"})
        return desired, own

    def _resolve_references(self, desired: View, references: dict[str, str] | None = None) -> None:
        """Fail, naming the field, when a declared related object does not exist (before any write)."""
        for key, api in (self.references if references is None else references).items():
            value = desired.get(key)
            for name in value if isinstance(value, list) else ([] if value is None else [value]):
                self.id_of(api, name, key)

    @staticmethod
    def _diff_values(desired: Any, current: Any) -> tuple[Any, Any]:
        """Before/after of one changed key; for attribute dicts, only the attributes that change."""
        if isinstance(desired, Mapping) and isinstance(current, Mapping):
            changed = one_template.differences(desired, current)
            return {k: current.get(k) for k in changed}, changed
        return current, desired


def _item_spec(object_spec: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The options of one entry of ``objects`` as AnsibleModule sees them: any value (each entry is checked, naming
    it, against the options of one object), secrets still masked, no default (the shared options fill them)."""
    return {name: {"type": "raw", "no_log": bool(option.get("no_log")), "aliases": list(option.get("aliases", []))}
            for name, option in object_spec.items()}


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


def permissions_of(obj: Any) -> str:
    """An object's PERMISSIONS as the octal mode of ``one* chmod`` (USE=4, MANAGE=2, ADMIN=1), e.g. ``'640'``."""
    perms = obj.PERMISSIONS
    return "".join(
        str(4 * int(getattr(perms, f"{who}_U")) + 2 * int(getattr(perms, f"{who}_M")) + int(getattr(perms, f"{who}_A")))
        for who, _bits in _PERM_BITS
    )


def owner_facts(obj: Any) -> dict[str, str]:
    """The owner, group and permissions of an owned object, for its facts."""
    return {"owner": obj.UNAME, "group": obj.GNAME, "permissions": permissions_of(obj)}


def ref_view(declared: Any, object_id: Any, object_name: str) -> str:
    """How a related object declared by name or id reads now: its id when declared as an id, else its name."""
    return str(object_id) if str(declared).isdigit() else str(object_name)


def permission_bits(mode: str) -> list[int]:
    """The nine arguments of ``one.<kind>.chmod`` for an octal mode such as ``'640'``."""
    bits: list[int] = []
    for digit in str(mode):
        value = int(digit)
        bits += [(value >> 2) & 1, (value >> 1) & 1, value & 1]
    return bits


def sync_ids(current: Iterable[int], wanted: Iterable[int], add: Callable[[int], Any],
             remove: Callable[[int], Any]) -> None:
    """Make a membership set exactly ``wanted``: ``add`` what is missing, then ``remove`` what is left over."""
    current, wanted = set(current), set(wanted)
    for member in sorted(wanted - current):
        add(member)
    for member in sorted(current - wanted):
        remove(member)


def labels_of(value: Any) -> list[str]:
    """OpenNebula labels (the ``LABELS`` attribute, comma-separated, as Sunstone writes them) as a sorted list."""
    if isinstance(value, (list, tuple)):
        items = value
    else:
        items = str(value or "").split(",")
    return sorted({str(item).strip() for item in items if str(item).strip()})
