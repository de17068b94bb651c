"""The regeneration report as `accessfit generate --json` and the log print it."""

from __future__ import annotations

from datetime import timedelta

from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from accessfit.jobs.regenerate import GenerateReport, Invalid, regenerate
from accessfit.model import ResourceRef
from accessfit.policy import Limits
from helpers import A1, NOW, use

DAY = f"{NOW:%Y-%m-%d}"


def test_the_report_dict_keeps_its_keys_order_and_rounds_seconds() -> None:
    report = GenerateReport(checked=3, new_versions=1, unchanged=1, written=1, seconds=1.23456)
    report.invalid.append(Invalid(principal="arn:aws:iam::111122223333:role/x", problems=["too big"]))
    assert report.as_dict() == {
        "checked": 3,
        "new_versions": 1,
        "unchanged": 1,
        "invalid": [{"principal": "arn:aws:iam::111122223333:role/x", "problems": ["too big"]}],
        "written": 1,
        "committed": False,
        "seconds": 1.235,
    }
    keys = ["checked", "new_versions", "unchanged", "invalid", "written", "committed", "seconds"]
    assert list(report.as_dict()) == keys


def test_a_principal_whose_policy_cannot_be_made_is_reported_and_the_others_still_stored(index: UsageIndex) -> None:
    small, large = f"arn:aws:iam::{A1}:role/small", f"arn:aws:iam::{A1}:role/large"
    batch = Batch()
    use(batch, small, "ListBuckets", DAY)
    use(batch, large, "GetObject", DAY, resource=ResourceRef.encode({"bucketName": "b", "key": "k" * 300}))
    index.commit("s", batch, NOW - timedelta(hours=1))
    # One statement of the large one is longer than a document may be, and it cannot be split.
    report = regenerate(index, catalog(), Limits(document_size=200), NOW, 90)
    assert (report.checked, report.new_versions) == (2, 1)
    [bad] = report.invalid
    assert bad["principal"] == large and "cannot fit in 200 characters" in bad["problems"][0]
    stored = index.principal(small)
    assert stored is not None and [v.version for v in index.versions(stored.id)] == [1]
