"""Memory benchmark: peak RSS of `accessfit ingest` on (a) one 1 GB log file and (b) ten log files of large,
distinct identities, each checked against the systemd unit's MemoryMax (2 GiB).

    python scripts/bench_memory.py [--mb 1000] [--files 10] [--limit-mib 2048] [--keep DIR]

Generates the inputs into a temporary directory (realistic traffic: many principals, many distinct resources,
every record with its own eventID), then runs each case as a child `accessfit ingest` into a fresh index, with
the default settings except `max_object_mb` when a compressed file is over it (stated when it happens). The
child's peak RSS is the kernel's (`ru_maxrss` from wait4; RUSAGE_CHILDREN over both runs is printed too). Exits 1
when a case is over the limit. Not a test: figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from isal import isal_zlib

from accessfit.demo import log_key

ACCOUNT = "111122223333"
REGION = "us-east-1"
CALLS = [
    ("s3.amazonaws.com", "GetObject", "Data"),
    ("s3.amazonaws.com", "PutObject", "Data"),
    ("dynamodb.amazonaws.com", "GetItem", "Data"),
    ("lambda.amazonaws.com", "Invoke", "Data"),
    ("sqs.amazonaws.com", "SendMessage", "Data"),
    ("kms.amazonaws.com", "Decrypt", "Management"),
    ("ec2.amazonaws.com", "DescribeInstances", "Management"),
    ("secretsmanager.amazonaws.com", "GetSecretValue", "Management"),
]


def _identity(rng: random.Random, n: int, padding: int) -> str:
    """A role session's userIdentity as JSON; `padding` bytes of session tags make it large."""
    role = f"team{n % 40}/svc-{n}"
    session = f"s-{rng.getrandbits(48):012x}"
    uid: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": f"AROA{n:016d}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/svc-{n}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": f"ASIA{rng.getrandbits(64):016X}",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": f"AROA{n:016d}",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": f"svc-{n}",
            },
            "attributes": {"creationDate": "2026-11-30T08:00:00Z", "mfaAuthenticated": "false"},
        },
    }
    if padding:
        uid["sessionContext"]["sourceIdentity"] = f"{n}-{rng.randbytes(padding // 2).hex()}"
    return json.dumps(uid, separators=(",", ":"))


def _params(source: str, i: int, principal: int) -> tuple[str, str]:
    """The request parameters and resources[] of a call, naming a distinct resource."""
    if source == "s3.amazonaws.com":
        bucket, key = f"data-{principal % 300}", f"raw/{i % 977}/{i:09d}.parquet"
        arn = f"arn:aws:s3:::{bucket}/{key}"
        return json.dumps({"bucketName": bucket, "key": key}), json.dumps([{"type": "AWS::S3::Object", "ARN": arn}])
    if source == "dynamodb.amazonaws.com":
        table = f"table-{principal % 500}"
        return json.dumps({"tableName": table, "key": {"pk": {"S": f"u{i}"}}}), "null"
    if source == "lambda.amazonaws.com":
        return json.dumps({"functionName": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn-{i % 5000}"}), "null"
    if source == "sqs.amazonaws.com":
        return json.dumps({"queueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q-{i % 3000}"}), "null"
    if source == "kms.amazonaws.com":
        return json.dumps({"keyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{i % 4000:08x}-aaaa-bbbb"}), "null"
    if source == "secretsmanager.amazonaws.com":
        return json.dumps({"secretId": f"app/{i % 6000}/db"}), "null"
    return json.dumps({"instancesSet": {"items": [{"instanceId": f"i-{i:017x}"}]}}), "null"


def _records(rng: random.Random, identities: list[str], count: int, start: int, day: datetime) -> Iterator[bytes]:
    for i in range(start, start + count):
        p = rng.randrange(len(identities))
        source, name, category = CALLS[rng.randrange(len(CALLS))]
        params, resources = _params(source, i, p)
        when = day + timedelta(seconds=rng.randrange(86_000))
        yield (
            f'{{"eventVersion":"1.09","userIdentity":{identities[p]},"eventTime":"{when:%Y-%m-%dT%H:%M:%SZ}",'
            f'"eventSource":"{source}","eventName":"{name}","awsRegion":"{REGION}",'
            f'"sourceIPAddress":"10.{i % 256}.{i // 256 % 256}.{i // 65536 % 256}",'
            f'"userAgent":"aws-sdk-java/2.25.{i % 60} Linux/5.10 OpenJDK_64-Bit_Server_VM/17",'
            f'"requestParameters":{params},"responseElements":null,'
            f'"additionalEventData":{{"SignatureVersion":"SigV4","CipherSuite":"ECDHE-RSA-AES128-GCM-SHA256",'
            f'"bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"{rng.getrandbits(128):032x}"}},'
            f'"requestID":"{rng.getrandbits(64):016X}","eventID":"{rng.getrandbits(128):032x}","readOnly":true,'
            f'"resources":{resources},"eventType":"AwsApiCall",'
            f'"managementEvent":{str(category == "Management").lower()},'
            f'"recipientAccountId":"{ACCOUNT}","eventCategory":"{category}",'
            f'"tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256",'
            f'"clientProvidedHostHeader":"{source}"}}}}'
        ).encode()


def _write(path: Path, records: Iterator[bytes], target: int) -> tuple[int, int]:
    """Write `{"Records":[...]}` gzipped until `target` bytes of JSON; returns (records, JSON bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = size = 0
    deflate = isal_zlib.compressobj(1, isal_zlib.DEFLATED, 31)  # 31: a gzip member
    with path.open("wb") as out:
        out.write(deflate.compress(b'{"Records":['))
        size = 12
        for rec in records:
            part = rec if not n else b"," + rec
            out.write(deflate.compress(part))
            size += len(part)
            n += 1
            if size >= target:
                break
        out.write(deflate.compress(b"]}") + deflate.flush())
    return n, size + 2


def generate(root: Path, mb: int, files: int) -> dict[str, dict[str, Any]]:
    rng = random.Random(7)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    day = (now - timedelta(days=1)).replace(hour=0, minute=0)
    cases: dict[str, dict[str, Any]] = {}
    # (a) One file of `mb` MB: 5,000 principals, nearly every call on a resource of its own.
    trail = root / "one-large-file"
    ids = [_identity(rng, n, 0) for n in range(5000)]
    key = log_key(ACCOUNT, REGION, now - timedelta(minutes=30), "LargeFile0000001")
    started = time.monotonic()
    n, size = _write(trail / key, _records(rng, ids, 10**9, 0, day), mb * 1_000_000)
    cases["a"] = {
        "what": f"one {size / 1e6:,.0f} MB log file ({n:,} records, 5,000 principals)",
        "trail": trail,
        "gz": (trail / key).stat().st_size,
        "seconds": time.monotonic() - started,
    }
    # (b) Ten files of mb/10 MB each, every session distinct and carrying ~20 KB of identity.
    trail = root / "large-identities"
    started = time.monotonic()
    total_n = total_size = biggest = 0
    for f in range(files):
        ids = [_identity(rng, 100_000 + f * 1000 + n, 20_000) for n in range(1000)]
        key = log_key(ACCOUNT, REGION, now - timedelta(minutes=30 - f), f"LargeIdent{f:06d}")
        n, size = _write(trail / key, _records(rng, ids, 10**9, f * 10**7, day), mb * 1_000_000 // files)
        total_n, total_size = total_n + n, total_size + size
        biggest = max(biggest, (trail / key).stat().st_size)
    cases["b"] = {
        "what": f"{files} files of {total_size / files / 1e6:,.0f} MB ({total_n:,} records; 1,000 distinct ~20 KB "
        "identities each)",
        "trail": trail,
        "gz": biggest,
        "seconds": time.monotonic() - started,
    }
    return cases


def ingest(trail: Path, db: Path, gz_bytes: int) -> dict[str, Any]:
    env = {**os.environ, "ACCESSFIT_SETTLE": "0s", "ACCESSFIT_LOG_LEVEL": "warning"}
    note = ""
    if gz_bytes > 128 << 20:  # the default max_object_mb
        env["ACCESSFIT_MAX_OBJECT_MB"] = str((gz_bytes >> 20) + 1)
        note = f" (max_object_mb={env['ACCESSFIT_MAX_OBJECT_MB']}: the file is {gz_bytes / 2**20:,.0f} MiB gzip)"
    cmd = [sys.executable, "-m", "accessfit", "ingest", "--source", str(trail), "--db", str(db), "--json"]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    _pid, status, usage = os.wait4(proc.pid, 0)
    report = json.loads(out) if out else {}
    return {
        "status": os.waitstatus_to_exitcode(status),
        "peak_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "seconds": time.monotonic() - started,
        "report": report,
        "note": note,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=1000, help="JSON megabytes of each case")
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--limit-mib", type=int, default=2048, help="the unit's MemoryMax")
    ap.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        cases = generate(root, args.mb, args.files)
        over = False
        for name, case in cases.items():
            result = ingest(case["trail"], root / f"index-{name}.sqlite3", case["gz"])
            events = result["report"].get("events", {})
            ok = result["status"] == 0 and result["peak_mib"] < args.limit_mib
            over |= not ok
            print(
                f"({name}) {case['what']}, generated in {case['seconds']:.0f} s{result['note']}\n"
                f"    peak RSS {result['peak_mib']:,.0f} MiB (limit {args.limit_mib:,}) — "
                f"{'OK' if ok else 'OVER'}; exit {result['status']}; {events.get('ingested', 0):,} of "
                f"{events.get('records', 0):,} events ingested in {result['seconds']:.1f} s",
                flush=True,
            )
        both = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"RUSAGE_CHILDREN ru_maxrss over both runs: {both:,.0f} MiB")
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
