"""One principal's case carries its diff against what is granted now and its replay (jobs/review_page.py), the
same values `accessfit diff --against granted --json` and `accessfit replay --json` print, or null and why; the
case made from values computed already carries them. On the demo index of tests/jobs/test_review.py."""

from __future__ import annotations

from accessfit.index import AppliedStep, Step, UsageIndex
from accessfit.jobs import review
from accessfit.jobs.lookup import in_index
from accessfit.jobs.proposed import against_granted
from accessfit.jobs.replay import replay
from accessfit.jobs.review_page import proposal
from accessfit.model import Window
from helpers import NOW
from jobs.test_review import CAT, KEEP, NO_SNAPSHOT, SPEC, WINDOW, demo
from review_shape import principal_case

__all__ = ["demo"]  # the module-scoped demo index fixture, shared with test_review


def test_the_case_carries_the_diff_and_the_replay_the_commands_print(demo: UsageIndex) -> None:
    admin = next(r for r in demo.all_principals() if "AdministratorAccess" in r.arn and r.account == SPEC.accounts[0])
    case = review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, admin.arn)
    principal_case(case)
    assert case["unavailable"] == {}
    assert case["against_granted"] == against_granted(demo, CAT, admin.arn, KEEP).as_dict()
    assert case["replay"] == replay(demo, CAT, admin.arn, Window.ending(NOW, WINDOW)).as_dict()
    assert case["against_granted"] is not None and len(case["against_granted"]["removed"]) > 1000
    assert case["replay"] is not None and case["replay"]["clean"] and case["replay"]["calls"] > 0


def test_without_a_snapshot_the_diff_is_null_and_says_why(demo: UsageIndex) -> None:
    row = next(r for r in demo.all_principals() if r.account == NO_SNAPSHOT and r.kind == "role")
    case = review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, row.arn)
    principal_case(case)
    assert case["against_granted"] is None and "no IAM authorization snapshot" in case["unavailable"]["against_granted"]
    assert case["replay"] is not None and "replay" not in case["unavailable"]


def test_a_case_made_from_a_proposal_computed_already_is_the_same(demo: UsageIndex) -> None:
    admin = next(r for r in demo.all_principals() if "AdministratorAccess" in r.arn and r.account == SPEC.accounts[0])
    name = admin.arn.rsplit("/", 1)[1]  # what `accessfit policy` accepts, as the page's query may
    found = in_index(demo, name)
    proposed = proposal(demo, CAT, NOW, WINDOW, KEEP, found)
    assert proposed.against is not None and proposed.replayed is not None and proposed.unavailable == {}
    case = review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, name, proposed)
    assert case == review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, admin.arn)
    assert case["against_granted"] == proposed.against.as_dict() and case["replay"] == proposed.replayed.as_dict()


def test_the_case_carries_the_apply_log_oldest_first(demo: UsageIndex) -> None:
    row = next(r for r in demo.all_principals() if r.account == SPEC.accounts[0] and r.kind == "role")
    assert review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, row.arn)["applied"] == []
    policy = f"arn:aws:iam::{row.account}:policy/accessfit/p-1"
    steps = [
        AppliedStep("2026-11-28T10:00:00Z", "arn:aws:iam::1:user/ops", row.arn, policy, "v1", 1, Step.CREATED),
        AppliedStep("2026-11-28T11:00:00Z", "arn:aws:iam::1:user/ops", row.arn, policy, "v2", 2, Step.ACTIVATED, "v1"),
    ]
    demo.record_steps(steps)
    case = review.principal(demo, CAT, NOW, WINDOW, 0, KEEP, row.arn)
    principal_case(case)
    assert case["applied"] == [s.as_dict() for s in steps]
