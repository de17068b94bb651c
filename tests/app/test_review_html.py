"""The review pages' renderer (app/review_html.py): every value escaped, the ranking shown in the order given, the
coverage verdict before everything else on a principal's page, and what each empty state says."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from accessfit.app import review_html
from accessfit.jobs.proposed import KEPT, ActionChange, AgainstGranted
from accessfit.jobs.replay import ReplayedUse, ReplayResult
from accessfit.jobs.review import (
    CoverageVerdict,
    DriftCounts,
    PrincipalCase,
    PrincipalEntry,
    PrincipalList,
)
from accessfit.jobs.review_page import Proposal
from accessfit.model import Window

EVIL = 'arn:aws:iam::111122223333:role/<script>alert("x")</script>&"q"'
EVIL_EVENT = "<img src=x onerror=alert(1)>"


class _Tags(HTMLParser):
    """Every start tag and the text, so a test can say no script element and no event handler exists."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    p.close()
    return p


def _assert_inert(page: str) -> None:
    p = _parsed(page)
    assert not [t for t, _ in p.tags if t in ("script", "img", "iframe", "object", "embed", "link")]
    assert not [a for _, attrs in p.tags for a, _ in attrs if a.startswith("on")]
    assert "http://" not in page and "https://" not in page  # no outside asset or link


def _entry(
    arn: str, privileged: int | None, verdict: str = "proven", reasons: list[str] | None = None
) -> PrincipalEntry:
    drift = (
        DriftCounts(
            granted=100, used=5, unused=95, unused_privileged=privileged, unknown=0, denied=0, used_not_granted=0
        )
        if privileged is not None
        else None
    )
    return PrincipalEntry(
        arn=arn,
        kind="role",
        account="111122223333",
        coverage=CoverageVerdict(verdict=verdict, reasons=reasons or []),
        drift=drift,
        latest_version=1,
        policy_actions=3,
    )


def test_the_list_escapes_every_value_and_keeps_the_ranking_order() -> None:
    entries = [
        _entry(EVIL, 40),
        _entry("arn:aws:iam::111122223333:role/b", 7, "unknown", ["<b>gap</b> on 2026-01-02 in us-east-1"]),
        _entry("arn:aws:iam::111122223333:role/a", None),
    ]
    page = review_html.list_page(PrincipalList(schema_version=1, filters={}, principals=entries), ["1<2"], ["role"])
    _assert_inert(page)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<b>gap</b>" not in page
    p = _parsed(page)
    links = [dict(a)["href"] for t, a in p.tags if t == "a" and dict(a).get("class") == "principal"]
    # The order given is the order shown; each link carries its ARN percent-encoded.
    assert links == [review_html.principal_href(e["arn"]) for e in entries]
    assert "%3Cscript%3E" in str(links[0])
    # Ranks 1, 2, 3 in the first column; the unknown verdict says why.
    assert re.findall(r'<tr><td class="n">(\d+)</td>', page) == ["1", "2", "3"]
    assert "&lt;b&gt;gap&lt;/b&gt;" in page
    assert '<option value="1&lt;2">1&lt;2</option>' in page


def test_the_list_says_when_nothing_is_there_or_nothing_matches() -> None:
    empty = review_html.list_page(PrincipalList(schema_version=1, filters={}, principals=[]), [], [])
    assert 'id="principals-empty">No principal in the index yet.' in empty and 'id="principals"' not in empty
    filtered = PrincipalList(schema_version=1, filters={"account": "999"}, principals=[])
    page = review_html.list_page(filtered, ["111122223333"], ["role"])
    assert "No principal matches these filters." in page
    assert '<option value="999" selected>999</option>' in page  # the filter asked for stays visible
    assert f'<a href="{review_html.LIST_PATH}">all principals</a>' in page


def _case(arn: str, verdict: str = "unknown") -> PrincipalCase:
    return PrincipalCase(
        schema_version=1,
        arn=arn,
        kind="role",
        account="111122223333",
        coverage=CoverageVerdict(
            verdict=verdict, reasons=["coverage gap: 2 region-days"] if verdict != "proven" else []
        ),
        drift=None,
        against_granted=None,
        replay=None,
        unavailable={},
        policy={
            "version": 2,
            "created_at": "2026-01-02T00:00:00Z",
            "mode": "observed",
            "window": ["2025-10-01", "2026-01-01"],
            "fingerprint": "abc",
            "generator": "accessfit",
            "documents": [],
        },
        actions=[
            {
                "action": "s3:GetObject",
                "access_level": "Read",
                "resources": ["arn:aws:s3:::b/<k>"],
                "calls": 3,
                "last_seen": "2026-01-01T00:00:00Z",
                "evidence": [
                    {"event_source": "s3.amazonaws.com", "event_name": EVIL_EVENT, "calls": 3, "last_seen": "x"}
                ],
                "carried": None,
                "override": None,
                "lint": [],
                "notes": [],
            }
        ],
        carried=[{"action": "logs:GetLogEvents", "reason": "no data events"}],
        denied=[{"action": "iam:PassRole", "calls": 2, "lastSeen": "2026-01-01", "resources": ["*"]}],
        unmapped=[],
        warnings=[],
        versions=[{"version": 1, "created_at": "a", "mode": "observed", "window": ["x", "y"], "actions": 1}],
        applied=[
            {
                "at": "2026-01-03T00:00:00Z",
                "caller": EVIL,
                "principal": arn,
                "policy_arn": "arn:aws:iam::1:policy/p",
                "iam_version": "v1",
                "version": 1,
                "action": "created",
                "replaced": "",
            },
            {
                "at": "2026-01-04T00:00:00Z",
                "caller": "ops",
                "principal": arn,
                "policy_arn": "arn:aws:iam::1:policy/p",
                "iam_version": "v2",
                "version": 2,
                "action": "activated",
                "replaced": "v1",
            },
        ],
    )


def _replayed(denied: bool) -> ReplayResult:
    r = ReplayResult(EVIL, Window("2025-10-01", "2026-01-01"), "version 2", calls=10, checked=2)
    if denied:
        use = ReplayedUse("s3:PutObject", "arn:aws:s3:::b/<k>", "implicit", "identity", False, 4, "2026-01-01")
        use.api_calls.add(f"s3.amazonaws.com {EVIL_EVENT}")
        r.denied.append(use)
    return r


def test_the_principal_page_puts_the_verdict_first_and_escapes_its_data() -> None:
    against = AgainstGranted(EVIL, 2, None, granted=4, proposed=1, kept=1)
    against.removed = [
        ActionChange("s3:ListBucket", "List"),
        ActionChange("iam:PutRolePolicy", "Permissions management", KEPT),
    ]
    page = review_html.principal_page(_case(EVIL), Proposal(against, _replayed(denied=True)))
    _assert_inert(page)
    assert "<script>" not in page and EVIL_EVENT not in page and "&lt;img src=x" in page
    sections = re.findall(r'<section id="([a-z-]+)"', page)
    assert sections[:3] == ["coverage", "against-granted", "replay"]
    assert sections.index("coverage") == 0 and "coverage unknown" in page and "coverage gap: 2 region-days" in page
    # The most powerful removal first, whatever order the diff gave.
    removed = page[page.index('id="removed"') :]
    assert removed.index("iam:PutRolePolicy") < removed.index("s3:ListBucket")
    assert 'id="replay-verdict">1 action-resource pairs would be denied' in page
    assert "s3:PutObject" in page[page.index('id="replay-denied"') :]
    assert "Nothing would be added." in page and "No call would be denied." not in page
    for table in ("evidence", "carried-actions", "denied-calls", "version-history", "apply-log"):
        assert f'<table id="{table}">' in page
    log = page[page.index('id="apply-log"') :]
    assert log.index("activated") < log.index("created")  # the newest step first
    assert "No policy generated yet." not in page


def test_the_principal_page_says_what_is_missing_and_why() -> None:
    case = _case("arn:aws:iam::111122223333:role/new", verdict="proven")
    case["policy"], case["actions"], case["carried"], case["denied"], case["versions"] = None, [], [], [], []
    case["applied"] = []
    page = review_html.principal_page(
        case,
        Proposal(
            None,
            None,
            {"against_granted": "no IAM authorization snapshot names it", "replay": "no policy version for it"},
        ),
    )
    assert "coverage proven" in page and "proven unused" in page
    assert "no IAM authorization snapshot names it" in page and "no policy version for it" in page
    assert "No policy generated yet." in page and "Nothing carried over." in page and "No denied calls." in page
    assert "Never applied" in page
    clean = review_html.principal_page(_case(EVIL), Proposal(None, _replayed(denied=False), {"against_granted": "x"}))
    assert 'id="replay-verdict">nothing would break' in clean and "No call would be denied." in clean


def test_a_long_removal_list_is_cut_and_says_how_many_more() -> None:
    against = AgainstGranted(EVIL, 2, None, granted=2000, proposed=1)
    against.removed = [ActionChange(f"ec2:Action{n:05}", "Write") for n in range(review_html.MAX_CHANGES + 7)]
    page = review_html.principal_page(_case(EVIL), Proposal(against, None, {"replay": "none"}))
    assert page.count("ec2:Action") == review_html.MAX_CHANGES
    assert 'id="removed-more">and 7 more' in page
    assert '<details id="removed-details"><summary>' in page  # folded
    assert '<details id="added-details" open><summary><b>Added: 0</b>' in page


def test_an_error_page_escapes_its_message() -> None:
    page = review_html.error_page(404, f"no principal {EVIL} in the index")
    _assert_inert(page)
    assert "&lt;script&gt;" in page and "<script>" not in page
