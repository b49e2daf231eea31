"""A counting XML-RPC proxy in front of a real ``oned``.

Why a proxy rather than oned's own request log: the log only names methods at DEBUG level, is written
asynchronously (a test reading it right after a call can miss the last lines) and cannot be reset; the proxy
counts every call synchronously, per method, before the answer reaches the client, and resets in one call.
It answers the stand-in's test-only methods (``sim.calls``, ``sim.reset_calls``) itself, so a playbook test
reads counts the same way from either endpoint. Everything else is forwarded byte for byte.
"""

from __future__ import annotations

import collections
import http.client
import http.server
import re
import socketserver
import threading
import xmlrpc.client
from typing import Any

METHOD_RE = re.compile(rb"<methodName>\s*([^<\s]+)\s*</methodName>")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        match = METHOD_RE.search(body[:4096])
        method = match.group(1).decode() if match else ""
        counter = self.server.counter
        if method.startswith("sim."):
            answer = counter.answer(method)
            self._reply(200, xmlrpc.client.dumps((answer,), methodresponse=True, allow_none=True).encode())
            return
        counter.count(method)
        status, payload = self.server.forward(body, self.headers.get("Content-Type", "text/xml"))
        self._reply(status, payload)

    def _reply(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class CallCounter:
    """Calls per method, thread-safe."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def count(self, method: str) -> None:
        with self._lock:
            self.calls[method] += 1

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.calls)

    def answer(self, method: str) -> Any:
        if method == "sim.calls":
            return self.snapshot()
        if method == "sim.reset_calls":
            self.reset()
            return True
        return xmlrpc.client.Fault(-506, f"Method '{method}' not defined (counting proxy)")


class _ProxyServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int], counter: CallCounter) -> None:
        super().__init__(listen, _Handler)
        self.upstream = upstream
        self.counter = counter
        self._local = threading.local()

    def forward(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a kept-alive connection oned closed meanwhile is retried once
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = http.client.HTTPConnection(*self.upstream, timeout=300)
            try:
                conn.request("POST", "/RPC2", body, {"Content-Type": content_type})
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, ConnectionError, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


class CountingProxy:
    """``CountingProxy(("127.0.0.1", oned_port)).start()``; ``url``, ``counter``, ``stop()``."""

    def __init__(self, upstream: tuple[str, int], listen: tuple[str, int] = ("127.0.0.1", 0)) -> None:
        self.counter = CallCounter()
        self._server = _ProxyServer(listen, upstream, self.counter)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self.port}/RPC2"

    def start(self) -> CountingProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), daemon=True,
                                        name="oned-counting-proxy")
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(0.5)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
