"""The webhook receiver example (examples/webhook_receiver.py), run as a
user would and sent deliveries over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Dict, Iterator, Optional, Tuple

import pytest

from conftest import BINDING_DIR

EXAMPLE = BINDING_DIR / "examples" / "webhook_receiver.py"
BODY = b'{"id":"tpol_0000000000000000000000000000","livemode":false,"policy_id":"TEST-POLICY-12345"}'


@pytest.fixture
def receiver() -> Iterator[Tuple[str, str, "subprocess.Popen[str]"]]:
    secret = "whsec_" + secrets.token_hex(16)
    env = dict(os.environ, KASKO_WEBHOOK_SECRET=secret, PYTHONPATH=str(BINDING_DIR))
    process = subprocess.Popen([sys.executable, str(EXAMPLE), "0"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("listening on http://127.0.0.1:"), first + (process.stderr.read() if process.stderr else "")
        yield first.split()[-1], secret, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def sign(secret: str, body: bytes) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def post(url: str, body: bytes, headers: Dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def delivery(secret: str, body: bytes, delivery_id: str, signature: Optional[str] = None) -> Dict[str, str]:
    headers = {"X-KASKO-Event": "policy.created", "X-KASKO-Delivery": delivery_id,
               "Content-Type": "application/json"}
    headers["X-KASKO-Signature"] = signature if signature is not None else sign(secret, body)
    return headers


def test_the_reference_vector_is_accepted_by_the_receiver() -> None:
    # The reference's self-computed vector (kasko-wider-api.md 6.3) through
    # the same function the receiver calls.
    assert sign("whsec_test_secret", BODY) == "sha1=bed331ec2031e668907869f5ed39cf12136167a9"


def test_signed_deliveries_are_acknowledged_and_others_refused(
    receiver: Tuple[str, str, "subprocess.Popen[str]"]
) -> None:
    url, secret, process = receiver
    assert post(url, BODY, delivery(secret, BODY, "d1")) == 204
    assert post(url, BODY, delivery(secret, BODY, "d1")) == 204  # a redelivery: acknowledged again
    tampered = BODY.replace(b"false", b"true ")
    assert post(url, tampered, delivery(secret, BODY, "d2", sign(secret, BODY))) == 401
    assert post(url, BODY, delivery(secret, BODY, "d3", sign("whsec_other", BODY))) == 401
    assert post(url, BODY, delivery(secret, BODY, "d4", sign(secret, BODY).upper().replace("SHA1=", "sha1="))) == 204
    assert post(url, BODY, delivery(secret, BODY, "d5", "sha1=" + "0" * 39)) == 400
    assert post(url, BODY, delivery(secret, BODY, "d6", sign(secret, BODY)[5:])) == 400
    with_nul = BODY[:-1] + b',"note":"\x00"}'
    assert post(url, with_nul, delivery(secret, with_nul, "d7")) == 204
    process.terminate()
    out, _ = process.communicate(timeout=30)
    lines = out.splitlines()
    assert lines[0] == "policy.created delivery d1 policy tpol_0000000000000000000000000000"
    assert lines[1].endswith("(again: done already)")
    assert lines[2].startswith("401: ") and lines[3].startswith("401: ")
    assert lines[4].startswith("policy.created delivery d4 ")
    assert lines[5].startswith("400: refused") and lines[6].startswith("400: refused")
    assert lines[7].startswith("policy.created delivery d7 ")
    assert secret not in out and "TEST-POLICY" not in out
