from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import structlog
import time_machine

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from prometheus_client import CollectorRegistry

    from accessfit.index import UsageIndex

Upload = Callable[["S3Client", str, Path, set[str] | None], list[str]]

SHIM = Path(__file__).parent / "clockshim"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-shift-days",
        type=int,
        default=0,
        help="run every test, and every process it starts, with the wall clock this many days ahead",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test on the moto server must carry the `slow` mark (it starts a server), so `-m "not slow"` stays fast."""
    unmarked = [
        item.nodeid
        for item in items
        if isinstance(item, pytest.Function)
        and "moto_server" in item.fixturenames
        and item.get_closest_marker("slow") is None
    ]
    if unmarked:
        raise pytest.UsageError(f"tests on the moto server without @pytest.mark.slow: {', '.join(unmarked)}")


@pytest.fixture(autouse=True)
def shifted_clock(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test may depend on the day it runs: `make test` runs the in-process tests again years ahead, `make
    future-all` every test, and every process a test starts."""
    days: int = request.config.getoption("--clock-shift-days")
    if not days:
        yield
        return
    monkeypatch.setenv("TEST_CLOCK_SHIFT_DAYS", str(days))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(SHIM), os.environ.get("PYTHONPATH")])))
    with time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True):
        yield


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials in every test; nothing reaches real AWS or any network beyond 127.0.0.1."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in list(os.environ):
        if name.startswith("ACCESSFIT_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def reset_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> S3Client:
    """A boto3 S3 client built by accessfit, talking HTTP to a fresh moto server."""
    with urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")):  # noqa: S310
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    from accessfit.app.aws import s3_client

    return s3_client()


def upload_tree(client: S3Client, bucket: str, root: Path, only: set[str] | None = None) -> list[str]:
    keys = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            key = path.relative_to(root).as_posix()
            if only is None or key in only:
                client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
                keys.append(key)
    return keys


@pytest.fixture
def upload() -> Upload:
    return upload_tree


@pytest.fixture
def index(tmp_path: Path) -> Iterator[UsageIndex]:
    """A fresh, empty usage index in the test's own folder, closed afterwards."""
    from accessfit.index import UsageIndex

    with UsageIndex(tmp_path / "index.sqlite3") as opened:
        yield opened


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """The wall clock stopped at the tests' NOW; `clock.shift(timedelta)` moves it."""
    from helpers import NOW

    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def registry() -> CollectorRegistry:
    """A Prometheus registry of the test's own; read values with `registry.get_sample_value(name, labels)`."""
    from prometheus_client import CollectorRegistry

    return CollectorRegistry()
