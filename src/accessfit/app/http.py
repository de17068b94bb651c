"""The daemon's HTTP server: /metrics (the registry), /healthz (the process answers) and /readyz (ingestion is
keeping up, as the daemon judges it). Requests are not logged: scrapes every few seconds would flood the journal."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from accessfit.errors import ListenError


class Server:
    """Bound at construction (so a port in use fails before anything starts); serves from `start()` on."""

    def __init__(self, listen: tuple[str, int], registry: CollectorRegistry, ready: Callable[[], bool]) -> None:
        host, port = listen
        handler = _handler(registry, ready)
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def _handler(registry: CollectorRegistry, ready: Callable[[], bool]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, status, kind = generate_latest(registry), 200, CONTENT_TYPE_LATEST
            elif path == "/healthz":
                body, status, kind = b"ok\n", 200, "text/plain"
            elif path == "/readyz":
                ok = ready()
                body = b"ready\n" if ok else b"no successful poll recently\n"
                status, kind = (200 if ok else 503), "text/plain"
            else:
                body, status, kind = b"not found\n", 404, "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
