"""Event logging: the client's events as lines on the ``kasko`` logger.

========================================  ========  ==========================
event                                     level     first word of the message
========================================  ========  ==========================
an attempt that is retried (``retry``)    WARNING   ``retry``
any other attempt                         DEBUG     ``attempt``
the end of a call that succeeded          DEBUG     ``call_end``
the end of a create whose outcome is      WARNING   ``call_end``
``unknown`` (the payment may exist)
the end of any other failed call          INFO      ``call_end``
========================================  ========  ==========================

A failed call raises its exception to the caller, who decides what it
deserves; the line at INFO is for a trace of what happened. The one failure
logged at WARNING is the one a caller must act on (view before creating
again).

Each line is ``logfmt``: ``attempt operation=payment_get method=GET
path=/payments/t… attempt=1 http_status=200 code=KASKO_OK outcome=succeeded
request_id=req_… total_ms=1.234 dns_ms=0.000 connect_ms=0.101 tls_ms=0.000
first_byte_ms=1.180 bytes_sent=312 bytes_received=845``, and ``message="…"``
when something went wrong, ``retry_delay_ms`` before a retry. Timings are
milliseconds (three decimals). The record's ``kasko_event`` attribute is the
``Event`` itself, for a filter or formatter of the application's. Nothing in
a line is secret (see ``Event``).

When the library's hook is set for logging (the cost is paid only then):
``Client`` sets it at creation when ``KASKO_LOG`` is set, or when the
``kasko`` logger is enabled for DEBUG and has somewhere to send records
(``logger.hasHandlers()``, e.g. after ``logging.basicConfig(level=DEBUG)``);
``Client.set_event_logging(True/False)`` decides it explicitly. Not for
WARNING alone: the hook runs Python for every event, which about doubles
the cost of a call on a fast server (54 to 103 µs a view against the
sandbox), and a program that merely configured logging would pay that for
the rare retry line. A program that asked for nothing pays nothing.

``KASKO_LOG=debug`` (or ``info``, ``warning``; any case), read when a
``Client`` is made, sets the ``kasko`` logger to that level and adds (once
per process) a handler that writes to stderr, as stripe-python's
``STRIPE_LOG`` does. Another value is ignored with a ``RuntimeWarning``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import warnings
from typing import TYPE_CHECKING, List, Optional

from ._events import LOG_ENV_VAR

if TYPE_CHECKING:
    from ._events import Event

__all__ = ["LOGGER", "ENV_VAR", "log_event", "level_of", "format_event", "wanted_at_creation"]

#: The package's logger.
LOGGER = logging.getLogger("kasko")

#: The environment variable read at each Client creation.
ENV_VAR = LOG_ENV_VAR
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_handler: Optional[logging.Handler] = None
_handler_lock = threading.Lock()


def level_of(event: Event) -> int:
    """The level an event is logged at (see the module's table)."""
    if event.kind == "call_end":
        if event.code == "KASKO_OK":
            return logging.DEBUG
        if event.outcome == "unknown" and event.operation == "payment_create":
            return logging.WARNING
        return logging.INFO
    return logging.WARNING if event.retry else logging.DEBUG


def _ms(microseconds: Optional[int]) -> str:
    return "none" if microseconds is None else f"{microseconds / 1000:.3f}"


def _value(value: object) -> str:
    if value is None:
        return "none"
    text = str(value)
    if not text or any(c in text for c in ' ="\\') or not text.isprintable():
        return json.dumps(text)
    return text


def format_event(event: Event) -> str:
    """The event's line (without the logger's prefix)."""
    word = "retry" if event.kind == "attempt" and event.retry else event.kind or "event"
    number = "attempts" if event.kind == "call_end" else "attempt"
    parts: List[str] = [
        word,
        f"operation={_value(event.operation)}",
        f"method={_value(event.method)}",
        f"path={_value(event.path)}",
        f"{number}={event.attempt}",
        f"http_status={_value(event.http_status)}",
        f"code={_value(event.code)}",
        f"outcome={_value(event.outcome)}",
        f"request_id={_value(event.request_id)}",
    ]
    if event.retry:
        parts.append(f"retry_delay_ms={_value(event.retry_delay_ms)}")
    parts.append(f"total_ms={_ms(event.total_us)}")
    if event.kind != "call_end":
        parts.extend((
            f"dns_ms={_ms(event.dns_us)}",
            f"connect_ms={_ms(event.connect_us)}",
            f"tls_ms={_ms(event.tls_us)}",
            f"first_byte_ms={_ms(event.first_byte_us)}",
        ))
    parts.extend((f"bytes_sent={event.bytes_sent}", f"bytes_received={event.bytes_received}"))
    if event.message is not None:
        parts.append(f"message={json.dumps(event.message)}")
    return " ".join(parts)


def log_event(event: Event) -> None:
    """The event consumer of event logging."""
    level = level_of(event)
    if LOGGER.isEnabledFor(level):
        LOGGER.log(level, "%s", format_event(event), extra={"kasko_event": event})


def _from_environment() -> bool:
    """Applies ``KASKO_LOG``; whether it asked for logging."""
    value = os.environ.get(ENV_VAR)
    if not value:
        return False
    level = _LEVELS.get(value.strip().lower())
    if level is None:
        warnings.warn(
            f"{ENV_VAR}={value!r} is not one of {', '.join(_LEVELS)}: ignored",
            RuntimeWarning,
            stacklevel=4,
        )
        return False
    global _handler
    with _handler_lock:
        if _handler is None:
            _handler = logging.StreamHandler(sys.stderr)
            _handler.setFormatter(logging.Formatter(_FORMAT))
            LOGGER.addHandler(_handler)
    LOGGER.setLevel(level)
    return True


def wanted_at_creation() -> bool:
    """Whether a new Client sets its hook for logging (see the module)."""
    if _from_environment():
        return True
    return LOGGER.isEnabledFor(logging.DEBUG) and LOGGER.hasHandlers()
