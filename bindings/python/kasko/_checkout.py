"""The checkout objects (libkasko 1.3): ``Quote``, ``Offer``, ``Policy`` and
``PaymentResolution`` with its ``PaymentState``.

Each is the API's (or, for a resolution, the library's) JSON object as
received, in ``raw``, with typed read-only attributes for the members the
binding knows, and what the call's result said about how it was fetched
(``request_id``, ``http_status``, ``attempts``, ``total_time``; a policy
also its ``etag`` and ``last_modified`` headers). Unknown members stay in
``raw``.

An offer holds the payment token, which pays the policy: ``repr`` and
``str`` of every object here never show it (``[redacted]``, as for
``Payment``), and ``to_dict(redact=True)`` replaces it. ``raw`` and
``to_dict()`` hold it as the API sent it.
"""

from __future__ import annotations

import copy
import enum
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, TypeVar, cast

__all__ = ["Quote", "Offer", "Policy", "PaymentResolution", "PaymentState"]

#: What repr, str and to_dict(redact=True) put in place of a payment token.
REDACTED = "[redacted]"
#: Members that hold a payment token, wherever they appear at the top level.
_HIDDEN_KEYS: Tuple[str, ...] = ("payment_token",)

#: What a call's result said besides the object: (X-Request-Id as bytes or
#: None, HTTP status, attempts, wall time in µs or None) and, for a policy
#: view, (ETag, Last-Modified) as bytes or None.
_Call = Tuple[Any, ...]
_A = TypeVar("_A", bound="_Answer")


def _text(raw: Optional[bytes]) -> Optional[str]:
    return raw.decode("utf-8", "replace") if raw is not None else None


class _Answer:
    """What the four classes share: ``raw``, the call's facts, ``==`` on
    ``raw``, pickling, ``to_dict``. Immutable (``__slots__``, no setters)."""

    __slots__ = ("_raw", "_call", "__weakref__")
    _raw: Dict[str, Any]
    _call: Optional[_Call]

    #: The members ``repr`` shows (when not None), in that order.
    _SHOWN: Tuple[str, ...] = ()
    #: (member, check, what it must be) of the members every answer has.
    _REQUIRED: Tuple[Tuple[str, Callable[[Any], bool], str], ...] = ()
    #: What the object is called in messages ("a quote").
    _WHAT = "an object"

    def __init__(self, raw: Dict[str, Any]) -> None:
        """Builds one from a decoded object (e.g. a stored ``to_dict()``),
        checked as a call's answer is; raises ``ValueError`` saying why it
        is not one."""
        problem = type(self)._problem(raw)
        if problem is not None:
            raise ValueError(f"not {type(self)._WHAT}: {problem}")
        object.__setattr__(self, "_raw", dict(raw))
        object.__setattr__(self, "_call", None)

    @classmethod
    def _problem(cls, data: Dict[str, Any]) -> Optional[str]:
        for key, check, what in cls._REQUIRED:
            if key not in data:
                return f'no "{key}"'
            if not check(data[key]):
                return f'"{key}" is not {what}'
        return None

    @classmethod
    def _from_response(cls: Type[_A], data: Dict[str, Any], call: _Call) -> _A:
        """The object of a call's answer (``data`` is taken over), or
        ``ValueError`` saying why the answer is not one."""
        problem = cls._problem(data)
        if problem is not None:
            raise ValueError(f"response is not {cls._WHAT}: {problem}")
        answer = object.__new__(cls)
        object.__setattr__(answer, "_raw", data)
        object.__setattr__(answer, "_call", call)
        return answer

    @classmethod
    def from_dict(cls: Type[_A], data: Mapping[str, Any]) -> _A:
        """One from a decoded object (e.g. a stored ``to_dict()``), checked
        as a call's answer is (``ValueError`` if it is not one)."""
        return cls(dict(data))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._member("id")))

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_rebuild, (type(self), self._raw, self._call))

    @property
    def raw(self) -> Dict[str, Any]:
        """The whole object as received, unknown members included (the
        payment token too, for an offer)."""
        raw: Dict[str, Any] = self._raw
        return raw

    def to_dict(self, *, redact: bool = False) -> Dict[str, Any]:
        """A deep copy of ``raw``, e.g. for ``json.dumps``; ``redact=True``
        puts ``"[redacted]"`` in place of a payment token."""
        data = copy.deepcopy(self._raw)
        if redact:
            for key in _HIDDEN_KEYS:
                if data.get(key) is not None:
                    data[key] = REDACTED
        return data

    def _member(self, key: str) -> Any:
        return self._raw.get(key)

    def _string(self, key: str) -> Optional[str]:
        value = self._raw.get(key)
        return value if isinstance(value, str) else None

    def _call_item(self, index: int) -> Any:
        call: Optional[_Call] = self._call
        if call is None or len(call) <= index:
            return None
        return call[index]

    @property
    def request_id(self) -> Optional[str]:
        """The ``X-Request-Id`` of the answer (quote it to support); ``None``
        if the server sent none, or the object was not returned by a call."""
        return _text(self._call_item(0))

    @property
    def http_status(self) -> Optional[int]:
        """The answer's HTTP status (200, 201, ...); ``None`` if the object
        was not returned by a call."""
        status: Optional[int] = self._call_item(1)
        return status

    @property
    def attempts(self) -> Optional[int]:
        """The HTTP attempts the call made (retries included)."""
        attempts: Optional[int] = self._call_item(2)
        return attempts

    @property
    def total_time(self) -> Optional[float]:
        """The call's wall time in seconds, retries and waits included."""
        total = self._call_item(3)
        return None if total is None else total / 1e6

    def __repr__(self) -> str:
        parts: List[str] = []
        for name in self._SHOWN:
            value = getattr(self, name)
            if isinstance(value, enum.Enum):
                value = value.value
            if value is not None:
                parts.append(f"{name}={value!r}")
        for key in _HIDDEN_KEYS:
            if self._raw.get(key) is not None:
                parts.append(f"{key}={REDACTED}")
        request_id = self.request_id
        if request_id is not None:
            parts.append(f"request_id={request_id!r}")
        return f"<kasko.{type(self).__name__} {' '.join(parts)}>"

    __str__ = __repr__


def _rebuild(cls: Type[_A], raw: Dict[str, Any], call: Optional[_Call]) -> _A:
    answer = object.__new__(cls)
    object.__setattr__(answer, "_raw", raw)
    object.__setattr__(answer, "_call", call)
    return answer


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


class Quote(_Answer):
    """A price (``Client.create_quote``, ``POST /quotes``, v3): its
    ``token`` is what ``create_offer`` takes as ``"quote_token"``.

    * ``token`` -- the quote token (``qtok_...``);
    * ``gross_payment_amount`` -- the gross premium in minor units (cents);
    * ``extra_data`` -- the product's price details (``gross_premium``,
      ``premium_tax``, ``net_premium``, ``tax_rate``, ...).
    """

    __slots__ = ()
    _SHOWN = ("token", "gross_payment_amount")
    _REQUIRED = (
        ("token", _is_str, "a string"),
        ("gross_payment_amount", _is_number, "a number"),
        ("extra_data", _is_dict, "an object"),
    )
    _WHAT = "a quote"

    @property
    def token(self) -> str:
        """The quote token, for ``create_offer``'s ``"quote_token"``."""
        token: str = self._raw["token"]
        return token

    @property
    def gross_payment_amount(self) -> float:
        """The gross premium, in minor units (an int as KASKO sends it)."""
        amount: float = self._raw["gross_payment_amount"]
        return amount

    @property
    def extra_data(self) -> Dict[str, Any]:
        """The product's price details, as sent."""
        extra: Dict[str, Any] = self._raw["extra_data"]
        return extra


class Offer(_Answer):
    """An offer: an unpaid policy (``Client.create_offer``, ``POST
    /policies``; ``Client.get_offer``, ``GET /offers/{id}``).

    * ``id`` -- the policy id (``tpol_...``/``lpol_...``), what
      ``create_payment``, ``get_offer``, ``get_policy`` take;
    * ``insurer_policy_id`` -- the insurer's number for it;
    * ``payment_token`` -- what ``create_payment`` takes as ``token``, or
      ``None`` while the offer awaits manual underwriting (``status``
      ``"pending"``; read it again with ``get_offer`` once approved).
      Treat it like a key: it pays the policy. ``repr`` never shows it;
    * ``status`` -- ``"pending"`` (awaiting approval), ``"ready"`` (payable)
      or ``"accepted"`` (a payment was accepted on it): in ``get_offer``'s
      answer; ``None`` in ``create_offer``'s, which has no status member;
    * ``version_id``, ``links`` (``_links``) and, in a view, the customer's
      details, the quote and the rest in ``raw``.
    """

    __slots__ = ()
    _SHOWN = ("id", "status", "insurer_policy_id")
    _WHAT = "an offer"

    @classmethod
    def _problem(cls, data: Dict[str, Any]) -> Optional[str]:
        # payment_token may be absent (manual underwriting), else a string
        # or null; "id" is always there.
        if not _is_str(data.get("id")):
            return 'no "id"' if "id" not in data else '"id" is not a string'
        if not _is_optional_str(data.get("payment_token")):
            return '"payment_token" is not a string or null'
        return None

    @property
    def id(self) -> str:
        """The policy id."""
        policy_id: str = self._raw["id"]
        return policy_id

    @property
    def insurer_policy_id(self) -> Optional[str]:
        """The insurer's policy number, e.g. ``TEST-SANDBOX-...``."""
        return self._string("insurer_policy_id")

    @property
    def payment_token(self) -> Optional[str]:
        """The payment token, or ``None`` until the offer can be paid."""
        return self._string("payment_token")

    @property
    def status(self) -> Optional[str]:
        """``"pending"``, ``"ready"``, ``"accepted"``; ``None`` when the
        answer had no status (``create_offer``)."""
        return self._string("status")

    @property
    def version_id(self) -> Optional[str]:
        """The offer's version (changes whenever the offer does)."""
        return self._string("version_id")

    @property
    def links(self) -> Optional[Dict[str, Any]]:
        """``_links`` as sent."""
        links = self._raw.get("_links")
        return cast(Dict[str, Any], links) if isinstance(links, dict) else None


class Policy(_Answer):
    """A policy (``Client.get_policy``, ``GET /policies/{id}``).

    * ``id``, ``status`` (``"pending"`` until KASKO has created the policy
      after its payment, then ``"paid"``; ``paid`` says so), ``insurer_policy_id``,
      ``version_id``, ``policy_created_date``, ``start_date``, ``end_date``,
      ``gross_premium``, ``premium_tax``, ``assets`` (the documents);
    * ``etag`` and ``last_modified`` -- the answer's ``ETag`` and
      ``Last-Modified`` headers, as sent (``None`` when absent): an update
      or cancel sends them back as ``If-Match`` and ``If-Unmodified-Since``.
      They change when the policy does (e.g. when it becomes paid).
    """

    __slots__ = ()
    _SHOWN = ("id", "status", "insurer_policy_id", "etag", "last_modified")
    _REQUIRED = (("id", _is_str, "a string"), ("status", _is_str, "a string"))
    _WHAT = "a policy"

    @property
    def id(self) -> str:
        """The policy id."""
        policy_id: str = self._raw["id"]
        return policy_id

    @property
    def status(self) -> str:
        """``"pending"`` or ``"paid"`` (as sent)."""
        status: str = self._raw["status"]
        return status

    @property
    def paid(self) -> bool:
        """``status == "paid"``: the policy exists, its documents are there."""
        return self.status == "paid"

    @property
    def insurer_policy_id(self) -> Optional[str]:
        return self._string("insurer_policy_id")

    @property
    def version_id(self) -> Optional[str]:
        return self._string("version_id")

    @property
    def policy_created_date(self) -> Optional[str]:
        """When the policy was created (ISO time); ``None`` until paid."""
        return self._string("policy_created_date")

    @property
    def start_date(self) -> Optional[str]:
        return self._string("start_date")

    @property
    def end_date(self) -> Optional[str]:
        return self._string("end_date")

    @property
    def gross_premium(self) -> Optional[float]:
        value = self._raw.get("gross_premium")
        return value if _is_number(value) else None

    @property
    def premium_tax(self) -> Optional[float]:
        value = self._raw.get("premium_tax")
        return value if _is_number(value) else None

    @property
    def assets(self) -> List[Any]:
        """The policy's documents (``[]`` until paid)."""
        assets = self._raw.get("assets")
        return assets if isinstance(assets, list) else []  # pyright: ignore[reportUnknownVariableType]

    @property
    def etag(self) -> Optional[str]:
        """The answer's ``ETag`` header, as sent (KASKO sends the version id)."""
        return _text(self._call_item(4))

    @property
    def last_modified(self) -> Optional[str]:
        """The answer's ``Last-Modified`` header (an HTTP date), as sent."""
        return _text(self._call_item(5))


class PaymentState(str, enum.Enum):
    """What ``Client.resolve_payment`` found (a ``str``: compares equal to
    ``"paid"``, ``"pending"``, ``"not_paid"``)."""

    #: The policy is paid (by the lost create, or by the resolution).
    PAID = "paid"
    #: A payment exists and has not settled (``payment_id`` names it when
    #: the API did): wait, or view it with ``get_payment``. Never pay again.
    PENDING = "pending"
    #: No payment exists on the policy: the create is refused as it stands
    #: (``message`` says why), or the payment the resolution made was
    #: declined. Safe to create again once the cause is mended.
    NOT_PAID = "not_paid"

    def __str__(self) -> str:
        return str(self.value)


_STATES = {state.value: state for state in PaymentState}


class PaymentResolution(_Answer):
    """What became of a payment create whose ``outcome`` was ``"unknown"``
    (``Client.resolve_payment``), found without ever paying twice.

    * ``state`` -- a ``PaymentState``: ``PAID``, ``PENDING``, ``NOT_PAID``
      (also ``PaymentResolution.PAID`` etc.);
    * ``policy_id``;
    * ``payment_id`` -- the payment's id when an answer named it (a pending
      payment, or the payment this call made), else ``None``;
    * ``created_by_this_call`` -- ``True`` when the lost create had not
      paid and this call made the payment;
    * ``evidence`` -- which answer decided: ``"policy_paid"``,
      ``"already_paid"``, ``"pending_payment"``, ``"created"``,
      ``"create_refused"``;
    * ``message`` -- in words.

    ``http_status`` and ``request_id`` are the last answer's; ``attempts``
    and ``total_time`` are the view's and the create's together.
    """

    __slots__ = ()
    PAID = PaymentState.PAID
    PENDING = PaymentState.PENDING
    NOT_PAID = PaymentState.NOT_PAID
    _SHOWN = ("state", "policy_id", "payment_id", "created_by_this_call", "evidence")
    _REQUIRED = (
        ("policy_id", _is_str, "a string"),
        ("state", _is_str, "a string"),
        ("created_by_this_call", _is_bool, "a boolean"),
        ("evidence", _is_str, "a string"),
        ("message", _is_str, "a string"),
    )
    _WHAT = "a payment resolution"

    @classmethod
    def _problem(cls, data: Dict[str, Any]) -> Optional[str]:
        if data.get("object") != "payment_resolution":
            return '"object" is not "payment_resolution"'
        problem = super()._problem(data)
        if problem is not None:
            return problem
        if data["state"] not in _STATES:
            return f'"state" is {data["state"]!r}, not one of {sorted(_STATES)}'
        if not _is_optional_str(data.get("payment_id")):
            return '"payment_id" is not a string or null'
        return None

    @property
    def state(self) -> PaymentState:
        return _STATES[self._raw["state"]]

    @property
    def policy_id(self) -> str:
        policy_id: str = self._raw["policy_id"]
        return policy_id

    @property
    def payment_id(self) -> Optional[str]:
        return self._string("payment_id")

    @property
    def created_by_this_call(self) -> bool:
        created: bool = self._raw["created_by_this_call"]
        return created

    @property
    def evidence(self) -> str:
        evidence: str = self._raw["evidence"]
        return evidence

    @property
    def message(self) -> str:
        message: str = self._raw["message"]
        return message

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.policy_id, self.state))
