"""The keys that remember counted events against duplicates delivered in another file."""

from __future__ import annotations

from datetime import timedelta

from accessfit.jobs.ingest.dedupe import event_keys
from accessfit.model import Window
from accessfit.records.decode import Record
from helpers import A1, A2, NOW

WINDOW = Window.ending(NOW, 90)
DAY = f"{NOW - timedelta(days=1):%Y-%m-%d}"


def _rec(eid: str | None, when: str | None = f"{DAY}T10:20:30Z", recipient: str | None = A1) -> Record:
    return Record(eventID=eid, eventTime=when, recipientAccountId=recipient)


def test_one_event_has_one_key_and_the_recipient_tells_copies_apart() -> None:
    eid = "3f1c2b4a-9d8e-4f7a-b6c5-d4e3f2a1b0c9"
    one = event_keys([_rec(eid)], WINDOW)[eid]
    assert one == event_keys([_rec(eid, f"{DAY}T10:20:59Z")], WINDOW)[eid]  # the same minute, the same key
    assert one != event_keys([_rec(eid, recipient=A2)], WINDOW)[eid]
    assert one != event_keys([_rec("3f1c2b4a-9d8e-4f7a-b6c5-d4e3f2a1b0c8")], WINDOW)[eid[:-1] + "8"]
    _day, key = one
    assert 0 <= key < 1 << 63 and key >> 52 == 10 * 60 + 20


def test_ids_that_are_not_uuids_are_hashed_and_records_without_a_usable_time_are_not_remembered() -> None:
    keys = event_keys(
        [
            _rec("not-a-uuid"),
            _rec("3f1c2b4a-9d8e-4f7a-b6c5-zzzzzzzzzzzz"),
            _rec(None),
            _rec("a", None),
            _rec("b", "garbage"),
            _rec("c", f"{DAY}T99:99:00Z"),
            _rec("d", f"{NOW - timedelta(days=200):%Y-%m-%d}T10:00:00Z"),
        ],
        WINDOW,
    )
    assert set(keys) == {"not-a-uuid", "3f1c2b4a-9d8e-4f7a-b6c5-zzzzzzzzzzzz"}
    assert all(0 <= k < 1 << 63 for _, k in keys.values())
