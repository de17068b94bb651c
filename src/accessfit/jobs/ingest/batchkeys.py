"""What the writer knows of a batch whose usage rows stay in workers' files (index.rowfile): how many distinct
keys it holds, and whether one of its (principal, call, day) groups may name more resources than the cap.

Why it matters: a batch with its rows in memory is cut at `batch_rows` distinct keys, and its groups over the cap
are collapsed before their resource texts are interned (records.usage.collapse_groups). Cut elsewhere, other
groups pass the cap, and the index keeps other texts in `resources` (the usage is the same): the same batches
make the same index. So the count follows the keys' hashes the workers send (partial.RowNumbers), and only a
batch with a group that may pass the cap pays for its collapse in SQL (index.writes). A batch that mixes rows in
memory (objects mapped in process: the pass's first ones, those mapped again) with rows in files counts its keys
exactly, from the files' rows, and is collapsed in SQL whatever its groups: the writer's hashes do not compare
with the workers'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from accessfit.index import Batch
from accessfit.index.rowfile import FileRows
from accessfit.jobs.ingest.partial import Group, Partial
from accessfit.records.usage import Key


class BatchKeys:
    """The count of one batch at a time (reset after each commit)."""

    def __init__(self, cap: int, keys_of: Callable[[FileRows], Iterable[Key]]) -> None:
        self.cap = cap
        self._keys_of = keys_of  # the usage keys of rows in a worker's file (index.Writes.copied_keys)
        self.reset()

    def reset(self) -> None:
        """A new batch."""
        self._hashed: set[int] = set()
        self._groups: dict[int, int] = {}  # a group's hash -> its rows in the batch
        self._over: dict[int, Group] = {}  # the groups whose rows in the batch are more than the cap
        self._exact: set[Key] | None = None
        self._refs = 0  # of the batch's copied rows, those in _exact

    def add(self, partial: Partial) -> None:
        """An object merged into the batch with its rows in a worker's file."""
        numbers, ref = partial.numbers, partial.copied
        if ref is None or numbers is None:
            return
        self._hashed.update(numbers.keys)
        groups, over, cap = self._groups, self._over, self.cap
        for n, (group, size) in enumerate(zip(numbers.groups, numbers.sizes, strict=True)):
            total = groups[group] = groups.get(group, 0) + size
            if total > cap and group not in over:
                over[group] = numbers.group(n, ref)

    def rows(self, batch: Batch) -> int:
        """The batch's distinct usage keys."""
        if not batch.copied:
            return len(batch.usage)
        if not batch.usage.rows:
            return len(self._hashed)
        if self._exact is None:
            self._exact = set()
        exact = self._exact
        exact.update(batch.usage.rows)
        for ref in batch.copied[self._refs :]:
            exact.update(self._keys_of(ref))
        self._refs = len(batch.copied)
        return len(exact)

    def collapse(self, batch: Batch) -> list[Group] | None:
        """The groups of the batch's staged rows that may name more resources than the cap (each row names
        one, and a resource may recur in several objects), to collapse if they do; None: every group must be
        looked at (rows in memory beside rows in files)."""
        if batch.copied and batch.usage.rows:
            return None
        return sorted(self._over.values())
