"""One demo CloudTrail record from an actor and a call (with the errors real trails show: denials, throttling,
EC2 dry runs), the digest and Insights bodies, and the gzip the trail's files are written in.

gzip uses ISA-L when it is installed, as `records/decode.py` does to inflate, and the standard library
otherwise. Both write mtime 0, so output depends only on the records; the bytes differ between the two.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import msgspec

from accessfit.demo.calls import CALLS, Call
from accessfit.demo.identities import Actor
from accessfit.demo.ids import Rec, random_uuid

_compress: Callable[..., bytes] = gzip.compress
try:  # ISA-L deflate is several times faster than zlib's, which matters for the benchmark corpus.
    from isal import igzip

    _compress = igzip.compress
except ImportError:  # pragma: no cover - exercised by a test that hides isal
    pass

_encode = msgspec.json.Encoder().encode

_DENY_CODES = {"ec2.amazonaws.com": "Client.UnauthorizedOperation", "s3.amazonaws.com": "AccessDenied"}
_GLOBAL = {"iam.amazonaws.com", "signin.amazonaws.com", "sts.amazonaws.com"}


def gz_json(doc: object) -> bytes:
    """`doc` as gzipped JSON, the same bytes for the same document."""
    return _compress(_encode(doc), compresslevel=1, mtime=0)


def gz_records(records: list[Rec]) -> bytes:
    return gz_json({"Records": records})


def make_record(
    rng: random.Random,
    actor: Actor,
    call: str,
    region: str,
    when: datetime,
    error: str | None = None,
    recipient: str | None = None,
    calls: Mapping[str, Call] = CALLS,
) -> Rec:
    """The record of `actor` calling `call` (a builder of `calls`) in `region` at `when`; `recipient` is the account
    whose copy it is."""
    req = calls[call](rng, actor, region)
    source, name, category = req.source, req.name, req.category
    if source in _GLOBAL:
        region = "us-east-1"
    rec: Rec = {
        "eventVersion": "1.09" if category == "Management" else "1.10",
        "userIdentity": actor.identity(rng),
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": actor.name if actor.kind == "service" else f"203.0.113.{rng.randrange(1, 255)}",
        "userAgent": actor.name
        if actor.kind == "service"
        else f"aws-sdk-go-v2/1.{rng.randrange(20, 40)}.0 os/linux lang/go#1.22.{rng.randrange(0, 9)} md/GOOS#linux",
        "requestParameters": req.params,
        "responseElements": req.response if error is None else None,
        "requestID": random_uuid(rng),
        "eventID": random_uuid(rng),
        "readOnly": req.read_only,
        "eventType": "AwsConsoleSignIn" if name == "ConsoleLogin" else "AwsApiCall",
        "managementEvent": category == "Management",
        "recipientAccountId": recipient or actor.account,
        "eventCategory": category,
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com",
        },
    }
    if req.resources:
        rec["resources"] = req.resources
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = (
            f"User: {rec['userIdentity'].get('arn', actor.name)} is not authorized to perform: "
            f"{source.split('.')[0]}:{name}"
            if "Unauthorized" in error or "Denied" in error
            else "Rate exceeded"
        )
    if actor.kind == "service":
        rec["eventType"] = "AwsServiceEvent" if rng.random() < 0.3 else "AwsApiCall"
    return rec


def error_for(rng: random.Random, actor: Actor, source: str) -> str | None:
    """The error a call of `actor` to `source` fails with, if it does: denied, throttled or an EC2 dry run."""
    x = rng.random()
    if x < actor.deny_rate:
        return _DENY_CODES.get(source, "AccessDenied" if source.startswith("s3") else "AccessDeniedException")
    if x < actor.deny_rate + 0.004:
        return "ThrottlingException"
    if source == "ec2.amazonaws.com" and x < actor.deny_rate + 0.01:
        return "Client.DryRunOperation"
    return None


def digest_document(account: str, end: datetime) -> Rec:
    """The body of an (empty) hourly digest file ending at `end`."""
    return {
        "awsAccountId": account,
        "digestStartTime": (end - timedelta(hours=1)).isoformat(),
        "digestEndTime": end.isoformat(),
        "logFiles": [],
        "newestEventTime": None,
        "oldestEventTime": None,
    }


def insight_record(account: str, region: str, at: datetime) -> Rec:
    """An Insights event, which an ingester must never count as an API call."""
    return {
        "eventVersion": "1.08",
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "awsRegion": region,
        "eventID": "insight-1",
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": account,
        "sharedEventID": "s-1",
        "insightDetails": {
            "state": "Start",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "insightType": "ApiCallRateInsight",
        },
        "eventCategory": "Insight",
    }
