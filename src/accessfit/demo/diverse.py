"""The resource-diverse cast of the demo trail (`TrailSpec(diverse=True)`): data-event-heavy traffic from thousands
of principals whose calls name hundreds of thousands of distinct resources per million events, as data-heavy
accounts produce.

Each principal (a `Tenant`) works in one or two regions on its own few buckets, DynamoDB tables (and their
indexes), KMS keys, Lambda functions and SQS queues, taken from per-account pools so that neighbours share some;
every S3 object call names an object key of its own. Principals are weighted by a Zipf law, so a few are busy and
the long tail still shows up. The record shapes are those of CloudTrail's data events (`resources[]` with the
object, table, key, function or queue ARN), as `calls` builds them.
"""

from __future__ import annotations

import random
import uuid
import zlib
from dataclasses import dataclass
from functools import lru_cache

from accessfit.demo.calls import CALLS, Call, Request
from accessfit.demo.identities import Actor
from accessfit.demo.ids import Rec, random_uuid

PRINCIPALS = 1000  # per account
BUCKETS = 400  # per account
TABLES = 2000  # per account, in each region
KEYS = 1000  # KMS keys per account and region
FUNCTIONS = 1000  # per account and region
QUEUES = 1000  # per account and region
OWN = 4  # of each kind of resource, per principal
ZIPF = 0.7  # the exponent of the principals' weights

DOMAINS = ("orders", "customers", "ledger", "catalog", "sessions", "payments", "events", "inventory")
INDEXES = ("by-customer", "by-status", "by-created", "by-owner", "gsi1", "gsi2")

# What each kind of principal calls, weighted: the calls of `CALLS` (management events) keep their own builders.
ARCHETYPES: dict[str, list[tuple[float, str]]] = {
    "etl": [
        (30, "s3.GetObject"),
        (15, "s3.PutObject"),
        (5, "s3.HeadObject"),
        (1, "s3.DeleteObject"),
        (1, "s3.ListObjects"),
        (8, "kms.Decrypt"),
        (5, "kms.GenerateDataKey"),
        (3, "sqs.ReceiveMessage"),
        (2, "sqs.DeleteMessage"),
        (1, "sts.GetCallerIdentity"),
    ],
    "api": [
        (20, "dynamodb.GetItem"),
        (8, "dynamodb.PutItem"),
        (6, "dynamodb.UpdateItem"),
        (10, "dynamodb.Query"),
        (1, "dynamodb.DeleteItem"),
        (20, "s3.GetObject"),
        (6, "kms.Decrypt"),
        (6, "sqs.SendMessage"),
        (3, "lambda.Invoke"),
        (1, "sts.GetCallerIdentity"),
    ],
    "worker": [
        (10, "sqs.ReceiveMessage"),
        (8, "sqs.DeleteMessage"),
        (4, "sqs.SendMessage"),
        (8, "lambda.Invoke"),
        (12, "s3.GetObject"),
        (10, "s3.PutObject"),
        (4, "dynamodb.PutItem"),
        (4, "dynamodb.Query"),
        (5, "kms.Decrypt"),
        (3, "kms.GenerateDataKey"),
    ],
}
# The calls whose every record names an object key never named before (the test's bound rests on it).
FRESH_OBJECT_CALLS = frozenset({"s3.GetObject", "s3.PutObject", "s3.HeadObject", "s3.DeleteObject"})


@dataclass
class Tenant(Actor):
    """A principal of the diverse cast; `home` places its own resources in the account's pools."""

    home: int = 0


def _own(rng: random.Random, actor: Actor, pool: int) -> int:
    """One of the actor's OWN resources of a pool of `pool`: spread by a stride so that tenants share some."""
    home = actor.home if isinstance(actor, Tenant) else 0
    return (home * 7 + rng.randrange(OWN) * 131) % pool


def _domain(n: int) -> str:
    return DOMAINS[n % len(DOMAINS)]


def _bucket(rng: random.Random, actor: Actor) -> str:
    n = _own(rng, actor, BUCKETS)
    return f"{actor.account}-{_domain(n)}-lake-{n:03d}"


def _object_key(rng: random.Random) -> str:
    return (
        f"{rng.choice(['raw', 'curated', 'exports'])}/{rng.choice(DOMAINS)}/dt=2026-{rng.randrange(1, 13):02d}-"
        f"{rng.randrange(1, 29):02d}/part-{rng.randrange(1000):05d}-{rng.getrandbits(64):016x}.snappy.parquet"
    )


def _s3_object(name: str, read_only: bool) -> Call:
    def build(rng: random.Random, actor: Actor, region: str) -> Request:
        bucket, key = _bucket(rng, actor), _object_key(rng)
        params: Rec = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key}
        res = [
            {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
            {"accountId": actor.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
        ]
        return Request("s3.amazonaws.com", name, params, res, "Data", read_only, None)

    return build


def _s3_list(rng: random.Random, actor: Actor, region: str) -> Request:
    bucket, prefix = _bucket(rng, actor), f"raw/{rng.choice(DOMAINS)}/"
    params = {"bucketName": bucket, "list-type": "2", "prefix": prefix, "Host": f"{bucket}.s3.{region}.amazonaws.com"}
    res = [
        {"type": "AWS::S3::Object", "ARNPrefix": f"arn:aws:s3:::{bucket}/{prefix}"},
        {"accountId": actor.account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
    ]
    return Request("s3.amazonaws.com", "ListObjects", params, res, "Data", True, None)


def _table(rng: random.Random, actor: Actor) -> str:
    n = _own(rng, actor, TABLES)
    return f"{_domain(n)}-{n:04d}"


def _item_key(rng: random.Random) -> Rec:
    return {"pk": {"S": f"{rng.choice(DOMAINS)[:4]}#{rng.getrandbits(40):010x}"}, "sk": {"S": "v0"}}


def _dynamodb(name: str, read_only: bool) -> Call:
    def build(rng: random.Random, actor: Actor, region: str) -> Request:
        table = _table(rng, actor)
        params: Rec = {"tableName": table}
        if name == "Query":
            params |= {
                "indexName": INDEXES[(_own(rng, actor, TABLES) + rng.randrange(2)) % len(INDEXES)],
                "keyConditionExpression": "#k = :v",
                "limit": rng.choice([25, 50, 100]),
            }
        else:
            params["key"] = _item_key(rng)
            if name == "UpdateItem":
                params["updateExpression"] = "SET #s = :s, #u = :u"
        res = [
            {
                "accountId": actor.account,
                "type": "AWS::DynamoDB::Table",
                "ARN": f"arn:aws:dynamodb:{region}:{actor.account}:table/{table}",
            }
        ]
        return Request("dynamodb.amazonaws.com", name, params, res, "Data", read_only, None)

    return build


@lru_cache(maxsize=65536)
def _key_arn(account: str, region: str, n: int) -> str:
    return f"arn:aws:kms:{region}:{account}:key/{uuid.uuid5(uuid.NAMESPACE_URL, f'{account}/{region}/{n}')}"


def _kms(name: str) -> Call:
    def build(rng: random.Random, actor: Actor, region: str) -> Request:
        n = _own(rng, actor, KEYS)
        arn = _key_arn(actor.account, region, n)
        if name == "Decrypt":
            params: Rec = {
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "encryptionContext": {"app": _domain(n), "tenant": f"{rng.getrandbits(24):06x}"},
            }
        else:
            params = {"keyId": arn, "keySpec": "AES_256", "encryptionContext": {"app": _domain(n)}}
        res = [{"accountId": actor.account, "type": "AWS::KMS::Key", "ARN": arn}]
        return Request("kms.amazonaws.com", name, params, res, "Management", True, None)

    return build


def _invoke(rng: random.Random, actor: Actor, region: str) -> Request:
    n = _own(rng, actor, FUNCTIONS)
    arn = f"arn:aws:lambda:{region}:{actor.account}:function:{_domain(n)}-handler-{n:04d}"
    params = {"functionName": arn, "invocationType": rng.choice(["RequestResponse", "Event"])}
    res = [{"accountId": actor.account, "type": "AWS::Lambda::Function", "ARN": arn}]
    return Request("lambda.amazonaws.com", "Invoke", params, res, "Data", False, None)


def _sqs(name: str, read_only: bool) -> Call:
    def build(rng: random.Random, actor: Actor, region: str) -> Request:
        n = _own(rng, actor, QUEUES)
        queue = f"{_domain(n)}-jobs-{n:04d}"
        params: Rec = {"queueUrl": f"https://sqs.{region}.amazonaws.com/{actor.account}/{queue}"}
        if name == "ReceiveMessage":
            params |= {"maxNumberOfMessages": 10, "waitTimeSeconds": 20}
        elif name == "DeleteMessage":
            params["receiptHandle"] = random_uuid(rng)
        res = [
            {
                "accountId": actor.account,
                "type": "AWS::SQS::Queue",
                "ARN": f"arn:aws:sqs:{region}:{actor.account}:{queue}",
            }
        ]
        return Request("sqs.amazonaws.com", name, params, res, "Data", read_only, None)

    return build


DIVERSE_CALLS: dict[str, Call] = {
    **CALLS,
    "s3.GetObject": _s3_object("GetObject", True),
    "s3.PutObject": _s3_object("PutObject", False),
    "s3.HeadObject": _s3_object("HeadObject", True),
    "s3.DeleteObject": _s3_object("DeleteObject", False),
    "s3.ListObjects": _s3_list,
    "dynamodb.GetItem": _dynamodb("GetItem", True),
    "dynamodb.PutItem": _dynamodb("PutItem", False),
    "dynamodb.UpdateItem": _dynamodb("UpdateItem", False),
    "dynamodb.DeleteItem": _dynamodb("DeleteItem", False),
    "dynamodb.Query": _dynamodb("Query", True),
    "kms.Decrypt": _kms("Decrypt"),
    "kms.GenerateDataKey": _kms("GenerateDataKey"),
    "lambda.Invoke": _invoke,
    "sqs.SendMessage": _sqs("SendMessage", False),
    "sqs.ReceiveMessage": _sqs("ReceiveMessage", True),
    "sqs.DeleteMessage": _sqs("DeleteMessage", False),
}


def tenants_for(account: str, regions: tuple[str, ...], index: int) -> list[Actor]:
    """The diverse cast of one account: PRINCIPALS roles, Identity Center roles and users of three archetypes."""
    kinds = list(ARCHETYPES)
    out: list[Actor] = []
    for i in range(PRINCIPALS):
        archetype, domain = kinds[i % len(kinds)], _domain(i // len(kinds))
        home = zlib.crc32(f"{account}/{i}".encode())
        # Every region has tenants; half of them also work in the trail's first region.
        own = regions[i % len(regions)]
        where = (own,) if i % 2 or own == regions[0] else (regions[0], own)
        calls = ARCHETYPES[archetype]
        if i % 20 == 19:
            name, kind, path = f"svc-{domain}-{i:04d}", "user", "/service-accounts/"
            sessions: tuple[str, ...] = ("botocore-session-1",)
        elif i % 10 == 9:
            name, kind, path = (
                f"AWSReservedSSO_{domain.capitalize()}Engineer_{index:02x}{home:08x}{i:04x}",
                "sso",
                "/aws-reserved/sso.amazonaws.com/",
            )
            sessions = (f"dev{i}@example.com", f"ops{i}@example.com")
        else:
            name, kind, path = f"{archetype}-{domain}-{i:04d}", "role", f"/workloads/{domain}/"
            sessions = (f"i-{home:08x}{i:09x}", f"{archetype}-{i}-run")
        out.append(
            Tenant(
                account,
                kind,
                name,
                path,
                where,
                calls,
                deny_rate=0.01,
                weight=1 / (i + 1) ** ZIPF,
                sessions=sessions,
                home=home,
            )
        )
    return out
