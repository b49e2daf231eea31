"""XML-RPC transport: a threaded ``/RPC2`` server answering like oned.

Answers are arrays ``[True, result, 0]`` on success and
``[False, "[method] message", code, resp_id, replication_idx]`` on failure
(``Request::failure_response``).  Test-only methods live outside the ``one.``
namespace: ``sim.calls``, ``sim.reset_calls`` and ``sim.settle``.
"""

from __future__ import annotations

import collections
import copy
import socketserver
import threading
import xmlrpc.client
import xmlrpc.server
from typing import Any, ClassVar

from . import authz, errors
from .engine import HANDLERS, Ctx, on_driver_step
from .methods import compute
from .store import DRIVEN, Store, password_hash

READ_SUFFIXES = (".info", ".infoextended", ".raftstatus")
READ_METHODS = frozenset({"one.system.version", "one.system.config", "one.acl.info"})


def is_write(method: str) -> bool:
    """True for methods that change oned's state (anything but info/pool info/version/config)."""
    if not method.startswith("one."):
        return False
    return not (method in READ_METHODS or method.endswith(READ_SUFFIXES))


WRITE_METHODS = frozenset(m for m in HANDLERS if is_write(m))


class I8(int):
    """An integer marshalled as ``<i8>`` (oned's replication index)."""


def _dump_i8(marshaller: xmlrpc.client.Marshaller, value: int, write: Any) -> None:
    write(f"<value><i8>{int(value)}</i8></value>\n")


class _Marshaller(xmlrpc.client.Marshaller):
    """Standard marshaller that also knows :class:`I8`."""

    dispatch: ClassVar[dict] = {**xmlrpc.client.Marshaller.dispatch, I8: _dump_i8}


class _Handler(xmlrpc.server.SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2", "/")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class _RPCServer(socketserver.ThreadingMixIn, xmlrpc.server.SimpleXMLRPCServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple, owner: OnedServer, verbose: bool = False) -> None:
        self.owner = owner
        self.verbose = verbose
        super().__init__(addr, requestHandler=_Handler, logRequests=verbose, allow_none=False)

    def _marshaled_dispatch(self, data: bytes, dispatch_method: Any = None,
                            path: Any = None) -> bytes:
        try:
            params, method_name = xmlrpc.client.loads(data, use_builtin_types=True)
            response = self.owner.call(method_name, params)
            body = _Marshaller("utf-8", False).dumps((response,))
            out = ("<?xml version='1.0'?>\n<methodResponse>\n" + body + "</methodResponse>\n")
        except xmlrpc.client.Fault as fault:
            out = xmlrpc.client.dumps(fault, methodresponse=True)
        except Exception as exc:  # malformed request: a fault, as xmlrpc-c answers
            out = xmlrpc.client.dumps(xmlrpc.client.Fault(-503, f"{type(exc).__name__}: {exc}"),
                                      methodresponse=True)
        return out.encode("utf-8", "xmlcharrefreplace")


class OnedServer:
    """A fake ``oned`` endpoint; ``start()`` serves it on a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 2633,
                 credentials: str = "oneadmin:opennebula", state_file: str | None = None,
                 version: str = "6.10.0", step: float = 0.3, verbose: bool = False) -> None:
        self.store = Store(credentials=credentials, step=step, state_file=state_file,
                           version=version)
        self.calls: collections.Counter = collections.Counter()
        self._calls_lock = threading.Lock()
        self._server = _RPCServer((host, port), self, verbose)
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        """Bound TCP port (useful with ``port=0``)."""
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """``http://host:port/RPC2``."""
        host = self._server.server_address[0]
        return f"http://{host}:{self.port}/RPC2"

    def start(self) -> OnedServer:
        """Serve on a daemon thread; returns self."""
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="fake-oned", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread (used by ``python -m tests.oned``)."""
        self._server.serve_forever()

    def close(self) -> None:
        """Close the listening socket (after ``serve_forever`` returned)."""
        self._server.server_close()

    def stop(self) -> None:
        """Stop serving (background thread) and close the socket."""
        self._server.shutdown()
        self.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset_calls(self) -> None:
        """Forget the call counts."""
        with self._calls_lock:
            self.calls.clear()

    def settle(self) -> None:
        """Test-only: run every pending driver step now (hosts monitored, images READY,
        pending VMs deployed and booted...), as if enough time had passed."""
        with self.store.lock:
            for _ in range(100):
                busy = False
                for kind in DRIVEN:
                    for obj in self.store.objs(kind).values():
                        for entry in obj.get("_SCHED", []):
                            entry[0], busy = 0, True
                        if kind == "vm" and obj["STATE"] == 1:
                            obj["PENDING_SINCE"] = 0
                self._advance()
                if not busy and not any(o.get("_SCHED") for o in self.store.objs("vm").values()):
                    break
            self.store.save()

    def _advance(self) -> None:
        self.store.tick(lambda kind, obj, fields: on_driver_step(self.store, kind, obj, fields))
        compute.schedule_pending(self.store)

    # ------------------------------------------------------------- dispatch
    def call(self, method_name: str, params: tuple) -> Any:
        """Run one XML-RPC call and build oned's answer array."""
        if method_name == "sim.calls":
            with self._calls_lock:
                return dict(self.calls)
        if method_name == "sim.reset_calls":
            self.reset_calls()
            return True
        if method_name == "sim.settle":
            self.settle()
            return True
        with self._calls_lock:
            self.calls[method_name] += 1
        handler = HANDLERS.get(method_name)
        if handler is None:
            raise xmlrpc.client.Fault(-506, f"Method '{method_name}' not defined")
        if not params or not isinstance(params[0], str):
            raise xmlrpc.client.Fault(-501, "Type mismatch: expected a session string")
        with self.store.lock:
            self._advance()
            write = is_write(method_name)
            before = copy.deepcopy(self.store.pools) if write else None
            try:
                ctx = self._authenticate(method_name, params[0])
                authz.check_call(ctx, method_name, params[1:])
                try:
                    result = handler(ctx, *params[1:])
                except (TypeError, ValueError, AttributeError) as exc:  # bad argument types
                    raise xmlrpc.client.Fault(-501, f"Type mismatch: {exc}") from exc
            except BaseException as err:
                if before is not None:  # a failed request leaves nothing behind (ids included)
                    self.store.pools = before
                if not isinstance(err, errors.OnedError):
                    raise
                return [False, f"[{method_name}] {err.message}", err.code, err.resp_id, I8(-1)]
            if write:
                self.store.save()
        return [True, result, 0]

    def _authenticate(self, method_name: str, session: str) -> Ctx:
        user_name, _, password = session.partition(":")
        for user in self.store.objs("user").values():
            if user["NAME"] != user_name or not user["ENABLED"]:
                continue
            if user["AUTH_DRIVER"] == "core" and password_hash(password) != user["PASSWORD"] \
                    and password != user["PASSWORD"]:
                break
            if user["AUTH_DRIVER"] != "core" and password != user["PASSWORD"]:
                break
            group = self.store.objs("group").get(user["GID"], {"NAME": ""})
            return Ctx(self.store, method_name, user["ID"], user["GID"], user["NAME"],
                           group["NAME"], list(user["GROUPS"]))
        raise errors.authentication()
