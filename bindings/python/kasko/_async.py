"""The AsyncClient: libkasko's asynchronous calls (1.4) on asyncio.

How it is wired, and why it is sound:

* **No thread per call.** Each method submits the library's ``*_async``
  call (``kasko_payment_get_async``, ...) from the event loop's thread and
  awaits an ``asyncio.Future``. The library runs every call of a client on
  its one engine thread (a C thread, started by the client's first
  asynchronous call) and calls back there when the call ends. So a thousand
  calls in flight are a thousand futures, not a thousand threads.
* **One C function for the process.** ``_CALLBACK`` is a single
  ``CFUNCTYPE`` object made at import and never released, so the function
  pointer the library keeps stays valid for as long as any call may end.
  The C ``user_data`` is a small integer, the key of the call's ``_Call``
  in ``_CALLS``; no Python object's address ever goes to C (a key the
  callback does not find is ignored, never dereferenced).
* **The callback owns the result.** On the engine thread (ctypes takes the
  GIL) it reads what the result says (``read_answer``, the blocking
  client's own, or ``error_from_result``), frees it with
  ``kasko_result_free`` at once, and hands what it read to the call's loop
  with ``loop.call_soon_threadsafe``. The loop decodes it
  (``decode_answer``, again the blocking client's) and settles the future.
  A closed loop, or a future nobody awaits any more, changes nothing for
  the result: it was freed already. Nothing escapes into C: an exception
  while reading becomes the future's exception; anything else is reported
  on the ``kasko`` logger.
* **Cancellation.** When the awaiting task is cancelled the method calls
  ``kasko_call_cancel`` and re-raises ``asyncio.CancelledError``. The
  library still calls back exactly once (``KASKO_ERR_CANCELLED``, or the
  call's own result if it ended first); nobody is told but the log. A
  ``create_payment`` may have been carried out by then: when its late
  result says so (a success, or an outcome ``"unknown"``) it is logged on
  the ``kasko`` logger at WARNING with the policy id (never the token),
  with what to do (``Client.resolve_payment``). ``create_offer`` likewise
  at INFO (an unpaid offer costs nothing).
* **aclose().** ``kasko_client_free`` cancels every call in flight and runs
  their callbacks (on the engine thread) before it returns; it is called
  through ``ctypes.CDLL``, which releases the GIL, so those callbacks can
  take it. Their futures are settled (``CallCancelledError``) before
  ``aclose()`` returns. At interpreter exit (``atexit``) the clients still
  open are freed while threads can still take the GIL.
* **Freeing under calls.** ``aclose()`` frees the handle at once, which
  no call of another thread may be using: the client's ``lock`` is held
  around every C function given the handle (a submission, a cancel, an
  event-hook change: none waits for the network) and around the free. No
  callback takes it (they only touch ``_CALLS`` and the loops), so the
  free can wait for them.
* **fork().** The library never runs the parent's callbacks in a child;
  the child forgets the parent's pending calls.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import itertools
import json
import os
import threading
import weakref
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Dict, NoReturn, Optional, Tuple, Type, cast

from ._checkout import Offer, PaymentResolution, Policy, Quote
from ._client import (
    OFFER,
    POLICY,
    QUOTE,
    RESOLUTION,
    Answer,
    Client,
    Kind,
    StrPath,
    c_string,
    call_options,
    client_handle,
    decode_answer,
    key_hint,
    payment_fields,
    payment_id_field,
    read_answer,
    request_json,
)
from ._errors import KaskoError, error_from_result, internal_error, invalid_argument, new_error
from ._events import EventHook, inside_hook, report
from ._lib import CALLBACK, LibKasko, library
from ._payment import FullPayment, Payment

__all__ = ["AsyncClient"]

#: (the exception, or None and what read_answer read): what the callback
#: hands the loop.
_Done = Tuple[Optional[BaseException], Optional[Answer]]


class _Call:
    """One asynchronous call in flight: what its callback needs to settle
    it, and what the log says should its task no longer wait for it."""

    __slots__ = ("lib", "loop", "future", "operation", "view", "kind", "policy_id")

    def __init__(
        self, lib: LibKasko, loop: asyncio.AbstractEventLoop, future: "asyncio.Future[Any]",
        operation: str, view: bool, kind: Optional[Kind], policy_id: Optional[str],
    ) -> None:
        self.lib = lib
        self.loop = loop
        self.future = future
        self.operation = operation
        self.view = view
        self.kind = kind
        self.policy_id = policy_id


_KEYS = itertools.count(1)
#: key (the C user_data) -> the call; an entry is removed by its callback
#: (or when the library refused to take the call, and so never calls back).
_CALLS: Dict[int, _Call] = {}


def _read(call: _Call, result: Optional[int]) -> _Done:
    """What a call's result says, copied out of it (on the engine thread)."""
    lib = call.lib
    try:
        if not result:  # not per the contract
            return internal_error(f"the library ended an asynchronous {call.operation} with no result"), None
        if lib.kasko_result_status(result) == lib.OK:
            return None, read_answer(lib, result, call.kind)
        return error_from_result(lib, result), None
    except Exception as exc:  # e.g. memory: the awaiting task gets it
        return exc, None


def _completed(result: Optional[int], key: Optional[int]) -> None:
    # The library's kasko_callback, on the client's engine thread, with the
    # GIL taken by ctypes. It owns `result`. Nothing may escape into C.
    try:
        call = _CALLS.pop(key, None) if key is not None else None
        if call is None:  # not a call of this process (after fork): just free it
            if result:
                library().kasko_result_free(result)
            return
        try:
            done = _read(call, result)
        finally:
            if result:
                call.lib.kasko_result_free(result)
        try:
            call.loop.call_soon_threadsafe(_settle, call, done)
        except RuntimeError:  # the loop is closed: nobody can await the call
            _unawaited(call, done)
    except BaseException:  # e.g. at interpreter shutdown; never into C
        try:
            report("an asynchronous call's result could not be delivered")
        except BaseException:
            pass


#: The one kasko_callback of the process (kept for its lifetime).
_CALLBACK = CALLBACK(_completed)


def _settle(call: _Call, done: _Done) -> None:
    """On the call's loop: the future gets the answer, decoded as the
    blocking client decodes it, or the exception."""
    future = call.future
    if future.done():  # cancelled: its task no longer waits for it
        _unawaited(call, done)
        return
    error, answer = done
    if error is None and answer is not None:
        try:
            value = decode_answer(call.lib, answer[0], answer[1], call.view, call.kind)
        except Exception as exc:
            error = exc
        else:
            future.set_result(value)
            return
    future.set_exception(error if error is not None else internal_error("no answer"))


def _unawaited(call: _Call, done: _Done) -> None:
    """A call ended that nobody awaits any more (its task was cancelled,
    or its loop closed)."""
    error, answer = done
    if error is None and answer is not None:
        _lost(call, None, _id_of(answer))
    elif error is not None:
        _lost(call, error, None)


def _lost(call: _Call, error: Optional[BaseException], created: Optional[str]) -> None:
    """The end of a call whose task no longer waits for it: a create that
    may have been carried out (a success, ``error`` None, or an outcome
    ``"unknown"``) is logged, so that it is not lost silently; nothing else
    is (a create not sent or rejected did nothing)."""
    if call.operation not in ("payment_create", "offer_create", "payment_resolve"):
        return
    if error is None:
        what, outcome = "succeeded", "succeeded"
    elif isinstance(error, KaskoError) and error.outcome == "unknown":
        what, outcome = f"ended with {error.code} after it was sent: its outcome is unknown", "unknown"
    else:
        return
    try:
        from ._log import LOGGER

        extra = {"kasko_operation": call.operation, "kasko_policy_id": call.policy_id,
                 "kasko_outcome": outcome}
        if call.operation == "payment_resolve":
            LOGGER.warning(
                "payment_resolve for policy %s %s, but the task awaiting it was cancelled: it may "
                "have made the payment; resolve again with the same fields to see the state",
                call.policy_id, what, extra=extra)
        elif call.operation == "offer_create":
            LOGGER.info(
                "offer_create %s, but the task awaiting it was cancelled: an offer may have been "
                "made (harmless: an unpaid offer costs nothing)", what, extra=extra)
        elif error is None:
            LOGGER.warning(
                "payment_create for policy %s %s (payment %s), but the task awaiting it was "
                "cancelled: the policy has that payment", call.policy_id, what, created,
                extra=extra)
        else:
            LOGGER.warning(
                "payment_create for policy %s was cancelled and %s (the payment may exist): "
                "Client.resolve_payment with the same fields finds out without paying twice",
                call.policy_id, what, extra=extra)
    except Exception:
        report("a cancelled create could not be logged")


def _id_of(answer: Answer) -> Optional[str]:
    try:
        data: Any = json.loads(answer[0] or b"")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    identifier: Any = cast(Dict[str, Any], data).get("id")
    return identifier if isinstance(identifier, str) else None


def _refused(lib: LibKasko, name: str, status: int) -> KaskoError:
    """The error of a submission the library refused (so it never calls
    back): KASKO_ERR_CANCELLED while the client is being freed,
    KASKO_ERR_INTERNAL when its engine could not start."""
    code = lib.status_name(status)
    if code == "KASKO_ERR_CANCELLED":
        return new_error(lib, code, f"{name} refused the call: the client is being closed")
    if code not in lib.statuses or code == "KASKO_OK":
        code = "KASKO_ERR_INTERNAL"
    return new_error(lib, code, f"{name} refused the call ({lib.status_name(status)})")


#: Every AsyncClient not closed yet, freed at exit (see the module's doc).
_OPEN: "weakref.WeakSet[AsyncClient]" = weakref.WeakSet()


def _at_exit() -> None:
    for client in list(_OPEN):
        try:
            client._free()  # pyright: ignore[reportPrivateUsage]
        except Exception:
            pass


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    # The library never calls back the parent's calls in a child.
    os.register_at_fork(after_in_child=_CALLS.clear)


class AsyncClient:
    """A client of the KASKO Payments API for asyncio (libkasko 1.4).

    ``AsyncClient(public_key, secret_key=None, *, base_url=None,
    timeout=None, connect_timeout=None, max_retries=None, ca_bundle=None,
    proxy=None, user_agent=None)`` takes ``Client``'s arguments and checks
    them the same way (``InvalidArgumentError`` here, before any I/O).

    Its methods are coroutines with ``Client``'s signatures, return types
    and exceptions: ``create_payment``, ``get_payment``, ``create_quote``,
    ``create_offer``, ``get_offer``, ``get_policy``; a call retries as the
    blocking call does, waiting on the library's timers. No thread is made
    per call: the library runs all of a client's calls on one engine
    thread of its own and calls back there; the result is handed to the
    loop the call was made on. Use a client from one event loop's thread.
    With a library older than 1.4 every call raises ``InternalError``
    (nothing is sent).

    Cancellation: cancelling the task that awaits a call (``task.cancel()``,
    ``asyncio.wait_for``'s timeout) cancels the call in the library
    (``kasko_call_cancel``) and raises ``asyncio.CancelledError`` as
    usual. A view or quote is simply abandoned. A ``create_payment`` that
    was already sent **may still have been carried out**: its late result
    is not raised anywhere, but when it says the payment was made, or that
    the outcome is unknown, a WARNING is logged on the ``kasko`` logger
    with the policy id (never the token); ``Client.resolve_payment`` (or
    ``get_policy``) with the same fields then finds out without paying
    twice. A create still queued or not yet sent is not logged: nothing
    happened.

    ``aclose()`` (or leaving ``async with``) frees the client: calls in
    flight end with ``CallCancelledError`` (``outcome`` ``"not_sent"``, or
    ``"unknown"`` when a request was sent: a create may have been carried
    out), raised by the tasks awaiting them; later calls raise
    ``InvalidArgumentError``. Idempotent.

    Events: ``set_event_hook`` and ``set_event_logging`` are ``Client``'s;
    for asynchronous calls the hook runs on the library's engine thread,
    not the loop's (keep it short and thread-safe: while it runs, none of
    the client's calls progress). ``kasko.opentelemetry`` instruments
    ``Client`` only.
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
        # The blocking client holds the handle, the configuration's checks,
        # the per-call options and the event hooks.
        self._client = Client(
            public_key, secret_key, base_url=base_url, timeout=timeout,
            connect_timeout=connect_timeout, max_retries=max_retries, ca_bundle=ca_bundle,
            proxy=proxy, user_agent=user_agent,
        )
        del secret_key
        # Held around each use of the handle and its free (see the module's doc).
        self._lock = threading.Lock()
        _OPEN.add(self)

    # -- properties and events ---------------------------------------------------

    @property
    def public_key(self) -> str:
        """The public key the client was made with."""
        return self._client.public_key

    @property
    def base_url(self) -> Optional[str]:
        """The base URL given, or ``None`` for the library's default."""
        return self._client.base_url

    @property
    def closed(self) -> bool:
        """True once ``aclose()`` was called."""
        return self._client.closed

    @property
    def event_hook(self) -> Optional[EventHook]:
        """The function ``set_event_hook`` set, or ``None``."""
        return self._client.event_hook

    @property
    def event_logging(self) -> bool:
        """Whether the client's events are logged (``Client.set_event_logging``)."""
        return self._client.event_logging

    def set_event_hook(self, hook: Optional[EventHook]) -> None:
        """As ``Client.set_event_hook``; for this client's calls the hook is
        called on the library's engine thread."""
        if inside_hook():  # refused before any lock (it would wait for itself)
            self._client.set_event_hook(hook)
        with self._lock:
            self._client.set_event_hook(hook)

    def set_event_logging(self, enabled: bool) -> None:
        """As ``Client.set_event_logging``."""
        if inside_hook():
            self._client.set_event_logging(enabled)
        with self._lock:
            self._client.set_event_logging(enabled)

    # -- payments ------------------------------------------------------------------

    async def create_payment(
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
        """``Client.create_payment``, awaited (``kasko_payment_create_async``).

        Returns a ``FullPayment``, or a ``RestrictedPayment`` without a
        secret key; raises as ``Client.create_payment``, and
        ``CallCancelledError`` when the client is closed meanwhile. If the
        awaiting task is cancelled after the request was sent, the payment
        may exist (see the class's documentation)."""
        fields = payment_fields(token, provider, method, policy_id)
        return cast(Payment, await self._submit(
            "payment_create", "kasko_payment_create_async", fields, False, None,
            timeout_ms, traceparent, tracestate, policy_id))

    async def resolve_payment(
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
        """``Client.resolve_payment``, awaited (``kasko_payment_resolve_async``,
        libkasko 1.4): the policy view and, unless the policy is paid, the
        identical create, both on the library's engine thread. Returns and
        raises as ``Client.resolve_payment``. If the awaiting task is
        cancelled during the create, the payment may have been made: that is
        logged, and resolving again says what became of it."""
        fields = payment_fields(token, provider, method, policy_id)
        return cast(PaymentResolution, await self._submit(
            "payment_resolve", "kasko_payment_resolve_async", fields, False, RESOLUTION,
            timeout_ms, traceparent, tracestate, policy_id))

    async def get_payment(
        self,
        payment_id: str,
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> FullPayment:
        """``Client.get_payment``, awaited (``kasko_payment_get_async``)."""
        encoded = payment_id_field(payment_id)
        return cast(FullPayment, await self._submit(
            "payment_get", "kasko_payment_get_async", (encoded,), True, None,
            timeout_ms, traceparent, tracestate))

    # -- checkout --------------------------------------------------------------------

    async def create_quote(
        self,
        request: Mapping[str, Any],
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> Quote:
        """``Client.create_quote``, awaited (``kasko_quote_create_async``)."""
        body = request_json(request)
        return cast(Quote, await self._submit(
            "quote_create", "kasko_quote_create_async", (body,), True, QUOTE,
            timeout_ms, traceparent, tracestate))

    async def create_offer(
        self,
        request: Mapping[str, Any],
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> Offer:
        """``Client.create_offer``, awaited (``kasko_offer_create_async``)."""
        body = request_json(request)
        return cast(Offer, await self._submit(
            "offer_create", "kasko_offer_create_async", (body,), False, OFFER,
            timeout_ms, traceparent, tracestate))

    async def get_offer(
        self,
        policy_id: str,
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> Offer:
        """``Client.get_offer``, awaited (``kasko_offer_get_async``)."""
        encoded = c_string("policy_id", policy_id)
        return cast(Offer, await self._submit(
            "offer_get", "kasko_offer_get_async", (encoded,), True, OFFER,
            timeout_ms, traceparent, tracestate))

    async def get_policy(
        self,
        policy_id: str,
        *,
        timeout_ms: Optional[int] = None,
        traceparent: Optional[str] = None,
        tracestate: Optional[str] = None,
    ) -> Policy:
        """``Client.get_policy``, awaited (``kasko_policy_get_async``);
        ``etag`` and ``last_modified`` are the answer's headers."""
        encoded = c_string("policy_id", policy_id)
        return cast(Policy, await self._submit(
            "policy_get", "kasko_policy_get_async", (encoded,), True, POLICY,
            timeout_ms, traceparent, tracestate))

    # -- closing -----------------------------------------------------------------------

    async def aclose(self) -> None:
        """Frees the client. Calls in flight are cancelled by the library
        and their tasks raise ``CallCancelledError`` (their futures are
        settled when this returns); later calls raise
        ``InvalidArgumentError``. Idempotent. The loop waits only for the
        library to cancel the calls and run their callbacks, never for the
        network."""
        if self._free():
            # The callbacks ran inside kasko_client_free and scheduled each
            # future's settling on this loop: one turn runs them.
            await asyncio.sleep(0)

    def _free(self) -> bool:
        """Frees the handle now (the calls in flight are cancelled and called
        back before this returns); whether there was one."""
        _OPEN.discard(self)
        with self._lock:
            handle = client_handle(self._client)
            self._client.close()
            if handle is None:
                return False
            try:
                handle.free()
            finally:
                del handle
        return True

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return (
            f"<kasko.AsyncClient public_key={key_hint(self.public_key)!r} "
            f"base_url={self.base_url!r}{state}>"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("kasko.AsyncClient cannot be copied or pickled")

    # -- internals -------------------------------------------------------------------

    async def _submit(
        self, operation: str, name: str, fields: Tuple[bytes, ...], view: bool,
        kind: Optional[Kind], timeout_ms: Optional[int], traceparent: Optional[str],
        tracestate: Optional[str], policy_id: Optional[str] = None,
    ) -> Any:
        """Submits the library's asynchronous call ``name`` and awaits its
        end (see the module's documentation)."""
        lib = self._lib
        if not lib.has_async:
            raise internal_error(
                f"libkasko {lib.version()} has no {name} (the asynchronous calls are in "
                "libkasko 1.4.0 and later): install a newer libkasko"
            )
        if client_handle(self._client) is None:
            raise invalid_argument("the client is closed")
        loop = asyncio.get_running_loop()
        options = call_options(self._client, timeout_ms, traceparent, tracestate)
        future: "asyncio.Future[Any]" = loop.create_future()
        call = _Call(lib, loop, future, operation, view, kind, policy_id)
        key = next(_KEYS)
        # Registered first: the callback may run as soon as the call is taken.
        _CALLS[key] = call
        call_id = ctypes.c_uint64()
        try:
            with self._lock:
                handle = client_handle(self._client)
                if handle is None:  # closed by another thread meanwhile
                    raise invalid_argument("the client is closed")
                status: int = getattr(lib, name)(
                    handle, *fields, options, _CALLBACK, key, ctypes.byref(call_id))
                del handle
        except BaseException:
            _CALLS.pop(key, None)
            raise
        finally:
            if options is not None:
                lib.kasko_call_options_free(options)
        if status != lib.OK:
            _CALLS.pop(key, None)  # refused: no callback comes
            raise _refused(lib, name, status)
        try:
            return await future
        except asyncio.CancelledError:
            if future.cancelled():
                # The task was cancelled while the call was in flight.
                with self._lock:
                    handle = client_handle(self._client)
                    if handle is not None:  # else aclose() cancelled it already
                        lib.kasko_call_cancel(handle, call_id.value)
                        del handle
            else:
                # The call had ended, but the task was cancelled before it
                # could take the answer: it is lost to the task, so a create
                # that did something is logged.
                error = future.exception()
                created = getattr(future.result(), "id", None) if error is None else None
                _lost(call, error, created if isinstance(created, str) else None)
            raise
