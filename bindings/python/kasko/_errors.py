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
KASKO_ERR_BAD_SIGNATURE     BadSignatureError             webhook signature wrong
KASKO_ERR_CANCELLED         CallCancelledError            async call cancelled
(any status added later)    InternalError                 (as the header advises)
==========================  ============================  =====================

Every exception the package raises is made from a ``kasko_result`` by
``error_from_result``: the class from the name of ``kasko_result_status``
(``kasko_status_name``), each attribute from the result's typed accessor,
``raw`` from ``kasko_result_json``. An argument the binding refuses itself
(a ``str`` holding a NUL, a value of the wrong type) gets its result from
``kasko_result_new_error``, so it is the library's error object too.
"""

from __future__ import annotations

import ctypes
import json
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Type

if TYPE_CHECKING:
    from ._lib import LibKasko

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
    "BadSignatureError",
    "CallCancelledError",
    "class_for_code",
    "error_from_result",
    "new_error",
    "invalid_argument",
    "internal_error",
    "invalid_payment",
]


class KaskoError(Exception):
    """Base class of every error raised by the ``kasko`` package.

    Attributes, as the library's ``kasko_result`` gives them:

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
    * ``total_time`` -- the call's wall time in seconds, retries and their
      waits included (``kasko_result_total_time_us``): ``0.0`` for a call
      refused before any I/O, ``None`` for an error not made from a call's
      result (one built by hand, or from a library older than 1.2);
    * ``errors`` -- the server's ``errors`` array when it sent one, else ``None``;
    * ``raw`` -- the whole error object as a dict.

    The package makes its exceptions from the library's results; the keyword
    arguments are there for code that raises one itself (a test double).
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
    total_time: Optional[float]

    def __init__(
        self,
        message: str = "",
        *,
        code: str = "KASKO_STATUS_UNKNOWN",
        http_status: Optional[int] = None,
        status: Optional[str] = None,
        retryable: bool = False,
        outcome: str = "unknown",
        attempts: int = 0,
        request_id: Optional[str] = None,
        errors: Optional[List[Any]] = None,
        raw: Optional[Dict[str, Any]] = None,
        total_time: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.status = status
        self.message = message
        self.retryable = retryable
        self.outcome = outcome
        self.attempts = attempts
        self.request_id = request_id
        self.errors = errors
        self.raw = raw if raw is not None else {}
        self.total_time = total_time

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

    def __reduce__(self) -> Any:
        # Exceptions are pickled through their args; the attributes go as the
        # state (BaseException.__setstate__ puts them back in __dict__).
        return (type(self), (self.message,), dict(self.__dict__))


class InvalidArgumentError(KaskoError, ValueError):
    """The input was refused before any network I/O (nothing was sent).

    Also a ``ValueError``. Raised too for calls on a closed client.
    """


class BadRequestError(KaskoError):
    """HTTP 400: a field is invalid, the token does not belong to the policy,
    or the policy is already paid. A validation failure of a quote or an
    offer carries the server's ``errors`` array
    (``[{"code": "required", "field": "..."}]``)."""


class AuthenticationError(KaskoError):
    """HTTP 401 or 403: a key is wrong or lacks the right (e.g. viewing a
    payment without a secret key)."""


class NotFoundError(KaskoError):
    """HTTP 404: unknown payment or payment provider; for the checkout
    calls, an unknown integration, item, subscription plan, offer or
    policy."""


class PendingPaymentError(KaskoError):
    """HTTP 422: the policy already has a pending payment.

    ``pending_payment_id`` is that payment's id (``None`` if the API's message
    did not name it).
    """

    pending_payment_id: Optional[str]

    def __init__(self, message: str = "", *, pending_payment_id: Optional[str] = None,
                 **attributes: Any) -> None:
        super().__init__(message, **attributes)
        self.pending_payment_id = pending_payment_id


class RateLimitError(KaskoError):
    """HTTP 429: too many requests; retry later."""


class ServerError(KaskoError):
    """HTTP 5xx, or a status the API does not document (e.g. a quote's
    409 while the product's pricing is being set up)."""


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


class BadSignatureError(KaskoError):
    """A webhook's ``X-KASKO-Signature`` is well formed but does not match
    its body and the secret (``kasko.verify_webhook``): the request did not
    come from KASKO, or was altered, or the secret is not this webhook's.
    Drop it (answer with a non-2xx status). Added in libkasko 1.3."""


class CallCancelledError(KaskoError):
    """An asynchronous call (``kasko.AsyncClient``) ended before its answer
    because the client was closed with the call in flight (``aclose()``,
    ``kasko_client_free``), or because ``kasko_call_cancel`` asked for it.
    Check ``outcome``: ``"not_sent"`` means nothing reached the server;
    ``"unknown"`` means the request was sent and a create may have been
    carried out (look before creating again: ``resolve_payment``).
    Status ``KASKO_ERR_CANCELLED``, added in libkasko 1.4.

    Not ``asyncio.CancelledError``: a task cancelled while awaiting a call
    raises that one (the library's result is then not an exception of the
    task's, see ``AsyncClient``)."""


#: status name (as kasko_status_name gives it) -> class; the values are the
#: library's (LibKasko.statuses), never written down here.
_CLASSES: Dict[str, Type[KaskoError]] = {
    "KASKO_ERR_INVALID_ARGUMENT": InvalidArgumentError,
    "KASKO_ERR_BAD_REQUEST": BadRequestError,
    "KASKO_ERR_UNAUTHORIZED": AuthenticationError,
    "KASKO_ERR_NOT_FOUND": NotFoundError,
    "KASKO_ERR_PENDING_PAYMENT": PendingPaymentError,
    "KASKO_ERR_RATE_LIMITED": RateLimitError,
    "KASKO_ERR_SERVER": ServerError,
    "KASKO_ERR_NETWORK": NetworkError,
    "KASKO_ERR_INVALID_RESPONSE": InvalidResponseError,
    "KASKO_ERR_INTERNAL": InternalError,
    "KASKO_ERR_BAD_SIGNATURE": BadSignatureError,
    "KASKO_ERR_CANCELLED": CallCancelledError,
}


def class_for_code(code: str) -> Type[KaskoError]:
    """The exception class of a status name; ``InternalError`` for one this
    binding does not know."""
    return _CLASSES.get(code, InternalError)


def _text(raw: Optional[bytes]) -> Optional[str]:
    return raw.decode("utf-8", "replace") if raw is not None else None


def _decoded(text: Optional[bytes]) -> Any:
    """``json.loads`` of what the library handed out, ``None`` if nothing
    (or, against its contract, not JSON)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def error_from_result(lib: "LibKasko", result: Any) -> KaskoError:
    """The exception for a ``kasko_result *`` that is not a success.

    Reads the result only; the caller still owns it and frees it.
    """
    code = lib.status_name(lib.kasko_result_status(result))
    cls = class_for_code(code)
    http_status: int = lib.kasko_result_http_status(result)
    status = lib.member_bytes(lib.kasko_result_member_string, result, b"status")
    errors = _decoded(lib.member_bytes(lib.kasko_result_member_json, result, b"errors"))
    raw = _decoded(lib.kasko_result_json(result))
    total: Optional[int] = lib.kasko_result_total_time_us(result)
    attributes: Dict[str, Any] = {
        "code": code,
        "http_status": http_status or None,
        "status": _text(status),
        "retryable": bool(lib.kasko_result_retryable(result)),
        "outcome": lib.outcome_name(lib.kasko_result_outcome(result)),
        "attempts": int(lib.kasko_result_attempts(result)),
        "request_id": _text(lib.kasko_result_request_id(result)),
        "errors": errors if isinstance(errors, list) else None,
        "raw": raw if isinstance(raw, dict) else {},
        "total_time": total / 1e6 if total is not None else None,
    }
    if issubclass(cls, PendingPaymentError):
        attributes["pending_payment_id"] = _text(lib.kasko_result_pending_payment_id(result))
    return cls(_text(lib.kasko_result_message(result)) or "", **attributes)


def new_error(lib: "LibKasko", code: str, message: str) -> KaskoError:
    """An error the binding raises itself, made by the library
    (``kasko_result_new_error``) like those of its own calls."""
    # A C string cannot carry a NUL (or a lone surrogate): spell them out.
    encoded = message.replace("\x00", "\\0").encode("utf-8", "backslashreplace")
    result = ctypes.c_void_p()
    try:
        lib.kasko_result_new_error(lib.statuses[code], encoded, ctypes.byref(result))
        return error_from_result(lib, result)
    finally:
        lib.kasko_result_free(result)


def invalid_argument(message: str) -> KaskoError:
    """An ``InvalidArgumentError`` for an argument the binding refuses itself
    (before any I/O), from ``kasko_result_new_error``."""
    from ._lib import library

    return new_error(library(), "KASKO_ERR_INVALID_ARGUMENT", message)


def internal_error(message: str) -> KaskoError:
    """An ``InternalError`` for a library that broke its contract (or ran
    out of memory), from ``kasko_result_new_error``."""
    from ._lib import library

    return new_error(library(), "KASKO_ERR_INTERNAL", message)


def invalid_payment(
    lib: "LibKasko", message: str, request_id: Optional[bytes], http_status: int, attempts: int,
    total_us: Optional[int] = None,
) -> KaskoError:
    """The ``InvalidResponseError`` for a success whose payment lacks a
    member its shape always has (or has one of another type), which the
    binding refuses itself: made by ``kasko_result_new_error`` and then told
    what the call's result said, as the library's own refusal of an answer
    would be (``outcome`` ``"unknown"``: a create may have made the
    payment; not retryable)."""
    error = new_error(lib, "KASKO_ERR_INVALID_RESPONSE", message)
    said: Dict[str, Any] = {
        "http_status": http_status or None,
        "outcome": "unknown",
        "retryable": False,
        "attempts": attempts,
        "request_id": _text(request_id),
        "total_time": total_us / 1e6 if total_us is not None else None,
    }
    for name, value in said.items():
        setattr(error, name, value)
        if name in error.raw:
            error.raw[name] = value
    return error
