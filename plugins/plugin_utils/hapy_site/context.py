# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A guest as OpenNebula boots it: NICs, CONTEXT (config.eol, first-boot script, password hash) and what is given
to the VM alone (SECRET_CONTEXT)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.common import HapySiteError, Network, academy_settings
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.eole_config import dump_eole_config, eole_config
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.guests import guest_links
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.plan import plan_by_name
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.shadow_crypt import salt_for, sha512_crypt

START_SCRIPT = r"""#!/bin/bash
# eole.hapy — first boot of an EOLE guest (OpenNebula START_SCRIPT_BASE64; one-context runs it at every boot).
# 1. once only: the marker /etc/eole/.hapy-instance-done ends every later run at once;
# 2. writes /etc/eole/config.eol from EOLE_CONFIG_EOL_BASE64 (checked to be JSON first, mode 0600);
# 3. registers with Zéphir when ZEPHIR_ADDRESS is set (enregistrement_zephir, prompts answered below);
# 4. runs EOLE's `instance` unattended: its root/eole password prompts get a one-time random password, replaced
#    right after by EOLE_ROOT_PASSWORD_HASH_BASE64 (a SHA-512 crypt hash: the clear password never reaches the
#    guest's context); every yes/no question (update now, VPN, HA...) answered "non" — updates are applied by Maj-Auto
#    beforehand when EOLE_UPDATE=YES;
# 5. marks the guest done and halts when HAPY_HALT=YES, so that Hâpy boots it again with NETCFG_TYPE=none
#    (EOLE owns the network from then on).
# Log: /var/log/hapy-instance.log
set -euo pipefail
marker=/etc/eole/.hapy-instance-done
[[ -e $marker ]] && exit 0
exec >>/var/log/hapy-instance.log 2>&1
echo "== $(date -Is) hapy first boot"

answer() {  # answer <command...>: run an interactive EOLE command in a pty, answering its prompts by pattern;
           # the password asked for is HAPY_ANSWER_PASSWORD_BASE64 (root/eole for instance, Zéphir's for registration)
  python3 - "$@" <<'PY'
import base64, os, pty, re, sys
password = base64.b64decode(os.environ.get("HAPY_ANSWER_PASSWORD_BASE64", "")).decode()
answers = [
    (rb"(?i)mot de passe[^\n]*:\s*$", password),                 # root/eole passwords and confirmations
    (rb"(?i)(login|utilisateur)[^\n]*:\s*$", os.environ.get("ZEPHIR_USER", "")),
    (rb"(?i)adresse[^\n]*zephir[^\n]*:\s*$", os.environ.get("ZEPHIR_ADDRESS", "")),
    (rb"(?i)\b(identifiant|id)\b[^\n]*serveur[^\n]*:\s*$", os.environ.get("ZEPHIR_ID", "")),
    (rb"(?i)choix[^\n]*:\s*$", os.environ.get("ZEPHIR_MENU", "1")),
    (rb"(?i)\[oui/non\][^\n]*:?\s*$", "non"),
]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    seen = (seen + chunk)[-512:]
    for pattern, reply in answers:
        if re.search(pattern, seen):
            os.write(fd, reply.encode() + b"\n")
            seen = b""
            break
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
}

install -d -m 0755 /etc/eole
umask 077
printf '%s' "$EOLE_CONFIG_EOL_BASE64" | base64 -d >/etc/eole/config.eol.hapy
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' /etc/eole/config.eol.hapy
mv /etc/eole/config.eol.hapy /etc/eole/config.eol

if [[ -n ${ZEPHIR_ADDRESS:-} ]] && ! enregistrement_zephir --check >/dev/null 2>&1; then
  HAPY_ANSWER_PASSWORD_BASE64=${ZEPHIR_PASSWORD_BASE64:-} answer enregistrement_zephir
fi
if [[ ${EOLE_UPDATE:-NO} == YES ]]; then
  Maj-Auto
fi
onetime=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)Aa1-
HAPY_ANSWER_PASSWORD_BASE64=$(printf '%s' "$onetime" | base64 -w0) answer instance
unset onetime
if [[ -n ${EOLE_ROOT_PASSWORD_HASH_BASE64:-} ]]; then
  hash=$(printf '%s' "$EOLE_ROOT_PASSWORD_HASH_BASE64" | base64 -d)
  for account in root eole; do
    if id "$account" >/dev/null 2>&1; then usermod -p "$hash" "$account"; fi
  done
fi
touch "$marker"
echo "== $(date -Is) instance done"
if [[ ${HAPY_HALT:-NO} == YES ]]; then
  poweroff
fi
"""


#: SHA-512 crypt rounds of the guests' root/eole password hash (glibc's default is 5000; ~0.1 s here)
ROOT_PASSWORD_ROUNDS = 100_000


def b64(text: str) -> str:
    """UTF-8 text as base64 (OpenNebula *_BASE64 context values)."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def guest_context(guest: Mapping[str, Any], school: Mapping[str, Any], plan: Iterable[Network],
                  academy: Mapping[str, Any] | None = None, stage: str = "install",
                  root_password: str | None = None) -> dict[str, Any]:
    """OpenNebula ``NIC`` list and ``CONTEXT`` vector of a guest (upper-case template keys, string values), and
    ``SECRET_CONTEXT``: what the guest needs in clear at first boot (Zéphir's password), never put in a template.

    The root/eole password is in ``CONTEXT`` as a SHA-512 crypt hash only (``EOLE_ROOT_PASSWORD_HASH_BASE64``).

    ``stage``: ``install`` (first boot: the context configures the network, START_SCRIPT writes config.eol and runs
    ``instance``, then the guest halts) or ``run`` (later boots: ``NETCFG_TYPE=none``, EOLE owns the network).
    Profile ``other`` gets networking and hostname only. Raises :class:`HapySiteError` for an unknown stage.
    """
    if stage not in ("install", "run"):
        raise HapySiteError(f"stage: {stage!r}; expected install or run")
    plan = list(plan)
    nets = plan_by_name(plan)
    links = guest_links(guest, nets)
    nic_list = [{"NETWORK": net["vnet_name"], "IP": nic["ip"], "MODEL": "virtio"} for nic, net in links]
    context: dict[str, str] = {"NETWORK": "YES", "SET_HOSTNAME": str(guest["name"]),
                               "SSH_PUBLIC_KEY": "$USER[SSH_PUBLIC_KEY]"}
    secrets: dict[str, str] = {}
    doc = eole_config(guest, school, plan, academy)
    if doc is not None:
        settings = academy_settings(academy)
        context["EOLE_CONFIG_EOL_BASE64"] = b64(dump_eole_config(doc))
        context["START_SCRIPT_BASE64"] = b64(START_SCRIPT)
        password = guest.get("root_password") or root_password
        if password:  # a crypt hash only, its salt from the school and guest names (the same hash on every run);
            # base64 as oned reads '$' in a VM's CONTEXT as a variable ("$6$rounds=..." fails the instantiation)
            salt = salt_for(str(school.get("uai", "")), str(guest["name"]))
            context["EOLE_ROOT_PASSWORD_HASH_BASE64"] = b64(sha512_crypt(str(password), salt, ROOT_PASSWORD_ROUNDS))
        zephir = settings.get("zephir") or {}
        if zephir.get("address") and guest.get("zephir_id"):
            context.update(ZEPHIR_ADDRESS=str(zephir["address"]), ZEPHIR_USER=str(zephir.get("user", "")),
                           ZEPHIR_ID=str(guest["zephir_id"]), ZEPHIR_MENU=str(zephir.get("menu", "1")))
            # needed in clear by enregistrement_zephir: given to the VM at instantiation only (never in the
            # template) and removed from it once the guest is installed (eole.hapy.one_vm secret_context)
            secrets["ZEPHIR_PASSWORD_BASE64"] = b64(str(zephir.get("password", "")))
        if stage == "install":
            context["HAPY_HALT"] = "YES"
        else:
            context["NETCFG_TYPE"] = "none"
    return {"NIC": nic_list, "CONTEXT": context, "SECRET_CONTEXT": secrets}
