"""OpenTelemetry tracing of a ``kasko.Client``: one CLIENT span per call.

>>> import kasko, kasko.opentelemetry
>>> client = kasko.Client("pk_test_...", "sk_test_...")
>>> kasko.opentelemetry.instrument(client)           # the global TracerProvider
>>> client.get_payment("t123...")                    # span "GET /payments/{id}"

Needs the ``opentelemetry-api`` package (``pip install opentelemetry-api``,
and an SDK to record anything); importing this module without it raises
``ImportError`` saying so. ``import kasko`` never needs it.

What a call records, following the OpenTelemetry semantic conventions for
HTTP client spans:

* a span named ``{method} {route}`` (``POST /payments``,
  ``GET /payments/{id}``, ``POST /quotes``, ``POST /policies``,
  ``GET /offers/{id}``, ``GET /policies/{id}``: the route template, low
  cardinality; ``resolve_payment``, a policy view and maybe a create, is
  one span ``payment_resolve`` without method or template), kind
  CLIENT, child of the context current when the call is made, started just
  before the library is called and ended when the library reports the
  call's end (its ``call_end`` event), so that its duration is the call's:
  retries and their waits included;
* attributes ``http.request.method``, ``url.template`` (the route),
  ``server.address``, ``server.port``, ``url.full`` (the base URL and the
  path; the query's public key as ``REDACTED``), ``http.response.status_code``
  (when a response came), ``http.request.resend_count`` (the attempts after
  the first, when there were any), ``error.type`` on failure (the HTTP
  status for a status of 400 or more, else the exception's class, e.g.
  ``kasko.NetworkError``), and ``kasko.operation``, ``kasko.request_id``,
  ``kasko.outcome`` (``succeeded``, ``not_sent``, ``rejected``,
  ``unknown``), ``kasko.attempts``, ``kasko.error.code``
  (``KASKO_ERR_...``) on failure; status ERROR on failure, with the
  error's code and (redacted) message;
* one span event ``kasko.attempt`` per HTTP attempt, at the time it ended,
  with its number, status, outcome, retry decision and libcurl's timings
  (``kasko.dns_us``, ``kasko.connect_us``, ``kasko.tls_us``,
  ``kasko.first_byte_us``, ``kasko.total_us``). The attempts are events of
  the one span, not spans of their own, because the library sends one
  ``traceparent`` on every attempt of a call: the span the server's spans
  point to is the call's.

The span's context is sent with the call as the W3C ``traceparent`` (and
``tracestate`` when the span's trace state is not empty), through the
call's ``traceparent`` / ``tracestate`` options: a call given either of them
explicitly sends what it was given instead. A span that is not sampled is
still propagated (flags ``00``), as OpenTelemetry's propagators do; without
an SDK the API's spans record nothing and the current context (if any) is
propagated. While the call runs the span is the current span, so that log
records written in an event hook carry its trace id.

Nothing secret reaches a span: the attributes come from the call's events
and its result, which hold no key, token or body.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any, Dict, Optional, Tuple, Union

try:
    from opentelemetry import context as _context
    from opentelemetry import trace as _trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError as _exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "kasko.opentelemetry needs the opentelemetry-api package, which is not installed "
        f"({_exc}): pip install opentelemetry-api (and opentelemetry-sdk to record spans). "
        "The rest of kasko works without it."
    ) from _exc

from . import __version__
from ._client import Client, call_observer, set_call_observer
from ._errors import KaskoError
from ._events import Event
from ._payment import Payment

__all__ = ["instrument", "uninstrument", "is_instrumented", "DEFAULT_BASE_URL"]

#: The library's default base URL (libkasko(3)), for ``server.address`` of a
#: client made without ``base_url``.
DEFAULT_BASE_URL = "https://api.eu1.kaskocloud.com"
#: operation -> (method, route), known before the call (a sampler sees the
#: span's name and these attributes at its start).
_ROUTES: Dict[str, Tuple[str, str]] = {
    "payment_create": ("POST", "/payments"),
    "payment_get": ("GET", "/payments/{id}"),
    "quote_create": ("POST", "/quotes"),
    "offer_create": ("POST", "/policies"),
    "offer_get": ("GET", "/offers/{id}"),
    "policy_get": ("GET", "/policies/{id}"),
}
#: The operations whose requests carry the public key in the query
#: (``?key=``), shown as ``?key=REDACTED`` in ``url.full``.
_KEYED = frozenset({"payment_create", "quote_create", "offer_create"})
_PROPAGATOR = TraceContextTextMapPropagator()
_Attribute = Union[str, bool, int, float]


def instrument(client: Client, *, tracer_provider: Optional[Any] = None) -> None:
    """Traces every call of ``client`` from now on (see the module). A
    client already instrumented is instrumented again with this provider.
    ``tracer_provider`` is an ``opentelemetry.trace.TracerProvider``;
    ``None`` is the global one (``opentelemetry.trace.set_tracer_provider``,
    which may also be set later). Raises as ``Client.set_event_hook``
    (``InvalidArgumentError`` on a closed client or from inside an event
    hook)."""
    if not isinstance(client, Client):
        raise TypeError(f"instrument() takes a kasko.Client, not {type(client).__name__}")
    tracer = _trace.get_tracer("kasko", __version__, tracer_provider)
    set_call_observer(client, _Observer(tracer, client.base_url or DEFAULT_BASE_URL))


def uninstrument(client: Client) -> None:
    """Stops tracing ``client``'s calls (nothing happens if it was not
    instrumented). Raises as ``instrument``."""
    if is_instrumented(client):
        set_call_observer(client, None)


def is_instrumented(client: Client) -> bool:
    """Whether ``instrument(client)`` is in force."""
    return isinstance(call_observer(client), _Observer)


class _Observer:
    """What ``instrument`` sets on a client: starts a ``_Scope`` per call."""

    def __init__(self, tracer: Any, base_url: str) -> None:
        self._tracer = tracer
        parts = urllib.parse.urlsplit(base_url)
        scheme = parts.scheme.lower() or "https"
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        self._address = host
        self._port = port
        # The URL without userinfo, for url.full.
        shown = f"[{host}]" if ":" in host else host
        default_port = (scheme, port) in (("https", 443), ("http", 80))
        self._origin = f"{scheme}://{shown}" + ("" if default_port else f":{port}")

    def start(self, operation: str) -> "_Scope":
        attributes: Dict[str, _Attribute] = {
            "server.address": self._address,
            "server.port": self._port,
            "kasko.operation": operation,
        }
        known = _ROUTES.get(operation)
        if known is not None:
            method, route = known
            attributes["http.request.method"] = method
            attributes["url.template"] = route
            name = f"{method} {route}"
        else:
            # resolve_payment: a view and maybe a create, not one HTTP
            # request; its span is named after the operation, and its
            # attempts (of both requests) are its events.
            name = operation
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        return _Scope(span, operation, self._origin)

    def __repr__(self) -> str:
        return f"<kasko.opentelemetry observer of {self._origin}>"


class _Scope:
    """One traced call: its span, current while the call runs."""

    def __init__(self, span: Any, operation: str, origin: str) -> None:
        self._span = span
        self._operation = operation
        self._origin = origin
        self._recording: bool = span.is_recording()
        span_context = _trace.set_span_in_context(span)
        carrier: Dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=span_context)
        self.traceparent: Optional[str] = carrier.get("traceparent")
        self.tracestate: Optional[str] = carrier.get("tracestate")
        self._token: Any = _context.attach(span_context)
        self._end_ns: Optional[int] = None

    def event(self, event: Event) -> None:
        if event.kind == "call_end":
            self._end_ns = time.time_ns()
            if self._recording and event.path:
                query = "?key=REDACTED" if event.operation in _KEYED else ""
                self._span.set_attribute("url.full", self._origin + event.path + query)
            return
        if not self._recording or event.kind != "attempt":
            return
        attributes: Dict[str, _Attribute] = {
            "kasko.attempt": event.attempt,
            "kasko.code": event.code,
            "kasko.outcome": event.outcome,
            "kasko.retry": event.retry,
            "kasko.total_us": event.total_us,
            "kasko.bytes_sent": event.bytes_sent,
            "kasko.bytes_received": event.bytes_received,
        }
        optional: Dict[str, Optional[_Attribute]] = {
            "http.response.status_code": event.http_status,
            "kasko.retry_delay_ms": event.retry_delay_ms,
            "kasko.request_id": event.request_id,
            "kasko.dns_us": event.dns_us,
            "kasko.connect_us": event.connect_us,
            "kasko.tls_us": event.tls_us,
            "kasko.first_byte_us": event.first_byte_us,
            "kasko.message": event.message,
        }
        attributes.update((k, v) for k, v in optional.items() if v is not None)
        if event.code != "KASKO_OK":
            attributes["error.type"] = _error_type_of_event(event)
        self._span.add_event("kasko.attempt", attributes=attributes, timestamp=time.time_ns())

    def end(self, payment: Optional[Payment], error: Optional[BaseException]) -> None:
        try:
            _context.detach(self._token)
        finally:
            if self._recording:
                self._finish(payment, error)
            self._span.end(end_time=self._end_ns)

    def _finish(self, payment: Optional[Payment], error: Optional[BaseException]) -> None:
        span = self._span
        attributes: Dict[str, Optional[_Attribute]] = {}
        if payment is not None:
            attributes = {
                "http.response.status_code": payment.http_status,
                "kasko.request_id": payment.request_id,
                "kasko.attempts": payment.attempts,
                "kasko.outcome": "succeeded",
            }
            attempts = payment.attempts
        elif isinstance(error, KaskoError):
            attributes = {
                "http.response.status_code": error.http_status,
                "kasko.request_id": error.request_id,
                "kasko.attempts": error.attempts,
                "kasko.outcome": error.outcome,
                "kasko.error.code": error.code,
                "error.type": _error_type(error),
            }
            attempts = error.attempts
            span.set_status(Status(StatusCode.ERROR, f"{error.code}: {error.message}"))
        else:  # KeyboardInterrupt, or a bug: the call's fate is unknown
            attempts = None
            if error is not None:
                attributes = {"error.type": _error_type(error)}
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        if attempts is not None and attempts > 1:
            attributes["http.request.resend_count"] = attempts - 1
        span.set_attributes({k: v for k, v in attributes.items() if v is not None})

    def __repr__(self) -> str:
        return f"<kasko.opentelemetry scope of {self._operation}>"


def _error_type(error: BaseException) -> str:
    """``error.type``: the HTTP status of an answer of 400 or more, else the
    exception's class (``kasko.NetworkError``, ``KeyboardInterrupt``)."""
    if isinstance(error, KaskoError):
        if error.http_status is not None and error.http_status >= 400:
            return str(error.http_status)
        return f"kasko.{type(error).__name__}"
    cls = type(error)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _error_type_of_event(event: Event) -> str:
    if event.http_status is not None and event.http_status >= 400:
        return str(event.http_status)
    return event.code
