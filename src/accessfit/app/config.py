"""Settings: defaults < TOML file (--config or ACCESSFIT_CONFIG) < ACCESSFIT_* variables < command-line flags.

Loaded by the CLI; `app.wiring` alone turns them into the plain values the rest is handed (the daemon included).
"""

from __future__ import annotations

import difflib
import os
import socket
import tomllib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from accessfit.app.files import check_index, read_settings_file
from accessfit.app.values import AccountIds, Count, Duration, RegionNames, RoleArns, host_port, http_url
from accessfit.errors import ConfigError

ENV_PREFIX = "ACCESSFIT_"
CONFIG_VARIABLE = f"{ENV_PREFIX}CONFIG"  # the file's path; every other ACCESSFIT_* variable is a setting


class OverrideSetting(BaseModel):
    """One `[[overrides]]` table: actions added to, or removed from, the policies of the principals matching
    `principals` (a glob on the ARN), on every regeneration. Turned into a policy.overrides.Override by wiring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", description="Shown in the justification and output")
    principals: str = Field(pattern=r"^[ -~]+$", description="Glob (* and ?) on the principal ARN")
    add: list[Annotated[str, Field(pattern=r"^[a-z0-9-]+:[A-Za-z0-9]+$")]] = Field(default_factory=list)
    resources: list[Annotated[str, Field(pattern=r"^(\*|arn:[ -~]+)$")]] = Field(default_factory=lambda: ["*"])
    remove: list[Annotated[str, Field(pattern=r"^[a-z0-9*?-]+:[A-Za-z0-9*?]+$")]] = Field(default_factory=list)
    reason: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _does_something(self) -> OverrideSetting:
        if not self.add and not self.remove:
            raise ValueError(f"override {self.name!r} neither adds nor removes an action")
        if not self.resources:
            raise ValueError(f"override {self.name!r}: resources is empty (leave it out for *)")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    source: str | None = Field(
        default=None,
        description="Trail to read: a directory laid out like the bucket, file://…, or s3://bucket[/prefix]",
    )
    database: Path = Field(default=Path("accessfit.sqlite3"), description="The SQLite index file")
    window_days: Count = Field(default=90, ge=1, le=36500, description="Days of usage the index keeps")
    prune_to_window: bool = Field(
        default=False,
        description="Let a smaller window_days than the index was kept with prune the usage before it",
    )
    since: date | None = Field(default=None, description="Start of the first backfill (default: the window)")
    accounts: AccountIds = Field(default_factory=list, description="Only these account ids (empty: all)")
    regions: RegionNames = Field(default_factory=list, description="Only these regions (empty: all)")
    lookback: Duration = Field(default=timedelta(hours=1), description="How far behind its cursor a poll looks")
    settle: Duration = Field(default=timedelta(minutes=2), description="Newest files left for the next poll")
    fetch_workers: Count = Field(default=4, ge=1, le=64, description="Parallel object reads")
    ingest_workers: Count = Field(
        default=0, ge=0, le=256, description="Processes that decode and count log files (0: one per core)"
    )
    policy_workers: Count = Field(
        default=0, ge=0, le=256, description="Processes that build policies when thousands are due (0: one per core)"
    )
    batch_objects: Count = Field(default=20, ge=1, le=10000, description="Objects per index transaction")
    max_object_mb: Count = Field(default=128, ge=1, le=4096, description="Largest object read, compressed")
    max_json_mb: Count = Field(default=1024, ge=1, le=16384, description="Largest log file, inflated")
    resource_cap: Count = Field(
        default=100, ge=1, le=100000, description="Distinct resources kept per principal, call and day"
    )
    resources: Literal["observed", "placeholder", "wildcard"] = Field(
        default="observed", description="How generated policies name resources"
    )
    policy_dir: Path | None = Field(default=None, description="Where `generate` writes policy files")
    policy_git: bool = Field(default=False, description="Commit the policy directory after each regeneration")
    overrides: list[OverrideSetting] = Field(
        default_factory=list, description="Actions added to or removed from matching principals' policies"
    )
    policy_size_limit: Count = Field(
        default=6144, ge=512, le=10240, description="Characters per policy document, whitespace not counted"
    )
    policies_per_principal: Count = Field(
        default=10, ge=1, le=20, description="Managed policies IAM lets you attach to a role or user"
    )
    objects_per_bucket: Count = Field(
        default=5, ge=1, le=1000, description="Observed S3 objects per bucket before they become a prefix"
    )
    resources_per_action: Count = Field(
        default=20, ge=1, le=1000, description="Observed ARNs per action before they become a prefix"
    )
    carry_unobservable_all_services: bool = Field(
        default=False,
        description="Carry granted actions CloudTrail cannot show over in every service, not only those called",
    )
    assume_roles: RoleArns = Field(
        default_factory=list,
        description="Roles to assume to read IAM in other accounts (the own account is read directly)",
    )
    read_own_account: bool = Field(default=True, description="Read IAM of the account of accessfit's credentials")
    grace_days: Count = Field(
        default=14, ge=0, le=3650, description="Principals younger than this have no unused permissions, only unknown"
    )
    keep_marker: str = Field(
        default="AccessfitKeep",
        pattern=r"^[A-Za-z0-9]+$",
        description="Statements whose Sid starts with this are never reported unused",
    )
    watch_days: Count = Field(
        default=7,
        ge=0,
        le=365,
        description="Days after `accessfit apply --activate` the daemon watches for calls the change broke (0: never)",
    )
    auto_rollback: bool = Field(
        default=False,
        description="Roll a principal back by itself when its watch finds a call the previous version allowed",
    )
    listen: str = Field(default="127.0.0.1:9847", description="host:port for /metrics, /healthz, /readyz and /runbook")
    http_workers: Count = Field(default=4, ge=1, le=64, description="Threads answering HTTP requests")
    http_timeout: Duration = Field(
        default=timedelta(seconds=10),
        description="An HTTP connection idle this long is closed; a request must be read and answered within it",
    )
    poll_interval: Duration = Field(default=timedelta(minutes=5), description="How often the daemon polls the trail")
    granted_interval: Duration = Field(default=timedelta(hours=1), description="How often IAM is read again")
    prune_interval: Duration = Field(default=timedelta(days=1), description="How often old usage is pruned")
    source_queue: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description="An SQS queue URL of the s3:// source's ObjectCreated notifications (direct, SNS or EventBridge); "
        "the lister then only reconciles, every reconcile_interval",
    )
    reconcile_interval: Duration = Field(
        default=timedelta(hours=1), description="With source_queue: how often the lister picks up what it missed"
    )
    metrics_per_principal: bool = Field(default=False, description="Export per-principal series (capped)")
    metrics_principal_cap: Count = Field(default=50, ge=1, le=10000, description="Most per-principal series")
    external_url: str = Field(
        default="http://127.0.0.1:9847",
        description="The URL people and Alertmanager's notifications reach this daemon at (default: http://LISTEN)",
    )
    runbook_base_url: str = Field(
        default="http://127.0.0.1:9847/runbook",
        description="Where the runbook is read: each alert's runbook_url is its section there "
        "(default: EXTERNAL_URL/runbook, which the daemon serves)",
    )
    dashboard_url: str = Field(
        default="http://127.0.0.1:3000/d/accessfit/accessfit",
        description="The Grafana dashboard (deploy/grafana/accessfit.json) every alert links to",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level")
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: console on a terminal, JSON lines otherwise"
    )

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host_port(v)
        return v

    @field_validator("external_url", "runbook_base_url", "dashboard_url")
    @classmethod
    def _url(cls, v: str, info: ValidationInfo) -> str:
        return http_url(v, whole=info.field_name == "dashboard_url")

    @model_validator(mode="after")
    def _derived_urls(self) -> Settings:
        # Unset, the links follow `listen` (and a set external_url): the daemon serves the runbook itself.
        if "external_url" not in self.model_fields_set:
            self.external_url = f"http://{self.listen}"
        if "runbook_base_url" not in self.model_fields_set:
            self.runbook_base_url = f"{self.external_url}/runbook"
        return self

    @field_validator("poll_interval", "granted_interval", "prune_interval", "http_timeout", "reconcile_interval")
    @classmethod
    def _at_least_a_second(cls, v: timedelta) -> timedelta:
        if v < timedelta(seconds=1):
            raise ValueError("must be at least 1s")
        return v

    @field_validator("database", "policy_dir", mode="before")
    @classmethod
    def _path(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            raise ValueError("is empty")  # Path("") would be the working directory
        return v

    def listen_address(self) -> tuple[str, int]:
        """The numeric address to bind, a host name resolved; a ConfigError when it does not resolve."""
        host, port = host_port(self.listen)
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
            raise ConfigError(f"invalid setting listen ({self.listen!r}): cannot resolve {host!r}: {reason}") from exc
        # IPv4 first when a name has both (localhost): what scrapers of 127.0.0.1 and earlier releases expect.
        found.sort(key=lambda info: info[0] != socket.AF_INET)
        return str(found[0][4][0]), port

    @field_validator("source")
    @classmethod
    def _source(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("is empty")
        if v is not None and "://" in v and not v.startswith(("s3://", "file://")):
            raise ValueError("must be a directory, file://… or s3://bucket[/prefix]")
        return v

    def since_datetime(self) -> datetime | None:
        return datetime.combine(self.since, datetime.min.time(), UTC) if self.since else None

    def require_source(self) -> str:
        if not self.source:
            raise ConfigError(f"no source configured: set `source` in the config file, {ENV_PREFIX}SOURCE, or --source")
        return self.source


def _did_you_mean(name: str, known: list[str], prefix: str = "") -> str:
    # Compared without the prefix they all share, which would make anything look close.
    close = difflib.get_close_matches(name.removeprefix(prefix), [k.removeprefix(prefix) for k in known], n=1)
    return f"; did you mean {prefix}{close[0]}?" if close else ""


def _check_environment() -> None:
    """An ACCESSFIT_* variable that names no setting is refused like an unknown key in the file: a misspelt
    ACCESSFIT_POLL_INTERVALL would otherwise leave the default in force without a word."""
    known = sorted({f"{ENV_PREFIX}{n.upper()}" for n in Settings.model_fields} | {CONFIG_VARIABLE})
    for variable in sorted(os.environ):
        name = variable.upper()  # pydantic-settings reads them case-insensitively
        if name.startswith(ENV_PREFIX) and name not in known:
            hint = _did_you_mean(name, known, ENV_PREFIX) or (
                f"; each setting NAME is {ENV_PREFIX}NAME (`accessfit config check` lists them), "
                f"and {CONFIG_VARIABLE} names the settings file"
            )
            raise ConfigError(f"unknown environment variable {variable}{hint}")


def _origin(name: str, path: Path | None, overrides: dict[str, Any]) -> str:
    if name in overrides:
        return f"--{name.replace('_', '-')}"
    env = f"{ENV_PREFIX}{name.upper()}"
    if env in os.environ:
        return f"{env}={os.environ[env]!r}"
    return str(path) if path else "default"


def load(config: str | Path | None = None, *, defaults: Mapping[str, Any] | None = None, **overrides: Any) -> Settings:
    """Settings from every layer. `defaults` (the demo's) win over the file but yield to the environment and to
    `overrides` (the flags; None is not given). Raises ConfigError naming the first bad setting and where it came
    from."""
    _check_environment()
    path_text = config if config is not None else os.environ.get(CONFIG_VARIABLE)
    path = Path(path_text) if path_text else None
    if path is not None:
        try:
            tomllib.loads(read_settings_file(path))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    given = {k: v for k, v in (defaults or {}).items() if f"{ENV_PREFIX}{k.upper()}" not in os.environ}
    given.update({k: v for k, v in overrides.items() if v is not None})

    class _Layered(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            layers = [init_settings, env_settings]
            if path is not None:
                layers.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            return tuple(layers)

    try:
        layered = _Layered(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        name = loc[0] if loc else "?"
        if err["type"] == "extra_forbidden":
            hint = _did_you_mean(name, list(Settings.model_fields))
            raise ConfigError(f"unknown setting {name!r} in {_origin(name, path, given)}{hint}") from exc
        msg = err["msg"].removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {name} ({_origin(name, path, given)}): {msg}") from exc
    settings = Settings.model_construct(**{k: getattr(layered, k) for k in Settings.model_fields})
    check_index(settings.database)
    return settings


def describe(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain JSON-able values."""
    return settings.model_dump(mode="json")
