"""Webhook signatures: ``verify_webhook`` over ``kasko_webhook_verify``.

KASKO signs each webhook delivery's raw body with HMAC-SHA1 keyed with the
webhook's secret and sends ``X-KASKO-Signature: sha1=<40 hex digits>``. The
library computes the HMAC with libcrypto and compares the whole digest in
constant time; this module only checks Python types and turns the status
into an exception.

The body must be the raw bytes received (``bytes``, ``bytearray`` or
``memoryview``), never ``str``: the signature is over the bytes on the
wire, and a body decoded to text and encoded again need not give them back
(another encoding, a BOM, normalised newlines), which would make a genuine
delivery fail for a reason no one could see. So a ``str`` body is refused
with ``InvalidArgumentError``, the package's error for a value of the wrong
type, whose message says what to pass instead (``request.get_data()`` in
Flask, ``await request.body()`` in Starlette, ``request.body`` in Django).
"""

from __future__ import annotations

from typing import Optional, Union

from ._errors import invalid_argument, new_error
from ._lib import library

__all__ = ["verify_webhook", "SIGNATURE_HEADER", "DELIVERY_HEADER"]

#: The header that carries the signature.
SIGNATURE_HEADER = "X-KASKO-Signature"
#: The header that names the delivery: de-duplicate by it (no replay
#: protection is documented).
DELIVERY_HEADER = "X-KASKO-Delivery"

_Body = Union[bytes, bytearray, memoryview]


def _c_text(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise invalid_argument(f"{name} must be a str, not {type(value).__name__}")
    if "\x00" in value:
        raise invalid_argument(f"{name} holds a NUL character")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_argument(f"{name} is not valid Unicode (a lone surrogate)") from None


def verify_webhook(secret: str, body: _Body, header: Optional[str]) -> None:
    """Checks a webhook delivery's ``X-KASKO-Signature`` header.

    ``secret`` is the webhook's secret exactly as KASKO gave it (a
    ``whsec_`` prefix is part of it); ``body`` the raw request body as
    bytes, exactly as received; ``header`` the header's value (``None``
    when the request had none, which is refused). Returns ``None`` when the
    header is ``sha1=`` and the HMAC-SHA1 hex digest (either case) of the
    body with the secret.

    Raises ``kasko.BadSignatureError`` when it does not match (drop the
    request: answer with a non-2xx status), and
    ``kasko.InvalidArgumentError`` for a ``str`` body (pass the bytes
    received), an empty secret, a missing header or one that is not exactly
    ``sha1=`` and 40 hex digits, or an argument of another type. No network
    I/O; thread-safe. Needs libkasko 1.3 (``OSError`` with an older one).
    """
    if isinstance(body, str):
        raise invalid_argument(
            "body must be the raw request body as bytes, not str: the signature is over "
            "the bytes received, which decoding and encoding again may change "
            "(Flask: request.get_data(); Starlette: await request.body(); Django: request.body)"
        )
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise invalid_argument(f"body must be bytes, not {type(body).__name__}")
    if header is None:
        raise invalid_argument(f"the request has no {SIGNATURE_HEADER} header")
    key = _c_text(secret, "secret")
    signature = _c_text(header, "header")
    if not key:
        raise invalid_argument("the webhook secret is empty")
    payload = bytes(body)
    lib = library()
    status: int = lib.kasko_webhook_verify(key, payload, len(payload), signature)
    if status == lib.OK:
        return None
    code = lib.status_name(status)
    if code == "KASKO_ERR_BAD_SIGNATURE":
        raise new_error(lib, code, f"the {SIGNATURE_HEADER} header does not match the body and the secret")
    if code == "KASKO_ERR_INVALID_ARGUMENT":
        raise invalid_argument(f"the {SIGNATURE_HEADER} header is not \"sha1=\" followed by 40 hex digits")
    raise new_error(lib, code if code in lib.statuses and code != "KASKO_OK" else "KASKO_ERR_INTERNAL",
                    "kasko_webhook_verify could not check the signature")
