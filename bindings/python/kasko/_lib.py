"""Finding, loading and declaring libkasko (the C library) through ctypes.

Discovery order (the first that succeeds wins):

1. the ``KASKO_LIBRARY`` environment variable, a path to the library. When it
   is set (and not empty) it is the only place tried: a bad value raises
   ``ImportError`` naming it instead of silently loading another copy;
2. the SONAME ``libkasko.so.1`` through the dynamic loader (``LD_LIBRARY_PATH``,
   the ``ldconfig`` cache, the default directories);
3. ``ctypes.util.find_library("kasko")``.

Every function is declared with ``argtypes``/``restype``. Strings that the
library hands out (``char **`` out parameters) are received as ``c_void_p``,
copied with ``ctypes.string_at`` and freed with ``kasko_string_free``: a
``c_char_p`` result would be converted to ``bytes`` and the pointer lost.

The two per-call functions also have twins for the client's hot path
(``payment_get_outstring``, ``payment_create_outstring``), declared just as
strictly, whose out parameter is an ``OutString``: its ``ptr`` member is the
pointer to free and its ``text`` member (a ``c_char_p`` over the same word)
copies the string as ``bytes``, cheaper than ``ctypes.string_at``.

The library is loaded with ``ctypes.CDLL`` (not ``PyDLL``), so every call
releases the GIL while it blocks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import List, Optional, Tuple

__all__ = [
    "EXPECTED_MAJOR",
    "SONAME",
    "ENV_VAR",
    "LibKasko",
    "OutString",
    "load",
    "check_version",
    "library",
]

#: The major version of the C API this binding is written against.
EXPECTED_MAJOR = 1
#: The library's SONAME, tried through the dynamic loader.
SONAME = "libkasko.so.1"
#: The environment variable that names the library explicitly.
ENV_VAR = "KASKO_LIBRARY"

_HOW_TO_FIX = (
    "To fix this, install libkasko (the libkasko1 package, or `make install` "
    "from the source tree), or point the loader at it with "
    "LD_LIBRARY_PATH=/path/to/dir/containing/libkasko.so.1, or name the file "
    "with KASKO_LIBRARY=/path/to/libkasko.so.1."
)


class OutString(ctypes.Union):
    """A ``char *`` out parameter: ``ptr`` the address (an int, or ``None``
    for NULL) and ``text`` the NUL-terminated string it points to, copied as
    ``bytes`` on each read."""

    _fields_ = [("ptr", ctypes.c_void_p), ("text", ctypes.c_char_p)]


class LibKasko:
    """The loaded C library with every function declared.

    Attributes are the ctypes function objects; ``path`` says how the library
    was found (a path, or the SONAME when the loader found it).
    """

    def __init__(self, cdll: ctypes.CDLL, path: str) -> None:
        self.cdll = cdll
        self.path = path
        try:
            self.kasko_version = cdll.kasko_version
            self.kasko_status_name = cdll.kasko_status_name
            self.kasko_client_new = cdll.kasko_client_new
            self.kasko_client_free = cdll.kasko_client_free
            self.kasko_payment_create = cdll.kasko_payment_create
            self.kasko_payment_get = cdll.kasko_payment_get
            self.kasko_string_free = cdll.kasko_string_free
        except AttributeError as exc:
            raise ImportError(
                f"kasko: {path} was loaded but is not libkasko ({exc}). "
                + _HOW_TO_FIX
            ) from exc

        # const char *kasko_version(void): static string.
        self.kasko_version.argtypes = []
        self.kasko_version.restype = ctypes.c_char_p
        # const char *kasko_status_name(kasko_status): static string.
        self.kasko_status_name.argtypes = [ctypes.c_int]
        self.kasko_status_name.restype = ctypes.c_char_p
        # kasko_status kasko_client_new(const char *, kasko_client **, char **)
        self.kasko_client_new.argtypes = [
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_void_p),
            ctypes.POINTER(ctypes.c_void_p),
        ]
        self.kasko_client_new.restype = ctypes.c_int
        # void kasko_client_free(kasko_client *)
        self.kasko_client_free.argtypes = [ctypes.c_void_p]
        self.kasko_client_free.restype = None
        # kasko_status kasko_payment_create(kasko_client *, const char *, char **)
        self.kasko_payment_create.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_void_p),
        ]
        self.kasko_payment_create.restype = ctypes.c_int
        # kasko_status kasko_payment_get(kasko_client *, const char *, char **)
        self.kasko_payment_get.argtypes = [
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_void_p),
        ]
        self.kasko_payment_get.restype = ctypes.c_int
        # void kasko_string_free(char *): owned strings come back as c_void_p.
        self.kasko_string_free.argtypes = [ctypes.c_void_p]
        self.kasko_string_free.restype = None

        # Twins for Client's per-call path with an OutString out parameter
        # (see the module's docstring): cdll[name] makes a new function object
        # each time, so the declarations above are not changed.
        self.payment_get_outstring = cdll["kasko_payment_get"]
        self.payment_create_outstring = cdll["kasko_payment_create"]
        for twin in (self.payment_get_outstring, self.payment_create_outstring):
            twin.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(OutString)]
            twin.restype = ctypes.c_int

    def version(self) -> str:
        """The library's version string, e.g. ``"1.0.0"``."""
        raw: Optional[bytes] = self.kasko_version()
        return raw.decode("utf-8", "replace") if raw is not None else ""

    def status_name(self, status: int) -> str:
        """The name of a status, e.g. ``"KASKO_ERR_NOT_FOUND"``."""
        raw: Optional[bytes] = self.kasko_status_name(status)
        return raw.decode("utf-8", "replace") if raw is not None else "KASKO_STATUS_UNKNOWN"

    def take_string(self, pointer: Optional[int]) -> Optional[bytes]:
        """Copies an owned ``char *`` and frees it. ``None`` for NULL."""
        if not pointer:
            return None
        try:
            return ctypes.string_at(pointer)
        finally:
            self.kasko_string_free(pointer)


def check_version(version: str, path: str) -> None:
    """Raises ``ImportError`` unless ``version`` has the expected major."""
    major_text = version.split(".", 1)[0]
    try:
        major = int(major_text)
    except ValueError:
        major = -1
    if major != EXPECTED_MAJOR:
        raise ImportError(
            f"kasko: the library at {path} is version {version!r}, but this "
            f"binding needs major version {EXPECTED_MAJOR} "
            f"({EXPECTED_MAJOR}.x.y). Install a matching libkasko, or point "
            f"{ENV_VAR} at one."
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
        lib = LibKasko(cdll, explicit)
        check_version(lib.version(), explicit)
        return lib

    tried: List[str] = [f"{ENV_VAR}: not set"]
    cdll, error = _try(SONAME)
    if cdll is not None:
        lib = LibKasko(cdll, SONAME)
        check_version(lib.version(), SONAME)
        return lib
    tried.append(f"{SONAME} through the dynamic loader: {error}")

    found = ctypes.util.find_library("kasko")
    if found:
        cdll, error = _try(found)
        if cdll is not None:
            lib = LibKasko(cdll, found)
            check_version(lib.version(), found)
            return lib
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
