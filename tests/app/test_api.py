"""The review API (app/api.py): its answers and errors in process over an index, and a real `accessfit run --demo`
serving both endpoints from its own index while it polls."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accessfit.app.api import PRINCIPAL, PRINCIPALS, ReviewApi
from accessfit.iam.catalog import catalog
from accessfit.index import Batch, UsageIndex
from app.test_daemon import free_port, get, wait_for
from helpers import A1, NOW, use
from processes import reaped
from review_shape import principal_case, principal_list

APP = f"arn:aws:iam::{A1}:role/app"


@pytest.fixture
def api(tmp_path: Path) -> ReviewApi:
    path = tmp_path / "i.sqlite3"
    with UsageIndex(path) as index:
        batch = Batch()
        use(batch, APP, "ListBuckets", NOW.date().isoformat(), count=2)
        index.commit("s", batch, NOW - timedelta(hours=1))
    return ReviewApi(path, catalog(), lambda: NOW, 90, 14, "accessfit:keep", lambda: ())


def _json(api: ReviewApi, path: str, query: str) -> tuple[int, Any]:
    reply = api.routes()[path](query)
    assert reply.content_type == "application/json"
    return reply.status, json.loads(reply.body)


def test_both_documents_of_a_small_index(api: ReviewApi) -> None:
    status, listed = _json(api, PRINCIPALS, "")
    assert status == 200
    principal_list(listed)
    assert [p["arn"] for p in listed["principals"]] == [APP]
    # No trail coverage was recorded for this hand-made usage: the verdict is unknown, and says why.
    assert listed["principals"][0]["coverage"]["verdict"] == "unknown"
    status, case = _json(api, PRINCIPAL, "arn=" + urllib.parse.quote(APP))
    assert status == 200
    principal_case(case)
    assert case["arn"] == APP and case["policy"] is None and case["versions"] == []  # never generated
    assert _json(api, PRINCIPAL, "arn=role/app")[1]["arn"] == APP  # what `accessfit policy` accepts
    assert _json(api, PRINCIPALS, "kind=user")[1]["principals"] == []


@pytest.mark.parametrize(
    ("path", "query", "says"),
    [
        (PRINCIPAL, "", "arn is required"),
        (PRINCIPAL, "arn=", "once, not empty"),
        (PRINCIPAL, f"arn={APP}&arn={APP}", "once, not empty"),
        (PRINCIPAL, "name=app", "unknown parameter 'name'"),
        (PRINCIPALS, "account=1&account=2", "once, not empty"),
        (PRINCIPALS, "sort=name", "unknown parameter 'sort'"),
        (PRINCIPALS, "account", "cannot read the query"),
        (PRINCIPALS, "kind=%ff", "cannot read the query"),
        (PRINCIPALS, "x" * 5000, "longer than"),
    ],
)
def test_a_bad_query_is_400_with_a_json_error(api: ReviewApi, path: str, query: str, says: str) -> None:
    status, body = _json(api, path, query)
    assert status == 400 and says in body["error"] and body["schema_version"] == 1


def test_an_unknown_principal_is_404_and_a_missing_index_503(api: ReviewApi, tmp_path: Path) -> None:
    status, body = _json(api, PRINCIPAL, "arn=arn:aws:iam::111122223333:role/nobody")
    assert status == 404 and "no principal" in body["error"]
    gone = ReviewApi(tmp_path / "none.sqlite3", catalog(), lambda: NOW, 90, 14, "k", lambda: ())
    status, body = _json(gone, PRINCIPALS, "")
    assert status == 503 and "does not exist" in body["error"]


def _get(port: int, path: str) -> tuple[int, str, Any]:
    url = f"http://127.0.0.1:{port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:  # 127.0.0.1 only
            return resp.status, resp.headers["Content-Type"], json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], json.loads(exc.read())


@pytest.mark.slow
def test_a_running_demo_daemon_serves_the_ranked_list_and_each_principal(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "ACCESSFIT_LISTEN": f"127.0.0.1:{port}", "ACCESSFIT_GRANTED_INTERVAL": "2s"}
    cmd = [sys.executable, "-m", "accessfit", "run", "--demo", str(tmp_path / "demo")]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    with reaped(proc):

        def ranked() -> Any:
            try:
                status, _, body = _get(port, PRINCIPALS)
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                return None
            rows = body["principals"] if status == 200 else []
            # Ready once the trail is ingested, the policies generated and the drift computed over them.
            done = rows and all(r["latest_version"] for r in rows if r["kind"] != "root")
            return body if done and rows[0]["drift"] and rows[0]["drift"]["unused_privileged"] else None

        listed = wait_for(ranked, timeout=120)
        principal_list(listed)
        rows = listed["principals"]
        privileged = [r["drift"]["unused_privileged"] if r["drift"] else 0 for r in rows]
        assert privileged == sorted(privileged, reverse=True) and privileged[0] > 1000
        assert {r["coverage"]["verdict"] for r in rows} == {"proven"}  # the demo trail covers the window
        account = rows[0]["account"]
        status, kind, only = _get(port, f"{PRINCIPALS}?account={account}&kind=role")
        assert status == 200 and kind == "application/json"
        assert {(r["account"], r["kind"]) for r in only["principals"]} == {(account, "role")}
        for row in rows[:3]:
            status, kind, case = _get(port, f"{PRINCIPAL}?arn={urllib.parse.quote(row['arn'], safe='')}")
            assert status == 200 and kind == "application/json"
            principal_case(case)
            assert case["arn"] == row["arn"] and case["coverage"] == row["coverage"]
            assert case["policy"] is not None and case["policy"]["version"] == row["latest_version"]
            assert case["actions"] and all(a["access_level"] for a in case["actions"])
        status, _, body = _get(port, f"{PRINCIPAL}?arn=arn:aws:iam::{account}:role/nobody")
        assert status == 404 and "no principal" in body["error"]
        status, _, body = _get(port, f"{PRINCIPALS}?sort=1")
        assert status == 400 and "unknown parameter" in body["error"]
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.communicate()[1]
