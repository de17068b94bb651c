"""The review pages as server-rendered HTML: the ranked list (`/review/`) and one principal (`/review/principal`),
from jobs.review's case and jobs.review_page's diff and replay. Pure: values in, one self-contained page out.

Every value is escaped (an ARN or an event name is data a caller chose); there is no script and no outside asset,
so the pages work without a network and under the daemon's `default-src 'none'` policy. Filters are a plain GET
form, links are relative. On the principal page the coverage verdict comes first: an unproven window makes every
"unused" below it a guess.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from urllib.parse import quote, urlencode

from accessfit.jobs.proposed import ActionChange, AgainstGranted
from accessfit.jobs.replay import ReplayedUse, ReplayResult
from accessfit.jobs.review import PROVEN, PrincipalCase, PrincipalEntry, PrincipalList
from accessfit.jobs.review_page import Proposal

LIST_PATH = "/review/"
PRINCIPAL_PATH = "/review/principal"
# Rows of one change table: an Action "*" role loses tens of thousands, the most powerful shown first.
MAX_CHANGES = 500
FOLD_OVER = 30  # rows: a longer change table starts folded
_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:.2em .5em;"
    "text-align:left;vertical-align:top}th{background:#f3f3f3}td.n{text-align:right}"
    "code{font-family:ui-monospace,monospace;background:#f3f3f3;padding:0 .2em;border-radius:3px}"
    ".verdict{font-weight:bold;padding:.4em .7em;display:inline-block;border-radius:4px}"
    ".proven{background:#dff3df}.unknown{background:#fff0c8}.broken{background:#fbdada}.clean{background:#dff3df}"
    "h1{overflow-wrap:anywhere}summary{cursor:pointer;margin:.5em 0}"
    "section{border-top:1px solid #ddd;margin-top:1em}.empty{color:#666;font-style:italic}"
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def principal_href(arn: str) -> str:
    return f"{PRINCIPAL_PATH}?arn={quote(arn, safe='')}"


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def _table(table_id: str, head: Sequence[str], rows: Iterable[Sequence[str]], empty: str) -> str:
    """`rows` are cells already escaped; a cell starting with `\x00` is a number (right-aligned)."""
    lines = [
        "<tr>"
        + "".join(f'<td class="n">{c[1:]}</td>' if c.startswith("\x00") else f"<td>{c}</td>" for c in row)
        + "</tr>"
        for row in rows
    ]
    if not lines:
        return f'<p class="empty" id="{table_id}-empty">{_e(empty)}</p>'
    header = "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"
    return f'<table id="{table_id}">\n{header}\n' + "\n".join(lines) + "\n</table>"


def _n(value: int | None) -> str:
    return "\x00" + ("" if value is None else _e(value))


def _codes(values: Iterable[str]) -> str:
    return ", ".join(f"<code>{_e(v)}</code>" for v in values)


def error_page(status: int, message: str) -> str:
    body = f'<h1>{status}</h1><p id="error">{_e(message)}</p><p><a href="{LIST_PATH}">all principals</a></p>'
    return _page(f"accessfit review: {status}", body)


# -- the ranked list -----------------------------------------------------------------------------------------------


def list_page(listed: PrincipalList, accounts: Sequence[str], kinds: Sequence[str]) -> str:
    """The ranked list, with a GET form over the `accounts` and `kinds` the index holds."""
    filters = listed["filters"]
    form = (
        f'<form method="get" action="{LIST_PATH}" id="filters">'
        + _select("account", accounts, filters.get("account"))
        + _select("kind", kinds, filters.get("kind"))
        + ' <button type="submit">Filter</button>'
        + (f' <a href="{LIST_PATH}">all principals</a>' if filters else "")
        + "</form>"
    )
    rows = [_row(rank, e) for rank, e in enumerate(listed["principals"], 1)]
    empty = "No principal matches these filters." if filters else "No principal in the index yet."
    head = ["#", "Principal", "Kind", "Account", "Unused privileged", "Coverage", "Unused", "Granted", "Used"]
    head += ["Latest version", "Policy actions"]
    intro = (
        "<p>Ranked by unused privileged actions (permissions management and write), then an unknown coverage "
        'verdict before a proven one, then unused actions. The same data: <a href="/api/v1/principals">'
        "/api/v1/principals</a>.</p>"
    )
    body = f"<h1>accessfit review</h1>\n{intro}\n{form}\n" + _table("principals", head, rows, empty)
    return _page("accessfit review", body)


def _select(name: str, options: Sequence[str], chosen: str | None) -> str:
    items = [f'<option value=""{"" if chosen else " selected"}>any</option>']
    for option in [*options, *([chosen] if chosen and chosen not in options else [])]:
        selected = " selected" if option == chosen else ""
        items.append(f'<option value="{_e(option)}"{selected}>{_e(option)}</option>')
    return f' <label>{_e(name)} <select name="{_e(name)}">' + "".join(items) + "</select></label>"


def _row(rank: int, e: PrincipalEntry) -> list[str]:
    d = e["drift"]
    verdict = e["coverage"]["verdict"]
    cov = f'<span class="verdict {_e(verdict)}">{_e(verdict)}</span>'
    if e["coverage"]["reasons"]:
        cov += "<br>" + "<br>".join(_e(r) for r in e["coverage"]["reasons"])
    return [
        _n(rank),
        f'<a class="principal" href="{_e(principal_href(e["arn"]))}">{_e(e["arn"])}</a>',
        _e(e["kind"]),
        _e(e["account"]),
        _n(d["unused_privileged"] if d else None),
        cov,
        _n(d["unused"] if d else None),
        _n(d["granted"] if d else None),
        _n(d["used"] if d else None),
        _n(e["latest_version"]),
        _n(e["policy_actions"]),
    ]


# -- one principal -------------------------------------------------------------------------------------------------


def principal_page(case: PrincipalCase, p: Proposal) -> str:
    """`p`: the typed diff and replay the case carries as JSON."""
    parts = [
        f'<p><a href="{LIST_PATH}">&larr; all principals</a> · <a href="/api/v1/principal?'
        f'{_e(urlencode({"arn": case["arn"]}))}">JSON</a></p>',
        f"<h1>{_e(case['arn'])}</h1>",
        f"<p>{_e(case['kind'])} in account {_e(case['account'])}</p>",
        _coverage(case),
        _section(
            "against-granted", "Current versus generated", _against(p.against, p.unavailable.get("against_granted", ""))
        ),
        _section(
            "replay",
            "Replay: what the generated policy would break",
            _replay(p.replayed, p.unavailable.get("replay", "")),
        ),
        _section("actions", "Actions of the latest generated version, with their evidence", _actions(case)),
        _section("carried", "Carried over (unobservable in CloudTrail)", _carried(case)),
        _section("denied", "Denied calls (never granted)", _denied(case)),
        _section("unmapped", "Calls mapping to no IAM action", _unmapped(case)),
        _section("versions", "Version history", _versions(case)),
        _section("applied", "Apply and rollback log", _applied(case)),
    ]
    if case["warnings"]:
        parts.append(_section("warnings", "Warnings", "<ul>" + "".join(f"<li>{_e(w)}</li>" for w in case["warnings"])))
    return _page(f"accessfit review: {case['arn']}", "\n".join(parts))


def _section(section_id: str, title: str, body: str) -> str:
    return f'<section id="{section_id}"><h2>{_e(title)}</h2>\n{body}\n</section>'


def _coverage(case: PrincipalCase) -> str:
    verdict = case["coverage"]["verdict"]
    if verdict == PROVEN:
        why = "<p>The trail covers every day of the window in every region: what is unused is proven unused.</p>"
    else:
        reasons = case["coverage"]["reasons"] or ["no reason given"]
        why = "<p>Unused cannot be proven:</p><ul>" + "".join(f"<li>{_e(r)}</li>" for r in reasons) + "</ul>"
    return _section("coverage", "Coverage", f'<p class="verdict {_e(verdict)}">coverage {_e(verdict)}</p>{why}')


def _changes(table_id: str, changes: Sequence[ActionChange], empty: str) -> str:
    shown = changes[:MAX_CHANGES]
    rows = [[f"<code>{_e(c.action)}</code>", _e(c.access_level or "unknown"), _e(c.note)] for c in shown]
    table = _table(table_id, ["Action", "Access level", "Note"], rows, empty)
    if len(changes) > len(shown):
        table += (
            f'<p id="{table_id}-more">and {len(changes) - len(shown)} more: all of them in the JSON, or '
            "<code>accessfit diff ARN --against granted --json</code>.</p>"
        )
    return table


def _against(a: AgainstGranted | None, missing: str) -> str:
    if a is None:
        return f'<p class="empty">{_e(missing)}</p>'
    levels = ", ".join(f"{_e(level)} {n}" for level, n in a.removed_by_level().items()) or "none"
    summary = (
        f"<p>Version {a.version}: granted now <b>{a.granted}</b> actions, the proposal <b>{a.proposed}</b>; "
        f"kept {a.kept}, removed <b>{len(a.removed)}</b> ({levels}), added {len(a.added)}. "
        + ("Within what is granted now." if a.within_granted else "<b>Wider than what is granted now.</b>")
        + (f" Permissions boundary: <code>{_e(a.boundary)}</code>." if a.boundary else "")
        + "</p>"
    )
    notes = "".join(f"<p>{_e(n)}</p>" for n in a.notes)
    # The most powerful removals first: they are what a reviewer must weigh.
    removed = sorted(a.removed, key=lambda c: (not c.privileged, c.access_level, c.action))
    return (
        summary
        + notes
        + _folded("removed", "Removed", removed, "Nothing granted now would be removed.")
        + _folded("added", "Added", a.added, "Nothing would be added.")
        + _folded(
            "used-not-granted",
            "Used but not granted by identity policies (shown, not added)",
            a.used_not_granted,
            "None.",
        )
    )


def _folded(table_id: str, title: str, changes: Sequence[ActionChange], empty: str) -> str:
    """A change table under its title, folded when long (HTML's own details element: no script) so the replay and
    the evidence below stay within reach."""
    opened = " open" if len(changes) <= FOLD_OVER else ""
    return (
        f'<details id="{table_id}-details"{opened}><summary><b>{_e(title)}: {len(changes)}</b></summary>'
        + _changes(table_id, changes, empty)
        + "</details>"
    )


def _replay(r: ReplayResult | None, missing: str) -> str:
    if r is None:
        return f'<p class="empty">{_e(missing)}</p>'
    verdict = (
        '<p class="verdict clean" id="replay-verdict">nothing would break</p>'
        if r.clean
        else f'<p class="verdict broken" id="replay-verdict">{len(r.denied)} action-resource pairs would be denied</p>'
    )
    summary = (
        f"<p>Against {_e(r.source)}, {_e(r.window.first_day)} to {_e(r.window.last_day)}: {r.calls} calls replayed, "
        f"{r.checked} action-resource pairs checked, {r.unmapped} unmapped calls not replayed."
        + (f" Permissions boundary: <code>{_e(r.boundary)}</code>." if r.boundary else "")
        + " Conditions are not evaluated.</p>"
    )
    head = ["Action", "Resource", "Decision", "By", "Calls", "Last seen", "API calls"]

    def rows(uses: Sequence[ReplayedUse]) -> list[list[str]]:
        return [
            [
                f"<code>{_e(u.action)}</code>",
                f"<code>{_e(u.resource)}</code>",
                _e(u.decision),
                _e(u.by),
                _n(u.calls),
                _e(u.last_seen),
                _codes(sorted(u.api_calls)),
            ]
            for u in uses
        ]

    notes = "".join(f"<p>{_e(n)}</p>" for n in r.notes)
    return (
        verdict
        + summary
        + notes
        + "<h3>Would be denied</h3>"
        + _table("replay-denied", head, rows(r.denied), "No call would be denied.")
        + "<h3>Depends on a condition</h3>"
        + _table("replay-conditional", head, rows(r.conditional), "None.")
    )


def _actions(case: PrincipalCase) -> str:
    policy = case["policy"]
    if policy is None:
        return '<p class="empty">No policy generated yet.</p>'
    intro = (
        f"<p>Version {policy['version']} ({_e(policy['mode'])}), generated {_e(policy['created_at'])} from "
        f"{_e(policy['window'][0])} to {_e(policy['window'][1])}.</p>"
    )
    rows = []
    for a in case["actions"]:
        evidence = "<br>".join(
            f"<code>{_e(ev['event_source'])} {_e(ev['event_name'])}</code> x {ev['calls']}, last {_e(ev['last_seen'])}"
            for ev in a["evidence"]
        )
        rule = [f"carried: {a['carried']}"] if a["carried"] else []
        rule += [f"override: {a['override']}"] if a["override"] else []
        rule += [f"lint: {lint}" for lint in a["lint"]] + a["notes"]
        rows.append(
            [
                f"<code>{_e(a['action'])}</code>",
                _e(a["access_level"] or "unknown"),
                _codes(a["resources"]),
                _n(a["calls"]),
                _e(a["last_seen"] or ""),
                evidence,
                "<br>".join(_e(x) for x in rule),
            ]
        )
    head = ["Action", "Access level", "Resources", "Calls", "Last seen", "Evidence", "Rule"]
    return intro + _table("evidence", head, rows, "The latest version grants no action.")


def _carried(case: PrincipalCase) -> str:
    rows = [[f"<code>{_e(c['action'])}</code>", _e(c["reason"])] for c in case["carried"]]
    return _table("carried-actions", ["Action", "Why"], rows, "Nothing carried over.")


def _denied(case: PrincipalCase) -> str:
    rows = [
        [
            f"<code>{_e(d.get('action', ''))}</code>",
            _e(d.get("outcome", "denied")),
            _n(int(d.get("calls", 0))),
            _e(d.get("lastSeen", "")),
            _codes(d.get("resources", [])),
        ]
        for d in case["denied"]
    ]
    return _table("denied-calls", ["Action", "Outcome", "Calls", "Last seen", "Resources"], rows, "No denied calls.")


def _unmapped(case: PrincipalCase) -> str:
    rows = [
        [
            f"<code>{_e(u.get('eventSource', ''))} {_e(u.get('eventName', ''))}</code>",
            _n(int(u.get("calls", 0))),
            _e(u.get("lastSeen", "")),
            _e(u.get("reason", "")),
        ]
        for u in case["unmapped"]
    ]
    return _table("unmapped-calls", ["API call", "Calls", "Last seen", "Why"], rows, "None.")


def _versions(case: PrincipalCase) -> str:
    rows = [
        [
            _n(int(v.get("version", 0))),
            _e(v.get("created_at", "")),
            _e(v.get("mode", "")),
            _e(" to ".join(str(d) for d in v.get("window", []))),
            _n(int(v.get("actions", 0))),
            f"<code>{_e(v.get('fingerprint', ''))}</code>",
        ]
        for v in reversed(case["versions"])
    ]
    return _table("version-history", ["Version", "Created", "Mode", "Window", "Actions", "Fingerprint"], rows, "None.")


def _applied(case: PrincipalCase) -> str:
    rows = [
        [
            _e(step.get("at", "")),
            _e(step.get("action", "")),
            f"<code>{_e(step.get('policy_arn', ''))}</code>",
            _e(step.get("iam_version", "")),
            _n(step["version"]) if isinstance(step.get("version"), int) else "",
            _e(step.get("replaced", "")),
            _e(step.get("caller", "")),
        ]
        for step in reversed(case["applied"])
    ]
    head = ["When", "Step", "Policy", "IAM version", "Version", "Replaced", "Who"]
    return _table("apply-log", head, rows, "Never applied (accessfit apply).")
