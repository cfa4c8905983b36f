"""kasko: a client for the KASKO Payments API over libkasko (the C library).

>>> import kasko
>>> with kasko.Client("pk_test_...", "sk_test_...") as client:
...     payment = client.create_payment(token="...", provider="invoice",
...                                     method="invoice", policy_id="tpol_...")
...     print(client.get_payment(payment.id, timeout_ms=5000).status)

Importing the package loads ``libkasko.so.1`` (see ``kasko._lib`` for the
discovery order: ``KASKO_LIBRARY``, the library bundled in the package (a
wheel from ``scripts/build-wheel``), the SONAME through the loader, then
``ctypes.util.find_library``) and checks its version (1.1 or later of major
1: the binding uses the C API 1.1); if it cannot, the import raises
``ImportError`` saying what was tried and how to fix it. With a 1.2 library
clients also report events (``Client.set_event_hook``, ``kasko.Event``),
log them on the ``kasko`` logger (``KASKO_LOG=debug``), and can be traced
with OpenTelemetry (``kasko.opentelemetry``, which needs
``opentelemetry-api``; ``import kasko`` does not). With a 1.3 library,
``kasko.verify_webhook`` checks a webhook's ``X-KASKO-Signature``, and
clients make the checkout calls: ``create_quote``, ``create_offer``,
``get_offer``, ``get_policy`` and ``resolve_payment`` (the way out of a
create whose outcome is unknown).
"""

from __future__ import annotations

from ._errors import (
    AuthenticationError,
    BadRequestError,
    BadSignatureError,
    InternalError,
    InvalidArgumentError,
    InvalidResponseError,
    KaskoError,
    NetworkError,
    NotFoundError,
    PendingPaymentError,
    RateLimitError,
    ServerError,
)
from ._lib import EXPECTED_MAJOR, library as _library
from ._client import Client
from ._events import Event, EventHook
from ._checkout import Offer, PaymentResolution, PaymentState, Policy, Quote
from ._payment import FullPayment, Metadata, Payment, RestrictedPayment
from ._webhook import verify_webhook

__all__ = [
    "Client",
    "Payment",
    "FullPayment",
    "RestrictedPayment",
    "Metadata",
    "Quote",
    "Offer",
    "Policy",
    "PaymentResolution",
    "PaymentState",
    "Event",
    "EventHook",
    "KaskoError",
    "InvalidArgumentError",
    "BadRequestError",
    "AuthenticationError",
    "NotFoundError",
    "PendingPaymentError",
    "RateLimitError",
    "ServerError",
    "NetworkError",
    "InvalidResponseError",
    "InternalError",
    "BadSignatureError",
    "verify_webhook",
    "library_version",
    "library_path",
    "version_number",
    "EXPECTED_MAJOR",
]

#: The version of this Python package.
__version__ = "1.4.0"

_library()  # load now: a missing or mismatched library fails the import


def library_version() -> str:
    """The loaded C library's version, e.g. ``"1.1.0"``."""
    return _library().version()


def library_path() -> str:
    """How the C library was found: the path or name it was loaded from
    (``KASKO_LIBRARY``'s value, the bundled copy's path inside the package,
    or ``"libkasko.so.1"`` when the dynamic loader found it)."""
    return _library().path


def version_number() -> int:
    """The loaded C library's version as one number,
    ``MAJOR * 1000000 + MINOR * 1000 + PATCH`` (``kasko_version_number()``),
    e.g. ``1001000`` for 1.1.0: for comparisons such as
    ``kasko.version_number() >= 1002000``."""
    return _library().version_number()
