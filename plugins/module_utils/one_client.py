# -*- coding: utf-8 -*-
# Copyright: eole.hapy contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenNebula client: connection settings, the pyone session, error translation and waiting.

This is the only place in the collection that imports pyone.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

try:
    import pyone

    PYONE_IMPORT_ERROR: Exception | None = None
except ImportError as exc:  # pragma: no cover - depends on the controller
    pyone = None
    PYONE_IMPORT_ERROR = exc

DEFAULT_API_URL = "http://localhost:2633/RPC2"

#: Connection options shared by every module (merged into each module's argument_spec).
CONNECTION_ARGSPEC: dict[str, dict[str, Any]] = {
    "api_url": {"type": "str", "aliases": ["api_endpoint"]},
    "api_username": {"type": "str"},
    "api_password": {"type": "str", "no_log": True},
    "api_timeout": {"type": "int", "default": 30},
    "validate_certs": {"type": "bool", "default": True},
}

#: Methods that only read; every other method is a write (used for call accounting).
READ_METHOD_SUFFIXES = ("info", "version", "config")

T = TypeVar("T")


class OneError(Exception):
    """An OpenNebula call failed; the message is ready for a module failure."""

    def __init__(self, message: str, method: str = "", kind: str = "error"):
        super().__init__(message)
        self.method = method
        self.kind = kind


class Credentials:
    """Where to connect and as whom, resolved like OpenNebula's CLI does."""

    def __init__(self, url: str, username: str, password: str, timeout: int = 30, validate_certs: bool = True):
        self.url = url
        self.username = username
        self.password = password
        self.timeout = timeout
        self.validate_certs = validate_certs

    @property
    def session(self) -> str:
        return f"{self.username}:{self.password}"

    @classmethod
    def resolve(cls, params: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Credentials:
        """Module options first, then ONE_URL (or ONE_XMLRPC), ONE_USERNAME, ONE_PASSWORD, then the ONE_AUTH file.

        The ONE_AUTH file (default ``~/.one/one_auth``) holds ``username:password`` on its first line.
        """
        env = os.environ if environ is None else environ
        url = params.get("api_url") or env.get("ONE_URL") or env.get("ONE_XMLRPC") or DEFAULT_API_URL
        username = params.get("api_username") or env.get("ONE_USERNAME")
        password = params.get("api_password") or env.get("ONE_PASSWORD")
        if not (username and password):
            file_user, file_password = _read_one_auth(env)
            username = username or file_user
            password = password or file_password
        if not (username and password):
            raise OneError(
                "OpenNebula credentials missing: set api_username and api_password, or ONE_USERNAME and "
                "ONE_PASSWORD, or a ONE_AUTH file holding 'username:password'"
            )
        timeout = int(params.get("api_timeout") or 30)
        return cls(url, username, password, timeout, bool(params.get("validate_certs", True)))


def _read_one_auth(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    path = env.get("ONE_AUTH") or os.path.join(env.get("HOME", os.path.expanduser("~")), ".one", "one_auth")
    try:
        with open(path, encoding="utf-8") as handle:
            line = handle.readline().strip()
    except OSError:
        return None, None
    if ":" not in line:
        raise OneError(f"ONE_AUTH file {path}: expected 'username:password' on the first line")
    username, password = line.split(":", 1)
    return username, password


_ERROR_KINDS = (
    ("OneAuthenticationException", "authentication"),
    ("OneAuthorizationException", "authorization"),
    ("OneNoExistsException", "not_found"),
    ("OneActionException", "action"),
    ("OneApiException", "api"),
    ("OneInternalException", "internal"),
)


class OneClient:
    """A pyone session that counts calls and turns every failure into :class:`OneError`."""

    def __init__(self, credentials: Credentials, server: Any = None):
        if server is None:
            if pyone is None:
                raise OneError(f"the pyone Python library is required where this module runs: {PYONE_IMPORT_ERROR}")
            server = pyone.OneServer(
                credentials.url,
                session=credentials.session,
                timeout=credentials.timeout,
                https_verify=credentials.validate_certs,
            )
        self.credentials = credentials
        self.server = server
        self.calls: Counter[str] = Counter()

    def call(self, method: str, *args: Any) -> Any:
        """Call ``one.<method>`` (e.g. ``vn.allocate``) and return pyone's parsed answer."""
        self.calls[method] += 1
        target = self.server
        for part in method.split("."):
            target = getattr(target, part)
        try:
            return target(*args)
        except Exception as exc:  # pyone raises its own classes, plus socket/HTTP errors
            raise translate_error(method, exc, self.credentials.url) from exc

    @property
    def writes(self) -> int:
        return sum(n for method, n in self.calls.items() if not is_read(method))


def is_read(method: str) -> bool:
    """Whether an API method only reads (``*.info``, ``system.version``, ...)."""
    return method.rsplit(".", 1)[-1] in READ_METHOD_SUFFIXES


def translate_error(method: str, exc: Exception, url: str) -> OneError:
    """An OpenNebula/pyone/transport exception as a clear :class:`OneError`."""
    cls_name = type(exc).__name__
    for name, kind in _ERROR_KINDS:
        if cls_name == name:
            if kind == "authentication":
                return OneError(
                    f"OpenNebula at {url} refused the credentials ({exc}); check api_username/api_password",
                    method,
                    kind,
                )
            return OneError(f"OpenNebula one.{method} failed: {exc}", method, kind)
    if isinstance(exc, (ConnectionError, OSError)) or "Connection" in cls_name:
        return OneError(f"cannot reach OpenNebula at {url} (one.{method}): {exc}", method, "connection")
    return OneError(f"OpenNebula one.{method} failed: {cls_name}: {exc}", method)


def wait_for(
    fetch: Callable[[], T],
    ready: Callable[[T], bool],
    timeout: float,
    what: str,
    failed: Callable[[T], str | None] | None = None,
    interval: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Poll ``fetch`` until ``ready`` holds; raise :class:`OneError` on timeout or when ``failed`` names a failure."""
    deadline = clock() + timeout
    while True:
        value = fetch()
        if ready(value):
            return value
        problem = failed(value) if failed else None
        if problem:
            raise OneError(f"{what}: {problem}", kind="state")
        if clock() >= deadline:
            raise OneError(f"timed out after {timeout:g}s waiting for {what}", kind="timeout")
        sleep(interval)
        interval = min(interval * 1.5, 5.0)
