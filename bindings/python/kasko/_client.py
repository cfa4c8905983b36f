"""The Client: one libkasko ``kasko_client`` handle, safe to share between threads."""

from __future__ import annotations

import ctypes
import json
import json.encoder
import json.scanner
import math
import os
from types import TracebackType
from typing import Any, Callable, Dict, NoReturn, Optional, Tuple, Type, Union

from ._errors import KaskoError, error_from_status, invalid_argument
from ._lib import LibKasko, OutString, library
from ._payment import Payment, _from_decoded

__all__ = ["Client"]

StrPath = Union[str, "os.PathLike[str]"]


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


def _decode(data: bytes) -> Any:
    return json.loads(data.decode("utf-8"))


_DECODER = json.JSONDecoder()
# The C scanner that JSONDecoder.decode (json.loads) runs after skipping
# whitespace. Client._call calls it directly, which saves decode's regex
# matches and frames (µs per call), and falls back to _decode_slowly when the
# text does not start with a JSON value (whitespace first, or not JSON).
_scan_once: Callable[[str, int], Tuple[Any, int]] = json.scanner.make_scanner(
    _DECODER  # type: ignore[arg-type]
)
_quote = json.encoder.encode_basestring_ascii
_byref = ctypes.byref


def _decode_slowly(text: str) -> Any:
    """``json.loads(text)``, or ``None`` if it is not JSON."""
    try:
        return json.loads(text)
    except ValueError:
        return None


class _Handle(ctypes.c_void_p):
    """The client's ``kasko_client *``, freed with ``kasko_client_free`` when
    the last reference to this object goes away.

    The client holds one reference until ``close()``, and each call holds one
    while it runs. So ``close()`` needs no lock and never blocks, a call never
    runs on a freed handle, and the handle is freed exactly once: by
    ``close()`` when no call is running, else by the last running call when
    it returns.
    """

    def __init__(self, value: int, lib: LibKasko) -> None:
        super().__init__(value)
        self._lib = lib

    def __del__(self) -> None:
        value = self.value
        if value:
            try:
                self._lib.kasko_client_free(value)
            except Exception:  # interpreter shutdown: nothing sensible to do
                pass


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
    a bad one raises ``InvalidArgumentError`` here, before any I/O.

    Threads: one client may be used from many threads at once; calls release
    the GIL while they wait for the network. ``close()`` (or leaving a
    ``with`` block) is idempotent and never blocks: calls already running
    finish normally and the handle is freed when the last of them returns;
    calls made after ``close()`` raise ``InvalidArgumentError``.
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
        self._get = self._lib.payment_get_outstring
        self._create = self._lib.payment_create_outstring
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

        handle = ctypes.c_void_p()
        error = ctypes.c_void_p()
        status: int = self._lib.kasko_client_new(
            config_json, ctypes.byref(handle), ctypes.byref(error)
        )
        del config_json
        error_text = self._lib.take_string(error.value)
        if status != 0:
            if handle.value:  # not per the contract, but never leak a handle
                self._lib.kasko_client_free(handle.value)
            self._raise(status, error_text)
        if not handle.value:
            self._raise(10, None)
        self._handle = _Handle(handle.value, self._lib)
        self._closed = False

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

    def create_payment(
        self, *, token: str, provider: str, method: str, policy_id: str
    ) -> Payment:
        """Creates a payment for an offer (``POST /payments``).

        Returns the full payment, or the restricted one when the client has no
        secret key. Raises ``BadRequestError`` (400), ``AuthenticationError``
        (401/403), ``NotFoundError`` (404: unknown provider),
        ``PendingPaymentError`` (422, see ``pending_payment_id``), and the
        other ``KaskoError`` subclasses. On ``NetworkError`` with
        ``outcome == "unknown"`` the payment may exist: look it up before
        creating it again.
        """
        if (
            type(token) is str
            and type(provider) is str
            and type(method) is str
            and type(policy_id) is str
        ):
            # Byte for byte what json.dumps makes of the dict below, 4 µs sooner.
            body = (
                '{"token": %s, "provider": %s, "method": %s, "policy_id": %s}'
                % (_quote(token), _quote(provider), _quote(method), _quote(policy_id))
            ).encode("utf-8")
        else:
            request = {
                "token": token,
                "provider": provider,
                "method": method,
                "policy_id": policy_id,
            }
            try:
                body = json.dumps(request).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise invalid_argument(
                    f"the payment request cannot be encoded: {exc}"
                ) from None
        return self._call(self._create, body)

    def get_payment(self, payment_id: str) -> Payment:
        """Views a payment (``GET /payments/{payment_id}``); needs a secret key.

        Raises ``InvalidArgumentError`` for a malformed id (nothing is sent),
        ``NotFoundError`` (404), ``AuthenticationError`` (401/403), and the
        other ``KaskoError`` subclasses.
        """
        if not isinstance(payment_id, str):
            raise invalid_argument(
                f"payment_id must be a str, not {type(payment_id).__name__}"
            )
        if "\x00" in payment_id:  # C would see a shorter id: refuse it here
            raise invalid_argument("payment_id contains a NUL character")
        try:
            encoded = payment_id.encode("utf-8")
        except UnicodeEncodeError:
            raise invalid_argument("payment_id is not valid Unicode") from None
        return self._call(self._get, encoded)

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
            f"<kasko.Client public_key={self._public_key!r} "
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

    def _call(self, function: Callable[..., int], argument: bytes) -> Payment:
        # `function` is LibKasko.payment_*_outstring: the handle, the
        # argument as bytes, and the OutString that receives the result.
        out = OutString()
        handle = self._handle
        if handle is None:
            raise invalid_argument("the client is closed")
        try:
            status: int = function(handle, argument, _byref(out))
        finally:
            # Even on KeyboardInterrupt: let go of the handle (which frees it
            # if close() came meanwhile and no other call is running), and
            # free the string.
            del handle
            pointer: Optional[int] = out.ptr
            text: Optional[bytes] = None
            if pointer:
                try:
                    text = out.text
                finally:
                    self._lib.kasko_string_free(pointer)
        if status != 0:
            self._raise(status, text)
        if text is None:
            self._raise(10, None)
        # data = json.loads(text.decode("utf-8")), or None if not JSON:
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
            self._raise(10, None, "the library returned a payment that is not a JSON object")
        return _from_decoded(data)

    def _raise(self, status: int, text: Optional[bytes], message: Optional[str] = None) -> NoReturn:
        raw: Optional[Dict[str, Any]] = None
        if text is not None:
            try:
                decoded = _decode(text)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                raw = decoded
        code = self._lib.status_name(status)
        error: KaskoError = error_from_status(status, raw, code)
        if message is not None and raw is None:
            error = error_from_status(status, dict(error.raw, message=message), code)
        raise error
