"""Ingestion over a local directory laid out like a trail bucket, with time as a parameter."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from accessfit.errors import ConfigError, SourceAccessError, SourceError, StoreError, TransientSourceError
from accessfit.index import UsageIndex
from accessfit.jobs.ingest import IngestOptions, IngestReport, ingest
from accessfit.trail import Source
from accessfit.trail.local import LocalSource
from helpers import A1, A2, BAD_FILES, NOW, doc, gz, rec, role_uid, snapshot, user_uid, write_log

OPTS = IngestOptions(settle=timedelta(minutes=2), lookback=timedelta(hours=1), fetch_workers=1)
T = NOW - timedelta(hours=3)


def run(
    root: Path, db: Path, now: datetime = NOW, opts: IngestOptions = OPTS, source: Source | None = None
) -> IngestReport:
    with UsageIndex(db) as index:
        return ingest(source or LocalSource(str(root)), index, opts, now)


def calls(db: Path) -> int:
    with UsageIndex(db) as index:
        return index.totals().events


def test_first_poll_ingests_and_an_idle_poll_reads_nothing(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "index.sqlite3"
    write_log(root, T, [rec(time=f"{T:%Y-%m-%d}T0{n}:00:00Z") for n in range(3)])
    write_log(root, T + timedelta(minutes=5), [rec("PutObject")], region="eu-west-1")
    first = run(root, db)
    assert (first.objects_done, first.events_ingested, first.partitions) == (2, 4, 2)
    source = LocalSource(str(root))
    idle = run(root, db, source=source)
    # The listing starts at the cursor minus the lookback, so files before it are not even listed.
    assert idle.objects_new == 0 and idle.objects_listed == 0
    assert source.stats.get_requests == 0
    # Only discovery folders and each partition's folder (from its cursor: tests/trail/test_local.py) are listed.
    for prefix, delimiter in source.stats.listed_prefixes:
        assert delimiter == "/" or prefix.count("/") == 4, prefix
    assert calls(db) == 4


def test_new_files_are_read_once(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    write_log(root, T, [rec()])
    run(root, db)
    write_log(root, NOW - timedelta(minutes=30), [rec()])
    run(root, db)
    write_log(root, NOW + timedelta(minutes=1), [rec(), rec()])
    second = run(root, db, now=NOW + timedelta(minutes=5))
    assert (second.objects_new, second.objects_known, second.events_ingested) == (1, 1, 2)
    assert calls(db) == 4


def test_a_late_file_that_sorts_before_the_cursor_is_still_ingested_once(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    at = NOW - timedelta(minutes=20)
    write_log(root, at, [rec()], tail="zzzzzzzzzzzzzzzz")
    run(root, db)
    # Delivered in the same minute, with a suffix that sorts lower, and one minute earlier: both appear later.
    write_log(root, at, [rec(), rec()], tail="0000000000000000")
    write_log(root, at - timedelta(minutes=9), [rec()], tail="AAAAAAAAAAAAAAAA")
    later = run(root, db, now=NOW + timedelta(minutes=5))
    assert later.objects_new == 2 and later.events_ingested == 3
    again = run(root, db, now=NOW + timedelta(minutes=10))
    assert again.objects_new == 0
    assert calls(db) == 4


def test_files_inside_the_settle_window_wait_for_the_next_poll(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    write_log(root, NOW - timedelta(minutes=1), [rec()])
    first = run(root, db)
    assert first.objects_pending == 1 and first.objects_new == 0
    second = run(root, db, now=NOW + timedelta(minutes=3))
    assert second.objects_new == 1 and calls(db) == 1


def test_rerunning_adds_nothing(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    for n in range(5):
        write_log(root, T + timedelta(minutes=5 * n), [rec(), rec("PutObject", uid=user_uid())])
    run(root, db)
    before = snapshot(db)
    for _ in range(3):
        assert run(root, db).objects_new == 0
    assert snapshot(db) == before


def test_org_and_single_account_layouts_in_one_bucket_and_allow_lists(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    write_log(root, T, [rec()], account=A1)
    write_log(root, T, [rec(uid=role_uid(account=A2), recipient=A2)], account=A2, org="o-a1b2c3d4e5")
    write_log(
        root,
        T,
        [rec(uid=role_uid(account=A2), recipient=A2)],
        account=A2,
        org="o-a1b2c3d4e5",
        region="eu-west-1",
    )
    only = run(root, db, opts=replace(OPTS, accounts=frozenset({A2}), regions=frozenset({"eu-west-1"})))
    assert (only.partitions, only.objects_done) == (1, 1)
    rest = run(root, db)
    assert (rest.partitions, rest.objects_new) == (3, 2)
    with UsageIndex(db) as index:
        assert {p.account for p in index.principals()} == {A1, A2}


def test_digest_insight_and_other_folders_are_never_opened(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    write_log(root, T, [rec()])
    for folder in ("CloudTrail-Digest", "CloudTrail-Insight", "CloudTrail-NetworkActivity"):
        path = root / f"AWSLogs/{A1}/{folder}/us-east-1/{T:%Y/%m/%d}/{A1}_{folder}_us-east-1_{T:%Y%m%dT%H%M}Z_x.json.gz"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"not even gzip")
    source = LocalSource(str(root))
    rep = run(root, db, source=source)
    assert rep.objects_done == 1 and rep.objects_failed == 0
    assert not any("Digest" in p or "Insight" in p or "Network" in p for p, _ in source.stats.listed_prefixes)


def test_each_kind_of_bad_input_is_isolated_and_the_rest_ingested(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    for n, (name, data) in enumerate(BAD_FILES.items()):
        write_log(root, T + timedelta(minutes=n), tail=name.replace("_", "x").ljust(16, "q"), data=data)
    odd = rec()
    odd["userIdentity"] = "not an object"
    write_log(root, T + timedelta(minutes=30), [rec(), odd, rec("PutObject")])
    big = doc([rec(params={"bucketName": "b", "key": "k" * 2000}) for _ in range(800)])
    write_log(root, T + timedelta(minutes=40), tail="hugehugehugehuge", data=gz(big))
    rep = run(root, db, opts=replace(OPTS, max_json_bytes=1 << 20))
    assert {f.reason for f in rep.failures} == {*BAD_FILES, "too_large"}
    assert rep.objects_done == 1 and rep.events_ingested == 2
    assert rep.events_skipped == {"malformed_identity": 1}
    with UsageIndex(db) as index:
        failed = index.failures()
    assert len(failed) == len(BAD_FILES) + 1 and all(f.reason for f in failed)
    # Failed objects are recorded, so they are not read again on every poll.
    assert run(root, db).objects_new == 0


class Flaky(LocalSource):
    """A source whose first read of one key fails the way a throttled S3 read does."""

    def __init__(self, root: str, bad: str) -> None:
        super().__init__(root)
        self.bad, self.failed = bad, False

    def read(self, key: str, max_bytes: int) -> bytes:
        if key == self.bad and not self.failed:
            self.failed = True
            raise TransientSourceError("S3 SlowDown")
        return super().read(key, max_bytes)


def test_transient_errors_are_retried_by_the_next_poll_and_hold_the_cursor(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    bad = write_log(root, T - timedelta(hours=5), [rec()])
    write_log(root, T, [rec(), rec()])
    flaky = Flaky(str(root), bad)
    first = run(root, db, source=flaky)
    assert first.objects_retry == 1 and first.objects_done == 1 and first.errors
    # Hours later, far past the lookback: the cursor waited for the failed object, so it is still found.
    second = run(root, db, now=NOW + timedelta(hours=6), source=flaky)
    assert second.objects_new == 1 and calls(db) == 3


def test_usage_older_than_the_window_is_pruned(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    old = NOW - timedelta(days=10)
    write_log(root, old, [rec(time=f"{old:%Y-%m-%dT%H:%M:%SZ}")])
    write_log(root, T, [rec()])
    opts = replace(OPTS, window_days=30)
    assert run(root, db, opts=opts).events_ingested == 2
    later = run(root, db, now=NOW + timedelta(days=25), opts=opts)
    assert later.pruned["usage"] == 1 and later.pruned["objects"] == 1
    assert calls(db) == 1


def test_since_bounds_the_first_backfill(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    write_log(root, NOW - timedelta(days=20), [rec(time=f"{NOW - timedelta(days=20):%Y-%m-%dT%H:%M:%SZ}")])
    write_log(root, T, [rec()])
    rep = run(root, db, opts=replace(OPTS, since=NOW - timedelta(days=2)))
    assert rep.objects_listed == 1 and rep.events_ingested == 1


@pytest.mark.parametrize("batch", [1, 4, 20])
def test_many_resources_per_call_and_day_are_collapsed_the_same_way_in_one_run_or_several(
    tmp_path: Path, batch: int
) -> None:
    root = tmp_path / "trail"
    for n in range(6):
        write_log(
            root,
            T + timedelta(minutes=n),
            [rec(params={"bucketName": "b", "key": f"raw/{n}/{m}.gz"}) for m in range(10)],
        )
    opts = replace(OPTS, resource_cap=8, batch_objects=batch)
    one, split = tmp_path / "one.sqlite3", tmp_path / "split.sqlite3"
    run(root, one, opts=opts)
    for cut in (1, 3, 6):
        run(root, split, now=T + timedelta(minutes=cut + 2), opts=opts)
    run(root, split, opts=opts)
    assert snapshot(one) == snapshot(split)
    usage = snapshot(one)["usage"]
    assert len(usage) == 1 and usage[0][4] == '{"bucketName":"b","key":"raw/*","~":1}' and usage[0][7] == 60


def test_one_writer_per_index(tmp_path: Path) -> None:
    db = tmp_path / "i.sqlite3"
    with UsageIndex(db), pytest.raises(StoreError, match="another accessfit process"):
        UsageIndex(db)
    with UsageIndex(db), UsageIndex(db, writer=False) as reader:
        assert reader.principals() == []


def test_a_missing_directory_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceAccessError, match="does not exist"):
        LocalSource(str(tmp_path / "nope"))


def test_since_relists_a_known_partition_only_when_asked(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    write_log(root, NOW - timedelta(days=3), [rec(time=f"{NOW - timedelta(days=3):%Y-%m-%dT%H:%M:%SZ}")])
    write_log(root, T, [rec()])
    assert run(root, db).objects_new == 2
    earlier = NOW - timedelta(days=5)
    configured = run(root, db, opts=replace(OPTS, since=earlier))  # a setting: first backfill only
    assert configured.objects_listed == 0
    asked = run(root, db, opts=replace(OPTS, since=earlier, rescan=True))  # ingest --since
    assert (asked.objects_known, asked.objects_new) == (2, 0)
    assert calls(db) == 2


class Vanishing(LocalSource):
    """A source whose one key disappears between the listing and the read."""

    def __init__(self, root: str, gone: str) -> None:
        super().__init__(root)
        self.gone = gone

    def read(self, key: str, max_bytes: int) -> bytes:
        if key == self.gone:
            raise SourceError(f"{key} disappeared before it was read", key=key)
        return super().read(key, max_bytes)


def test_the_json_report_keeps_its_keys_order_and_figures(tmp_path: Path) -> None:
    """`accessfit ingest --json` prints `as_dict()`: its shape is an interface."""
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    odd = rec()
    odd["userIdentity"] = "not an object"
    write_log(root, T, [rec(), odd, rec("PutObject", uid=user_uid())])
    corrupt = write_log(root, T + timedelta(minutes=1), tail="corruptcorruptxx", data=BAD_FILES["corrupt_gzip"])
    slow = write_log(root, T + timedelta(minutes=2), [rec()])
    write_log(root, NOW - timedelta(minutes=1), [rec()])  # settling
    digest = root / f"AWSLogs/{A1}/CloudTrail/us-east-1/{T:%Y/%m/%d}/notes.txt"
    digest.write_text("not a log file")
    source = Flaky(str(root), slow)
    report = run(root, db, source=source)
    out = report.as_dict()
    assert isinstance(out.pop("seconds"), float)
    assert out == {
        "source": source.url,
        "partitions": 1,
        "objects": {
            "listed": 5,
            "new": 2,
            "done": 1,
            "failed": 1,
            "known": 0,
            "pending": 1,
            "retry": 1,
            "skipped": {"unrecognized_key": 1},
        },
        "events": {"records": 3, "ingested": 2, "skipped": {"malformed_identity": 1}},
        "principals": 2,
        "bytes_read": out["bytes_read"],
        "interrupted": False,
        "failures": [{"key": corrupt, "reason": "corrupt_gzip", "detail": report.failures[0].detail}],
        "errors": [f"{slow}: S3 SlowDown"],
        "pruned": {},
        "collapsed_groups": 0,
        "partitions_failed": 0,
        "diagnosis": None,
        "window": {"days": 90, "start": (NOW - timedelta(days=90)).date().isoformat()},
        "pruned_usage": {"days": 0, "events": 0, "principals": 0},
        "before_window": None,
    }
    assert list(run(root, db).as_dict()) == [
        "source",
        "partitions",
        "objects",
        "events",
        "principals",
        "bytes_read",
        "seconds",
        "interrupted",
        "failures",
        "errors",
        "pruned",
        "collapsed_groups",
        "partitions_failed",
        "diagnosis",
        "window",
        "pruned_usage",
        "before_window",
    ]
    objects, events = out["objects"], out["events"]
    assert isinstance(objects, dict) and isinstance(events, dict)
    assert list(objects) == ["listed", "new", "done", "failed", "known", "pending", "retry", "skipped"]
    assert list(events) == ["records", "ingested", "skipped"]
    assert isinstance(out["bytes_read"], int) and out["bytes_read"] > 0


def test_failed_objects_keep_their_reasons_in_the_report_and_the_ledger(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    big = write_log(root, T, [rec(params={"bucketName": "b", "key": f"k{n}" * 50}) for n in range(400)])
    gone = write_log(root, T + timedelta(minutes=1), [rec()])
    empty = write_log(root, T + timedelta(minutes=2), tail="emptyemptyemptyx", data=b"")
    size = (root / big).stat().st_size
    rep = run(root, db, opts=replace(OPTS, max_object_bytes=2048), source=Vanishing(str(root), gone))
    assert [(f.key, f.reason, f.detail) for f in rep.failures] == [
        (big, "too_large", f"too_large: {size} bytes, limit 2048"),
        (gone, "unreadable", f"{gone} disappeared before it was read"),
        (empty, "empty", "the object has no bytes"),
    ]
    assert [(key, status, reason) for key, _, status, reason, *_ in snapshot(db)["objects"]] == [
        (big, "failed", f"too_large: too_large: {size} bytes, limit 2048"),
        (gone, "failed", f"unreadable: {gone} disappeared before it was read"),
        (empty, "failed", "empty: the object has no bytes"),
    ]


def test_a_trail_copied_below_a_day_folder_is_not_read_as_this_partition(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    key = write_log(root, T, [rec()])
    write_log(root, T, [rec(), rec()], account=A2, prefix=key.rsplit("/", 1)[0] + "/copy/")
    rep = run(root, db)
    assert (rep.partitions, rep.objects_done, rep.events_ingested) == (1, 1, 1)
    assert rep.keys_skipped == {"unrecognized_key": 1}
    assert [k for k, *_ in snapshot(db)["objects"]] == [key]


@pytest.mark.parametrize("batch", [1, 20])
def test_an_event_delivered_again_in_another_file_is_counted_once(tmp_path: Path, batch: int) -> None:
    # AWS: "you may receive log files that contain one or more duplicate events ... [they] will have the same
    # eventID" (facts.md A3). In one batch, across batches and across passes, it is counted once.
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    opts = replace(OPTS, batch_objects=batch)
    twice = rec(event_id="11111111-2222-4333-8444-555555555555")
    write_log(root, T, [twice, rec()])
    write_log(root, T + timedelta(minutes=5), [twice, rec("PutObject")])
    first = run(root, db, opts=opts)
    assert (first.events_ingested, first.events_skipped) == (3, {"duplicate_event": 1})
    write_log(root, NOW + timedelta(minutes=1), [twice])
    again = run(root, db, now=NOW + timedelta(minutes=5), opts=opts)
    assert (again.objects_done, again.events_ingested, again.events_skipped) == (1, 0, {"duplicate_event": 1})
    assert calls(db) == 3


def test_the_same_event_id_in_two_accounts_copies_is_two_events(tmp_path: Path) -> None:
    # The recipient tells the copies of one eventID apart: each account's own copy is counted in its account.
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    eid = "11111111-2222-4333-8444-666666666666"
    write_log(root, T, [rec(event_id=eid)])
    write_log(root, T, [rec(event_id=eid, uid=role_uid(account=A2), recipient=A2)], account=A2)
    assert run(root, db).events_ingested == 2


def test_remembered_events_leave_with_the_window(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    old = NOW - timedelta(days=10)
    write_log(root, old, [rec(time=f"{old:%Y-%m-%dT%H:%M:%SZ}")])
    write_log(root, T, [rec()])
    opts = replace(OPTS, window_days=30)
    run(root, db, opts=opts)
    later = run(root, db, now=NOW + timedelta(days=25), opts=opts)
    assert later.pruned["seen_events"] == 1


def _diagnosis(source: Path, tmp_path: Path) -> str:
    rep = run(source, tmp_path / "diag.sqlite3", source=LocalSource(str(source)))
    assert rep.partitions == 0 and rep.diagnosis is not None
    return rep.diagnosis


def test_a_wrong_source_path_says_what_it_found_and_which_source_to_use(tmp_path: Path) -> None:
    bucket = tmp_path / "bucket"
    write_log(bucket, T, [rec()], prefix="logs/")
    write_log(bucket, T, [rec()], prefix="logs/", org="o-a1b2c3d4e5", account=A2)
    (bucket / "other").mkdir()
    assert _diagnosis(bucket, tmp_path) == (
        f"no AWSLogs/<account>/CloudTrail/ under file://{bucket}; saw logs, other: the trail is under logs/; "
        f"use --source {bucket}/logs"
    )
    logs = bucket / "logs" / "AWSLogs"
    assert _diagnosis(logs, tmp_path) == (
        f"no AWSLogs/<account>/CloudTrail/ under file://{logs}; saw {A1}, o-a1b2c3d4e5: this is the AWSLogs/ "
        f"folder itself; use --source {bucket}/logs"
    )
    assert _diagnosis(logs / A1, tmp_path).endswith(
        f"saw CloudTrail: this is an account's folder (AWSLogs/[<org>/]<account>/); use --source {bucket}/logs"
    )
    assert _diagnosis(logs / "o-a1b2c3d4e5" / A2, tmp_path).endswith(f"use --source {bucket}/logs")
    assert _diagnosis(logs / "o-a1b2c3d4e5", tmp_path).endswith(
        f"this is an organization's folder itself; use --source {bucket}/logs"
    )
    assert _diagnosis(logs / A1 / "CloudTrail", tmp_path).endswith(
        f"saw us-east-1: this is a CloudTrail/ folder; use --source {bucket}/logs"
    )


def test_a_flat_folder_of_log_files_says_the_layout_is_needed(tmp_path: Path) -> None:
    trail, flat = tmp_path / "trail", tmp_path / "flat"
    key = write_log(trail, T, [rec()])
    flat.mkdir()
    (flat / Path(key).name).write_bytes((trail / key).read_bytes())
    assert _diagnosis(flat, tmp_path) == (
        f"no AWSLogs/<account>/CloudTrail/ under file://{flat}; saw log files directly in it ({Path(key).name}): "
        "accessfit reads the trail bucket's layout, AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>; copy "
        "the files with it (aws s3 sync of the bucket keeps it)"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _diagnosis(empty, tmp_path).endswith("saw an empty folder")


def test_allow_lists_that_match_nothing_name_what_is_there(tmp_path: Path) -> None:
    root = tmp_path / "trail"
    write_log(root, T, [rec()])
    rep = run(root, tmp_path / "i.sqlite3", opts=replace(OPTS, accounts=frozenset({A2})))
    assert rep.diagnosis == (
        f"no partition under file://{root}/AWSLogs/ is among the accounts ['{A2}'] and regions any of the "
        f"settings; saw {A1}"
    )


def test_a_trail_with_partitions_has_no_diagnosis(tmp_path: Path) -> None:
    root = tmp_path / "trail"
    write_log(root, T, [rec()])
    assert run(root, tmp_path / "i.sqlite3").diagnosis is None


def test_a_smaller_window_is_refused_saying_what_it_would_drop_unless_asked(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    old = NOW - timedelta(days=200)
    write_log(root, old, [rec(time=f"{old:%Y-%m-%dT%H:%M:%SZ}", uid=role_uid(name="yearly")) for _ in range(3)])
    write_log(root, T, [rec()])
    wide = run(root, db, opts=replace(OPTS, window_days=365))
    assert (wide.events_ingested, wide.pruned_days, wide.window_start) == (
        4,
        0,
        f"{NOW - timedelta(days=365):%Y-%m-%d}",
    )
    before = snapshot(db)
    write_log(root, NOW - timedelta(minutes=30), [rec()])
    with pytest.raises(ConfigError) as refused:
        run(root, db, now=NOW + timedelta(minutes=5))  # the default window, 90 days
    start = NOW + timedelta(minutes=5) - timedelta(days=90)
    assert str(refused.value) == (
        f"window_days = 90 would prune the 1 days of usage before {start:%Y-%m-%d} "
        "that the index keeps under window_days = 365: 3 calls, and 1 of 2 principals would be left with none. "
        "Set window_days = 365 to keep them, or pass --prune-to-window (setting prune_to_window = true) to drop them"
    )
    assert snapshot(db) == before  # refused before anything was read
    asked = run(root, db, now=NOW + timedelta(minutes=5), opts=replace(OPTS, prune_to_window=True))
    assert (asked.objects_done, asked.pruned_days, asked.pruned_events, asked.pruned_principals) == (1, 1, 3, 1)
    # The index is now kept with 90 days: later passes prune as days pass, without being asked.
    later = run(root, db, now=NOW + timedelta(days=1))
    assert later.pruned_days == 0 and calls(db) == 2


def test_a_window_that_moves_on_prunes_without_asking_and_says_so(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    old = NOW - timedelta(days=10)
    write_log(root, old, [rec(time=f"{old:%Y-%m-%dT%H:%M:%SZ}", uid=role_uid(name="gone"))])
    write_log(root, T, [rec()])
    opts = replace(OPTS, window_days=30)
    run(root, db, opts=opts)
    later = run(root, db, now=NOW + timedelta(days=25), opts=opts)
    assert (later.pruned_days, later.pruned_events, later.pruned_principals) == (1, 1, 1)
    # A wider window drops nothing and is kept from then on.
    assert run(root, db, now=NOW + timedelta(days=25), opts=replace(OPTS, window_days=60)).pruned_days == 0


def test_since_before_the_window_says_which_files_it_leaves_out_and_the_setting_to_raise(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    for days in (120, 100, 95):
        old = NOW - timedelta(days=days)
        write_log(root, old, [rec(time=f"{old:%Y-%m-%dT%H:%M:%SZ}")])
    write_log(root, T, [rec()])
    since = NOW - timedelta(days=130)
    rep = run(root, db, opts=replace(OPTS, since=since))
    assert rep.events_ingested == 1
    assert rep.before_window == (
        f"--since {since:%Y-%m-%d} reaches before the window start {NOW - timedelta(days=90):%Y-%m-%d}: the files "
        f"of 3 day folders ({NOW - timedelta(days=120):%Y-%m-%d} to {NOW - timedelta(days=95):%Y-%m-%d}) in 1 "
        "partitions are not read; raise window_days (flag --window-days, setting window_days) to 130 to read them"
    )
    # The setting it names reads them, once.
    wider = run(root, db, opts=replace(OPTS, since=since, rescan=True, window_days=130))
    assert (wider.objects_done, wider.events_ingested, wider.before_window) == (3, 3, None)
    assert calls(db) == 4


def test_since_inside_the_window_or_a_later_poll_says_nothing(tmp_path: Path) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    old = NOW - timedelta(days=100)
    write_log(root, old, [rec(time=f"{old:%Y-%m-%dT%H:%M:%SZ}")])
    write_log(root, T, [rec()])
    assert run(root, db, opts=replace(OPTS, since=NOW - timedelta(days=30))).before_window is None
    # A later poll (no rescan) does not list from --since again, so it has nothing to say.
    later = run(root, db, now=NOW + timedelta(minutes=5), opts=replace(OPTS, since=NOW - timedelta(days=130)))
    assert later.before_window is None


class ListingFails(LocalSource):
    """A source whose listings of one partition's folders keep failing."""

    def __init__(self, root: str, under: str) -> None:
        super().__init__(root)
        self.under = under

    def list_prefixes(self, prefix: str) -> list[str]:
        if prefix.startswith(self.under):
            raise TransientSourceError("S3 SlowDown")
        return super().list_prefixes(prefix)


def test_a_partition_whose_listing_keeps_failing_is_left_for_the_next_pass_and_the_others_go_on(
    tmp_path: Path,
) -> None:
    root, db = tmp_path / "trail", tmp_path / "i.sqlite3"
    write_log(root, T, [rec()])
    write_log(root, T, [rec()], region="eu-west-1")
    flaky = ListingFails(str(root), f"AWSLogs/{A1}/CloudTrail/eu-west-1/")
    # A --since before the window walks the year folders first: that failing is the same partition's failure.
    rep = run(root, db, opts=replace(OPTS, since=NOW - timedelta(days=200)), source=flaky)
    assert (rep.partitions, rep.partitions_failed, rep.objects_done, rep.must_retry) == (2, 1, 1, True)
    assert rep.errors == [f"listing AWSLogs/{A1}/CloudTrail/eu-west-1/: S3 SlowDown"]
    again = run(root, db)
    assert (again.partitions_failed, again.objects_done, calls(db)) == (0, 1, 2)
