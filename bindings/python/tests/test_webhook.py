"""kasko.verify_webhook: the reference's test vector (wider-API reference,
section 6.3, all three lines), tampering, NUL bytes, hex case, malformed
headers, and the binding's own refusals (a str body, NULs, wrong types)."""

from __future__ import annotations

import hashlib
import hmac
import threading
from typing import Any, List

import pytest

import kasko

SECRET = "whsec_test_secret"
BODY = b'{"id":"tpol_0000000000000000000000000000","livemode":false,"policy_id":"TEST-POLICY-12345"}'
SIGNATURE = "sha1=bed331ec2031e668907869f5ed39cf12136167a9"
SIGNATURE_NL = "sha1=f42fe9d573c1ddf6f388aeb10c6e9330a07e1320"
SIGNATURE_NO_PREFIX_KEY = "sha1=b99e8a97c5f8540099eae9ce852cd1c0fc335295"


def sign(secret: bytes, body: bytes) -> str:
    return "sha1=" + hmac.new(secret, body, hashlib.sha1).hexdigest()


def test_reference_vector() -> None:
    assert len(BODY) == 91
    assert kasko.verify_webhook(SECRET, BODY, SIGNATURE) is None
    assert kasko.verify_webhook(SECRET, BODY + b"\n", SIGNATURE_NL) is None
    assert kasko.verify_webhook("test_secret", BODY, SIGNATURE_NO_PREFIX_KEY) is None


@pytest.mark.parametrize(
    "secret, body, header",
    [
        (SECRET, BODY + b"\n", SIGNATURE),
        (SECRET, BODY, SIGNATURE_NL),
        (SECRET, BODY, SIGNATURE_NO_PREFIX_KEY),
        ("test_secret", BODY, SIGNATURE),
        (SECRET, BODY.replace(b"12345", b"12346"), SIGNATURE),
        (SECRET, BODY[:-1], SIGNATURE),
        ("whsec_test_secreT", BODY, SIGNATURE),
        ("whsec_test_secret ", BODY, SIGNATURE),
        (SECRET, BODY, "sha1=bed331ec2031e668907869f5ed39cf12136167a8"),
        (SECRET, BODY, "sha1=" + "0" * 40),
        (SECRET, b"", SIGNATURE),
    ],
)
def test_mismatch_is_bad_signature(secret: str, body: bytes, header: str) -> None:
    with pytest.raises(kasko.BadSignatureError) as caught:
        kasko.verify_webhook(secret, body, header)
    error = caught.value
    assert isinstance(error, kasko.KaskoError)
    assert error.code == "KASKO_ERR_BAD_SIGNATURE"
    assert error.raw["code"] == "KASKO_ERR_BAD_SIGNATURE"
    assert "X-KASKO-Signature" in error.message
    assert SECRET not in str(error) and SECRET not in repr(error)


def test_nul_bytes_are_part_of_the_body() -> None:
    body = b'{"a":"x\x00y"}\x00tail'
    header = sign(SECRET.encode(), body)
    assert header == "sha1=64b69479808ca69a18e0c186d6059958e972b6c1"
    kasko.verify_webhook(SECRET, body, header)
    kasko.verify_webhook(SECRET, bytearray(body), header)
    kasko.verify_webhook(SECRET, memoryview(body), header)
    with pytest.raises(kasko.BadSignatureError):
        kasko.verify_webhook(SECRET, body[: body.index(b"\x00")], header)
    with pytest.raises(kasko.BadSignatureError):
        kasko.verify_webhook(SECRET, body[:-1] + b"L", header)


def test_hex_case() -> None:
    kasko.verify_webhook(SECRET, BODY, SIGNATURE.upper().replace("SHA1=", "sha1="))
    kasko.verify_webhook(SECRET, BODY, "sha1=BeD331eC2031E668907869f5ED39cf12136167A9")


def test_empty_body() -> None:
    kasko.verify_webhook(SECRET, b"", sign(SECRET.encode(), b""))


def test_non_ascii_secret_is_its_utf8() -> None:
    secret = "whsec_é€"
    kasko.verify_webhook(secret, BODY, sign(secret.encode("utf-8"), BODY))


@pytest.mark.parametrize(
    "header",
    [
        "",
        SIGNATURE[len("sha1="):],
        "SHA1=" + SIGNATURE[5:],
        "xha1=" + SIGNATURE[5:],
        "sha256=" + SIGNATURE[5:],
        "sha1:" + SIGNATURE[5:],
        "sha1=",
        SIGNATURE[:-1],
        SIGNATURE + "0",
        SIGNATURE + SIGNATURE[5:],
        SIGNATURE[:-1] + "g",
        SIGNATURE[:-1] + "G",
        SIGNATURE[:-2] + " 9",
        " " + SIGNATURE,
        SIGNATURE + " ",
        SIGNATURE + "\n",
        SIGNATURE[:-1] + "é",
    ],
)
def test_malformed_header_is_invalid_argument(header: str) -> None:
    with pytest.raises(kasko.InvalidArgumentError) as caught:
        kasko.verify_webhook(SECRET, BODY, header)
    assert caught.value.code == "KASKO_ERR_INVALID_ARGUMENT"
    assert not isinstance(caught.value, kasko.BadSignatureError)


def test_nul_in_header_or_secret_is_refused() -> None:
    # A C string would end at the NUL: "sha1=<40 hex>\0junk" must not pass.
    with pytest.raises(kasko.InvalidArgumentError, match="NUL"):
        kasko.verify_webhook(SECRET, BODY, SIGNATURE + "\x00junk")
    with pytest.raises(kasko.InvalidArgumentError, match="NUL"):
        kasko.verify_webhook(SECRET + "\x00more", BODY, SIGNATURE)


def test_str_body_is_refused_with_a_hint() -> None:
    with pytest.raises(kasko.InvalidArgumentError, match="bytes, not str") as caught:
        kasko.verify_webhook(SECRET, BODY.decode(), SIGNATURE)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert "request.get_data()" in caught.value.message


def test_empty_secret_and_missing_header_are_refused() -> None:
    with pytest.raises(kasko.InvalidArgumentError, match="secret is empty"):
        kasko.verify_webhook("", BODY, SIGNATURE)
    with pytest.raises(kasko.InvalidArgumentError, match="no X-KASKO-Signature header"):
        kasko.verify_webhook(SECRET, BODY, None)


@pytest.mark.parametrize(
    "secret, body, header",
    [
        (None, BODY, SIGNATURE),
        (SECRET.encode(), BODY, SIGNATURE),
        (SECRET, None, SIGNATURE),
        (SECRET, 42, SIGNATURE),
        (SECRET, [1, 2], SIGNATURE),
        (SECRET, BODY, SIGNATURE.encode()),
        (SECRET, BODY, 7),
    ],
)
def test_wrong_types_are_refused(secret: Any, body: Any, header: Any) -> None:
    with pytest.raises(kasko.InvalidArgumentError, match="must be"):
        kasko.verify_webhook(secret, body, header)


def test_threads() -> None:
    wrong: List[str] = []

    def run() -> None:
        for _ in range(200):
            try:
                kasko.verify_webhook(SECRET, BODY, SIGNATURE)
            except kasko.KaskoError as exc:  # pragma: no cover - a failure
                wrong.append(str(exc))
            try:
                kasko.verify_webhook(SECRET, BODY + b"\n", SIGNATURE)
                wrong.append("accepted a tampered body")  # pragma: no cover
            except kasko.BadSignatureError:
                pass

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []


def test_headers_are_exported() -> None:
    assert kasko._webhook.SIGNATURE_HEADER == "X-KASKO-Signature"
    assert kasko._webhook.DELIVERY_HEADER == "X-KASKO-Delivery"
    assert "verify_webhook" in kasko.__all__ and "BadSignatureError" in kasko.__all__
