"""Policy files. Per principal, at the path `exporters.names` gives it (`<stem>` below):

- `<stem>.policy<n>.json`, one per IAM document, exactly the document (for `aws iam create-policy
  --policy-document file://…`);
- `<stem>.why.json`, per action the calls (or the override) that justify it;
- `<stem>.json`, the wrapper: the documents with the denied and unmapped calls, the version and where it came from.

All of them can be rendered from a stored policy version alone (`exporters.rendering`; a policy just built comes
prerendered), so the files can always be made to agree with the index again (`ensure` rewrites only what
differs). The wrapper is written last: its `version` says the set is whole.
Writes are atomic and made durable a group at a time (`exporters.atomic.GroupWrite`: a regeneration's chunk of
principals is one group, `PolicyWriter`), and every path is checked to lie under the output directory before
anything is written, whatever the names, symbolic links or a bug upstream say.
"""

# Paths as text in the hot path: at 150,000 files a regeneration, pathlib's objects cost more than the writes
# (hashing and parsing them was a third of the writer's time).
# ruff: noqa: PTH102, PTH110, PTH112, PTH118, PTH120

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from accessfit.errors import ExportError
from accessfit.exporters.atomic import TEMPORARY_SUFFIX, GroupWrite
from accessfit.exporters.names import principal_path, principal_stem
from accessfit.exporters.rendering import Prerendered, render_bytes
from accessfit.model import PolicyVersion, Principal


def relative_path(arn: str) -> Path:
    """`arn:aws:iam::111122223333:role/service-role/etl` → `111122223333/role/service-role/etl.json`."""
    stem = principal_path(arn)
    return Path(stem.with_name(stem.name + ".json"))


@dataclass(frozen=True, slots=True)
class Flight:
    """A group of files being written (`PolicyWriter.begin`): its failures, once written, and what was staged."""

    failed: Future[dict[str, tuple[Path, OSError]]]
    pending: dict[str, tuple[str, int, list[tuple[str, bytes]]]]


@dataclass(frozen=True, slots=True)
class Ensured:
    """What `ensure` did to one principal's files."""

    path: Path  # the wrapper
    written: int  # files written (0: they already agreed)
    removed: int  # document files of an earlier version that has more documents


def inside(out: Path, path: Path) -> Path:
    """`path`, resolved, when it lies under `out`; otherwise an ExportError and nothing is written."""
    root = out.resolve()
    resolved = path.resolve()
    if resolved != root and not resolved.is_relative_to(root):
        raise ExportError(f"refusing to write {path}: it resolves to {resolved}, outside the output directory {root}")
    return resolved


def _differs(path: str, data: bytes) -> bool | None:
    """Whether the file at `path` holds other bytes than `data`; None when there is no file."""
    # os.open rather than open(): a file object costs four more syscalls (fstat, ioctl, lseek, a last read), and
    # a regeneration in place compares 150,000 files.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        parts, got, want = [], 0, len(data) + 1  # one byte past `data`: a longer file differs
        while got < want and (part := os.read(fd, want - got)):
            parts.append(part)
            got += len(part)
    finally:
        os.close(fd)
    return b"".join(parts) != data


def ensure(out: Path, principal: Principal, version: PolicyVersion) -> Ensured:
    """Make the principal's files those of `version`, writing only the files that differ. Raises ExportError
    naming the file when one cannot be written."""
    writer = PolicyWriter(out)
    writer.stage(principal, version)
    done, failed = writer.commit()
    if failed:
        raise failed[principal.arn]
    return done[principal.arn]


class PolicyWriter:
    """What `ensure` does, for many principals written a group at a time (`atomic.GroupWrite`): `stage` each
    principal's version (checking its paths, comparing with what is on disk; nothing is replaced yet), then
    `commit` writes what was staged, so a regeneration pays for durability once per chunk of principals, not per
    file. A principal whose files cannot be written fails alone: its files are left as they were. One writer
    serves a run: the folders it checked and made are remembered (paths as text: at 150,000 files, pathlib's
    objects cost more than the writes)."""

    def __init__(self, out: Path, sink: Callable[[list[tuple[str, bytes]]], None] | None = None) -> None:
        self.out = out
        self._root = str(out)
        self._sink = sink  # given each commit's files written (path, bytes): git takes them from memory
        self._group: GroupWrite[str] = GroupWrite()
        # principal -> wrapper, documents, the files staged (path, bytes)
        self._pending: dict[str, tuple[str, int, list[tuple[str, bytes]]]] = {}
        self._folders: dict[str, str] = {}  # folder -> resolved, checked to lie under `out`
        self._made: set[str] = set()  # folders known to exist
        # folder -> the names in it, each True when a symbolic link (listed once, then those staged): a file not
        # there is not opened to compare (at 150,000 new files, the failed opens cost more than the listings)
        self._names: dict[str, dict[str, bool]] = {}
        self._writing: ThreadPoolExecutor | None = None  # writes a group while the next one is staged

    def stage(self, principal: Principal, version: PolicyVersion, pre: Prerendered | None = None) -> None:
        """Stage the files of `version` that differ from the principal's files on disk (`pre`: its prerendered
        files, when it was just built from them as a new version). Raises ExportError naming the file when one
        cannot be (a path outside the output directory, a folder that cannot be made)."""
        rendered = render_bytes(principal, version, pre, principal_stem(principal.arn))  # the names are checked here
        wrapper = os.path.join(self._root, rendered.wrapper)
        staged: list[tuple[str, bytes]] = []
        current = wrapper
        try:
            for n, (name, data) in enumerate(rendered.files.items()):
                current = os.path.join(self._root, name)
                folder, base = os.path.split(current)
                resolved = self._checked(folder)
                names = self._listed(folder)
                link = names.get(base)  # None: no such file
                if link is None:
                    differs = None
                elif pre is not None and n >= rendered.documents and not link:
                    # A new version's wrapper names its number and its sidecar its new reasons: a file on disk
                    # holding them already (one a killed run wrote) is written again, the same bytes, rather than
                    # every principal's two files read to compare (a regeneration in place, 100,000 reads).
                    differs = True
                else:
                    differs = _differs(current, data)
                if differs is False:
                    continue
                self._make(folder)
                names.setdefault(base, False)
                # A symbolic link is written where it leads, if that is inside.
                target = str(inside(self.out, Path(current))) if differs and link else os.path.join(resolved, base)
                self._group.add(principal.arn, target, data)
                staged.append((target, data))
        except OSError as exc:
            self._group.discard(principal.arn)
            raise ExportError(f"cannot write the policy file {current}: {_reason(exc)}") from exc
        except ExportError:
            self._group.discard(principal.arn)
            raise
        self._pending[principal.arn] = (wrapper, rendered.documents, staged)

    def __len__(self) -> int:
        """Files staged."""
        return len(self._group)

    def commit(self) -> tuple[dict[str, Ensured], dict[str, ExportError]]:
        """Write every staged file; what was done for each principal staged, and the error of each that failed."""
        return self.finish(self.begin())

    def begin(self) -> Flight:
        """Start writing every staged file, on a thread of its own, and return at once: the next group can be
        staged meanwhile. `finish` it before relying on the files."""
        if self._writing is None:
            self._writing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy-files")
        group, self._group = self._group, GroupWrite()
        pending, self._pending = self._pending, {}
        return Flight(self._writing.submit(group.commit), pending)

    def close(self) -> None:
        """Stop the writing thread (after the group in flight, if any)."""
        if self._writing is not None:
            self._writing.shutdown(wait=True)
            self._writing = None

    def finish(self, flight: Flight) -> tuple[dict[str, Ensured], dict[str, ExportError]]:
        """Wait for a group's files; what was done for each principal staged, and the error of each that failed."""
        failed = flight.failed.result()
        pending = flight.pending
        done: dict[str, Ensured] = {}
        errors: dict[str, ExportError] = {}
        written: list[tuple[str, bytes]] = []
        for arn, (wrapper, documents, staged) in pending.items():
            if arn in failed:
                path, exc = failed[arn]
                errors[arn] = ExportError(f"cannot write the policy file {path}: {_reason(exc)}")
                continue
            written += staged
            try:
                removed = _remove_extra_documents(self.out, wrapper, documents)
            except OSError as exc:
                errors[arn] = ExportError(f"cannot remove an old policy file beside {wrapper}: {_reason(exc)}")
                continue
            done[arn] = Ensured(Path(wrapper), len(staged), removed)
        if self._sink is not None and written:
            self._sink(written)
        return done, errors

    def _listed(self, folder: str) -> dict[str, bool]:
        """The names in `folder`, each with whether it is a symbolic link (from the listing's entry types)."""
        names = self._names.get(folder)
        if names is None:
            try:
                with os.scandir(folder) as entries:
                    names = {entry.name: entry.is_symlink() for entry in entries}
            except FileNotFoundError:
                names = {}
            self._names[folder] = names
        return names

    def _checked(self, folder: str) -> str:
        """`folder` resolved, checked to lie under `out`. A folder under one already checked costs one lstat (is
        it a symbolic link?) rather than one per component of its path, as resolving it whole would."""
        found = self._folders.get(folder)
        if found is not None:
            return found
        parent, base = os.path.split(folder)
        if folder == self._root or not base or base in (".", "..") or parent == folder:
            found = str(inside(self.out, Path(folder)))
        else:
            under = self._checked(parent)
            try:
                link = stat.S_ISLNK(os.lstat(folder).st_mode)
            except FileNotFoundError:
                link = False  # made by this writer, a folder
            found = str(inside(self.out, Path(folder))) if link else os.path.join(under, base)
        self._folders[folder] = found
        return found

    def _make(self, folder: str) -> None:
        """Create `folder` and its missing parents, each noted for the group (their parents' entries change)."""
        if folder in self._made:
            return
        missing = []
        at = folder
        while not os.path.isdir(at):
            missing.append(at)
            parent = os.path.dirname(at)
            if parent == at:
                break
            at = parent
        for made in reversed(missing):
            try:
                os.mkdir(made)
            except FileExistsError:
                if not os.path.isdir(made):
                    raise
            else:
                self._group.created(made)
        self._made.add(folder)


def _remove_extra_documents(out: Path, wrapper: str, kept: int) -> int:
    """Delete the document files past `kept` that an earlier, larger version left, from the last down, so an
    interrupted removal never leaves a gap in the numbering."""
    stem = wrapper.removesuffix(".json")
    extra = []
    n = kept + 1
    while os.path.exists(candidate := f"{stem}.policy{n}.json"):
        extra.append(candidate)
        n += 1
    for path in reversed(extra):
        inside(out, Path(path)).unlink()
    return len(extra)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return exc.strerror or str(exc)


def remove_temporaries(out: Path) -> int:
    """Delete the temporary files a killed write left under `out` (not inside `.git`); returns how many."""
    removed = 0
    for folder, dirs, names in os.walk(out):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            if name.startswith(".") and name.endswith(TEMPORARY_SUFFIX):
                Path(folder, name).unlink(missing_ok=True)
                removed += 1
    return removed
