"""A real HTTP server on 127.0.0.1 that answers like the platforms' APIs.

Connectors' real ``requests`` code paths run against it. One server serves every platform
under a prefix (``/meta``, ``/x``, ``/linkedin``); tests script responses and read what was sent.
Platform modules in this package register default handlers with ``route``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"
    # Seconds to wait before answering (a slow receiver, a client's timeout).
    delay: float = 0.0


Handler = Callable[[Recorded, re.Match], Reply]


class FakePlatformServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: list[tuple[str, re.Pattern, Handler]] = []
        self._scripted: list[tuple[str, re.Pattern, Reply]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- configuration ---
    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """A default behaviour: ``handler(request, match)`` for matching requests."""
        with self._lock:
            self._routes.append((method.upper(), re.compile(pattern), handler))

    def script(self, method: str, pattern: str, *replies: Reply) -> None:
        """The next matching requests get these replies, in order, before the defaults."""
        with self._lock:
            for reply in replies:
                self._scripted.append((method.upper(), re.compile(pattern), reply))

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._scripted.clear()

    def sent(self, method: str, pattern: str) -> list[Recorded]:
        regex = re.compile(pattern)
        return [r for r in list(self.requests) if r.method == method and regex.search(r.path)]

    # --- lifecycle ---
    def start(self) -> FakePlatformServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- serving ---
    def _answer(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            for index, (method, pattern, reply) in enumerate(self._scripted):
                if method == request.method and pattern.search(request.path):
                    del self._scripted[index]
                    return reply
            routes = list(self._routes)
        for method, pattern, handler in routes:
            match = pattern.search(request.path)
            if method == request.method and match:
                return handler(request, match)
        return Reply(404, {"error": {"message": f"no fake for {request.method} {request.path}"}})

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = server._answer(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = do_PUT = _serve  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        return Handler
