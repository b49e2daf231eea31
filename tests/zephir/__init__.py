"""A small Zéphir-like XML-RPC endpoint for tests (standard library only).

It answers the calls Hâpy's ``deploy-auto`` made (EOLE's CI copy: ``output/ggrandgerard/deploy-auto.py``) the way
EOLE's CI client reads them (``scripts/monitor3/monitor_eole_ci4.py``): HTTP basic authentication (401 otherwise),
``get_permissions(user)``, ``serveurs.get_config(id)`` -> ``[1, {variable: value}]`` (``[0, message]`` for an unknown
id: the message is ours, Zéphir's own wording was not found), ``serveurs.groupe_serveur({"rne": ...},
{"var_1": [name, value, False]}, False)`` -> ``[1, [{"id", "rne", "libelle"}]]`` (servers of that school number
whose variable has that value). Plain HTTP on loopback; Zéphir itself speaks HTTPS on port 7080.

    with ZephirServer({4242: {"rne": "9740001A", "config": {...}}}, users={"hapy": "pw"}) as zephir:
        zephir.url, zephir.calls
"""

from __future__ import annotations

import base64
import threading
from collections import Counter
from typing import Any
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer


class ZephirServer:
    """Servers ``{id: {"rne": school number, "config": {variable: value}}}``; accounts ``{user: password}``."""

    def __init__(self, servers: dict[int, dict[str, Any]], users: dict[str, str], host: str = "127.0.0.1",
                 port: int = 0):
        self.servers = servers
        self.calls: Counter[str] = Counter()
        accepted = {"Basic " + base64.b64encode(f"{u}:{p}".encode()).decode() for u, p in users.items()}
        calls = self.calls

        class Handler(SimpleXMLRPCRequestHandler):
            rpc_paths = ("/", "/RPC2")

            def parse_request(self) -> bool:
                if not super().parse_request():
                    return False
                if self.headers.get("Authorization") in accepted:
                    return True
                calls["refused"] += 1
                self.send_error(401, "Unauthorized")
                return False

        self.server = SimpleXMLRPCServer((host, port), requestHandler=Handler, allow_none=True, logRequests=False)
        for name, function in (("get_permissions", self.get_permissions), ("serveurs.get_config", self.get_config),
                               ("serveurs.groupe_serveur", self.groupe_serveur)):
            self.server.register_function(self._counted(name, function), name)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _counted(self, name: str, function: Any) -> Any:
        def call(*args: Any) -> Any:
            self.calls[name] += 1
            return function(*args)
        return call

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> ZephirServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ZephirServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ the calls
    @staticmethod
    def get_permissions(user: str) -> list[Any]:
        return [1, [1, 2, 3]]

    def get_config(self, server_id: int) -> list[Any]:
        server = self.servers.get(int(server_id))
        if server is None:
            return [0, f"serveur {server_id} inconnu"]
        return [1, server["config"]]

    def groupe_serveur(self, criteria: dict[str, Any], variables: dict[str, Any] | None = None,
                       _strict: bool = False) -> list[Any]:
        found = []
        for server_id, server in sorted(self.servers.items()):
            if "rne" in criteria and server["rne"] != criteria["rne"]:
                continue
            if any(server["config"].get(name) != value for name, value, *_ in (variables or {}).values()):
                continue
            found.append({"id": server_id, "rne": server["rne"], "libelle": server["config"].get("nom_machine", "")})
        return [1, found]
