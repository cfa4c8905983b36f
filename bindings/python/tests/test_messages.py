"""Errors name the request they are about (method and path, never the query
that holds the public key), and a 401 names the credentials sent, as hints
(``pk_test_…ab12``), never as keys. The wrong keys are random for each run."""

from __future__ import annotations

import secrets
import string
from typing import Optional

import pytest

import kasko
from conftest import Sandbox

ALPHABET = string.ascii_letters + string.digits


def random_key(kind: str, length: int = 24) -> str:
    return kind + "".join(secrets.choice(ALPHABET) for _ in range(length))


def hint(key: str) -> str:
    """What a message may name a key by: its prefix, and its last four
    characters when 12 or more follow the prefix."""
    prefix, body = key[:8], key[8:]
    return prefix + "\u2026" + (body[-4:] if len(body) >= 12 else "")


def failure(call: "kasko.Client", **create: str) -> kasko.KaskoError:
    with pytest.raises(kasko.KaskoError) as info:
        if "payment_id" in create:
            call.get_payment(create["payment_id"])
        else:
            call.create_payment(token=create["token"], provider="invoice", method="invoice",
                                policy_id=create["policy_id"])
    return info.value


def client(url: str, public_key: str, secret_key: Optional[str]) -> kasko.Client:
    return kasko.Client(public_key=public_key, secret_key=secret_key, base_url=url, max_retries=0)


def assert_no_key(error: kasko.KaskoError, *keys: str) -> None:
    for key in keys:
        assert key not in error.message and key not in str(error) and key not in repr(error)


def test_a_wrong_path_in_base_url_shows_in_the_message(sandbox_url: str, public_key: str, secret_key: str,
                                                       sandbox: Sandbox) -> None:
    offer = sandbox.offer()
    with client(sandbox_url, public_key, secret_key) as right:
        payment = right.create_payment(token=offer["token"], provider="invoice", method="invoice",
                                       policy_id=offer["policy_id"])
    with client(sandbox_url + "/v1", public_key, secret_key) as wrong:
        viewed = failure(wrong, payment_id=payment.id)
        assert isinstance(viewed, kasko.NotFoundError)
        assert f"(GET /v1/payments/{payment.id}: 404 Not Found)" in viewed.message
        second = sandbox.offer()
        created = failure(wrong, token=second["token"], policy_id=second["policy_id"])
        assert isinstance(created, kasko.NotFoundError)
        assert "(POST /v1/payments: 404 Not Found)" in created.message
        assert "?key=" not in created.message
        assert_no_key(viewed, public_key, secret_key)
        assert_no_key(created, public_key, secret_key)


@pytest.mark.parametrize("wrong", ["public", "secret"])
def test_a_wrong_key_is_named_by_its_hint(sandbox_url: str, public_key: str, secret_key: str, sandbox: Sandbox,
                                          wrong: str) -> None:
    used_public = random_key("pk_test_") if wrong == "public" else public_key
    used_secret = random_key("sk_test_") if wrong == "secret" else secret_key
    offer = sandbox.offer()
    with client(sandbox_url, used_public, used_secret) as kc:
        error = failure(kc, token=offer["token"], policy_id=offer["policy_id"])
        shown = repr(kc)
    # The client's repr names its key as the library's messages do.
    assert f"public_key='{hint(used_public)}'" in shown and used_public not in shown
    assert isinstance(error, kasko.AuthenticationError)
    assert (f"(POST /payments: 401 Unauthorized; sent public key {hint(used_public)} "
            f"and secret key {hint(used_secret)})") in error.message
    assert_no_key(error, used_public, used_secret, public_key, secret_key)


def test_no_secret_key_is_said(sandbox_url: str, public_key: str) -> None:
    with client(sandbox_url, public_key, None) as kc:
        error = failure(kc, payment_id="t0123456789abcdef")
    assert isinstance(error, kasko.AuthenticationError)
    assert ("(GET /payments/t0123456789abcdef: 401 Unauthorized; "
            "no secret key configured: a view needs one)") in error.message
    assert_no_key(error, public_key)
