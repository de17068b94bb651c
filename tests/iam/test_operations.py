"""Console sign-in is recognised by its event type, the Sign-In API's calls by their action; PartiQL statements
of no known form grant any PartiQL action on any table only when nothing better is known."""

from __future__ import annotations

from accessfit.iam.catalog import catalog
from accessfit.iam.mapping import MAPPED, Context, map_call
from accessfit.jobs.explain import explain
from accessfit.model import ResourceRef
from accessfit.records.decode import decode
from helpers import A1, doc, rec, user_uid

CTX = Context("aws", "us-east-1", A1)


def _explain(name: str, source: str, event_type: str) -> tuple[str, str, list[str]]:
    record = decode(doc([rec(name, source, uid=user_uid(), event_type=event_type)]), 1 << 20).records[0]
    e = explain(record, catalog())
    return e.outcome, e.why, [a["action"] for a in e.actions]


def test_console_sign_in_is_recognised_by_event_type_not_host() -> None:
    assert _explain("ConsoleLogin", "signin.amazonaws.com", "AwsConsoleSignIn") == ("ignored", "console_sign_in", [])
    # CloudTrail also writes console sign-in events of other hosts (the billing console's, in real trails).
    assert _explain("SetContactAddress", "billingconsole.amazonaws.com", "AwsConsoleSignIn")[:2] == (
        "ignored",
        "console_sign_in",
    )
    # The Sign-In API's calls on the same host are API calls and need their action.
    assert _explain("CreateOAuth2Token", "signin.amazonaws.com", "AwsApiCall") == (
        "allowed",
        "",
        ["signin:CreateOAuth2Token"],
    )


def test_a_partiql_statement_of_no_known_form_grants_every_verb_on_any_table() -> None:
    ref = ResourceRef.of({"partiql": ["?", "select:orders"], "region": "eu-west-1"})
    m = map_call("dynamodb.amazonaws.com", "BatchExecuteStatement", ref, CTX, catalog())
    assert m.status == MAPPED
    got = {u.action: u.resources for u in m.actions}
    assert got["dynamodb:PartiQLSelect"] == ("*",)  # the unknown statement may read any table
    assert got["dynamodb:PartiQLDelete"] == ("*",)
    ref = ResourceRef.of({"partiql": ["select:"], "region": "eu-west-1"})
    only = map_call("dynamodb.amazonaws.com", "ExecuteStatement", ref, CTX, catalog())
    assert [(u.action, u.resources) for u in only.actions] == [("dynamodb:PartiQLSelect", ("*",))]
