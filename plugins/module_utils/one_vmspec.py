# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The virtual machine definition shared by one_template and one_vm: CPU, memory, disks, NICs, context, ...

Options are validated before any API call (errors name the field and the expected form) and turned into
OpenNebula template attributes: a disk's image and a NIC's network by name become ``IMAGE``/``IMAGE_UNAME`` and
``NETWORK``/``NETWORK_UNAME`` (the owner, so that another user's object is found), by id ``IMAGE_ID``/``NETWORK_ID``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

from ansible_collections.eole.hapy.plugins.module_utils import one_template
from ansible_collections.eole.hapy.plugins.module_utils.one_client import OneError
from ansible_collections.eole.hapy.plugins.module_utils.one_module import KINDS

#: The VM definition options (merged into the argument_spec of one_template and one_vm).
VM_SPEC_ARGSPEC: dict[str, dict[str, Any]] = {
    "cpu": {"type": "float"},
    "vcpu": {"type": "int"},
    "memory": {"type": "int"},
    "disks": {"type": "list", "elements": "dict"},
    "nics": {"type": "list", "elements": "dict"},
    "context": {"type": "dict"},
    "graphics": {"type": "dict"},
    "os": {"type": "dict"},
    "features": {"type": "dict"},
    "inputs": {"type": "list", "elements": "dict"},
}

#: Template attributes that hold vectors declared as a whole (replaced, never merged sub-attribute by sub-attribute).
VECTOR_KEYS = ("DISK", "NIC", "CONTEXT", "GRAPHICS", "OS", "FEATURES", "INPUT")


def validate_vm_spec(params: dict[str, Any]) -> None:
    """Check the VM definition options; :class:`OneError` names the first bad field."""
    if params.get("cpu") is not None and params["cpu"] <= 0:
        raise OneError(f"cpu: {params['cpu']} is not a CPU share; expected a positive number, e.g. 0.5 or 2")
    for key, unit in (("vcpu", "virtual CPUs"), ("memory", "MB")):
        if params.get(key) is not None and params[key] < 1:
            raise OneError(f"{key}: {params[key]} is out of range; expected a positive number of {unit}")
    for index, disk in enumerate(params.get("disks") or []):
        fields = _upper(disk)
        if not _given(fields, "IMAGE", "IMAGE_ID", "SIZE"):
            raise OneError(f"disks[{index}]: expected image (name or id of an image) or size (MB, volatile disk)")
        if fields.get("SIZE") is not None and not str(fields["SIZE"]).isdigit():
            raise OneError(f"disks[{index}].size: {fields['SIZE']!r} is not a size; expected a number of MB")
    for index, nic in enumerate(params.get("nics") or []):
        fields = _upper(nic)
        if not _given(fields, "NETWORK", "NETWORK_ID", "NETWORK_MODE"):
            raise OneError(f"nics[{index}].network: required (name or id of a virtual network)")
        if fields.get("IP"):
            try:
                ipaddress.IPv4Address(str(fields["IP"]))
            except ValueError:
                raise OneError(f"nics[{index}].ip: {fields['IP']!r} is not an IPv4 address, e.g. 10.20.0.10") from None
        groups = fields.get("SECURITY_GROUPS")
        if groups is not None and not isinstance(groups, list):
            raise OneError(f"nics[{index}].security_groups: expected a list of security group names or ids")
    for key, value in (params.get("context") or {}).items():
        if str(key).upper().endswith("_BASE64") and not _is_base64(value):
            raise OneError(f"context.{key}: not valid base64; a *_BASE64 context value holds base64-encoded text "
                           f"(e.g. {{{{ script | b64encode }}}})")
    for key in ("context", "graphics", "os", "features"):
        one_template.normalize({key: params.get(key) or {}}, key)
    for index, item in enumerate(params.get("inputs") or []):
        one_template.normalize({"INPUT": item}, f"inputs[{index}]")


def vm_spec_template(module: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The declared VM definition as template attributes; names of images, networks and groups are resolved."""
    template: dict[str, Any] = {}
    for key, value in (("CPU", params.get("cpu")), ("VCPU", params.get("vcpu")), ("MEMORY", params.get("memory"))):
        if value is not None:
            template[key] = one_template.scalar(value)
    if params.get("disks") is not None:
        template["DISK"] = _collapse([_disk(module, i, d) for i, d in enumerate(params["disks"])])
    if params.get("nics") is not None:
        template["NIC"] = _collapse([_nic(module, i, n) for i, n in enumerate(params["nics"])])
    for option, key in (("context", "CONTEXT"), ("graphics", "GRAPHICS"), ("os", "OS"), ("features", "FEATURES")):
        if params.get(option) is not None:
            template[key] = one_template.normalize({key: params[option]}, option)[key]
    if params.get("inputs") is not None:
        template["INPUT"] = _collapse([one_template.normalize({"INPUT": x}, f"inputs[{i}]")["INPUT"]
                                       for i, x in enumerate(params["inputs"])])
    return template


def capacity_error(template: dict[str, Any], vm: str, source: str) -> str | None:
    """Why oned would refuse a VM of this merged template (``VirtualMachine::insert``: MEMORY, an integer, and CPU, a
    number, are required and positive), naming the option that fixes it; None when it would accept it."""
    for option, key, kind, example in (("memory", "MEMORY", int, "1024"), ("cpu", "CPU", float, "1")):
        value = template.get(key)
        try:
            given = kind(str(value)) > 0
        except ValueError:
            given = False
        if not given:
            found = "has no " + key if value in (None, "") else f"sets {key} = {value!r}"
            return (f"{option}: required to create VM '{vm}': template '{source}' {found} and oned refuses a VM "
                    f"without a positive {key}; expected {option} (e.g. {example}) or {key} in the template")
    return None


def _collapse(vectors: list[dict[str, str]]) -> Any:
    """One vector as a dict, several as a list: the shape OpenNebula returns them in."""
    return vectors[0] if len(vectors) == 1 else vectors


def _upper(item: dict[str, Any]) -> dict[str, Any]:
    return {str(k).upper(): v for k, v in item.items()}


def _given(fields: dict[str, Any], *keys: str) -> bool:
    return any(fields.get(key) not in (None, "") for key in keys)


def _pop_first(fields: dict[str, Any], *keys: str) -> Any:
    """The first of ``keys`` given (removing them all from ``fields``), or None."""
    values = [fields.pop(key, None) for key in keys]
    return next((v for v in values if v not in (None, "")), None)


def _is_base64(value: Any) -> bool:
    try:
        base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _reference(module: Any, api: str, ref: Any, field: str, attr: str) -> dict[str, str]:
    """``{ATTR: name, ATTR_UNAME: owner}`` for a name, ``{ATTR_ID: id}`` for an id; fails naming ``field``."""
    if str(ref).isdigit():
        return {f"{attr}_ID": str(ref)}
    obj = module.find(KINDS[api], str(ref))
    if obj is None:
        module.id_of(api, str(ref), field)  # fails naming the field, or in check mode assumes an earlier task
        return {attr: str(ref)}
    return {attr: obj.NAME, f"{attr}_UNAME": obj.UNAME}


def _disk(module: Any, index: int, disk: dict[str, Any]) -> dict[str, str]:
    fields = _upper(disk)
    vector: dict[str, Any] = {}
    image = _pop_first(fields, "IMAGE", "IMAGE_ID")
    if image is not None:
        vector.update(_reference(module, "image", image, f"disks[{index}].image", "IMAGE"))
    vector.update(fields)
    return one_template.normalize({"DISK": vector}, f"disks[{index}]")["DISK"]


def _nic(module: Any, index: int, nic: dict[str, Any]) -> dict[str, str]:
    fields = _upper(nic)
    vector: dict[str, Any] = {}
    network = _pop_first(fields, "NETWORK", "NETWORK_ID")
    if network is not None:
        vector.update(_reference(module, "vn", network, f"nics[{index}].network", "NETWORK"))
    groups = fields.pop("SECURITY_GROUPS", None)
    vector.update(fields)
    if groups is not None:
        ids = module.ids_of("secgroup", [str(g) for g in groups], f"nics[{index}].security_groups")
        vector["SECURITY_GROUPS"] = ",".join(str(i) for i in ids)
    return one_template.normalize({"NIC": vector}, f"nics[{index}]")["NIC"]


def vector_differences(desired: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """Declared attributes that differ; vectors (:data:`VECTOR_KEYS`) must match exactly, others as declared."""
    changed = {}
    for key, value in desired.items():
        if key in VECTOR_KEYS:
            if as_list(value) != as_list(current.get(key)):
                changed[key] = value
        elif not one_template.same_value(value, current.get(key)):
            changed[key] = value
    return changed


def as_list(value: Any) -> list[Any]:
    """A repeatable template attribute (absent, one vector or several) as a list."""
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]
