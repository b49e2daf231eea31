# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action eole.hapy.hapy_zephir_guests: a school's guests as its Zéphir declares them (documented in the module).

The Zéphir client is here (the controller talks to Zéphir, read only); what is made of the answers is pure and
lives in ``plugin_utils/hapy_site/zephir.py``.
"""

from __future__ import annotations

import base64
import ssl
import xmlrpc.client
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ansible.plugins.action import ActionBase
from ansible_collections.eole.hapy.plugins.plugin_utils.hapy_site.zephir import (
    SITE_VARIABLE,
    deployment_mode,
    server_list,
    validate_deployment,
    zephir_guests,
    zephir_settings,
)


class ZephirError(Exception):
    """Zéphir could not be read; the message names the setting to check (never a password)."""


class _Transport(xmlrpc.client.SafeTransport):
    """XML-RPC over HTTP or HTTPS with basic authentication in a header (never in the URL, so that no error
    message can carry it), a time-out, and the TLS context of ``hapy_academy.zephir``."""

    def __init__(self, user: str, password: str, timeout: float, secure: bool, context: ssl.SSLContext | None):
        super().__init__(context=context)
        self._auth = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._timeout = timeout
        self._secure = secure

    def make_connection(self, host: Any) -> Any:
        connection = super().make_connection(host) if self._secure \
            else xmlrpc.client.Transport.make_connection(self, host)
        connection.timeout = self._timeout
        return connection

    def send_headers(self, connection: Any, headers: list[tuple[str, str]]) -> None:
        super().send_headers(connection, [*headers, ("Authorization", f"Basic {self._auth}")])


class ZephirClient:
    """The calls Hâpy's ``deploy-auto`` made to Zéphir (``get_permissions``, ``serveurs.groupe_serveur``,
    ``serveurs.get_config``), with errors that say what to fix."""

    def __init__(self, settings: Mapping[str, Any]):
        self.url = str(settings["api_url"])
        self.user = str(settings["user"])
        secure = urlsplit(self.url).scheme == "https"
        context = None
        if secure:
            context = ssl.create_default_context(cafile=settings.get("ca_file") or None)
            if not settings.get("validate_certs", True):
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        transport = _Transport(self.user, str(settings["password"]), float(settings.get("timeout") or 360), secure,
                               context)
        self.proxy = xmlrpc.client.ServerProxy(self.url, transport=transport, allow_none=True)

    def call(self, method: Callable[..., Any], what: str, *args: Any) -> Any:
        try:
            return method(*args)
        except xmlrpc.client.ProtocolError as exc:
            if exc.errcode in (401, 403):
                raise ZephirError(f"Zéphir at {self.url} refused user {self.user!r} (HTTP {exc.errcode}); expected "
                                  "hapy_academy.zephir.user and password of a Zéphir account allowed to read server "
                                  "configurations") from None
            raise ZephirError(f"Zéphir at {self.url}: HTTP {exc.errcode} {exc.errmsg} on {what}") from None
        except xmlrpc.client.Fault as exc:
            raise ZephirError(f"Zéphir at {self.url}: {what} failed: {exc.faultString}") from None
        except ssl.SSLError as exc:
            raise ZephirError(f"Zéphir at {self.url}: TLS error {exc.reason or exc}; expected its CA in "
                              "hapy_academy.zephir.ca_file") from None
        except (OSError, xmlrpc.client.ResponseError) as exc:
            raise ZephirError(f"cannot reach Zéphir at {self.url} ({exc}); check hapy_academy.zephir.address "
                              "(or api_url)") from None

    def answer(self, method: Callable[..., Any], what: str, *args: Any) -> Any:
        """The data of a ``[code, data]`` answer (code 1 is success, Zéphir's convention)."""
        reply = self.call(method, what, *args)
        if not isinstance(reply, (list, tuple)) or len(reply) != 2:
            raise ZephirError(f"Zéphir at {self.url}: {what} answered {reply!r}; expected [code, data]")
        if reply[0] != 1:
            raise ZephirError(f"Zéphir at {self.url}: {what} refused: {reply[1]}")
        return reply[1]

    def check_login(self) -> None:
        self.call(self.proxy.get_permissions, "get_permissions", self.user)

    def site_servers(self, rne: str) -> list[int]:
        """The servers of a school number whose ``activer_modele_vm`` is ``oui`` (``dp_mode`` site)."""
        name, value = SITE_VARIABLE
        servers = self.answer(self.proxy.serveurs.groupe_serveur, f"serveurs.groupe_serveur (rne {rne})",
                              {"rne": rne}, {"var_1": [name, value, False]}, False)
        return [int(server["id"]) for server in servers]

    def config(self, server_id: int) -> Any:
        return self.answer(self.proxy.serveurs.get_config, f"serveurs.get_config({server_id}) "
                           "(hapy_deployment.server_ids or the site's servers)", server_id)


def fetch_configs(settings: Mapping[str, Any], deployment: Mapping[str, Any],
                  school: Mapping[str, Any]) -> dict[int, Any]:
    """``{server id: configuration}`` of the servers ``deployment`` names, in deployment order."""
    client = ZephirClient(settings)
    client.check_login()
    dp_mode = str(deployment["dp_mode"])
    site_ids: list[int] = []
    if dp_mode in ("site", "mixte"):
        for rne in deployment.get("rne") or [school["uai"]]:
            site_ids += client.site_servers(str(rne))
    return {server_id: client.config(server_id)
            for server_id in server_list(dp_mode, site_ids, deployment.get("server_ids") or [])}


class ActionModule(ActionBase):
    """Fails with every error at once; returns the Zéphir guests in the inventory's form (plus their Zéphir facts)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("deployment", "zephir", "school", "plan", "guests"))

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = self._task.args
        deployment, school = args.get("deployment") or {}, args.get("school") or {}
        academy = {"zephir": args.get("zephir")} if args.get("zephir") else {}
        result.update(changed=False, guests=[], server_ids=[])
        errors = validate_deployment(deployment, academy, school)
        if not errors and deployment_mode(deployment) == "zephir":
            try:
                configs = fetch_configs(zephir_settings(academy), deployment, school)
            except ZephirError as exc:
                return {**result, "failed": True, "msg": str(exc), "errors": [str(exc)]}
            guests, errors = zephir_guests(configs, deployment, args.get("plan") or [], args.get("guests") or [])
            result.update(guests=guests, server_ids=list(configs))
        result["errors"] = errors
        if errors:
            result.update(failed=True, guests=[],
                          msg=f"{len(errors)} error(s) in the Zéphir deployment of {school.get('uai')}, nothing "
                              "was changed:\n" + "\n".join(errors))
        return result
