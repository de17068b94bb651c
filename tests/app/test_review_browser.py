"""The review pages in a real browser: headless Chromium (Debian's chromium and chromium-driver, through Selenium)
reads `/review/` and principal pages from a running `accessfit run --demo`, and checks what a reviewer must see:
the ranked rows, the filter, the coverage verdict before anything else, the diff against what is granted now, the
evidence, the replay result; and that a principal and an API call named `<script>…` come out as text, never run.
Screenshots are written as test artifacts (under the test's tmp path, and $TEST_ARTIFACTS when set)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from app.test_daemon import free_port, get, wait_for
from helpers import A1, rec, user_uid, write_log
from processes import reaped
from tools import require

EVIL_NAME = '<script>document.title="pwned"</script>'
EVIL_ARN = f"arn:aws:iam::{A1}:user/{EVIL_NAME}"
EVIL_CALL = "<script>document.title='pwned by a call'</script>"
DEMO_ORG = "o-a1b2c3d4e5"  # the demo trail's organization (its keys' prefix)


@contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = require("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"):
        options.add_argument(arg)
    options.add_argument("--window-size=1400,1600")
    options.add_argument(f"--user-data-dir={profile}")
    # The driver's path is given: Selenium Manager (which would look for a browser on the network) is not used.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=require("chromedriver")))
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def _artifact(driver: WebDriver, tmp_path: Path, name: str) -> Path:
    folder = tmp_path / "artifacts"
    folder.mkdir(exist_ok=True)
    shot = folder / name
    assert driver.save_screenshot(str(shot)), shot
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("TEST_ARTIFACTS"):
        out = Path(os.environ["TEST_ARTIFACTS"])
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, out / name)
    return shot


def _api(port: int, path: str) -> Any:
    status, body = get(f"http://127.0.0.1:{port}{path}")
    return json.loads(body) if status == 200 else None


# A table's rendered cell texts in one round trip: read cell by cell, the 500-row table of removals alone cost
# thousands of WebDriver requests, half a minute of the suite.
_CELLS = """
return Array.from(document.querySelectorAll(`table#${arguments[0]} tr`)).slice(1).map(
    (row) => Array.from(row.querySelectorAll("td"), (td) => td.innerText.trim()));
"""


def _cells(driver: WebDriver, table: str) -> list[list[str]]:
    cells: list[list[str]] = driver.execute_script(_CELLS, table)
    return cells


@pytest.mark.slow
def test_a_reviewer_sees_the_ranking_verdict_diff_evidence_and_replay_in_chromium(tmp_path: Path) -> None:
    require("chromium")
    require("chromedriver")
    port = free_port()
    demo = tmp_path / "demo"
    env = {**os.environ, "ACCESSFIT_LISTEN": f"127.0.0.1:{port}"}
    cmd = [sys.executable, "-m", "accessfit", "run", "--demo", str(demo)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    with reaped(proc):

        def ranked() -> Any:
            try:
                body = _api(port, "/api/v1/principals")
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                return None
            rows = body["principals"] if body else []
            done = rows and all(r["latest_version"] for r in rows if r["kind"] != "root")
            return rows if done and rows[0]["drift"] and rows[0]["drift"]["unused_privileged"] else None

        wait_for(ranked, timeout=180)
        # A user and an API call named like markup, delivered into the demo's trail as any log file is.
        now = datetime.now(UTC)
        t = (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        uid = user_uid(name=EVIL_NAME)
        write_log(
            demo / "trail", now, [rec("ListBuckets", uid=uid, time=t), rec(EVIL_CALL, uid=uid, time=t)], org=DEMO_ORG
        )
        evil_href = f"/review/principal?arn={urllib.parse.quote(EVIL_ARN, safe='')}"
        wait_for(lambda: (c := _api(port, "/api/v1/principal?" + evil_href.split("?")[1])) and c["policy"], timeout=60)
        listed = ranked()
        with chromium(tmp_path / "profile") as driver:
            # -- the ranked list
            driver.get(f"{base}/review/")
            assert driver.title == "accessfit review"
            rows = _cells(driver, "principals")
            assert {r[1] for r in rows} == {r["arn"] for r in listed}
            privileged = [int(r[4]) if r[4] else 0 for r in rows]
            assert privileged == sorted(privileged, reverse=True) and privileged[0] > 1000
            assert [r[0] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
            assert {r[5].split()[0] for r in rows} <= {"proven", "unknown"}
            evil_row = next(r for r in rows if r[1] == EVIL_ARN)  # the markup is the row's text
            assert evil_row[5].startswith("unknown") and "grace period" in evil_row[5]
            assert not driver.find_elements(By.TAG_NAME, "script")
            _artifact(driver, tmp_path, "review-list.png")
            # The filter is a plain GET form.
            account = rows[0][3]
            driver.find_element(By.CSS_SELECTOR, f"select[name=account] option[value='{account}']").click()
            driver.find_element(By.CSS_SELECTOR, "select[name=kind] option[value='role']").click()
            driver.find_element(By.CSS_SELECTOR, "#filters button").click()
            wait_for(lambda: "account=" in driver.current_url)
            only = _cells(driver, "principals")
            assert only and {(r[3], r[2]) for r in only} == {(account, "role")}
            assert len(only) < len(rows)
            # -- the top-ranked principal, reached by its link
            driver.get(f"{base}/review/")
            # Read from the page whose link is clicked: the demo goes on adding calls, and two principals whose
            # privileged counts are close can swap places between two loads of the list.
            top = _cells(driver, "principals")[0][1]
            driver.find_element(By.CSS_SELECTOR, "table#principals a.principal").click()
            wait_for(lambda: "/review/principal" in driver.current_url)
            assert driver.find_element(By.TAG_NAME, "h1").text == top
            sections = [s.get_attribute("id") for s in driver.find_elements(By.TAG_NAME, "section")]
            assert sections[0] == "coverage" and sections[1:3] == ["against-granted", "replay"]
            assert driver.find_element(By.CSS_SELECTOR, "#coverage .verdict").text == "coverage proven"
            diff = driver.find_element(By.ID, "against-granted").text
            assert "Within what is granted now." in diff
            # A long list of removals starts folded (HTML's details: no script) and opens on a click.
            assert driver.find_element(By.ID, "removed-details").get_attribute("open") is None
            assert not driver.find_element(By.ID, "removed").is_displayed()
            driver.find_element(By.CSS_SELECTOR, "#removed-details summary").click()
            assert driver.find_element(By.ID, "removed").is_displayed()
            removed = _cells(driver, "removed")
            assert len(removed) == 500 and removed[0][1] == "Permissions management"  # most powerful first
            assert "more" in driver.find_element(By.ID, "removed-more").text
            evidence = _cells(driver, "evidence")
            assert evidence and all(r[1] for r in evidence)  # an access level for every action
            seen = [r for r in evidence if int(r[3]) > 0]
            assert seen and all(".amazonaws.com " in r[5] and r[4] for r in seen)  # calls, last seen, the API call
            assert driver.find_element(By.ID, "replay-verdict").text == "nothing would break"
            assert "calls replayed" in driver.find_element(By.ID, "replay").text
            assert _cells(driver, "version-history")
            _artifact(driver, tmp_path, "review-principal.png")
            # -- the principal named like markup: shown as text, nothing ran
            driver.get(base + evil_href)
            assert driver.find_element(By.TAG_NAME, "h1").text == EVIL_ARN
            assert driver.title == f"accessfit review: {EVIL_ARN}"  # not "pwned": the title is the escaped ARN
            assert not driver.find_elements(By.TAG_NAME, "script")
            assert driver.find_element(By.CSS_SELECTOR, "#coverage .verdict").text == "coverage unknown"
            unmapped = _cells(driver, "unmapped-calls")
            assert [r[0] for r in unmapped] == [f"s3.amazonaws.com {EVIL_CALL}"]
            _artifact(driver, tmp_path, "review-markup-principal.png")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.communicate()[1]
