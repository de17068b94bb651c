"""The local executor of the map step: objects read by the writer's fetch threads are mapped to partials in worker
processes (decoding and counting are CPU-bound and Python holds one core per process), and handed back in the
order they were read, so that the writer's cursors and exactly-once transactions work as they do in process.

The pool is started only for a pass with enough to read (an idle poll or a trickle of files is mapped in process:
starting workers would cost more than it saves) and lives until the pass ends. Workers come from a fork server —
never a fork of the daemon, whose threads may hold locks — with the map step already imported. Each worker has a
pipe of its own and maps a few objects ahead of the writer. When one dies (the OOM killer, a signal), every object
it had not answered for is mapped again alone, each by a new worker of its own: the one that ends its own worker
too is failed (`worker_died`, reported like any other failed object), the others count as they would have, and
the rest of the pass goes on.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import queue
import select
import signal
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerProcess
from typing import Any, Generic, TypeVar

import structlog

from accessfit.errors import DecodeError
from accessfit.jobs.gcpause import paused_collector
from accessfit.jobs.ingest.fetch import Fetched
from accessfit.jobs.ingest.partial import MapContext, Partial, map_bytes, map_in_worker
from accessfit.jobs.ingest.wire import decode, encode
from accessfit.model import LogObject
from accessfit.records.usage import Classifier

log = structlog.get_logger("accessfit.jobs.ingest")

WORKER_DIED = "worker_died"  # the reason of an object whose mapping kills its worker process (also a metric label)
# A pass's first objects are mapped in process; workers start only past this many (an idle poll or a trickle of
# files is not worth their start-up).
MIN_PARALLEL_OBJECTS = 16
# Objects handed to each worker ahead of the writer, at most: enough that workers go on while the writer commits.
PER_WORKER = 4
# How much lower workers run than the writer (os.nice): enough that the kernel gives the writer a core it wants
# (a weight about a tenth of the writer's) while workers still use every cycle it leaves.
WORKER_NICENESS = 10
# Compressed bytes handed to workers and not yet mapped, at most (besides what the fetch threads read ahead).
IN_FLIGHT_BYTES = 256 << 20

M = TypeVar("M")  # a mark carried through the stream (jobs.ingest.fetch.fetched_stream)
# What a worker runs for an object: jobs.ingest.partial.map_in_worker (a module-level function: workers import it).
Work = Callable[[LogObject, bytes, MapContext], Partial]
# What a worker's answer starts with: a partial (jobs.ingest.wire), or an exception the writer raises (pickled).
_PARTIAL, _RAISED = b"P", b"E"


def follow_writer(writer: int, niceness: int = WORKER_NICENESS) -> None:
    """In each worker process (of ingestion, and of jobs.builders): stops are the writer's to make (systemd
    signals the whole unit, a terminal the whole group): a worker finishes what it has and leaves when the writer
    shuts it down. And a writer that dies (SIGKILL, the OOM killer) takes its workers with it rather than leaving
    them waiting on its pipes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # The writer is the pass's one serial step: with as many workers as cores, a worker that held a core the
    # writer wanted stalled the whole pass (on two cores, the writer got about two thirds of one). Workers at a
    # lower priority take what the writer leaves and never its share.
    os.nice(niceness)
    try:
        fd = os.pidfd_open(writer)
    except ProcessLookupError:  # the writer died while this worker started
        os._exit(0)
    except (AttributeError, OSError):  # no pidfd (not Linux ≥ 5.3): the writer's shutdown still ends workers
        return

    def watch() -> None:
        select.select([fd], [], [])
        os._exit(0)

    threading.Thread(target=watch, name="writer-watch", daemon=True).start()


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def _exactly(fd: int, size: int) -> bytearray:
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = os.readv(fd, [view[got:]])
        if n == 0:
            raise EOFError if got == 0 else OSError("end of file inside a message")
        got += n
    return buf


def receive(conn: Connection) -> memoryview:
    """The next message `conn.send_bytes` sent, read into one buffer of its size. `Connection.recv_bytes` asks for
    all that remains at each read of the socket, so each of a large message's many reads allocated (and gave back)
    a buffer of the whole remainder: ten times the CPU for an object's or a partial's megabytes."""
    fd = conn.fileno()
    (size,) = struct.unpack("!i", _exactly(fd, 4))
    if size == -1:  # what send_bytes sends before the size of a message over 2 GiB
        (size,) = struct.unpack("!Q", _exactly(fd, 8))
    return memoryview(_exactly(fd, size))


@dataclass(frozen=True, slots=True)
class Mapped:
    """An object as read, and its partial — None when the read failed (then `fetched.failure` says why)."""

    fetched: Fetched
    partial: Partial | None


def _serve(conn: Connection, work: Work, writer: int, ctx: MapContext) -> None:
    """A worker's loop: objects in (each as its LogObject, then its bytes as they are, not pickled), partials out,
    encoded (jobs.ingest.wire), in order, until the writer says stop or goes away. Partials leave through a thread
    of their own, so the worker maps its next object while the writer is busy committing rather than waiting for
    the writer to read the last one."""
    follow_writer(writer)
    # What the worker imported and was handed lives as long as it does: kept out of the collector's passes.
    gc.freeze()
    outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def send() -> None:
        while (out := outbox.get()) is not None:
            try:
                conn.send_bytes(out)
            except OSError:  # the writer stopped waiting (a stop, or it is gone)
                os._exit(0)

    sender = threading.Thread(target=send, name="partials", daemon=True)
    sender.start()
    while True:
        try:
            obj = conn.recv()
            if obj is None:
                break
            data = bytes(receive(conn))
        except (EOFError, OSError):  # the writer closed the pipe or is gone
            break
        try:
            # The partial is encoded and freed before the collector runs again: a collection that ran after it
            # walked its rows (about one a mapped object), though they hold no cycles.
            with paused_collector():
                out = _PARTIAL + encode(work(obj, data, ctx))
        except Exception as exc:  # a defect, not the object's: the writer raises it as it would in process
            out = _RAISED + pickle.dumps(exc)
        outbox.put(out)
    outbox.put(None)
    sender.join()


@dataclass(slots=True)
class _Job:
    fetched: Fetched
    worker: _Worker | None = None  # None: the read failed, nothing to map
    result: Partial | None = None  # mapped again alone after its worker died (Mapper._result)


_STOP = None  # what tells a worker's sender, then the worker, to finish


@dataclass(slots=True)
class _Feed(Generic[M]):
    """The stream the workers map: what is not yet handed out, and the objects handed out in the stream's order
    (marks among them) whose partials the writer has not taken yet."""

    items: Iterator[Fetched | M]
    stop: threading.Event
    pending: deque[_Job | M] = field(default_factory=deque)
    in_flight: int = 0  # compressed bytes of the pending objects
    exhausted: bool = False


@dataclass(slots=True)
class _Worker:
    """One worker process, its pipe, and a thread that sends it objects: sending a large object blocks until the
    worker has read it, and the writer must not wait on that."""

    proc: ForkServerProcess
    conn: Connection
    outbox: queue.SimpleQueue[_Job | None] = field(default_factory=queue.SimpleQueue)

    def __post_init__(self) -> None:
        threading.Thread(target=self._send, name=f"map-send-{self.proc.pid}", daemon=True).start()

    def _send(self) -> None:
        while True:
            job = self.outbox.get()
            try:
                if job is None:
                    self.conn.send(None)
                    return
                self.conn.send(job.fetched.obj)
                self.conn.send_bytes(job.fetched.data)
            except OSError:  # the worker is gone: the writer learns it from the pipe's other direction
                return

    def result(self, obj: LogObject) -> Partial:
        """The partial of the oldest object not yet received, `obj`. EOFError (or OSError) when the worker died."""
        out = receive(self.conn)
        if out[:1] == _RAISED:
            raised = pickle.loads(out[1:])  # noqa: S301 - our own worker's, through our own pipe
            raise raised if isinstance(raised, BaseException) else TypeError(f"a worker raised {raised!r}")
        if out[:1] != _PARTIAL:
            raise TypeError(f"a worker answered {bytes(out[:16])!r}")
        return decode(obj, out[1:])

    def stop(self, wait: float) -> None:
        self.outbox.put(_STOP)
        self.proc.join(wait)
        if self.proc.is_alive():  # still mapping an object whose result nobody will read
            self.proc.kill()
            self.proc.join()
        self.conn.close()


class Mapper:
    """Maps fetched objects in process (`workers` ≤ 1) or in `workers` worker processes. Close it (or use it as a
    context manager) to stop the workers."""

    def __init__(self, ctx: MapContext, workers: int, classifier: Classifier, work: Work = map_in_worker) -> None:
        self.ctx, self.classifier, self.work = ctx, classifier, work
        self.workers = workers if workers > 0 else default_workers()
        self._pool: list[_Worker] = []
        self._next = 0
        self._feed: _Feed[Any] | None = None  # the stream being mapped by the workers, while it is

    def __enter__(self) -> Mapper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for w in self._pool:
            w.outbox.put(_STOP)
        for w in self._pool:
            w.stop(wait=2.0)
        self._pool = []

    def remap(self, fetched: Fetched, skip: set[tuple[int, int]]) -> Partial:
        """Map an object again, in process, with the events of `skip` left out (counted from another object)."""
        return map_bytes(fetched.obj, fetched.data, self.ctx, self.classifier, skip)

    def mapped(self, items: Iterable[Fetched | M], stop: threading.Event) -> Iterator[Mapped | M]:
        """The partials of the fetched `items`, in their order; marks (anything else) handed on in their place. The
        first objects are mapped in process, and workers start only when a pass has more than that to map."""
        it = iter(items)
        if self.workers > 1:
            seen = 0
            for item in it:
                yield self._inline(item)
                seen += isinstance(item, Fetched)
                if seen >= MIN_PARALLEL_OBJECTS:
                    break
            else:
                return
            yield from self._parallel(it, stop)
            return
        for item in it:
            yield self._inline(item)

    def _inline(self, item: Fetched | M) -> Mapped | M:
        if not isinstance(item, Fetched):
            return item
        if item.failure is not None:
            return Mapped(item, None)
        return Mapped(item, map_bytes(item.obj, item.data, self.ctx, self.classifier))

    def _spawn(self) -> _Worker:
        mp = multiprocessing.get_context("forkserver")
        mp.set_forkserver_preload([__name__])
        mine, theirs = mp.Pipe()
        proc = mp.Process(
            target=_serve, args=(theirs, self.work, os.getpid(), self.ctx), name="accessfit-map", daemon=True
        )
        proc.start()
        theirs.close()
        return _Worker(proc, mine)

    def _assign(self, job: _Job) -> None:
        """Queue the job to the next worker in turn (starting the workers on first use)."""
        if not self._pool:
            self._pool = [self._spawn() for _ in range(self.workers)]
        worker = self._pool[self._next % len(self._pool)]
        self._next += 1
        job.worker = worker
        worker.outbox.put(job)

    @property
    def parallel(self) -> bool:
        """Whether worker processes are mapping the stream now."""
        return self._feed is not None and bool(self._pool)

    def map_ahead(self, per_worker: int, max_bytes: int = IN_FLIGHT_BYTES) -> None:
        """Hand the workers objects until `per_worker` each are mapped ahead of the writer, or `max_bytes` of them:
        before the writer's main thread leaves the stream for long (a merge of staged usage), so that the workers
        map on the other cores meanwhile instead of waiting on it. Nothing happens in process or before the
        workers start."""
        if self._feed is not None:
            self._fill(self._feed, per_worker * self.workers, min(max_bytes, IN_FLIGHT_BYTES))

    def _fill(self, feed: _Feed[M], ahead: int, max_bytes: int = IN_FLIGHT_BYTES) -> None:
        # Always at least one object in hand, whatever its size.
        while not feed.exhausted and not feed.stop.is_set() and len(feed.pending) < ahead:
            if feed.pending and feed.in_flight >= max_bytes:
                return
            item = next(feed.items, None)
            if item is None:
                feed.exhausted = True
            elif isinstance(item, Fetched):
                job = _Job(item)
                if item.failure is None:
                    self._assign(job)
                    feed.in_flight += len(item.data)
                feed.pending.append(job)
            else:
                feed.pending.append(item)

    def _parallel(self, it: Iterator[Fetched | M], stop: threading.Event) -> Iterator[Mapped | M]:
        feed: _Feed[M] = _Feed(it, stop)
        self._feed = feed
        pending = feed.pending
        ahead = PER_WORKER * self.workers
        try:
            while True:
                # Keep the workers fed: up to PER_WORKER objects each, within the byte bound.
                self._fill(feed, ahead)
                if not pending:
                    return
                head = pending.popleft()
                if not isinstance(head, _Job):
                    yield head
                    continue
                if head.worker is None:
                    yield Mapped(head.fetched, None)
                    continue
                partial = self._result(head, pending)
                feed.in_flight -= len(head.fetched.data)
                yield Mapped(head.fetched, partial)
        finally:
            self._feed = None

    def _result(self, job: _Job, pending: deque[_Job | M]) -> Partial:
        """The job's partial. If its worker dies first, every object that worker had not answered for is mapped
        again alone, each by a new worker of its own: a worker maps ahead of what it has sent, so the object it
        died on may be any of them, and the one that ends a worker of its own is the one failed."""
        if job.result is not None:
            return job.result
        worker = job.worker
        assert worker is not None
        try:
            return worker.result(job.fetched.obj)
        except (EOFError, OSError):
            pass
        log.warning("ingest.worker_died", key=job.fetched.obj.key, exitcode=worker.proc.exitcode)
        worker.stop(wait=0)
        self._pool[self._pool.index(worker)] = self._spawn()
        unanswered = [j for j in pending if isinstance(j, _Job) and j.worker is worker and j.result is None]
        for j in [job, *unanswered]:
            j.result = self._alone(j)
        return job.result if job.result is not None else self._alone(job)

    def _alone(self, job: _Job) -> Partial:
        """Map one object in a worker of its own; a failed object (`worker_died`) if it ends that worker."""
        worker = self._spawn()
        job.worker = worker
        worker.outbox.put(job)
        try:
            out = worker.result(job.fetched.obj)
        except (EOFError, OSError):
            log.warning("object.worker_died", key=job.fetched.obj.key, exitcode=worker.proc.exitcode)
            out = Partial(job.fetched.obj, failure=DecodeError(WORKER_DIED, "its worker process died mapping it"))
        worker.stop(wait=2.0)
        return out
