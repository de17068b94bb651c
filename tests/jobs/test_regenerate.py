"""The regeneration report as `accessfit generate --json` and the log print it."""

from __future__ import annotations

from accessfit.jobs.regenerate import GenerateReport, Invalid


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
