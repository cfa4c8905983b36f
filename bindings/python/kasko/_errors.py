"""The exception hierarchy, one class per libkasko status.

==========================  ============================  =====================
C status                    exception                     cause
==========================  ============================  =====================
KASKO_ERR_INVALID_ARGUMENT  InvalidArgumentError          refused before any I/O
KASKO_ERR_BAD_REQUEST       BadRequestError               HTTP 400
KASKO_ERR_UNAUTHORIZED      AuthenticationError           HTTP 401 / 403
KASKO_ERR_NOT_FOUND         NotFoundError                 HTTP 404
KASKO_ERR_PENDING_PAYMENT   PendingPaymentError           HTTP 422
KASKO_ERR_RATE_LIMITED      RateLimitError                HTTP 429
KASKO_ERR_SERVER            ServerError                   HTTP 5xx / undocumented
KASKO_ERR_NETWORK           NetworkError                  no usable answer
KASKO_ERR_INVALID_RESPONSE  InvalidResponseError          not the documented JSON
KASKO_ERR_INTERNAL          InternalError                 inside the library
(any status added later)    InternalError                 (as the header advises)
==========================  ============================  =====================

The class is chosen from the numeric status the C function returned; the
attributes come from the library's error object (``raw``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple, Type

__all__ = [
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
    "error_from_status",
    "invalid_argument",
]


def _opt_str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) else None


def _opt_int(value: Any) -> Optional[int]:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class KaskoError(Exception):
    """Base class of every error raised by the ``kasko`` package.

    Attributes mirror the library's error object:

    * ``code`` -- the status name, e.g. ``"KASKO_ERR_NOT_FOUND"``;
    * ``http_status`` -- the HTTP status, ``None`` when no response came;
    * ``status`` -- the API's ``status`` text (e.g. ``"Not Found"``) or ``None``;
    * ``message`` -- what went wrong (never quotes a key);
    * ``retryable`` -- whether the same call may succeed if repeated later;
    * ``outcome`` -- ``"not_sent"``, ``"rejected"`` or ``"unknown"`` (the
      request was sent and no answer came: a payment may exist, look it up
      before creating it again);
    * ``attempts`` -- how many HTTP attempts were made;
    * ``request_id`` -- the response's ``X-Request-Id`` (quote it to support);
    * ``errors`` -- the server's ``errors`` array when it sent one, else ``None``;
    * ``raw`` -- the whole error object as a dict.
    """

    code: str
    http_status: Optional[int]
    status: Optional[str]
    message: str
    retryable: bool
    outcome: str
    attempts: int
    request_id: Optional[str]
    errors: Optional[List[Any]]
    raw: Dict[str, Any]

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)
        self.code = _opt_str(raw.get("code")) or "KASKO_STATUS_UNKNOWN"
        self.http_status = _opt_int(raw.get("http_status"))
        self.status = _opt_str(raw.get("status"))
        self.message = _opt_str(raw.get("message")) or ""
        self.retryable = raw.get("retryable") is True
        self.outcome = _opt_str(raw.get("outcome")) or "unknown"
        self.attempts = _opt_int(raw.get("attempts")) or 0
        self.request_id = _opt_str(raw.get("request_id"))
        errors = raw.get("errors")
        self.errors = list(errors) if isinstance(errors, list) else None
        super().__init__(self.message)

    def __str__(self) -> str:
        text = self.code
        if self.http_status is not None:
            text += f" (HTTP {self.http_status}"
            text += f" {self.status})" if self.status else ")"
        if self.message:
            text += f": {self.message}"
        if self.request_id:
            text += f" [request id {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, "
            f"http_status={self.http_status!r}, message={self.message!r})"
        )

    def __reduce__(self) -> Tuple[Any, ...]:
        # Exceptions are pickled through their args; rebuild from raw instead.
        return (type(self), (self.raw,))


class InvalidArgumentError(KaskoError, ValueError):
    """The input was refused before any network I/O (nothing was sent).

    Also a ``ValueError``. Raised too for calls on a closed client.
    """


class BadRequestError(KaskoError):
    """HTTP 400: a field is invalid, the token does not belong to the policy,
    or the policy is already paid."""


class AuthenticationError(KaskoError):
    """HTTP 401 or 403: a key is wrong or lacks the right (e.g. viewing a
    payment without a secret key)."""


class NotFoundError(KaskoError):
    """HTTP 404: unknown payment or payment provider."""


class PendingPaymentError(KaskoError):
    """HTTP 422: the policy already has a pending payment.

    ``pending_payment_id`` is that payment's id (``None`` if the API's message
    did not name it).
    """

    pending_payment_id: Optional[str]

    def __init__(self, raw: Mapping[str, Any]) -> None:
        super().__init__(raw)
        self.pending_payment_id = _opt_str(raw.get("pending_payment_id"))


class RateLimitError(KaskoError):
    """HTTP 429: too many requests; retry later."""


class ServerError(KaskoError):
    """HTTP 5xx, or a status the API does not document."""


class NetworkError(KaskoError):
    """No usable answer: DNS, connect, TLS, timeout or connection reset.

    Check ``outcome`` before repeating a create: ``"unknown"`` means the
    payment may exist.
    """


class InvalidResponseError(KaskoError):
    """The answer was not the documented JSON, or was larger than 1 MiB."""


class InternalError(KaskoError):
    """A failure inside the library (e.g. memory exhaustion), or a status
    this binding does not know (a newer library)."""


_CLASSES: Dict[int, Type[KaskoError]] = {
    1: InvalidArgumentError,
    2: BadRequestError,
    3: AuthenticationError,
    4: NotFoundError,
    5: PendingPaymentError,
    6: RateLimitError,
    7: ServerError,
    8: NetworkError,
    9: InvalidResponseError,
    10: InternalError,
}


def error_from_status(
    status: int, raw: Optional[Mapping[str, Any]], code: str
) -> KaskoError:
    """The exception for a non-OK status and the library's error object.

    ``code`` (the status name) is used when ``raw`` is missing or lacks one.
    """
    cls = _CLASSES.get(status, InternalError)
    if raw is None:
        raw = {
            "object": "error",
            "code": code,
            "http_status": None,
            "status": None,
            "message": f"{code} (the library returned no error details)",
            "pending_payment_id": None,
            "retryable": False,
            "outcome": "unknown",
            "attempts": 0,
            "request_id": None,
        }
    elif not isinstance(raw.get("code"), str):
        raw = dict(raw, code=code)
    return cls(raw)


def invalid_argument(message: str) -> InvalidArgumentError:
    """An ``InvalidArgumentError`` raised by the binding itself (before I/O)."""
    return InvalidArgumentError(
        {
            "object": "error",
            "code": "KASKO_ERR_INVALID_ARGUMENT",
            "http_status": None,
            "status": None,
            "message": message,
            "pending_payment_id": None,
            "retryable": False,
            "outcome": "not_sent",
            "attempts": 0,
            "request_id": None,
        }
    )
