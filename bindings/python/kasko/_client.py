"""The Client: one libkasko ``kasko_client`` handle, safe to share between threads.

Calls go through the C API 1.1: ``kasko_payment_create_v2`` /
``kasko_payment_get_v2`` take the request's fields as C strings (the library
writes the JSON) and hand back a ``kasko_result``, freed here in every case.
A success is decoded from ``kasko_result_json``; anything else becomes an
exception through ``_errors.error_from_result``. So do a refused
configuration (``kasko_client_new_v2`` hands it out as a ``kasko_result``)
and refused call options (``kasko_call_options_check``, when the options
are built).
"""

from __future__ import annotations

import ctypes
import json
import json.scanner
import math
import os
import threading
from types import TracebackType
from collections.abc import Mapping
from typing import Any, Callable, Dict, NoReturn, Optional, Tuple, Type, Union, cast

from ._errors import error_from_result, internal_error, invalid_argument, invalid_payment
from ._events import PENDING, CallObserver, CallScope, EventHook, Hooks, logging_wanted_at_creation, observing, report
from ._lib import LibKasko, library
from ._checkout import Offer, PaymentResolution, Policy, Quote
from ._payment import FullPayment, Payment, from_response

__all__ = ["Client"]

StrPath = Union[str, "os.PathLike[str]"]

_C_LONG_BITS = ctypes.sizeof(ctypes.c_long) * 8
_C_LONG_MIN = -(1 << (_C_LONG_BITS - 1))
_C_LONG_MAX = (1 << (_C_LONG_BITS - 1)) - 1


def _milliseconds(name: str, seconds: Optional[float]) -> Optional[int]:
    """Seconds (int or float) to whole milliseconds, rounded up so that a
    small positive timeout never becomes 0. Range checks are the library's."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise invalid_argument(
            f"{name} must be a number of seconds, not {type(seconds).__name__}"
        )
    if not math.isfinite(seconds):
        raise invalid_argument(f"{name} must be a finite number of seconds")
    return math.ceil(seconds * 1000)


def c_string(name: str, value: Any) -> bytes:
    """A ``str`` argument as the NUL-terminated UTF-8 the library takes, or
    the ``InvalidArgumentError`` of what C cannot carry. What the text may
    say is the library's to check."""
    if not isinstance(value, str):
        raise invalid_argument(f"{name} must be a str, not {type(value).__name__}")
    if "\x00" in value:
        raise invalid_argument(
            f"{name} contains a NUL character, which a C string cannot carry"
        )
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_argument(
            f"{name} is not valid Unicode (it holds a lone surrogate)"
        ) from None


_DECODER = json.JSONDecoder()
# The C scanner that JSONDecoder.decode (json.loads) runs after skipping
# whitespace. Client._call calls it directly, which saves decode's regex
# matches and frames (µs per call), and falls back to _decode_slowly when the
# text does not start with a JSON value (whitespace first, or not JSON).
_scan_once: Callable[[str, int], Tuple[Any, int]] = json.scanner.make_scanner(
    _DECODER  # type: ignore[arg-type]
)
_byref = ctypes.byref
_Result = ctypes.c_void_p


def _decode_slowly(text: str) -> Any:
    """``json.loads(text)``, or ``None`` if it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None


class Kind:
    """How ``Client._call`` makes its answer of a checkout call (libkasko
    1.3): the class (``Quote``, ``Offer``, ...; its ``_from_response``),
    what it is called in messages, and whether the result's ETag and
    Last-Modified are read (a policy view)."""

    __slots__ = ("cls", "what", "headers")

    def __init__(self, cls: Any, what: str, headers: bool = False) -> None:
        self.cls = cls
        self.what = what
        self.headers = headers


QUOTE = Kind(Quote, "a quote")
OFFER = Kind(Offer, "an offer")
POLICY = Kind(Policy, "a policy", headers=True)
RESOLUTION = Kind(PaymentResolution, "a payment resolution")


def request_json(request: Any) -> bytes:
    """A request mapping as the JSON text a checkout create takes, or the
    ``InvalidArgumentError`` of one that is not a mapping or cannot be
    JSON. What its members must be is the library's to check."""
    if not isinstance(request, Mapping):
        raise invalid_argument(
            f"request must be a mapping (e.g. a dict), not {type(request).__name__}"
        )
    try:
        text = json.dumps(dict(cast(Mapping[str, Any], request)), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise invalid_argument(f"request cannot be encoded as JSON: {exc}") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_argument(
            "request is not valid Unicode (it holds a lone surrogate)"
        ) from None


class _Handle(ctypes.c_void_p):
    """The client's ``kasko_client *``, freed with ``kasko_client_free`` when
    the last reference to this object goes away.

    The client holds one reference until ``close()``, and each call holds one
    while it runs. So ``close()`` needs no lock and never blocks, a call never
    runs on a freed handle, and the handle is freed exactly once: by
    ``close()`` when no call is running, else by the last running call when
    it returns.
    """

    def __init__(self, value: int, lib: LibKasko, hooks: Hooks) -> None:
        super().__init__(value)
        self._lib = lib
        # The client's event consumers: registered (weakly) for the C hook
        # while one is set, forgotten once the handle is freed.
        self._hooks = hooks

    def __del__(self) -> None:
        value = self.value
        if value:
            try:
                self._lib.kasko_client_free(value)
                self._hooks.forget()
            except Exception:  # interpreter shutdown: nothing sensible to do
                pass

    def free(self) -> None:
        """Frees the ``kasko_client`` now, whoever else holds this object
        (``AsyncClient.aclose``, whose calls hold no reference while they
        wait: the library cancels them, and their callbacks run before
        ``kasko_client_free`` returns, on its engine thread, which takes the
        GIL: ``kasko_client_free`` is called through ``ctypes.CDLL``, which
        releases it). Idempotent; ``__del__`` then has nothing to free."""
        value = self.value
        if value:
            self.value = None
            self._lib.kasko_client_free(value)
            self._hooks.forget()


class Client:
    """A client of the KASKO Payments API.

    ``Client(public_key, secret_key=None, *, base_url=None, timeout=None,
    connect_timeout=None, max_retries=None, ca_bundle=None, proxy=None,
    user_agent=None)``

    * ``public_key`` -- ``pk_test_...`` or ``pk_live_...`` (required);
    * ``secret_key`` -- ``sk_test_...`` / ``sk_live_...``; without it created
      payments come back restricted and ``get_payment`` is refused by the API.
      The key is handed to the library and not kept by this object;
    * ``base_url`` -- default ``https://api.eu1.kaskocloud.com``; plain
      ``http://`` only for loopback hosts;
    * ``timeout`` / ``connect_timeout`` -- seconds (float) per attempt
      (library defaults: 60 and 10);
    * ``max_retries`` -- 0 to 10 (library default 2);
    * ``ca_bundle`` -- a PEM file of trusted CAs; ``proxy`` -- a proxy URL,
      ``""`` for none, ``None`` for the ``https_proxy``/``no_proxy``
      environment; ``user_agent`` -- put before the library's own User-Agent.

    ``None`` means "the library's default". Values are checked by the library:
    a bad one raises ``InvalidArgumentError`` here, before any I/O, whose
    ``message`` is the library's reason (it never quotes a key) and whose
    ``raw`` is the library's error object.

    Per call, ``create_payment`` and ``get_payment`` take the keyword-only
    options ``timeout_ms`` (this call's timeout per attempt in milliseconds,
    ``0`` for the client's), ``traceparent`` and ``tracestate`` (W3C Trace
    Context headers, sent on every attempt). The library checks them
    (``kasko_call_options_check``, before the call): a bad one raises
    ``InvalidArgumentError`` with the library's message, and nothing is sent.

    Threads: one client may be used from many threads at once; calls release
    the GIL while they wait for the network. ``close()`` (or leaving a
    ``with`` block) is idempotent and never blocks: calls already running
    finish normally and the handle is freed when the last of them returns;
    calls made after ``close()`` raise ``InvalidArgumentError``.

    Events: ``set_event_hook(hook)`` has ``hook(event)`` called with a
    ``kasko.Event`` for each HTTP attempt and at the end of each call, on
    the calling thread; ``set_event_logging(True)`` logs them on the
    ``kasko`` logger (set at creation when ``KASKO_LOG`` is set or logging
    is configured, see ``kasko._log``). ``total_time`` on payments and
    errors is the call's wall time in seconds.
    """

    def __init__(
        self,
        public_key: str,
        secret_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        ca_bundle: Optional[StrPath] = None,
        proxy: Optional[str] = None,
        user_agent: Optional[str] = None,
    ) -> None:
        self._lib: LibKasko = library()
        # None once closed; calls pass the _Handle itself (a c_void_p).
        self._handle: Optional[_Handle] = None
        self._closed = True
        self._ok = self._lib.OK
        self._get = self._lib.kasko_payment_get_v2
        self._create = self._lib.kasko_payment_create_v2
        self._public_key = public_key
        self._base_url = base_url

        if max_retries is not None and (
            isinstance(max_retries, bool) or not isinstance(max_retries, int)
        ):
            raise invalid_argument(
                f"max_retries must be an int, not {type(max_retries).__name__}"
            )
        config: Dict[str, Any] = {
            "public_key": public_key,
            "secret_key": secret_key,
            "base_url": base_url,
            "timeout_ms": _milliseconds("timeout", timeout),
            "connect_timeout_ms": _milliseconds("connect_timeout", connect_timeout),
            "max_retries": max_retries,
            "ca_bundle": os.fspath(ca_bundle) if ca_bundle is not None else None,
            "proxy": proxy,
            "user_agent": user_agent,
        }
        try:
            config_json = json.dumps(
                {k: v for k, v in config.items() if v is not None}
            ).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise invalid_argument(f"the configuration cannot be encoded: {exc}") from None
        del config, secret_key

        lib = self._lib
        handle = ctypes.c_void_p()
        result = _Result()
        try:
            status: int = lib.kasko_client_new_v2(
                config_json, ctypes.byref(handle), ctypes.byref(result)
            )
            del config_json
            if status != self._ok:
                if handle.value:  # not per the contract, but never leak a handle
                    lib.kasko_client_free(handle.value)
                if not result.value:  # not per the contract either
                    raise internal_error(
                        f"kasko_client_new_v2 returned {lib.status_name(status)} and no result"
                    )
                # A refused configuration is an error like any other: the
                # library's result, with its message (which never quotes a key).
                raise error_from_result(lib, result)
        finally:
            if result.value:  # NULL on success
                lib.kasko_result_free(result)
        if not handle.value:
            raise internal_error("kasko_client_new_v2 returned KASKO_OK but no client")
        self._hooks = Hooks(lib)
        self._observer: Optional[CallObserver] = None
        self._handle = _Handle(handle.value, lib, self._hooks)
        self._closed = False
        if lib.has_events and logging_wanted_at_creation():
            try:
                self.set_event_logging(True)
            except Exception:  # made inside a hook, where hooks cannot change
                pass

    # -- public API ---------------------------------------------------------

    @property
    def public_key(self) -> str:
        """The public key the client was made with."""
        return self._public_key

    @property
    def base_url(self) -> Optional[str]:
        """The base URL given, or ``None`` for the library's default."""
        return self._base_url

    @property
    def closed(self) -> bool:
        """True once ``close()`` was called."""
        return self._closed

    # -- events ---------------------------------------------------------------

    @property
    def event_hook(self) -> Optional[EventHook]:
        """The function ``set_event_hook`` set, or ``None``."""
        return self._hooks.user

    @property
    def event_logging(self) -> bool:
        """Whether the client's events are logged on the ``kasko`` logger
        (see ``set_event_logging``)."""
        return self._hooks.logging

    def set_event_hook(self, hook: Optional[EventHook]) -> None:
        """Calls ``hook(event)`` with a ``kasko.Event`` for each HTTP attempt
        of each call of this client and once at the end of each call; ``None``
        clears it. One hook per client (this replaces the previous one);
        event logging and ``kasko.opentelemetry`` get the events too.

        The hook runs on the thread making the call, inside the call (from
        many threads at once if the client is shared), so it delays that
        call only. It may log, count, keep the event (an immutable copy),
        and make calls (on any client: they deliver no events). An exception
        it raises is logged on the ``kasko`` logger (ERROR, with the
        traceback) and otherwise ignored; ``KeyboardInterrupt`` and other
        ``BaseException`` are raised by the call once the library returns.

        May be called at any time from any thread while calls run. When it
        returns, the previous hook is not running and will not be called
        again. Raises ``InvalidArgumentError`` when ``hook`` is neither
        callable nor ``None``, when the client is closed, and when called
        from inside an event hook (the library refuses it there: it would
        wait for itself); ``InternalError`` with a library older than 1.2.
        """
        if hook is not None and not callable(hook):
            raise invalid_argument(
                f"the event hook must be callable or None, not {type(hook).__name__}"
            )
        self._update_hooks(lambda old: (hook, old[1], old[2]))

    def set_event_logging(self, enabled: bool) -> None:
        """Logs (``True``) or stops logging (``False``) this client's events
        on the ``kasko`` logger: each attempt at DEBUG (a retried one at
        WARNING), each call's end at DEBUG (a failure at INFO, a create whose
        outcome is unknown at WARNING). Set at creation when ``KASKO_LOG``
        is set or when the logger is enabled for DEBUG and has handlers;
        off otherwise (WARNING lines alone need ``set_event_logging(True)``),
        so that logging costs nothing unless asked for. The
        levels are checked per event, so the logger's configuration may
        change meanwhile. Raises as ``set_event_hook``."""
        if not isinstance(enabled, bool):
            raise invalid_argument(f"enabled must be a bool, not {type(enabled).__name__}")
        self._update_hooks(lambda old: (old[0], enabled, old[2]))

    def _set_observer(self, observer: Optional[CallObserver]) -> None:
        """Sets (or clears) the call observer, told about every call around
        it and given its events (``kasko.opentelemetry``). Raises as
        ``set_event_hook``."""
        if observer is None:
            self._observer = None  # calls stop being observed, then the hook goes
        self._update_hooks(lambda old: (old[0], old[1], observer is not None))
        self._observer = observer

    def _update_hooks(self, change: Callable[[Tuple[Any, bool, bool]], Tuple[Any, bool, bool]]) -> None:
        handle = self._handle
        if handle is None:
            raise invalid_argument("the client is closed")
        try:
            self._hooks.update(handle, change)
        finally:
            del handle

    def create_payment(
        self,
        *,
        token: str,
        provider: str,
        method: str,
        policy_id: str,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> Payment:
        """Creates a payment for an offer (``POST /payments``).

        Returns a ``FullPayment``, or a ``RestrictedPayment`` when the client
        has no secret key. Raises ``BadRequestError`` (400), ``AuthenticationError``
        (401/403), ``NotFoundError`` (404: unknown provider),
        ``PendingPaymentError`` (422, see ``pending_payment_id``), and the
        other ``KaskoError`` subclasses. On ``NetworkError`` or
        ``InvalidResponseError`` with ``outcome == "unknown"`` the payment may
        exist: look it up before creating it again.

        ``timeout_ms``, ``traceparent`` and ``tracestate`` apply to this call
        only (see the class's documentation).
        """
        fields = payment_fields(token, provider, method, policy_id)
        observer = self._observer
        if observer is not None:
            return cast(Payment, self._observed(
                observer, "payment_create", self._create, fields, False, timeout_ms, traceparent,
                tracestate))
        if timeout_ms is None and traceparent is None and tracestate is None:
            return cast(Payment, self._call(self._create, fields, None, False))
        options = self._options(timeout_ms, traceparent, tracestate)
        try:
            return cast(Payment, self._call(self._create, fields, options, False))
        finally:
            self._lib.kasko_call_options_free(options)

    def get_payment(
        self,
        payment_id: str,
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> FullPayment:
        """Views a payment (``GET /payments/{payment_id}``); needs a secret key.

        Returns a ``FullPayment`` (a view's answer that is not the full
        object raises ``InvalidResponseError``). Raises ``InvalidArgumentError`` for a malformed id (nothing is sent),
        ``NotFoundError`` (404), ``AuthenticationError`` (401/403), and the
        other ``KaskoError`` subclasses.

        ``timeout_ms``, ``traceparent`` and ``tracestate`` apply to this call
        only (see the class's documentation).
        """
        encoded = payment_id_field(payment_id)
        observer = self._observer
        if observer is not None:
            return cast(FullPayment, self._observed(
                observer, "payment_get", self._get, (encoded,), True, timeout_ms, traceparent,
                tracestate))
        if timeout_ms is None and traceparent is None and tracestate is None:
            return cast(FullPayment, self._call(self._get, (encoded,), None, True))
        options = self._options(timeout_ms, traceparent, tracestate)
        try:
            return cast(FullPayment, self._call(self._get, (encoded,), options, True))
        finally:
            self._lib.kasko_call_options_free(options)

    # -- checkout (libkasko 1.3) -----------------------------------------------

    def create_quote(
        self,
        request: Mapping[str, Any],
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> Quote:
        """Prices an insurance (``POST /quotes``, v3): returns a ``Quote``,
        whose ``token`` ``create_offer`` takes as ``"quote_token"``.

        ``request`` is a mapping, sent as JSON (``json.dumps``) exactly as
        given: ``item_id``, ``subscription_plan_id`` and ``integration_id``
        (str) and ``data`` (the product's quote fields, a mapping) are
        required, other members are passed on. The library checks those
        before any I/O (``InvalidArgumentError``, nothing sent). Retried like
        a view (a quote changes nothing). Raises ``BadRequestError`` (400,
        invalid data: ``errors`` is the server's array of
        ``{"code", "field"}``), ``AuthenticationError`` (401/403),
        ``NotFoundError`` (404: unknown integration, item or plan),
        ``ServerError`` (409 while the product's pricing is being set up,
        5xx), and the other ``KaskoError`` subclasses.
        """
        body = request_json(request)
        return cast(Quote, self._checkout(
            "quote_create", "kasko_quote_create_v2", (body,), QUOTE,
            timeout_ms, traceparent, tracestate))

    def create_offer(
        self,
        request: Mapping[str, Any],
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> Offer:
        """Makes an offer, an unpaid policy (``POST /policies``): returns an
        ``Offer`` whose ``id`` and ``payment_token`` ``create_payment``
        takes (``payment_token`` is ``None`` for a product with manual
        underwriting: read it with ``get_offer`` once approved).

        ``request`` is a mapping, sent as JSON exactly as given:
        ``quote_token`` (a ``Quote.token``), ``first_name``, ``last_name``,
        ``email``, ``language`` (two letters) are required strings;
        ``data`` and ``metadata`` optional mappings. Missing or mistyped
        members raise ``InvalidArgumentError`` before any I/O. Sent at most
        once (each call makes a new offer); an ``outcome`` ``"unknown"`` is
        harmless (an unpaid offer costs nothing), call again. Raises
        ``BadRequestError`` (400: invalid data, unknown quote token; see
        ``errors``), ``AuthenticationError``, ``NotFoundError`` and the
        other ``KaskoError`` subclasses.
        """
        body = request_json(request)
        return cast(Offer, self._checkout(
            "offer_create", "kasko_offer_create_v2", (body,), OFFER,
            timeout_ms, traceparent, tracestate))

    def get_offer(
        self,
        policy_id: str,
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> Offer:
        """Views an offer (``GET /offers/{policy_id}``); needs a secret key.
        Returns an ``Offer`` with its ``status`` (``"pending"``, ``"ready"``,
        ``"accepted"``), the customer's details and, once it can be paid,
        its ``payment_token``. Raises ``InvalidArgumentError`` for a
        malformed id (nothing sent), ``NotFoundError`` (404),
        ``AuthenticationError`` (401/403) and the other ``KaskoError``
        subclasses."""
        encoded = c_string("policy_id", policy_id)
        return cast(Offer, self._checkout(
            "offer_get", "kasko_offer_get_v2", (encoded,), OFFER,
            timeout_ms, traceparent, tracestate))

    def get_policy(
        self,
        policy_id: str,
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> Policy:
        """Views a policy (``GET /policies/{policy_id}``); needs a secret
        key. Returns a ``Policy``: its ``status`` becomes ``"paid"`` some
        time after the payment (KASKO creates the policy asynchronously),
        and ``etag``/``last_modified`` are the answer's headers. Raises as
        ``get_offer``."""
        encoded = c_string("policy_id", policy_id)
        return cast(Policy, self._checkout(
            "policy_get", "kasko_policy_get_v2", (encoded,), POLICY,
            timeout_ms, traceparent, tracestate))

    def resolve_payment(
        self,
        *,
        token: str,
        provider: str,
        method: str,
        policy_id: str,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> PaymentResolution:
        """Finds out what became of a ``create_payment`` that raised with
        ``outcome == "unknown"`` (sent, no answer: it may have paid),
        without ever making a second payment. Pass the same four fields.

        It views the policy (paid: done), else sends the identical create
        once more, which the API's one-payment-per-policy rule answers with
        what the lost create did (422 pending, 400 already paid), or which is
        itself the first payment (``created_by_this_call``). Returns a
        ``PaymentResolution`` whose ``state`` is ``PaymentState.PAID``,
        ``PENDING`` (see ``payment_id``) or ``NOT_PAID`` (safe to create
        again once ``message``'s cause is mended). Any exception means
        nothing was settled (the view failed, or the create got no usable
        answer): call it again later; it stays safe. Needs a secret key
        (the policy view)."""
        fields = _fields_slowly(token, provider, method, policy_id)
        return cast(PaymentResolution, self._checkout(
            "payment_resolve", "kasko_payment_resolve", fields, RESOLUTION,
            timeout_ms, traceparent, tracestate))

    def _checkout(
        self, operation: str, name: str, fields: Tuple[bytes, ...], kind: Kind,
        timeout_ms: Optional[int], traceparent: Optional[str], tracestate: Optional[str],
    ) -> Any:
        """A checkout call: the library function ``name`` (looked up on the
        library at each call), observed as ``operation``."""
        lib = self._lib
        if not lib.has_checkout:
            raise internal_error(
                f"libkasko {lib.version()} has no {name} (the checkout calls are in "
                "libkasko 1.3.0 and later): install a newer libkasko"
            )
        function = getattr(lib, name)
        observer = self._observer
        if observer is not None:
            return self._observed(observer, operation, function, fields, True,
                                  timeout_ms, traceparent, tracestate, kind)
        if timeout_ms is None and traceparent is None and tracestate is None:
            return self._call(function, fields, None, True, kind)
        options = self._options(timeout_ms, traceparent, tracestate)
        try:
            return self._call(function, fields, options, True, kind)
        finally:
            lib.kasko_call_options_free(options)

    def close(self) -> None:
        """Releases the client (idempotent, thread-safe, non-blocking)."""
        self._closed = True
        # Drops the client's reference: the handle is freed now, or by the
        # last running call when it returns (see _Handle).
        self._handle = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return (
            f"<kasko.Client public_key={key_hint(self._public_key)!r} "
            f"base_url={self._base_url!r}{state}>"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        # A copy would share (and later double-free) the C handle.
        raise TypeError("kasko.Client cannot be copied or pickled")

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: nothing sensible to do
            pass

    # -- internals ----------------------------------------------------------

    def _observed(
        self, observer: CallObserver, operation: str, function: Callable[..., int],
        fields: Tuple[bytes, ...], view: bool, timeout_ms: Optional[int],
        traceparent: Optional[str], tracestate: Optional[str], kind: Optional[Kind] = None,
    ) -> Any:
        """A call told to the observer: its scope gets the call's events
        (through the thread's current scope) and its end; its trace context
        is sent unless the call was given one."""
        try:
            scope: Optional[CallScope] = observer.start(operation)
        except Exception:  # the observer's bug must not fail the payment
            report(f"the call observer {observer!r} failed to start a call, which goes on unobserved")
            scope = None
        if scope is not None and traceparent is None and tracestate is None:
            traceparent, tracestate = scope.traceparent, scope.tracestate
        options: Optional[int] = None
        try:
            if timeout_ms is not None or traceparent is not None or tracestate is not None:
                options = self._options(timeout_ms, traceparent, tracestate)
            if scope is None:
                return self._call(function, fields, options, view, kind)
            with observing(self._hooks, scope):
                payment = self._call(function, fields, options, view, kind)
        except BaseException as error:
            if scope is not None:
                _end(scope, None, error)
            raise
        finally:
            if options is not None:
                self._lib.kasko_call_options_free(options)
        _end(scope, payment, None)
        return payment

    def _options(
        self, timeout_ms: Optional[int], traceparent: Optional[str], tracestate: Optional[str]
    ) -> int:
        """A new ``kasko_call_options *`` with the options given (the caller
        frees it). The binding checks only what C cannot carry; the values
        are the library's to judge."""
        if timeout_ms is not None:
            if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int):
                raise invalid_argument(
                    f"timeout_ms must be an int (milliseconds), not {type(timeout_ms).__name__}"
                )
            if not _C_LONG_MIN <= timeout_ms <= _C_LONG_MAX:
                # ctypes would wrap it silently (2**64 + 5 would be 5 ms).
                raise invalid_argument(
                    f"timeout_ms must be a whole number of milliseconds that fits a C long, "
                    f"got {timeout_ms}"
                )
        parent = c_string("traceparent", traceparent) if traceparent is not None else None
        state = c_string("tracestate", tracestate) if tracestate is not None else None
        lib = self._lib
        options: Optional[int] = lib.kasko_call_options_new()
        if not options:
            raise internal_error("kasko_call_options_new failed: out of memory")
        refusal = _Result()
        try:
            # A setter that refuses a value returns KASKO_ERR_INVALID_ARGUMENT
            # and the options remember why, so the setters' statuses need no
            # checking here: kasko_call_options_check then hands out the very
            # error a call made with them would return (the library's
            # message), raised before the call, with nothing sent.
            if timeout_ms is not None:
                lib.kasko_call_options_set_timeout_ms(options, timeout_ms)
            if parent is not None:
                lib.kasko_call_options_set_traceparent(options, parent)
            if state is not None:
                lib.kasko_call_options_set_tracestate(options, state)
            if lib.kasko_call_options_check(options, _byref(refusal)) != self._ok:
                if not refusal.value:  # not per the contract
                    raise internal_error("kasko_call_options_check refused the options and gave no result")
                raise error_from_result(lib, refusal)
        except BaseException:
            lib.kasko_call_options_free(options)
            raise
        finally:
            if refusal.value:
                lib.kasko_result_free(refusal)
        return options

    def _call(
        self, function: Callable[..., int], fields: Tuple[bytes, ...], options: Optional[int],
        view: bool, kind: Optional[Kind] = None,
    ) -> Any:
        # `function` is kasko_payment_get_v2 (`view`) or
        # kasko_payment_create_v2: the handle, the request's fields, the
        # options (None: the client's defaults) and the kasko_result ** out
        # parameter.
        handle = self._handle
        if handle is None:
            raise invalid_argument("the client is closed")
        result = _Result()
        lib = self._lib
        try:
            status: int = function(handle, *fields, options, _byref(result))
            if status == self._ok:
                text, call = read_answer(lib, result, kind)
            else:
                raise error_from_result(lib, result)
        finally:
            # Even on KeyboardInterrupt: let go of the handle (which frees it
            # if close() came meanwhile and no other call is running), and
            # free the result (NULL, if the call never ran, is a no-op).
            del handle
            lib.kasko_result_free(result)
            if PENDING:  # a hook raised KeyboardInterrupt (or such) during the call
                interrupt = PENDING.pop(threading.get_ident(), None)
                if interrupt is not None:
                    raise interrupt
        return decode_answer(lib, text, call, view, kind)


#: What ``read_answer`` reads from a successful result, for
#: ``decode_answer``: the JSON text and what the answer's ``request_id``,
#: ``http_status``, ``attempts``, ``total_time`` (and, for a policy view,
#: ``etag`` and ``last_modified``) say.
Answer = Tuple[Optional[bytes], Tuple[Any, ...]]


def read_answer(lib: LibKasko, result: Any, kind: Optional[Kind]) -> Answer:
    """What a successful ``kasko_result *`` says, copied out of it (the
    caller frees it): shared by ``Client`` and ``AsyncClient``, whose
    callback reads its result on the library's engine thread."""
    text: Optional[bytes] = lib.kasko_result_json(result)
    # What Payment.request_id, .http_status and .attempts say, read now (the
    # result is freed after), decoded when asked.
    call: Tuple[Any, ...] = (
        lib.kasko_result_request_id(result),
        lib.kasko_result_http_status(result),
        lib.kasko_result_attempts(result),
        lib.kasko_result_total_time_us(result),
    )
    if kind is not None and kind.headers:
        call += (lib.kasko_result_etag(result), lib.kasko_result_last_modified(result))
    return text, call


def decode_answer(
    lib: LibKasko, text: Optional[bytes], call: Tuple[Any, ...], view: bool, kind: Optional[Kind],
) -> Any:
    """The typed object (``FullPayment``, ``Quote``, ...) of a successful
    call's ``read_answer``, or the ``InternalError`` / ``InvalidResponseError``
    of an answer that is not what its shape promises. ``view``: a payment
    view (whose answer must be the full payment); ``kind``: the checkout
    call's, ``None`` for a payment."""
    # data = json.loads(text.decode("utf-8")), or None if not JSON:
    data: Any = None
    if text is not None:
        string = ""
        try:
            string = text.decode("utf-8")
            data, end = _scan_once(string, 0)
        except ValueError:  # not UTF-8, or not JSON
            data = None
        except StopIteration:  # no value at 0: whitespace first, or not JSON
            data = _decode_slowly(string)
        else:
            # After the value json.loads allows JSON whitespace only.
            if end != len(string) and string[end:].strip(" \t\n\r"):
                data = None
    if type(data) is not dict:  # json makes plain dicts only
        what = "a payment" if kind is None else kind.what
        raise internal_error(f"the library returned {what} that is not a JSON object")
    if kind is not None:
        try:
            return kind.cls._from_response(cast(Dict[str, Any], data), call)
        except ValueError as exc:
            raise invalid_payment(lib, str(exc), call[0], call[1], call[2], call[3]) from None
    try:
        # The members its shape always has, of their documented types
        # (the library checked "object" and "id" only): what the types
        # of FullPayment and RestrictedPayment promise.
        return from_response(cast(Dict[str, Any], data), call, view)
    except ValueError as exc:
        raise invalid_payment(lib, str(exc), call[0], call[1], call[2], call[3]) from None


def key_hint(key: str) -> str:
    """A key as the library's messages name it (``APIKey.hint`` in
    Sources/Kasko/APIKey.swift): ``pk_test_…ab12``, the last four characters
    only when 12 or more follow the prefix; never the key, which a ``repr``
    would otherwise put in logs and test reports. tests/test_messages.py
    checks that the two agree."""
    parts = key.split("_", 2)
    if len(parts) < 3:
        return "…"
    prefix = parts[0] + "_" + parts[1] + "_"
    body = parts[2]
    return prefix + "\u2026" + (body[-4:] if len(body) >= 12 else "")


def set_call_observer(client: Client, observer: Optional[CallObserver]) -> None:
    """``client._set_observer(observer)``, for ``kasko.opentelemetry`` (the
    observer is not public API: this is its one way in)."""
    client._set_observer(observer)  # pyright: ignore[reportPrivateUsage]


def client_handle(client: Client) -> Optional[_Handle]:
    """The client's handle, ``None`` once closed (for ``AsyncClient``)."""
    return client._handle  # pyright: ignore[reportPrivateUsage]


def call_options(
    client: Client, timeout_ms: Optional[int], traceparent: Optional[str], tracestate: Optional[str]
) -> Optional[int]:
    """``None`` when no per-call option is given, else a new, checked
    ``kasko_call_options *`` (the caller frees it), refused as the blocking
    calls refuse them (``InvalidArgumentError``, nothing sent)."""
    if timeout_ms is None and traceparent is None and tracestate is None:
        return None
    return client._options(timeout_ms, traceparent, tracestate)  # pyright: ignore[reportPrivateUsage]


def call_observer(client: Client) -> Optional[CallObserver]:
    """The client's call observer, or ``None``."""
    return client._observer  # pyright: ignore[reportPrivateUsage]


def _end(scope: CallScope, payment: Optional[Payment], error: Optional[BaseException]) -> None:
    try:
        scope.end(payment, error)
    except Exception:
        report(f"the call scope {scope!r} failed to end")


def payment_fields(token: Any, provider: Any, method: Any, policy_id: Any) -> Tuple[bytes, ...]:
    """create_payment's fields as the C strings the library takes, or the
    ``InvalidArgumentError`` of the first that is not a ``str`` C can carry
    (shared by ``Client`` and ``AsyncClient``)."""
    if (
        type(token) is str
        and type(provider) is str
        and type(method) is str
        and type(policy_id) is str
        and "\x00" not in token
        and "\x00" not in provider
        and "\x00" not in method
        and "\x00" not in policy_id
    ):
        try:
            return (token.encode(), provider.encode(), method.encode(), policy_id.encode())
        except UnicodeEncodeError:
            pass
    return _fields_slowly(token, provider, method, policy_id)


def payment_id_field(payment_id: Any) -> bytes:
    """get_payment's id as a C string, or its ``InvalidArgumentError``."""
    if type(payment_id) is str and "\x00" not in payment_id:
        try:
            return payment_id.encode()
        except UnicodeEncodeError:
            pass
    return c_string("payment_id", payment_id)


def _fields_slowly(token: Any, provider: Any, method: Any, policy_id: Any) -> Tuple[bytes, ...]:
    """create_payment's fields as C strings, or the error of the first that
    is not a ``str`` C can carry."""
    return (
        c_string("token", token),
        c_string("provider", provider),
        c_string("method", method),
        c_string("policy_id", policy_id),
    )

