"""Finding, loading and declaring libkasko (the C library) through ctypes.

Discovery order (the first that succeeds wins):

1. the ``KASKO_LIBRARY`` environment variable, a path to the library. When it
   is set (and not empty) it is the only place tried: a bad value raises
   ``ImportError`` naming it instead of silently loading another copy;
2. the library bundled in the package, ``libkasko.so.1`` next to this file,
   as a wheel from ``scripts/build-wheel`` has it (its libcurl and the
   libraries that needs are in ``kasko.libs/``, found through the RPATH
   ``auditwheel repair`` set). When that file is there it is the only place
   tried after ``KASKO_LIBRARY``: a bundled library that cannot be loaded is
   a broken install, reported as such, not hidden by a system copy. A package
   installed without it (``pip install ./bindings/python``, the Debian
   ``python3-kasko``) goes on to:
3. the SONAME ``libkasko.so.1`` through the dynamic loader (``LD_LIBRARY_PATH``,
   the ``ldconfig`` cache, the default directories);
4. ``ctypes.util.find_library("kasko")``.

The binding uses the C API 1.1 (``kasko_payment_create_v2``,
``kasko_payment_get_v2``, ``kasko_result``, ``kasko_call_options``), so the
library must be version 1.1 or later of major version 1; its version string
is checked before any other symbol is looked up, so that an older library is
reported as such.

Every function is declared with ``argtypes``/``restype``. Opaque pointers
(``kasko_client *``, ``kasko_result *``, ``kasko_call_options *``) are
``c_void_p``. The ``const char *`` a result hands out are owned by the
result: they are declared ``c_char_p``, so that ctypes copies them as
``bytes`` before the result is freed. No function used here hands out an
owned ``char *``: the client is made with ``kasko_client_new_v2``, whose
refusal is a ``kasko_result`` read with the typed accessors like every other
error, so the binding needs neither ``kasko_string_free`` nor a JSON parser
for errors (``KaskoError.raw`` is ``kasko_result_json``, decoded as is).

The status values are not written down here: ``LibKasko.statuses`` is read
from the library at load time, ``kasko_status_name(0)``, ``(1)``, … up to
the first ``"KASKO_STATUS_UNKNOWN"``; the outcome names come from
``kasko_outcome_name``.

The library is loaded with ``ctypes.CDLL`` (not ``PyDLL``), so every call
releases the GIL while it blocks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import Any, Dict, List, Optional, Tuple

__all__ = [
    "EVENT_HOOK",
    "CALLBACK",
    "EXPECTED_MAJOR",
    "MINIMUM_MINOR",
    "SONAME",
    "ENV_VAR",
    "BUNDLED",
    "LibKasko",
    "load",
    "check_version",
    "library",
]

#: The major version of the C API this binding is written against.
EXPECTED_MAJOR = 1
#: The oldest minor version of that major that has every function used here.
MINIMUM_MINOR = 1
#: The library's SONAME, tried through the dynamic loader.
SONAME = "libkasko.so.1"
#: The environment variable that names the library explicitly.
ENV_VAR = "KASKO_LIBRARY"
#: Where a wheel built by scripts/build-wheel carries the library: inside
#: the package, next to this file.
BUNDLED = os.path.join(os.path.dirname(os.path.abspath(__file__)), SONAME)

_HOW_TO_FIX = (
    "To fix this, install libkasko (the libkasko1 package, or `make install` "
    "from the source tree), or point the loader at it with "
    "LD_LIBRARY_PATH=/path/to/dir/containing/libkasko.so.1, or name the file "
    "with KASKO_LIBRARY=/path/to/libkasko.so.1."
)

#: kasko_status_name() is asked about 0, 1, ... until it says this.
_UNKNOWN_STATUS = "KASKO_STATUS_UNKNOWN"
#: A bound on that walk, should a library never say it.
_MAX_STATUSES = 1000
#: kasko_outcome_name() gives "KASKO_OUTCOME_NOT_SENT"; Python says "not_sent".
_OUTCOME_PREFIX = "KASKO_OUTCOME_"
#: The statuses the binding itself passes to the library.
_NEEDED_STATUSES = ("KASKO_OK", "KASKO_ERR_INVALID_ARGUMENT", "KASKO_ERR_INTERNAL")

_p = ctypes.c_void_p
_s = ctypes.c_char_p
_int = ctypes.c_int

#: name -> (argtypes, restype) of every function used, 1.0 and 1.1.
_SIGNATURES: Dict[str, Tuple[List[Any], Any]] = {
    # 1.0
    "kasko_version": ([], _s),
    "kasko_status_name": ([_int], _s),
    "kasko_client_free": ([_p], None),
    # 1.1
    "kasko_version_number": ([], _int),
    "kasko_outcome_name": ([_int], _s),
    "kasko_client_new_v2": ([_s, ctypes.POINTER(_p), ctypes.POINTER(_p)], _int),
    "kasko_payment_create_v2": ([_p, _s, _s, _s, _s, _p, ctypes.POINTER(_p)], _int),
    "kasko_payment_get_v2": ([_p, _s, _p, ctypes.POINTER(_p)], _int),
    "kasko_call_options_new": ([], _p),
    "kasko_call_options_free": ([_p], None),
    "kasko_call_options_set_timeout_ms": ([_p, ctypes.c_long], _int),
    "kasko_call_options_set_traceparent": ([_p, _s], _int),
    "kasko_call_options_set_tracestate": ([_p, _s], _int),
    "kasko_call_options_check": ([_p, ctypes.POINTER(_p)], _int),
    "kasko_result_free": ([_p], None),
    "kasko_result_status": ([_p], _int),
    "kasko_result_json": ([_p], _s),
    "kasko_result_outcome": ([_p], _int),
    "kasko_result_http_status": ([_p], _int),
    "kasko_result_retryable": ([_p], _int),
    "kasko_result_attempts": ([_p], _int),
    "kasko_result_message": ([_p], _s),
    "kasko_result_request_id": ([_p], _s),
    "kasko_result_pending_payment_id": ([_p], _s),
    "kasko_result_member_type": ([_p, _s], _int),
    "kasko_result_member_string": (
        [_p, _s, ctypes.POINTER(_p), ctypes.POINTER(ctypes.c_size_t)], _int
    ),
    "kasko_result_member_int64": ([_p, _s, ctypes.POINTER(ctypes.c_int64)], _int),
    "kasko_result_member_double": ([_p, _s, ctypes.POINTER(ctypes.c_double)], _int),
    "kasko_result_member_bool": ([_p, _s, ctypes.POINTER(_int)], _int),
    "kasko_result_member_json": (
        [_p, _s, ctypes.POINTER(_p), ctypes.POINTER(ctypes.c_size_t)], _int
    ),
    "kasko_result_new_error": ([_int, _s, ctypes.POINTER(_p)], _int),
}

#: ``typedef void (*kasko_event_hook)(const kasko_result *event, void *user_data)``
#: (1.2). Both arguments arrive as ``int`` (or ``None`` for NULL).
EVENT_HOOK = ctypes.CFUNCTYPE(None, _p, _p)

#: The functions of 1.2 the binding uses when the library has them: the event
#: hook (``Client.set_event_hook``, event logging, ``kasko.opentelemetry``)
#: and a call's wall time (``total_time``). A 1.1 library lacks them:
#: ``LibKasko.has_events`` is then false, and the binding does without.
_SIGNATURES_1_2: Dict[str, Tuple[List[Any], Any]] = {
    "kasko_client_set_event_hook": ([_p, EVENT_HOOK, _p], _int),
    "kasko_result_total_time_us": ([_p], ctypes.c_int64),
}

#: The function of 1.3 the binding uses when the library has it: webhook
#: signatures (``kasko.verify_webhook``). The payload is ``c_char_p``: a
#: ``bytes`` object passes its own buffer, NUL bytes and all, with its length.
_SIGNATURES_1_3: Dict[str, Tuple[List[Any], Any]] = {
    "kasko_webhook_verify": ([_s, _s, ctypes.c_size_t, _s], _int),
}

#: The checkout functions of 1.3 (``Client.create_quote``, ``create_offer``,
#: ``get_offer``, ``get_policy``, ``resolve_payment``) and the policy view's
#: headers. A 1.1 or 1.2 library lacks them: ``LibKasko.has_checkout`` is
#: then false, and those calls raise ``InternalError`` saying that the
#: library is too old (nothing is sent); everything else still works.
_SIGNATURES_1_3_CHECKOUT: Dict[str, Tuple[List[Any], Any]] = {
    "kasko_quote_create_v2": ([_p, _s, _p, ctypes.POINTER(_p)], _int),
    "kasko_offer_create_v2": ([_p, _s, _p, ctypes.POINTER(_p)], _int),
    "kasko_offer_get_v2": ([_p, _s, _p, ctypes.POINTER(_p)], _int),
    "kasko_policy_get_v2": ([_p, _s, _p, ctypes.POINTER(_p)], _int),
    "kasko_payment_resolve": ([_p, _s, _s, _s, _s, _p, ctypes.POINTER(_p)], _int),
    "kasko_result_etag": ([_p], _s),
    "kasko_result_last_modified": ([_p], _s),
}


#: ``typedef void (*kasko_callback)(kasko_result *result, void *user_data)``
#: (1.4): an asynchronous call's completion, on the client's engine thread.
#: Both arguments arrive as ``int`` (or ``None`` for NULL); the callback owns
#: the result.
CALLBACK = ctypes.CFUNCTYPE(None, _p, _p)
_call_id = ctypes.c_uint64
_out_call = ctypes.POINTER(_call_id)

#: The asynchronous calls of 1.4 (``kasko.AsyncClient``) and their
#: cancellation. An older library lacks them: ``LibKasko.has_async`` is then
#: false, and ``AsyncClient``'s calls raise ``InternalError`` saying that the
#: library is too old (nothing is sent). Each takes the ``_v2`` call's
#: arguments, then the callback, its ``user_data`` (an integer key, see
#: ``kasko._async``) and ``uint64_t *out_call``.
_SIGNATURES_1_4_ASYNC: Dict[str, Tuple[List[Any], Any]] = {
    "kasko_payment_create_async": ([_p, _s, _s, _s, _s, _p, CALLBACK, _p, _out_call], _int),
    "kasko_payment_get_async": ([_p, _s, _p, CALLBACK, _p, _out_call], _int),
    "kasko_quote_create_async": ([_p, _s, _p, CALLBACK, _p, _out_call], _int),
    "kasko_offer_create_async": ([_p, _s, _p, CALLBACK, _p, _out_call], _int),
    "kasko_offer_get_async": ([_p, _s, _p, CALLBACK, _p, _out_call], _int),
    "kasko_policy_get_async": ([_p, _s, _p, CALLBACK, _p, _out_call], _int),
    "kasko_payment_resolve_async": ([_p, _s, _s, _s, _s, _p, CALLBACK, _p, _out_call], _int),
    "kasko_call_cancel": ([_p, _call_id], _int),
}


def _text(raw: Optional[bytes]) -> Optional[str]:
    return raw.decode("utf-8", "replace") if raw is not None else None


class LibKasko:
    """The loaded C library with every function declared.

    Attributes named ``kasko_*`` are the ctypes function objects (the client
    keeps the two call functions, and looks up every other one on this
    object at each use, so tests can wrap them);
    ``path`` says how the library was found (a path, or the SONAME when the
    loader found it); ``statuses`` maps each status name the library knows to
    its value, read from the library itself.
    """

    kasko_version: Any
    kasko_status_name: Any
    kasko_client_free: Any
    kasko_version_number: Any
    kasko_outcome_name: Any
    kasko_client_new_v2: Any
    kasko_payment_create_v2: Any
    kasko_payment_get_v2: Any
    kasko_call_options_new: Any
    kasko_call_options_free: Any
    kasko_call_options_set_timeout_ms: Any
    kasko_call_options_set_traceparent: Any
    kasko_call_options_set_tracestate: Any
    kasko_call_options_check: Any
    kasko_result_free: Any
    kasko_result_status: Any
    kasko_result_json: Any
    kasko_result_outcome: Any
    kasko_result_http_status: Any
    kasko_result_retryable: Any
    kasko_result_attempts: Any
    kasko_result_message: Any
    kasko_result_request_id: Any
    kasko_result_pending_payment_id: Any
    kasko_result_member_type: Any
    kasko_result_member_string: Any
    kasko_result_member_int64: Any
    kasko_result_member_double: Any
    kasko_result_member_bool: Any
    kasko_result_member_json: Any
    kasko_result_new_error: Any
    kasko_client_set_event_hook: Any
    kasko_result_total_time_us: Any
    kasko_webhook_verify: Any
    kasko_quote_create_v2: Any
    kasko_offer_create_v2: Any
    kasko_offer_get_v2: Any
    kasko_policy_get_v2: Any
    kasko_payment_resolve: Any
    kasko_result_etag: Any
    kasko_result_last_modified: Any
    kasko_payment_create_async: Any
    kasko_payment_get_async: Any
    kasko_quote_create_async: Any
    kasko_offer_create_async: Any
    kasko_offer_get_async: Any
    kasko_policy_get_async: Any
    kasko_payment_resolve_async: Any
    kasko_call_cancel: Any

    def __init__(self, cdll: ctypes.CDLL, path: str) -> None:
        self.cdll = cdll
        self.path = path
        # The version first: a library too old for the names below is
        # reported as such, not as "not libkasko".
        self._declare("kasko_version")
        check_version(self.version(), path)
        for name in _SIGNATURES:
            self._declare(name)
        #: Whether the library has the 1.2 functions (event hooks, total time).
        self.has_events: bool = all(hasattr(cdll, name) for name in _SIGNATURES_1_2)
        for name, (argtypes, restype) in _SIGNATURES_1_2.items():
            if self.has_events:
                function = getattr(cdll, name)
                function.argtypes, function.restype = argtypes, restype
            else:
                function = _missing(name, self.version())
            setattr(self, name, function)
        #: Whether the library has the 1.3 function (webhook signatures).
        self.has_webhooks: bool = all(hasattr(cdll, name) for name in _SIGNATURES_1_3)
        for name, (argtypes, restype) in _SIGNATURES_1_3.items():
            if self.has_webhooks:
                function = getattr(cdll, name)
                function.argtypes, function.restype = argtypes, restype
            else:
                function = _missing(name, self.version())
            setattr(self, name, function)
        #: Whether the library has the 1.3 checkout functions (quotes, offers,
        #: policies, payment resolution).
        self.has_checkout: bool = all(
            hasattr(cdll, name) for name in _SIGNATURES_1_3_CHECKOUT
        )
        for name, (argtypes, restype) in _SIGNATURES_1_3_CHECKOUT.items():
            if self.has_checkout:
                function = getattr(cdll, name)
                function.argtypes, function.restype = argtypes, restype
            else:
                function = _missing(name, self.version())
            setattr(self, name, function)
        #: Whether the library has the 1.4 asynchronous calls (and with them
        #: the checkout calls of 1.3).
        self.has_async: bool = self.has_checkout and all(
            hasattr(cdll, name) for name in _SIGNATURES_1_4_ASYNC
        )
        for name, (argtypes, restype) in _SIGNATURES_1_4_ASYNC.items():
            if self.has_async:
                function = getattr(cdll, name)
                function.argtypes, function.restype = argtypes, restype
            else:
                function = _missing(name, self.version())
            setattr(self, name, function)

        #: status name -> value, e.g. "KASKO_ERR_NOT_FOUND" -> 4.
        self.statuses: Dict[str, int] = {}
        for value in range(_MAX_STATUSES):
            name = self.status_name(value)
            if name == _UNKNOWN_STATUS:
                break
            self.statuses[name] = value
        missing = [name for name in _NEEDED_STATUSES if name not in self.statuses]
        if missing:
            raise ImportError(
                f"kasko: {path} does not name the statuses {', '.join(missing)} "
                f"(kasko_status_name gave {sorted(self.statuses)!r}). " + _HOW_TO_FIX
            )
        self.OK: int = self.statuses["KASKO_OK"]
        self._outcomes: Dict[int, str] = {}

    def _declare(self, name: str) -> None:
        try:
            function = getattr(self.cdll, name)
        except AttributeError as exc:
            raise ImportError(
                f"kasko: {self.path} was loaded but is not libkasko {EXPECTED_MAJOR}."
                f"{MINIMUM_MINOR} or later ({exc}). " + _HOW_TO_FIX
            ) from exc
        function.argtypes, function.restype = _SIGNATURES[name]
        setattr(self, name, function)

    def version(self) -> str:
        """The library's version string, e.g. ``"1.1.0"``."""
        return _text(self.kasko_version()) or ""

    def version_number(self) -> int:
        """The library's ``kasko_version_number()``, e.g. ``1001000``."""
        number: int = self.kasko_version_number()
        return number

    def status_name(self, status: int) -> str:
        """The name of a status, e.g. ``"KASKO_ERR_NOT_FOUND"``."""
        return _text(self.kasko_status_name(status)) or _UNKNOWN_STATUS

    def outcome_name(self, outcome: int) -> str:
        """An outcome as Python spells it: ``kasko_outcome_name()`` without
        its ``KASKO_OUTCOME_`` prefix, in lower case (``"not_sent"``)."""
        name = self._outcomes.get(outcome)
        if name is None:
            full = _text(self.kasko_outcome_name(outcome)) or ""
            if full.startswith(_OUTCOME_PREFIX):
                full = full[len(_OUTCOME_PREFIX):]
            name = full.lower()
            self._outcomes[outcome] = name
        return name

    def member_bytes(self, function: Any, result: Any, name: bytes) -> Optional[bytes]:
        """``kasko_result_member_string`` or ``_member_json`` (``function``):
        the member's bytes, all ``*out_length`` of them, or ``None`` when the
        library says no (no such member, another type, ambiguous)."""
        pointer = ctypes.c_void_p()
        length = ctypes.c_size_t()
        status: int = function(result, name, ctypes.byref(pointer), ctypes.byref(length))
        if status != self.OK or not pointer.value:
            return None
        return ctypes.string_at(pointer.value, length.value)


def _missing(name: str, version: str) -> Any:
    """Stands in for a 1.2, 1.3 or 1.4 function an older library lacks: no
    wall time (``None``), a hook that cannot be set, no webhook check, no
    checkout call, no asynchronous call (``Client`` checks ``has_checkout``
    and ``AsyncClient`` ``has_async`` first and raise ``InternalError``;
    this is the backstop)."""
    if name == "kasko_result_total_time_us":

        def no_time(result: Any) -> None:
            return None

        return no_time

    def refuse(*arguments: Any) -> int:
        added = (
            "1.2.0" if name in _SIGNATURES_1_2
            else "1.4.0" if name in _SIGNATURES_1_4_ASYNC
            else "1.3.0"
        )
        raise OSError(f"libkasko {version} has no {name} (added in {added})")

    return refuse


def check_version(version: str, path: str) -> None:
    """Raises ``ImportError`` unless ``version`` is ``1.y.z`` with y at
    least ``MINIMUM_MINOR``."""
    parts = version.split(".")
    try:
        major = int(parts[0])
    except ValueError:
        major = -1
    if major != EXPECTED_MAJOR:
        raise ImportError(
            f"kasko: the library at {path} is version {version!r}, but this "
            f"binding needs major version {EXPECTED_MAJOR} "
            f"({EXPECTED_MAJOR}.x.y). Install a matching libkasko, or point "
            f"{ENV_VAR} at one."
        )
    try:
        minor = int(parts[1])
    except (IndexError, ValueError):
        minor = -1
    if minor < MINIMUM_MINOR:
        raise ImportError(
            f"kasko: the library at {path} is version {version!r}, but this "
            f"binding needs {EXPECTED_MAJOR}.{MINIMUM_MINOR} or later (it uses "
            f"the C API {EXPECTED_MAJOR}.{MINIMUM_MINOR}: kasko_payment_create_v2, "
            f"kasko_result, ...). Install a newer libkasko, or point {ENV_VAR} at one."
        )


def _try(name: str) -> Tuple[Optional[ctypes.CDLL], Optional[str]]:
    try:
        return ctypes.CDLL(name), None
    except OSError as exc:
        return None, str(exc)


def load() -> LibKasko:
    """Finds and loads libkasko; raises ``ImportError`` saying what was tried."""
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        cdll, error = _try(explicit)
        if cdll is None:
            raise ImportError(
                f"kasko: cannot load the library named by {ENV_VAR}={explicit!r}: "
                f"{error}. Fix or unset {ENV_VAR} (when it is set, no other "
                "place is tried)."
            )
        return LibKasko(cdll, explicit)

    if os.path.exists(BUNDLED):
        cdll, error = _try(BUNDLED)
        if cdll is None:
            raise ImportError(
                f"kasko: cannot load the library bundled in the package, {BUNDLED}: "
                f"{error}. Reinstall the kasko wheel, or name another library with "
                f"{ENV_VAR}=/path/to/libkasko.so.1 (when the package has a bundled "
                "library, no system library is tried)."
            )
        return LibKasko(cdll, BUNDLED)

    tried: List[str] = [f"{ENV_VAR}: not set", f"bundled {BUNDLED}: not there"]
    cdll, error = _try(SONAME)
    if cdll is not None:
        return LibKasko(cdll, SONAME)
    tried.append(f"{SONAME} through the dynamic loader: {error}")

    found = ctypes.util.find_library("kasko")
    if found:
        cdll, error = _try(found)
        if cdll is not None:
            return LibKasko(cdll, found)
        tried.append(f'ctypes.util.find_library("kasko") found {found!r}: {error}')
    else:
        tried.append('ctypes.util.find_library("kasko"): nothing found')

    raise ImportError(
        "kasko: cannot find libkasko, the C library this package wraps. Tried: "
        + "; ".join(tried)
        + ". "
        + _HOW_TO_FIX
    )


_loaded: Optional[LibKasko] = None
_load_lock = threading.Lock()


def library() -> LibKasko:
    """The library, loaded once per process (at ``import kasko``)."""
    global _loaded
    with _load_lock:
        if _loaded is None:
            _loaded = load()
        return _loaded
