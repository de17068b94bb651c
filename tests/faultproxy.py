"""A small HTTP proxy on 127.0.0.1 in front of moto's server that answers chosen S3 errors for chosen keys or
listings, and forwards everything else: the faults a real bucket gives (a denied object, an SSE-KMS object whose key
the reader may not use, a 404 between listing and reading, a listing that keeps failing) against a real client.

S3 is addressed path-style (`/bucket/key`), as boto3 does for an IP endpoint. `counts` counts every request by
its kind (`kind_of`: s3:LIST, s3:GET, sqs:ReceiveMessage, ...), faulted or forwarded, for the tests that bound what
a job costs in requests.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


@dataclass
class Fault:
    """Answer `status` with S3 error `code` to a GET of `key` (ending in `*`: every key it starts; a listing when
    `key` is None, of `prefix` or any); `times` answers then forwards (None: always)."""

    status: int
    code: str
    key: str | None = None
    prefix: str | None = None
    times: int | None = None
    hits: int = 0

    def matches(self, method: str, key: str, query: dict[str, list[str]]) -> bool:
        if method != "GET" or (self.times is not None and self.hits >= self.times):
            return False
        if self.key is not None:
            return key.startswith(self.key[:-1]) if self.key.endswith("*") else key == self.key
        if key or "list-type" not in query:
            return False
        return self.prefix is None or query.get("prefix", [""])[0].startswith(self.prefix)


def kind_of(method: str, path: str, target: str | None, body: bytes) -> str:
    """What a request to moto is: SQS by its JSON target or query Action, S3 by method, a listing by list-type."""
    if target and "." in target:
        return f"sqs:{target.rsplit('.', 1)[1]}"
    parts = urlsplit(path)
    query = parse_qs(parts.query, keep_blank_values=True)
    if method == "POST" and not query:
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if action:
            return f"sqs:{action[0]}"
    if method == "GET" and "list-type" in query:
        return "s3:LIST"
    return f"s3:{method}"


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults: list[Fault] = []
        self.counts: Counter[str] = Counter()  # requests seen, by kind_of
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                proxy.handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle  # noqa: N815 - http.server's names

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fail(
        self,
        code: str,
        status: int,
        *,
        key: str | None = None,
        prefix: str | None = None,
        times: int | None = None,
    ) -> Fault:
        fault = Fault(status, code, key, prefix, times)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()

    def _fault_for(self, method: str, path: str) -> Fault | None:
        parts = urlsplit(path)
        segments = unquote(parts.path).lstrip("/").split("/", 1)
        key = segments[1] if len(segments) > 1 else ""
        query = parse_qs(parts.query, keep_blank_values=True)
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, key, query):
                    fault.hits += 1
                    return fault
        return None

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        with self.lock:
            self.counts[kind_of(req.command, req.path, req.headers.get("X-Amz-Target"), body)] += 1
        fault = self._fault_for(req.command, req.path)
        if fault is not None:
            payload = (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{fault.code}</Code>'
                f"<Message>injected {fault.code}</Message><RequestId>fault</RequestId></Error>"
            ).encode()
            req.send_response(fault.status)
            req.send_header("Content-Type", "application/xml")
            req.send_header("Content-Length", str(len(payload)))
            req.end_headers()
            req.wfile.write(payload)
            return
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in req.headers.items() if k.lower() not in _HOP}
            conn.request(req.command, req.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            req.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in _HOP:
                    req.send_header(k, v)
            length_of = resp.getheader("Content-Length", "0") if req.command == "HEAD" else str(len(data))
            req.send_header("Content-Length", length_of)
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(data)
        finally:
            conn.close()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fault_proxy(upstream: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
