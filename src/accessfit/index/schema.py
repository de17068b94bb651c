"""The index's schema and its migrations, tracked with SQLite's user_version."""

from __future__ import annotations

# Each entry moves the schema from version i to i + 1. Append; never edit a released step.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE principals (
        id INTEGER PRIMARY KEY,
        arn TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        account TEXT NOT NULL
    );
    CREATE TABLE api_calls (
        id INTEGER PRIMARY KEY,
        event_source TEXT NOT NULL,
        event_name TEXT NOT NULL,
        UNIQUE (event_source, event_name)
    );
    -- A call's resource identifier (see accessfit.records.resources); '' when it names none.
    CREATE TABLE resources (
        id INTEGER PRIMARY KEY,
        value TEXT NOT NULL UNIQUE,
        collapsed INTEGER NOT NULL DEFAULT 0
    );
    -- Daily aggregates of raw API calls. outcome: 0 allowed, 1 denied, 2 failed for another reason.
    CREATE TABLE usage (
        principal_id INTEGER NOT NULL,
        call_id INTEGER NOT NULL,
        resource_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        outcome INTEGER NOT NULL,
        count INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        PRIMARY KEY (principal_id, call_id, resource_id, day, outcome)
    ) WITHOUT ROWID;
    CREATE INDEX usage_day ON usage (day);
    -- One (account, region) stream of log files; high_water: every file delivered up to it has been seen.
    CREATE TABLE partitions (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        path TEXT NOT NULL,
        org TEXT,
        account TEXT NOT NULL,
        region TEXT NOT NULL,
        high_water TEXT,
        polled_at TEXT,
        UNIQUE (source, path)
    );
    -- The ledger: each log object processed, written in the same transaction as its usage.
    CREATE TABLE objects (
        partition_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        day TEXT NOT NULL,
        size INTEGER,
        etag TEXT,
        status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        reason TEXT,
        records INTEGER NOT NULL,
        ingested INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        processed_at TEXT NOT NULL,
        PRIMARY KEY (partition_id, key)
    ) WITHOUT ROWID;
    -- Coverage per (account, region, delivery day): which days have data.
    CREATE TABLE coverage (
        partition_id INTEGER NOT NULL,
        day TEXT NOT NULL,
        objects INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        records INTEGER NOT NULL,
        ingested INTEGER NOT NULL,
        first_event TEXT,
        last_event TEXT,
        PRIMARY KEY (partition_id, day)
    ) WITHOUT ROWID;
    -- Records not counted, by delivery day and reason.
    CREATE TABLE skipped (
        day TEXT NOT NULL,
        reason TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, reason)
    ) WITHOUT ROWID;
    -- Small state: 'dirty_from' is the earliest day written since the last compaction.
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
)

MIGRATIONS += (
    """
    -- When a principal's usage rows last changed (written or pruned): its policy may need regenerating.
    ALTER TABLE principals ADD COLUMN usage_changed TEXT;
    -- Generated policies. A version is stored only when the documents change.
    CREATE TABLE policy_versions (
        principal_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        mode TEXT NOT NULL,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        generator TEXT NOT NULL,
        documents TEXT NOT NULL,
        justification TEXT NOT NULL,
        denied TEXT NOT NULL,
        unmapped TEXT NOT NULL,
        warnings TEXT NOT NULL,
        PRIMARY KEY (principal_id, version)
    ) WITHOUT ROWID;
    -- The last time generation looked at a principal, and with which generator (accessfit and catalog versions).
    CREATE TABLE policy_checks (
        principal_id INTEGER PRIMARY KEY,
        checked_at TEXT NOT NULL,
        generator TEXT NOT NULL
    );
    """,
)

MIGRATIONS += (
    """
    -- The last GetAccountAuthorizationDetails of each account, as fetched (JSON).
    CREATE TABLE authorization_snapshots (
        account TEXT PRIMARY KEY,
        fetched_at TEXT NOT NULL,
        data TEXT NOT NULL
    );
    -- Coverage rows now also exist for days that were listed and held no log file.
    ALTER TABLE coverage ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
    """,
)

MIGRATIONS += (
    """
    -- Events already counted, so that one delivered again in another file is counted once: the event day
    -- (date.toordinal) and a 63-bit hash of eventID and recipientAccountId (jobs.ingest.dedupe). Pruned with the
    -- window, written in the transaction of the usage it stands for.
    CREATE TABLE seen_events (
        day INTEGER NOT NULL,
        hash INTEGER NOT NULL,
        PRIMARY KEY (day, hash)
    ) WITHOUT ROWID;
    -- Objects listed and then not found (404) when read: read again by later passes, until `attempts` reaches
    -- the bound and the object is recorded failed. Not in the ledger while here.
    CREATE TABLE retries (
        partition_id INTEGER NOT NULL,
        key TEXT NOT NULL,
        day TEXT NOT NULL,
        delivered TEXT NOT NULL,
        size INTEGER,
        etag TEXT,
        attempts INTEGER NOT NULL,
        first_failed TEXT NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (partition_id, key)
    ) WITHOUT ROWID;
    """,
)

MIGRATIONS += (
    """
    -- When each snapshot's content last changed (a refresh that fetched the same details leaves it): a change
    -- makes the account's principals due for regeneration, since what they are granted shapes their policies.
    ALTER TABLE authorization_snapshots ADD COLUMN changed_at TEXT;
    UPDATE authorization_snapshots SET changed_at = fetched_at;
    """,
)

MIGRATIONS += (
    """
    -- Every step `accessfit apply` and `rollback` took in IAM (index.applied): who (the caller's ARN), when, the
    -- principal (its ARN, so a pruned principal keeps its log), the customer-managed policy, its IAM version id,
    -- the accessfit version whose document it holds, and what was done; `replaced` is the IAM version that was
    -- default before an activation or a rollback (what a rollback returns to).
    CREATE TABLE applied (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        caller TEXT NOT NULL,
        principal TEXT NOT NULL,
        policy_arn TEXT NOT NULL,
        iam_version TEXT NOT NULL,
        version INTEGER,
        action TEXT NOT NULL,
        replaced TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX applied_principal ON applied (principal, id);
    """,
)

MIGRATIONS += (
    """
    -- Usage rows of an ingestion pass not yet merged into usage (index.staging): appended in each batch's
    -- transaction, merged in key order and deleted in one later transaction. Readers read usage only. The
    -- resource is its text: it is interned when merged, in sorted order, not batch by batch.
    CREATE TABLE staged_usage (
        principal_id INTEGER NOT NULL,
        call_id INTEGER NOT NULL,
        resource TEXT NOT NULL,
        day TEXT NOT NULL,
        outcome INTEGER NOT NULL,
        count INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    """,
)

MIGRATIONS += (
    """
    -- The few collapsed resources (collapsed > 0: 196 of 454,158 after 1,000,000 diverse events), for compaction,
    -- which asks whether a group of usage rows holds one: a join of every row of the days it looks at to its
    -- resource, a random probe each (0.65 s of a 1,000,000-event pass, worse as the table outgrows the cache),
    -- becomes a lookup in this small index.
    CREATE INDEX resources_collapsed ON resources (id) WHERE collapsed > 0;
    """,
)

MIGRATIONS += (
    """
    -- policy_versions as a rowid table, its key a unique index. WITHOUT ROWID kept each row (a version's texts, 4-5
    -- KB) in the key's B-tree, so a regeneration's new versions, each inserted beside its principal's older one,
    -- split and rewrote pages all over the table, every page of it larger than the writer's cache: 100 chunks of
    -- 500 second versions at 50,000 principals took 12.2 s of CPU and 22.1 s (SELECT of the latest, INSERT and
    -- COMMIT) against 2.8 and 6.0 s as a rowid table, whose rows are appended and whose key is a small index
    -- (docs/benchmarks.md, "Regeneration at 50,000 under 60 s"). The rows are copied in key order.
    CREATE TABLE policy_versions_by_rowid (
        principal_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        mode TEXT NOT NULL,
        window_start TEXT NOT NULL,
        window_end TEXT NOT NULL,
        generator TEXT NOT NULL,
        documents TEXT NOT NULL,
        justification TEXT NOT NULL,
        denied TEXT NOT NULL,
        unmapped TEXT NOT NULL,
        warnings TEXT NOT NULL
    );
    INSERT INTO policy_versions_by_rowid SELECT principal_id, version, created_at, fingerprint, mode, window_start,
        window_end, generator, documents, justification, denied, unmapped, warnings
        FROM policy_versions ORDER BY principal_id, version;
    DROP TABLE policy_versions;
    ALTER TABLE policy_versions_by_rowid RENAME TO policy_versions;
    CREATE UNIQUE INDEX policy_versions_key ON policy_versions (principal_id, version);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
