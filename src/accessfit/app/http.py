"""The daemon's HTTP server: /metrics (the registry), /healthz (the process answers), /readyz (ingestion is
keeping up, as the daemon judges it), fixed pages such as /runbook, each rendered once before serving, and routes
answered per request from their query string (the review API, app.api). Requests are not logged: scrapes every few
seconds would flood the journal.

A connection costs no thread until it has sent something: one thread accepts connections and waits on a selector
for them to become readable, closes those idle for longer than `timeout`, and keeps at most MAX_WAITING of them
(the oldest idle one is closed first, so a flood of idle sockets cannot shut a scraper out). A fixed pool of
`workers` threads answers the connections that sent something, each within `timeout` for the whole request and
its response (a client that trickles its headers is cut off then). When the pool is MAX_QUEUED_PER_WORKER times
over-subscribed, a new request is answered 503 at once. So any number of idle or slow sockets holds a bounded
number of threads and descriptors, and /metrics still answers.
"""

from __future__ import annotations

import contextlib
import io
import selectors
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, cast

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from accessfit.errors import ListenError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

log = structlog.get_logger(__name__)

MAX_WAITING = 128  # accepted connections that have sent nothing yet
MAX_QUEUED_PER_WORKER = 4  # requests waiting for a worker, per worker, before new ones get 503
_BUSY = b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Page:
    """A fixed response: the same bytes for every GET of its path."""

    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Reply:
    """A route's answer to one request."""

    status: int
    body: bytes
    content_type: str


Route = Callable[[str], Reply]  # the query string (after `?`, undecoded) -> the answer; runs on a worker thread


# A page is read-only text: no script, frame, form or outside request (its own inline style aside), and browsers
# must not guess another type for it.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def address_text(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Server:
    """Bound at construction (so a port in use fails before anything starts); serves from `start()` on.
    `listen` is a numeric IPv4 or IPv6 address and a port (0: any free port)."""

    def __init__(
        self,
        listen: tuple[str, int],
        registry: CollectorRegistry,
        ready: Callable[[], bool],
        *,
        workers: int = 4,
        timeout: float = 10.0,
        pages: Mapping[str, Page] | None = None,
        routes: Mapping[str, Route] | None = None,
    ) -> None:
        host, port = listen
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._listener = socket.create_server((host, port), family=family, backlog=128)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ListenError(f"cannot listen on {address_text(host, port)}: {reason}") from exc
        self._listener.setblocking(False)
        self._timeout = timeout
        self._workers = workers
        self._handler = _handler(registry, ready, dict(pages or {}), dict(routes or {}))
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="http-worker")
        self._selector = selectors.DefaultSelector()
        self._waiting: dict[socket.socket, float] = {}  # accept order is deadline order: the oldest first
        self._busy = 0  # requests handed to the pool and not finished
        self._answering: set[socket.socket] = set()  # the connections workers hold, cut short by close()
        self._busy_lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive():
            self._wake_w.send(b"x")
            self._thread.join()
        with self._busy_lock:
            for conn in self._answering:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)  # a worker waiting on a slow client returns now
        self._pool.shutdown(wait=True, cancel_futures=True)
        for conn in list(self._waiting):
            self._drop(conn)
        self._selector.close()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    # -- the accepting thread ------------------------------------------------------------------------------------

    def _serve(self) -> None:
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        while True:
            for key, _ in self._selector.select(self._until_next_expiry()):
                sock = key.fileobj
                if sock is self._wake_r:
                    return
                if sock is self._listener:
                    self._accept()
                elif isinstance(sock, socket.socket):
                    self._dispatch(sock)
            self._expire()

    def _until_next_expiry(self) -> float:
        if not self._waiting:
            return 1.0
        return max(0.0, next(iter(self._waiting.values())) - time.monotonic())

    def _accept(self) -> None:
        for _ in range(64):  # then serve the others before accepting more
            try:
                conn, _peer = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:  # out of descriptors, or the peer left before accept
                log.warning("http.accept_failed", error=str(exc))
                time.sleep(0.05)  # the listener stays readable: do not spin on it
                return
            conn.setblocking(False)
            self._waiting[conn] = time.monotonic() + self._timeout
            self._selector.register(conn, selectors.EVENT_READ)
            while len(self._waiting) > MAX_WAITING:
                self._drop(next(iter(self._waiting)))

    def _expire(self) -> None:
        now = time.monotonic()
        while self._waiting:
            conn, deadline = next(iter(self._waiting.items()))
            if deadline > now:
                return
            self._drop(conn)

    def _drop(self, conn: socket.socket) -> None:
        self._waiting.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(conn)
        conn.close()

    def _dispatch(self, conn: socket.socket) -> None:
        self._waiting.pop(conn, None)
        self._selector.unregister(conn)
        with self._busy_lock:
            full = self._busy >= self._workers * (1 + MAX_QUEUED_PER_WORKER)
            if not full:
                self._busy += 1
                self._answering.add(conn)
        if full:
            with contextlib.suppress(OSError):
                conn.recv(65536)  # what the client sent: closing with it unread would reset the connection
                conn.send(_BUSY)
                conn.shutdown(socket.SHUT_WR)
            conn.close()
            return
        self._pool.submit(self._answer, conn, time.monotonic() + self._timeout)

    # -- a worker ------------------------------------------------------------------------------------------------

    def _answer(self, conn: socket.socket, deadline: float) -> None:
        """Answer one request by `deadline`, counted from when it arrived: time spent queued counts too."""
        try:
            conn.setblocking(True)
            # The handler's `server` argument is only kept by it; this one carries the deadline.
            self._handler(conn, conn.getpeername(), cast(Any, _Deadline(deadline)))
        except OSError:
            pass  # the client left, or ran out of time
        except Exception:
            log.exception("http.failed")
        finally:
            with self._busy_lock:
                self._busy -= 1
                self._answering.discard(conn)
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


@dataclass(frozen=True, slots=True)
class _Deadline:
    at: float


class _Timed(io.RawIOBase):
    """A connection's reads and writes, each allowed only what is left of the request's time: a per-read timeout
    alone would let a client that sends one byte at a time hold a worker for ever."""

    def __init__(self, conn: socket.socket, deadline: float) -> None:
        super().__init__()
        self._conn = conn
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def _left(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request took too long")
        self._conn.settimeout(left)

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._left()
        return self._conn.recv_into(memoryview(buffer))

    def write(self, data: ReadableBuffer) -> int:
        self._left()
        view = memoryview(data)
        self._conn.sendall(view)
        return view.nbytes


def _handler(
    registry: CollectorRegistry, ready: Callable[[], bool], pages: dict[str, Page], routes: dict[str, Route]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def setup(self) -> None:
            self.connection = self.request
            timed = _Timed(self.connection, cast(_Deadline, self.server).at)
            self.rfile = io.BufferedReader(timed)
            self.wfile = io.BufferedWriter(timed)

        def finish(self) -> None:
            pass  # the worker closes the connection

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            headers: Mapping[str, str] = {}
            if path in pages:
                page = pages[path]
                body, status, kind, headers = page.body, 200, page.content_type, _PAGE_HEADERS
            elif path in routes:
                reply = routes[path](query)
                body, status, kind, headers = reply.body, reply.status, reply.content_type, _PAGE_HEADERS
            elif path == "/metrics":
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
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
