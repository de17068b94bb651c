"""Opening the index: its one-writer lock, pragmas, schema migrations and transactions, and the place where
every sqlite3 error becomes a StoreError that names the file and what was being done.

sqlite-utils is kept to one use, `Database.query`: rows come back as dicts keyed by column name, and the
readers build their dataclasses from them by keyword. Its `Migrations` are not used because released indexes
record their schema in SQLite's `user_version`, not in a table of named steps; nor is its `atomic()`, which
begins DEFERRED transactions where a writer here needs IMMEDIATE ones (a deferred transaction that reads
before it writes gets SQLITE_BUSY, without waiting, when a reader's snapshot is older than the last commit).
"""

from __future__ import annotations

import fcntl
import functools
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import sqlite_utils

from accessfit.errors import IndexBusyError, StoreError
from accessfit.index.schema import MIGRATIONS, SCHEMA_VERSION

_P = ParamSpec("_P")
_R = TypeVar("_R")
_D = TypeVar("_D", bound="Db")

GUARDED = "__index_operation__"  # set on every public method wrapped by `operation`


def operation(what: str) -> Callable[[Callable[Concatenate[_D, _P], _R]], Callable[Concatenate[_D, _P], _R]]:
    """Run a method with sqlite3's errors turned into a StoreError saying which index and `what` failed."""

    def wrap(method: Callable[Concatenate[_D, _P], _R]) -> Callable[Concatenate[_D, _P], _R]:
        @functools.wraps(method)
        def guarded(self: _D, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.Error as exc:
                raise StoreError(f"index {self.path}: cannot {what}: {exc}") from exc

        setattr(guarded, GUARDED, what)
        return guarded

    return wrap


def writable(path: Path) -> bool:
    """Whether this process may change the index file and create its WAL and lock files beside it."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _unwritable_folder(path: Path) -> Path | None:
    """The nearest existing directory above `path`, when this process cannot create files in it."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return None if os.access(folder, os.W_OK | os.X_OK) else folder


class Db:
    """An open index. `writer=True` holds the index's lock (one writer per file) and migrates the schema; a
    reader migrates an older schema only when it can write the file and no writer is running."""

    def __init__(self, path: str | Path, *, writer: bool = True) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None
        try:
            self._open(writer)
        except BaseException as exc:
            self._unlock()
            if isinstance(exc, sqlite3.Error | OSError):
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                folder = _unwritable_folder(self.path)
                if folder is not None:
                    raise StoreError(
                        f"index {self.path}: cannot open: the directory {folder} is not writable by this user, and "
                        f"SQLite creates the index's -wal and -shm files (and accessfit its .lock) beside it ({reason})"
                    ) from exc
                raise StoreError(f"index {self.path}: cannot open: {reason}") from exc
            raise

    def _open(self, writer: bool) -> None:
        if writer:
            # Not writable by others whatever the umask: an index any user could change is refused (app.files).
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            self._lock_fd = self._lock()
        elif not self.path.exists():
            raise StoreError(f"index {self.path} does not exist; run `accessfit ingest` first")
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        try:
            self._db = sqlite_utils.Database(self._conn)
            self._setup(writer)
        except BaseException:
            self._conn.close()
            raise

    def _setup(self, writer: bool) -> None:
        conn = self._conn
        conn.execute("PRAGMA busy_timeout = 30000")
        version = self._version()
        if version > SCHEMA_VERSION:
            raise StoreError(f"index {self.path} has schema {version}, newer than this accessfit ({SCHEMA_VERSION})")
        if writer:
            conn.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL: a power loss may drop the last transactions, never corrupt; the ledger is in
            # the same transactions, so dropped objects are simply read again.
            conn.execute("PRAGMA synchronous = NORMAL")
            # 8 MiB: the writer's share of a pass's memory budget (an ingest stays under 100 MB of RSS); 16 MiB
            # measured no faster on a trail whose upserts land all over the B-tree.
            conn.execute("PRAGMA cache_size = -8192")
            # The sqlite3 module's library is built with SECURE_DELETE (Debian's), which zeroes every page a
            # DELETE or DROP frees and writes it again: the staged rows of each merge (through the WAL) and the
            # merge's temporary table. FAST still zeroes what is deleted within pages written anyway. Nothing in
            # the index is a secret its own file does not hold elsewhere (the merged rows are in usage).
            # 1,000,000 diverse events: the merge's DELETE 0.28 -> 0.06 s, its COMMIT 0.57 -> 0.35 s.
            conn.execute("PRAGMA main.secure_delete = FAST")
            conn.execute("PRAGMA temp.secure_delete = FAST")
            self._migrate()
            self._opened()
        elif version == 0:
            raise StoreError(f"index {self.path} is empty; run `accessfit ingest` first")
        elif version < SCHEMA_VERSION:
            self._migrate_as_reader(version)

    def _migrate_as_reader(self, version: int) -> None:
        # A reader of an old index would fail later on a missing table or column; migrating it here is what
        # the next writer would do first anyway.
        older = f"index {self.path} has schema {version}, older than this accessfit ({SCHEMA_VERSION})"
        run = f"run `accessfit ingest --db {self.path}`"
        if not writable(self.path):
            raise StoreError(f"{older}, and this process cannot write to it; {run} as a user who can, to migrate it")
        try:
            self._lock_fd = self._lock()
        except IndexBusyError:
            raise IndexBusyError(
                f"{older}, and another accessfit process is writing to it; stop that process, then {run}"
            ) from None
        try:
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"{older}, and migrating it failed ({exc}); {run} as a user who can write to it") from exc
        finally:
            self._unlock()

    def _lock(self) -> int:
        # One writer per index: two pollers would each think the other's objects are new.
        fd = os.open(f"{self.path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise IndexBusyError(
                f"another accessfit process is writing to {self.path} (the daemon, or an ingest or generate); "
                "try again when it has finished, or stop it"
            ) from exc
        return fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        for step in range(self._version(), SCHEMA_VERSION):
            # One script per step, its version bump inside the same transaction.
            self._conn.executescript(f"BEGIN IMMEDIATE; {MIGRATIONS[step]}; PRAGMA user_version = {step + 1}; COMMIT;")

    @operation("close")
    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self._unlock()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One IMMEDIATE transaction: the write lock is taken at BEGIN, so a busy index is waited for there."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            # Some errors (a full disk, an I/O error) have already rolled the transaction back.
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._forget()
            raise
        else:
            self._conn.execute("COMMIT")

    def _forget(self) -> None:
        """Drop what was cached from a transaction that was rolled back."""

    def _opened(self) -> None:
        """What a writer does once it holds the lock and the schema is current."""

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return list(self._db.query(sql, params))
