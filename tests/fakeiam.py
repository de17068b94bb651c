"""A fake STS and IAM endpoint on 127.0.0.1 (AWS_ENDPOINT_URL), for granted refresh against a real botocore client.

The caller's account is read from its access key: `testing` (the tests' fake credentials) is OWN; an assumed role
gets the key `ASIA<account>`. `broken` names the accounts whose GetAccountAuthorizationDetails answers 200 with
XML cut short, which botocore's parser refuses (ResponseParserError); the others get empty details.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

OWN = "111122223333"
_KEY = re.compile(r"Credential=([A-Z0-9a-z]+)/")

_IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    "<Arn>arn:aws:iam::{account}:user/accessfit</Arn><UserId>AIDAFAKE</UserId><Account>{account}</Account>"
    "</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
)
_ASSUMED = (
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>'
    "<AccessKeyId>ASIA{account}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey>"
    "<SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
    "<AssumedRoleUser><Arn>arn:aws:sts::{account}:assumed-role/reader/accessfit</Arn>"
    "<AssumedRoleId>AROAFAKE:accessfit</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>"
    "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>"
)
_DETAILS = (
    '<GetAccountAuthorizationDetailsResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    "<GetAccountAuthorizationDetailsResult><IsTruncated>false</IsTruncated><UserDetailList/><GroupDetailList/>"
    "<RoleDetailList/><Policies/></GetAccountAuthorizationDetailsResult>"
    "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>"
)
BROKEN = _DETAILS[:140]  # cut inside an element: not XML


@contextmanager
def fake_iam(broken: set[str]) -> Iterator[str]:
    """The endpoint's URL while the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode())
            action = form.get("Action", [""])[0]
            key = _KEY.search(self.headers.get("Authorization", ""))
            account = OWN if key is None or not key[1].startswith("ASIA") else key[1][4:]
            if action == "GetCallerIdentity":
                body = _IDENTITY.format(account=account)
            elif action == "AssumeRole":
                body = _ASSUMED.format(account=form["RoleArn"][0].split(":")[4])
            elif action == "GetAccountAuthorizationDetails":
                body = BROKEN if account in broken else _DETAILS
            else:
                self.send_error(400)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
