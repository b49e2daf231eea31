# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A guest as OpenNebula boots it: NICs, CONTEXT (config.eol, first-boot script, password hash), what is given to
the VM alone (SECRET_CONTEXT) and what changes between the boot stages (STAGE_CONTEXT).

The first-boot script is ``first_boot.sh`` beside this module (the one place it lives), sent as
``START_SCRIPT_BASE64``."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import (
    Errors,
    HapySiteError,
    Network,
    academy_settings,
)
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.eole_config import dump_eole_config, eole_config
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.guests import SAMBA_PROFILES, guest_links
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.plan import plan_by_name
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.releases import at_least, release_of
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.shadow_crypt import salt_for, sha512_crypt
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.zephir import (
    REGISTRATION_MENU,
    is_zephir_guest,
    zephir_context,
    zephir_nics,
)

START_SCRIPT = "#!/bin/bash\n" + Path(__file__).with_name("first_boot.sh").read_text(encoding="utf-8")
"""The guests' first-boot script: ``first_boot.sh`` behind its interpreter line (kept out of the collection's file for
ansible-test's shebang rule)."""

STAGES = ("install", "run")

UNATTENDED_FROM = "2.8.1"
"""First EOLE release with ``/usr/share/eole/sbin/instance-unattended`` (EOLE's CI runs its test from 2.8.1 on:
``tests/hapy/hapy-instance-unattended-*.yaml``, ``contrainte: version >= 2.8.1``)."""

#: SHA-512 crypt rounds of the guests' root/eole password hash (glibc's default is 5000; ~0.1 s here)
ROOT_PASSWORD_ROUNDS = 100_000

ADDC_MIN_LENGTH = 7
"""Samba AD's default minimum password length (``minPwdLength``)."""


def b64(text: str) -> str:
    """UTF-8 text as base64 (OpenNebula *_BASE64 context values)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def addc_password_errors(password: Any, path: str) -> Errors:
    """Errors of an AD administrator (``addc``) password: Samba AD's default complexity (at least 7 characters, three
    of upper case, lower case, digits and others, not the account's name) and what instance-unattended's password
    file carries (``addc <password>`` lines split on blanks: printable ASCII without blanks)."""
    if password in (None, ""):
        return []
    text = str(password)
    expected = ("expected at least 7 printable ASCII characters without blanks, with three of: upper case, lower "
                "case, digits, others (Samba AD's policy)")
    if not re.fullmatch(r"[!-~]+", text):
        return [f"{path}: contains a blank or a non-ASCII character; {expected}"]
    kinds = sum(bool(re.search(p, text)) for p in (r"[A-Z]", r"[a-z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if len(text) < ADDC_MIN_LENGTH or kinds < 3:
        return [f"{path}: too weak ({len(text)} characters, {kinds} kinds); {expected}"]
    if re.search(r"(?i)admin", text):
        return [f"{path}: contains the account name admin/Administrator; {expected}"]
    return []


def needs_ad_password(guest: Mapping[str, Any]) -> bool:
    """Whether the guest's ``instance`` creates a Samba AD domain (and asks for its administrator's password)."""
    return guest.get("profile") in SAMBA_PROFILES


def stage_context(guest: Mapping[str, Any], stage: str) -> dict[str, str]:
    """The context keys of an EOLE guest that change between its boots (Hâpy's three boots, the first of which,
    sizing the disk, OpenNebula does at instantiation): ``install`` runs the first-boot script and halts
    (a Zéphir guest's network by netplan), ``run`` leaves the network to EOLE (``NETCFG_TYPE=none``)."""
    if stage not in STAGES:
        raise HapySiteError(f"stage: {stage!r}; expected install or run")
    if stage == "install":
        return {"HAPY_HALT": "YES", **({"NETCFG_TYPE": "netplan"} if is_zephir_guest(guest) else {})}
    return {"HAPY_HALT": "NO", "NETCFG_TYPE": "none"}


def guest_context(guest: Mapping[str, Any], school: Mapping[str, Any], plan: Iterable[Network],
                  academy: Mapping[str, Any] | None = None, stage: str = "install",
                  root_password: str | None = None, addc_password: str | None = None,
                  instance_timeout: int | None = None) -> dict[str, Any]:
    """OpenNebula ``NIC`` list and ``CONTEXT`` vector of a guest (upper-case template keys, string values);
    ``SECRET_CONTEXT``: what the guest needs in clear at first boot (Zéphir's and the AD administrator's
    passwords), never put in a template; ``STAGE_CONTEXT``: the keys of ``CONTEXT`` that change between stages
    (see :func:`stage_context`).

    The root/eole password is in ``CONTEXT`` as a SHA-512 crypt hash only (``EOLE_ROOT_PASSWORD_HASH_BASE64``).
    A generated guest's ``CONTEXT`` carries its config.eol; a Zéphir guest (:mod:`.zephir`) gets Hâpy's keys
    instead and its config.eol from Zéphir when it registers. EOLE >= 2.8.1 guests install through
    ``instance-unattended`` (``EOLE_INSTANCE_UNATTENDED=YES``). Profile ``other`` gets networking and hostname only.
    Raises :class:`HapySiteError` for an unknown stage.
    """
    stages = stage_context(guest, stage)
    plan = list(plan)
    nets = plan_by_name(plan)
    context: dict[str, str] = {"NETWORK": "YES"}
    if is_zephir_guest(guest):
        nic_list, doc = zephir_nics(guest, nets), None
        context.update(SSH_PUBLIC_KEY="$USER[SSH_PUBLIC_KEY]", **zephir_context(guest))
    else:
        links = guest_links(guest, nets)
        nic_list = [{"NETWORK": net["vnet_name"], "IP": nic["ip"], "MODEL": "virtio"} for nic, net in links]
        context.update(SET_HOSTNAME=str(guest["name"]), SSH_PUBLIC_KEY="$USER[SSH_PUBLIC_KEY]")
        doc = eole_config(guest, school, plan, academy)
        if doc is None:
            return {"NIC": nic_list, "CONTEXT": context, "SECRET_CONTEXT": {}, "STAGE_CONTEXT": {}}
    secrets: dict[str, str] = {}
    if doc is not None:
        context["EOLE_CONFIG_EOL_BASE64"] = b64(dump_eole_config(doc))
    context["START_SCRIPT_BASE64"] = b64(START_SCRIPT)
    release = release_of(guest, school, academy)
    context["EOLE_RELEASE"] = release
    if at_least(release, UNATTENDED_FROM):
        context["EOLE_INSTANCE_UNATTENDED"] = "YES"
    if instance_timeout:
        context["HAPY_INSTANCE_TIMEOUT"] = str(int(instance_timeout))
    password = guest.get("root_password") or root_password
    if password:  # a crypt hash only, its salt from the school and guest names (the same hash on every run);
        # base64 as oned reads '$' in a VM's CONTEXT as a variable ("$6$rounds=..." fails the instantiation)
        salt = salt_for(str(school.get("uai", "")), str(guest["name"]))
        context["EOLE_ROOT_PASSWORD_HASH_BASE64"] = b64(sha512_crypt(str(password), salt, ROOT_PASSWORD_ROUNDS))
    zephir = academy_settings(academy).get("zephir") or {}
    if zephir.get("address") and guest.get("zephir_id"):
        menu = zephir.get("menu") or (REGISTRATION_MENU if is_zephir_guest(guest) else "1")
        context.update(ZEPHIR_ADDRESS=str(zephir["address"]), ZEPHIR_USER=str(zephir.get("user", "")),
                       ZEPHIR_ID=str(guest["zephir_id"]), ZEPHIR_MENU=str(menu))
        # needed in clear by enregistrement_zephir: given to the VM at instantiation only (never in the
        # template) and removed from it once the guest is installed (eole.hapy.one_vm secret_context)
        secrets["ZEPHIR_PASSWORD_BASE64"] = b64(str(zephir.get("password", "")))
    if addc_password and needs_ad_password(guest):  # instance-unattended's addc password, the same way
        secrets["HAPY_ADDC_PASSWORD_BASE64"] = b64(str(addc_password))
    context.update(stages)
    return {"NIC": nic_list, "CONTEXT": context, "SECRET_CONTEXT": secrets, "STAGE_CONTEXT": stages}
