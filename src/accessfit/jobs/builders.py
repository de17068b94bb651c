"""Policies built for many principals at once, in process or on worker processes.

Building (map each call, scope, split, validate, lint) is CPU-bound Python, and Python holds one core per
process: a regeneration of every principal of an organisation (the first poll after a big ingest, a new catalog)
is most of that poll's time. With workers, the writer hands chunks of principals to them in order; each worker
reads their usage from the index as a reader (SQLite lets readers run beside the one writer, and nothing a
regeneration writes is read to build), builds, and hands the policies back, and the writer writes and stores each
chunk, in order, while the workers build the next ones.

Few principals are built in process: starting workers would cost more than it saves, and an ordinary poll
regenerates a handful. Workers come from a fork server, never a fork of the daemon, whose threads may hold locks;
they leave stops (SIGINT, SIGTERM) to the writer, which finishes the chunk in hand and shuts them down.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections import deque
from collections.abc import Generator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from accessfit.errors import PolicyError
from accessfit.exporters.rendering import Prerendered
from accessfit.iam.catalog import Catalog
from accessfit.iam.mapping import CallMap
from accessfit.index import UsageIndex
from accessfit.jobs.authorized import Authorizations
from accessfit.jobs.drafts import Drafted, drafted
from accessfit.jobs.gcpause import paused_collector
from accessfit.jobs.ingest.workers import follow_writer
from accessfit.model import PolicyDraft, PrincipalRow, UsedCall, Window
from accessfit.policy import Limits, build
from accessfit.policy.lint import with_findings
from accessfit.policy.overrides import Override, apply
from accessfit.policy.shapes import ShapedNeeds, Shapes
from accessfit.policy.uses import CallNeeds

log = structlog.get_logger(__name__)

# Below this many due principals, build in process.
MIN_PARALLEL = 2_000
CHUNK = 500  # principals per chunk: one transaction and one group of files each
# How much lower the builders run than the writer (os.nice), read when they start: not at all. Ingestion's workers
# run below their writer, the pass's serial step; a regeneration's writer mostly waits for its builders, and
# builders niced +10 lost their cores to any other process: 285 s at 50,000 principals beside two busy processes,
# against 105 s at the writer's niceness (docs/benchmarks.md).
BUILDER_NICENESS = 0


@dataclass(frozen=True, slots=True)
class Recipe:
    """What building needs besides the index: the same in the writer and in every worker."""

    cat: Catalog
    limits: Limits
    window: Window
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True, slots=True)
class Built:
    """One principal's policy as built, drafted for the writer (`jobs.drafts.Drafted`): `policy` None when it could
    not be made or failed validation (`problems` say why), and the rules of the security lint's findings."""

    row: PrincipalRow
    policy: Drafted | None
    problems: list[str] = field(default_factory=list)
    lint: tuple[str, ...] = ()


class Builder:
    """Builds principals' policies over one index, remembering the authorization snapshots for the run (a new
    Builder per run)."""

    def __init__(self, index: UsageIndex, recipe: Recipe) -> None:
        self._index = index
        self._recipe = recipe
        self._authorized = Authorizations(index, recipe.cat, recipe.window)  # profiles' roles, what is granted now
        # Across chunks, the calls' shapes (policy.shapes): the same kinds of call on other principals' resources.
        self._shapes = Shapes()

    def __call__(self, rows: Sequence[PrincipalRow]) -> list[Built]:
        r = self._recipe
        # Principals repeat the same calls, each mapped once per chunk: a memo of the whole run would keep every
        # distinct resource of the organisation (390,000 at 50,000 principals: 300 MB a worker) for few more hits.
        # A call not yet seen is answered from its shape's uses, remembered for the run (bounded: policy.shapes).
        mapped: CallNeeds = ShapedNeeds(CallMap(r.cat), self._shapes)
        # A chunk allocates hundreds of thousands of short-lived containers, its usage rows first (two objects a
        # row): the collector's passes over every object alive (the catalog, the memos) were a third of the
        # build's CPU, and half of the read's.
        with paused_collector():
            usage = self._index.usage_of_many([row.id for row in rows], r.window.first_day, r.window.last_day)
            return self._chunk(rows, usage, mapped)

    def _chunk(self, rows: Sequence[PrincipalRow], usage: dict[int, list[UsedCall]], mapped: CallNeeds) -> list[Built]:
        r = self._recipe
        out = []
        for row in rows:
            calls = usage.get(row.id, [])
            try:
                made = build(row.principal, calls, r.limits, r.cat, mapped, self._authorized(row.principal))
                ps, findings = with_findings(apply(made, r.overrides, r.cat, r.limits.document_size), r.cat)
            except PolicyError as exc:  # one principal whose policy cannot be made does not stop the others
                out.append(Built(row, None, exc.problems))
                continue
            if ps.problems:
                out.append(Built(row, None, ps.problems))
                continue
            # Encoded here, on the worker's core: the writer stores and writes these texts as they are.
            out.append(Built(row, drafted(row.id, row.arn, ps, r.window), lint=tuple(f.rule for f in findings)))
        return out


def built(
    index: UsageIndex, recipe: Recipe, due: Sequence[PrincipalRow], workers: int = 1
) -> Generator[list[Built], None, None]:
    """The due principals' policies, a chunk at a time, in order: on `workers` processes when there are enough of
    them, else in process. Close the generator to stop early: the workers are shut down. A worker that dies (the
    OOM killer, a signal) costs nothing but time: the chunks not yet handed back are built in process."""
    chunks = [due[start : start + CHUNK] for start in range(0, len(due), CHUNK)]
    given = 0  # chunks handed back
    if workers > 1 and len(due) >= MIN_PARALLEL:
        context = multiprocessing.get_context("forkserver")
        start = (index.path, recipe, os.getpid(), BUILDER_NICENESS)
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=start)
        pending: deque[Future[bytes]] = deque()
        try:
            for rows in chunks[: 2 * workers]:  # each worker has one in hand and one waiting
                pending.append(pool.submit(_build, _rows_out(rows)))
            while pending:
                done = pending.popleft().result()
                if given + len(pending) + 1 < len(chunks):
                    pending.append(pool.submit(_build, _rows_out(chunks[given + len(pending) + 1])))
                given += 1
                with paused_collector():
                    chunk = _from_wire(chunks[given - 1], done)
                yield chunk
        except BrokenProcessPool:
            log.warning("generate.workers_died", built=given, chunks=len(chunks))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    builder = Builder(index, recipe)
    for rows in chunks[given:]:
        yield builder(rows)


_builder: Builder | None = None  # a worker's, for its life (one regeneration)


def _start(path: Path, recipe: Recipe, writer: int, niceness: int) -> None:
    """In each worker: stops are the writer's to make (systemd and a terminal signal the whole group), and a
    writer that dies (SIGKILL, the OOM killer) takes its workers with it rather than leaving them building."""
    global _builder  # noqa: PLW0603 - the worker's one state, made once by the pool's initializer
    follow_writer(writer, niceness)
    _builder = Builder(UsageIndex(path, writer=False), recipe)


def _build(rows: list[_RowWire]) -> bytes:
    """A chunk's policies, pickled here: the writer unpickles a chunk when it takes it, with the collector paused,
    rather than as it arrives (up to four chunks ahead, each some 100,000 objects that every pass of its collector
    would walk while they wait)."""
    assert _builder is not None, "the pool's initializer makes the builder"
    with paused_collector():
        return _to_wire(_builder([PrincipalRow(*row) for row in rows]))


# Between the writer and its workers, plain values rather than dataclasses, whose unpickling (a Python
# __setstate__ per object, six a principal) cost the writer 24 us a principal against 4: a row's fields, and per
# principal built the draft's fields (None when invalid), its actions, its files, its problems and lint rules.
# The writer keeps its rows: they are not sent back.
_RowWire = tuple[int, str, str, str, str | None]
_DraftWire = tuple[int, str, str, str, str, str, str, str, str, str]
_Wire = tuple[_DraftWire | None, tuple[str, ...], tuple[bytes, ...], bytes, bytes, list[str], tuple[str, ...]]


def _rows_out(rows: Sequence[PrincipalRow]) -> list[_RowWire]:
    return [(r.id, r.arn, r.kind, r.account, r.usage_changed) for r in rows]


def _to_wire(chunk: list[Built]) -> bytes:
    out: list[_Wire] = []
    for one in chunk:
        made = one.policy
        if made is None:
            out.append((None, (), (), b"", b"", one.problems, one.lint))
            continue
        d, f = made.draft, made.files
        draft = (d.principal_id, d.fingerprint, d.mode, d.window_start, d.window_end, d.documents)
        texts = (d.justification, d.denied, d.unmapped, d.warnings)
        out.append(((*draft, *texts), tuple(made.actions), f.documents, f.why, f.tail, one.problems, one.lint))
    return pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)


def _from_wire(rows: Sequence[PrincipalRow], data: bytes) -> list[Built]:
    """A chunk as `_to_wire` sent it, for its `rows` (the writer's, in the order sent)."""
    wire: list[_Wire] = pickle.loads(data)  # noqa: S301 - our own workers' bytes
    out = []
    for row, (draft, actions, documents, why, tail, problems, lint) in zip(rows, wire, strict=True):
        if draft is None:
            out.append(Built(row, None, problems, lint))
            continue
        made = Drafted(PolicyDraft(*draft), frozenset(actions), Prerendered(documents, why, tail))
        out.append(Built(row, made, problems, lint))
    return out
