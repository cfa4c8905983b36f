"""Call events: the ``Event`` type, and the one C event hook per client that
fans each event out to the Python consumers (the user's hook, event
logging, a call observer such as ``kasko.opentelemetry``).

How it is wired, and why it is sound:

* **One C function for the process.** ``_TRAMPOLINE`` is a single
  ``CFUNCTYPE`` object made at import and never released, so the function
  pointer the library keeps is valid for as long as any client may call it
  (a closure per client would have to outlive the client's ``kasko_client``,
  which a running call can keep alive after ``close()``). The C
  ``user_data`` is a small integer, the key of the client's ``Hooks`` in
  ``_REGISTRY``; no Python object's address ever goes to C. The registry
  holds the ``Hooks`` weakly (the ``kasko_client`` handle holds it
  strongly), so a hook that refers to its client does not keep the client
  alive for ever.
* **Never an exception into C.** The trampoline catches everything. An
  ``Exception`` from a consumer is reported on the ``kasko`` logger at
  ERROR with its traceback (as ``concurrent.futures`` reports an exception
  of a done-callback: there is no caller to raise it to, the application
  decides where the record goes, and without any logging configuration
  Python's last-resort handler still prints it to stderr) and the other
  consumers still get the event. ``sys.unraisablehook`` was the other
  candidate; Python code cannot call the default one (its argument type,
  ``UnraisableHookArgs``, cannot be made from Python). A ``BaseException``
  that is not an ``Exception`` (``KeyboardInterrupt`` when Ctrl-C lands
  while the main thread runs a hook, ``SystemExit``) is kept and raised by
  the call that delivered the event when the library returns, so that
  Ctrl-C is not lost (the call is not abandoned half-way: the library
  finishes it first).
* **No lock a hook needs.** A delivery reads the client's consumers (one
  tuple, replaced whole) and takes no lock of the binding's.
  ``Hooks.update`` takes the client's ``lock`` only to serialise changes,
  and calls ``kasko_client_set_event_hook`` through ``ctypes.CDLL``, which
  releases the GIL: the C function waits for the deliveries to the old
  configuration that are running on other threads, and those need the GIL
  to finish. A change made from inside a hook (of any client) is refused
  before the lock is taken, as the C function refuses it (it would wait for
  itself).
* **The C function's barrier is kept.** A change first replaces the
  consumers, then calls ``kasko_client_set_event_hook`` (again, even when
  the C hook stays the same): once it returns, no delivery that may have
  read the old consumers is running, so a hook that was replaced or
  cleared is not running and will not be called again, as in C.
* **fork().** The child keeps the C hook and the registry. A client's lock
  that a thread of the parent held at the fork is replaced in the child
  (``os.register_at_fork``), so the child can change hooks; the library
  never waits there for the parent's threads' deliveries.
* **Threads.** Each event is delivered on the thread that made the call
  (the library calls the hook there), many threads at once. The thread's
  current observed call (``_THREAD.scope``) is how an observer's per-call
  state gets its events: calls made inside a hook deliver no events, so
  the events a thread gets while its call runs are that call's.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Protocol, Tuple, cast

from ._lib import EVENT_HOOK

#: The environment variable that turns event logging on (see kasko._log).
LOG_ENV_VAR = "KASKO_LOG"
#: logging.WARNING, without importing logging: kasko._log (and with it the
#: logging package, a few milliseconds) is imported only once logging is on
#: or something must be reported, so that `import kasko` stays cheap.
_WARNING = 30


def logging_wanted_at_creation() -> bool:
    """Whether a new Client turns event logging on (kasko._log's rule).
    Without KASKO_LOG, and with the logging package not even imported,
    nothing can have configured the kasko logger: no need to import it."""
    if not os.environ.get(LOG_ENV_VAR) and "logging" not in sys.modules:
        return False
    from ._log import wanted_at_creation

    return wanted_at_creation()

if TYPE_CHECKING:
    from ._lib import LibKasko
    from ._payment import Payment

__all__ = ["Event", "EventHook", "CallObserver", "CallScope"]


@dataclasses.dataclass(frozen=True)
class Event:
    """One event of a call, as the library's event hook reports it: one per
    HTTP attempt (``kind == "attempt"``), then one at the end of the call
    (``kind == "call_end"``), delivered on the thread making the call.

    The attributes are the members of the library's event object, with two
    renamed to say what they are in Python: ``kind`` is the member
    ``"event"``, ``code`` the member ``"status"`` (a status name, as
    ``KaskoError.code``). ``to_dict()`` gives the object with the library's
    names. Nothing in an event is secret: the library writes no key, no
    payment token and no body into it (``path`` never has the query, which
    holds the public key).

    * ``kind`` -- ``"attempt"`` or ``"call_end"``;
    * ``operation`` -- ``"payment_create"``, ``"payment_get"`` and, with
      libkasko 1.3, ``"quote_create"``, ``"offer_create"``, ``"offer_get"``,
      ``"policy_get"`` (``resolve_payment`` reports the ``"policy_get"``
      and ``"payment_create"`` it is made of); any other name a newer
      library sends is kept as is;
    * ``method`` -- ``"POST"`` or ``"GET"``;
    * ``route`` -- the URL template: ``"/payments"``, ``"/payments/{id}"``,
      ``"/quotes"``, ``"/policies"``, ``"/offers/{id}"``, ``"/policies/{id}"``;
    * ``path`` -- the base URL's path with the route filled in (no query);
    * ``attempt`` -- the attempt's number from 1; for ``"call_end"`` the
      attempts made (0 for a call refused before any I/O);
    * ``http_status`` -- the response's status, ``None`` without a response;
    * ``code`` -- ``"KASKO_OK"`` or the error's status name;
    * ``outcome`` -- ``"succeeded"``, ``"not_sent"``, ``"rejected"`` or
      ``"unknown"``;
    * ``retry`` -- whether another attempt follows (attempts only);
    * ``retry_delay_ms`` -- the wait before it, ``None`` unless ``retry``;
    * ``request_id`` -- the response's ``X-Request-Id``, ``None`` if none;
    * ``bytes_sent``, ``bytes_received`` -- headers and bodies (for
      ``"call_end"`` the sums over the attempts);
    * ``dns_us``, ``connect_us``, ``tls_us``, ``first_byte_us`` -- when
      each phase of the attempt ended, in microseconds from its start (0 for
      a phase that did not happen, e.g. no DNS or connect on a reused
      connection); ``None`` for ``"call_end"``;
    * ``total_us`` -- the attempt's time; for ``"call_end"`` the call's wall
      time (retry waits included), what ``Payment.total_time`` and
      ``KaskoError.total_time`` say in seconds;
    * ``message`` -- what went wrong (redacted as errors are), ``None`` on
      success.
    """

    kind: str
    operation: str
    method: str
    route: str
    path: str
    attempt: int
    http_status: Optional[int]
    code: str
    outcome: str
    retry: bool
    retry_delay_ms: Optional[int]
    request_id: Optional[str]
    bytes_sent: int
    bytes_received: int
    dns_us: Optional[int]
    connect_us: Optional[int]
    tls_us: Optional[int]
    first_byte_us: Optional[int]
    total_us: int
    message: Optional[str]
    #: The event object as the library wrote it (``kasko_result_json``).
    raw: Dict[str, Any] = dataclasses.field(default_factory=lambda: _no_members(), repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "Event":
        """An event from its object (the library's member names, as
        ``to_dict()`` gives them). A member that is missing or of another
        type reads as ``None`` (``0``, ``""`` or ``False`` for the
        attributes that are never ``None``): an event never fails to
        build."""
        return cls(
            kind=_string(data, "event"),
            operation=_string(data, "operation"),
            method=_string(data, "method"),
            route=_string(data, "route"),
            path=_string(data, "path"),
            attempt=_int(data, "attempt") or 0,
            http_status=_int(data, "http_status"),
            code=_string(data, "status"),
            outcome=_string(data, "outcome"),
            retry=data.get("retry") is True,
            retry_delay_ms=_int(data, "retry_delay_ms"),
            request_id=_optional_string(data, "request_id"),
            bytes_sent=_int(data, "bytes_sent") or 0,
            bytes_received=_int(data, "bytes_received") or 0,
            dns_us=_int(data, "dns_us"),
            connect_us=_int(data, "connect_us"),
            tls_us=_int(data, "tls_us"),
            first_byte_us=_int(data, "first_byte_us"),
            total_us=_int(data, "total_us") or 0,
            message=_optional_string(data, "message"),
            raw=dict(data),
        )

    def to_dict(self) -> Dict[str, Any]:
        """The event object with the library's member names (``"event"``,
        ``"status"``, ...), e.g. for ``json.dumps``; members a newer
        library adds are kept."""
        data: Dict[str, Any] = {
            "event": self.kind,
            "operation": self.operation,
            "method": self.method,
            "route": self.route,
            "path": self.path,
            "attempt": self.attempt,
            "http_status": self.http_status,
            "status": self.code,
            "outcome": self.outcome,
            "retry": self.retry,
            "retry_delay_ms": self.retry_delay_ms,
            "request_id": self.request_id,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "dns_us": self.dns_us,
            "connect_us": self.connect_us,
            "tls_us": self.tls_us,
            "first_byte_us": self.first_byte_us,
            "total_us": self.total_us,
            "message": self.message,
        }
        for name, value in self.raw.items():
            data.setdefault(name, value)
        return data


def _no_members() -> Dict[str, Any]:
    return {}


def _string(data: Dict[str, Any], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


def _optional_string(data: Dict[str, Any], name: str) -> Optional[str]:
    value = data.get(name)
    return value if isinstance(value, str) else None


def _int(data: Dict[str, Any], name: str) -> Optional[int]:
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


#: What ``Client.set_event_hook`` takes: a function of one ``Event``
#: (its return value is ignored).
EventHook = Callable[[Event], object]


class CallScope(Protocol):
    """One observed call (see ``CallObserver``)."""

    #: The W3C trace context to send with the call (``None``: none), used
    #: when the call was not given a ``traceparent`` or ``tracestate``.
    traceparent: Optional[str]
    tracestate: Optional[str]

    def event(self, event: Event) -> None:
        """An event of this call (on the calling thread, inside the call)."""
        ...

    def end(self, payment: Optional["Payment"], error: Optional[BaseException]) -> None:
        """The call returned ``payment`` or raised ``error``."""
        ...


class CallObserver(Protocol):
    """Something told about every call of a client, around it: what
    ``kasko.opentelemetry`` sets with ``Client._set_observer``."""

    def start(self, operation: str) -> CallScope:
        """A call of ``operation`` (``"payment_create"``, ``"payment_get"``,
        ``"quote_create"``, ``"offer_create"``, ``"offer_get"``,
        ``"policy_get"``, ``"payment_resolve"``) is about to be made, on
        this thread."""
        ...


# -- the fan-out -------------------------------------------------------------------


class _ThreadState(threading.local):
    #: How deep the thread is in event hooks (a hook may call the library,
    #: whose calls deliver nothing; so at most 1 in practice).
    depth = 0
    #: The observed call running on this thread: (its client's Hooks, scope).
    scope: Optional[Tuple["Hooks", CallScope]] = None


_THREAD = _ThreadState()
#: BaseExceptions (KeyboardInterrupt, ...) a hook raised, by thread, raised
#: by the call when the library returns (Client._call).
PENDING: Dict[int, BaseException] = {}
_KEYS = itertools.count(1)
#: key (the C user_data) -> the client's hooks; weak, see the module's doc.
_REGISTRY: "weakref.WeakValueDictionary[int, Hooks]" = weakref.WeakValueDictionary()
#: Every Hooks, for the fork handler.
_ALL: "weakref.WeakSet[Hooks]" = weakref.WeakSet()

#: (user hook, log events, observed): what a delivery hands the event to.
_Consumers = Tuple[Optional[EventHook], bool, bool]
_NONE: _Consumers = (None, False, False)


def inside_hook() -> bool:
    """Whether this thread is running an event hook."""
    return _THREAD.depth > 0


class Hooks:
    """A client's event consumers, and its C hook. Held by the client and
    by its ``kasko_client`` handle (``_Handle``), which unregisters it when
    the handle is freed (the library calls no hook after that)."""

    def __init__(self, lib: "LibKasko") -> None:
        self.lib = lib
        self.key = next(_KEYS)
        self.consumers: _Consumers = _NONE
        self.lock = threading.Lock()
        _ALL.add(self)

    @property
    def user(self) -> Optional[EventHook]:
        return self.consumers[0]

    @property
    def logging(self) -> bool:
        return self.consumers[1]

    def update(self, handle: Any, consumers: Callable[[_Consumers], _Consumers]) -> None:
        """Changes the consumers (``consumers(old)`` gives the new ones) and
        sets the C hook to match; returns once no delivery to the old ones
        is running. Raises ``InvalidArgumentError`` when called from inside
        a hook or when the library refuses, ``InternalError`` for a library
        without event hooks (1.1)."""
        from ._errors import internal_error, invalid_argument

        if _THREAD.depth > 0:
            raise invalid_argument(
                "the event hook cannot be changed from inside an event hook "
                "(kasko_client_set_event_hook refuses it there: it would wait for itself)"
            )
        lib = self.lib
        if not lib.has_events:
            raise internal_error(
                f"libkasko {lib.version()} has no event hook (kasko_client_set_event_hook "
                "is in libkasko 1.2.0 and later)"
            )
        with self.lock:
            old = self.consumers
            new = consumers(old)
            wanted = new != _NONE
            if wanted:
                _REGISTRY[self.key] = self
            self.consumers = new
            # The barrier: returns once no delivery that may have read `old`
            # is running (the GIL is released meanwhile: CDLL).
            status: int = lib.kasko_client_set_event_hook(
                handle, _TRAMPOLINE if wanted else _NO_HOOK, self.key if wanted else None
            )
            if status != lib.OK:
                self.consumers = old
                raise invalid_argument(
                    f"kasko_client_set_event_hook refused: {lib.status_name(status)} "
                    "(called from inside an event hook of another library's client?)"
                )
            if not wanted:
                _REGISTRY.pop(self.key, None)

    def forget(self) -> None:
        """The handle was freed: no more deliveries."""
        _REGISTRY.pop(self.key, None)

    def deliver(self, pointer: int) -> None:
        user, log, observed = self.consumers
        state = _THREAD
        scope: Optional[CallScope] = None
        if observed:
            current = state.scope
            if current is not None and current[0] is self:
                scope = current[1]
        log_event: Optional[Callable[[Event], None]] = None
        if log:
            from ._log import LOGGER, log_event

            if not LOGGER.isEnabledFor(_WARNING):
                log_event = None
        if user is None and scope is None and log_event is None:
            return
        state.depth += 1
        try:
            event = self.event(pointer)
            if user is not None:
                _run(user, event)
            if log_event is not None:
                _run(log_event, event)
            if scope is not None:
                _run(scope.event, event)
        finally:
            state.depth -= 1

    def event(self, pointer: int) -> Event:
        text: Optional[bytes] = self.lib.kasko_result_json(pointer)
        data: Any = None
        if text is not None:
            try:
                data = json.loads(text)
            except ValueError:  # against the contract: an event of no members
                data = None
        return Event.from_dict(cast(Dict[str, Any], data) if isinstance(data, dict) else {})


def _run(consumer: Callable[[Event], object], event: Event) -> None:
    try:
        consumer(event)
    except Exception:
        report(f"the event hook {consumer!r} raised an exception, which is ignored")
    except BaseException as exc:  # KeyboardInterrupt, SystemExit: raised by the call
        PENDING.setdefault(threading.get_ident(), exc)


def report(what: str) -> None:
    """Reports the exception being handled on the ``kasko`` logger (ERROR,
    with the traceback); never raises."""
    try:
        from ._log import LOGGER

        LOGGER.error("%s", what, exc_info=True)
    except Exception:  # a broken logging configuration: nothing left to tell
        pass


def _trampoline(pointer: Optional[int], key: Optional[int]) -> None:
    # Called by the library, on the thread making the call, with the GIL
    # taken by ctypes. Nothing may escape to C.
    try:
        if pointer and key is not None:
            hooks = _REGISTRY.get(key)
            if hooks is not None:
                hooks.deliver(pointer)
    except BaseException:  # e.g. at interpreter shutdown; never into C
        try:
            report("an event could not be delivered")
        except BaseException:
            pass


#: The one C hook of the process (kept for its lifetime).
_TRAMPOLINE = EVENT_HOOK(_trampoline)
#: NULL, as a kasko_event_hook (ctypes refuses None for a CFUNCTYPE argument).
_NO_HOOK = EVENT_HOOK()


def _after_fork_in_child() -> None:
    # A lock that another thread of the parent held at the fork would never
    # be released in the child.
    for hooks in list(_ALL):
        hooks.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class observing:
    """Context manager: ``scope`` is the observed call of ``hooks`` on this
    thread while it runs (and the previous one again after: a hook's own
    call is observed too, and gets no events)."""

    __slots__ = ("_entry", "_previous")

    def __init__(self, hooks: Hooks, scope: CallScope) -> None:
        self._entry = (hooks, scope)
        self._previous: Optional[Tuple[Hooks, CallScope]] = None

    def __enter__(self) -> None:
        self._previous = _THREAD.scope
        _THREAD.scope = self._entry

    def __exit__(self, *exc: object) -> None:
        _THREAD.scope = self._previous
