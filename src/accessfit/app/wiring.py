"""Settings → the collaborators the commands and the daemon run with: the trail's source, ingest options, policy
limits, the IAM accounts a granted refresh reads, and the daemon's Plan. boto3 and the daemon's libraries are
imported only when a client or a Plan is built, so commands that need neither start fast."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

import structlog

from accessfit.app import log
from accessfit.app.config import Settings
from accessfit.errors import AwsAccessError, ConfigError
from accessfit.jobs.ingest import IngestOptions
from accessfit.policy import Limits
from accessfit.policy.overrides import Override
from accessfit.trail import Source
from accessfit.trail.layout import normalize_root

if TYPE_CHECKING:
    from accessfit.app.plan import Plan
    from accessfit.app.queue_job import QueueSource
    from accessfit.exporters.managed import IamPolicies
    from accessfit.jobs.ingest.notified import MessageQueue
    from accessfit.jobs.refresh import IamTarget


def configure_logging(s: Settings, stream: TextIO) -> None:
    log.configure(s.log_level, s.log_format, stream)


def _is_s3(url: str) -> bool:
    return url.startswith("s3://")


def open_source(url: str) -> Source:
    if _is_s3(url):
        from accessfit.app.aws import s3_client  # noqa: PLC0415 - boto3 only for an S3 trail
        from accessfit.trail.s3 import S3Source  # noqa: PLC0415

        return S3Source(s3_client(), url)
    from accessfit.trail.local import LocalSource  # noqa: PLC0415

    return LocalSource(url)


def root_of(url: str) -> str:
    """The folder of the source under which AWSLogs/ lives: an S3 URL's prefix; a directory is its own root."""
    if _is_s3(url):
        from accessfit.trail.s3 import parse_url  # noqa: PLC0415

        return normalize_root(parse_url(url)[1])
    return ""


def ingest_options(s: Settings, url: str, *, rescan: bool = False) -> IngestOptions:
    return IngestOptions(
        root=root_of(url),
        window_days=s.window_days,
        prune_to_window=s.prune_to_window,
        since=s.since_datetime(),
        rescan=rescan,
        lookback=s.lookback,
        settle=s.settle,
        accounts=frozenset(s.accounts),
        regions=frozenset(s.regions),
        batch_objects=s.batch_objects,
        max_object_bytes=s.max_object_mb << 20,
        max_json_bytes=s.max_json_mb << 20,
        fetch_workers=s.fetch_workers if _is_s3(url) else 1,
        workers=s.ingest_workers,
        resource_cap=s.resource_cap,
    )


def limits(s: Settings, mode: str | None = None) -> Limits:
    """The policy limits of the settings; `mode` (a --resources flag) wins over the `resources` setting."""
    return Limits(
        mode=mode or s.resources,
        document_size=s.policy_size_limit,
        policies_per_principal=s.policies_per_principal,
        objects_per_bucket=s.objects_per_bucket,
        resources_per_action=s.resources_per_action,
        carry_all_services=s.carry_unobservable_all_services,
    )


def overrides(s: Settings) -> tuple[Override, ...]:
    """The settings' overrides as the policy jobs take them, in the settings' order (their statements' Sids)."""
    return tuple(
        Override(
            name=o.name,
            principals=o.principals,
            add=tuple(o.add),
            resources=tuple(o.resources),
            remove=tuple(o.remove),
            reason=o.reason,
        )
        for o in s.overrides
    )


def _iam_of(role: str | None) -> Callable[[], tuple[Any, str]]:
    def make() -> tuple[Any, str]:
        from accessfit.app.aws import account_of, iam_client, session_for  # noqa: PLC0415 - boto3 when used

        try:
            session = session_for(role)
            return iam_client(session), account_of(session)
        except Exception as exc:  # botocore raises many kinds; each is one account's failure
            raise AwsAccessError(f"cannot get credentials for {role or 'the own account'}: {exc}") from exc

    return make


def _own_policies() -> IamPolicies:
    """IAM of the daemon's own credentials, to roll back with (auto_rollback)."""
    from accessfit.app.aws import iam_client, session_for, sts_client  # noqa: PLC0415 - boto3 when used
    from accessfit.exporters.managed import IamPolicies  # noqa: PLC0415 - botocore when used

    try:
        session = session_for(None)
        return IamPolicies(iam_client(session), sts_client(session))
    except Exception as exc:  # botocore raises many kinds when credentials cannot be had
        raise AwsAccessError(f"cannot get credentials to roll back with: {exc}") from exc


def granted_targets(s: Settings) -> list[IamTarget]:
    """The accounts a granted refresh reads: its own (`read_own_account`) and each of `assume_roles`."""
    from accessfit.jobs.refresh import IamTarget  # noqa: PLC0415 - botocore only for a refresh or the daemon

    own = [IamTarget("own account", _iam_of(None))] if s.read_own_account else []
    return own + [IamTarget(role, _iam_of(role)) for role in s.assume_roles]


def plan(s: Settings, feeder: Callable[[datetime], None] | None = None, targets: list[IamTarget] | None = None) -> Plan:
    """What the daemon runs; `feeder` adds the demo's new log files, `targets` (the demo's IAM) replace the
    accounts of the settings."""
    from accessfit.app.plan import Plan  # noqa: PLC0415 - the scheduler and Prometheus only for `run`

    url = s.require_source()
    return Plan(
        source=lambda: open_source(url),
        database=s.database,
        ingest=ingest_options(s, url),
        limits=limits(s),
        window_days=s.window_days,
        grace_days=s.grace_days,
        keep_marker=s.keep_marker,
        policy_dir=s.policy_dir,
        policy_git=s.policy_git,
        overrides=overrides(s),
        listen=s.listen_address(),
        http_workers=s.http_workers,
        policy_workers=s.policy_workers,
        http_timeout=s.http_timeout,
        poll_every=s.reconcile_interval if s.source_queue else s.poll_interval,
        granted_every=s.granted_interval,
        prune_every=s.prune_interval,
        granted_targets=granted_targets(s) if targets is None else targets,
        per_principal_metrics=s.metrics_per_principal,
        principal_cap=s.metrics_principal_cap,
        feeder=feeder,
        watch_days=s.watch_days,
        rollback_iam=_own_policies if s.auto_rollback else None,
        queue=queue_source(s.source_queue, url) if s.source_queue else None,
    )


def queue_source(queue_url: str, url: str) -> QueueSource:
    """The notification queue of an s3:// source; its region from the queue URL (sqs.REGION.amazonaws.com)."""
    from accessfit.app.queue_job import QueueSource  # noqa: PLC0415 - the daemon's only
    from accessfit.trail.s3 import parse_url  # noqa: PLC0415 - botocore only with a queue

    if not _is_s3(url):
        raise ConfigError(f"source_queue needs an s3:// source, not {url!r}")
    found = re.match(r"^https?://sqs\.([a-z0-9-]+)\.amazonaws\.com", queue_url)

    def open_queue() -> tuple[MessageQueue, int]:
        from accessfit.app.aws import sqs_client  # noqa: PLC0415 - boto3 when used
        from accessfit.trail.queue import SqsQueue  # noqa: PLC0415

        queue = SqsQueue(sqs_client(found[1] if found else None), queue_url)
        settings = queue.settings()
        if not settings.redrive:
            structlog.get_logger("accessfit.app.queue").warning(
                "queue.no_redrive", queue=queue_url, note="no dead-letter queue: poison messages come back forever"
            )
        return queue, settings.visibility

    return QueueSource(open=open_queue, bucket=parse_url(url)[0])
