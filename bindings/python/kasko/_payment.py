"""The payment objects: ``Payment``, and the API's two shapes of it,
``FullPayment`` and ``RestrictedPayment``."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import operator
from typing import (
    Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Tuple, Type, TypeVar, Union, cast,
)

__all__ = ["Payment", "FullPayment", "RestrictedPayment", "Metadata"]

#: ``metadata`` and ``transaction_metadata`` are documented as arrays; an API
#: written in PHP may send a non-empty one as an object, so both are allowed.
Metadata = Union[List[Any], Dict[str, Any]]
#: What a call's result said besides the payment: (X-Request-Id, HTTP status,
#: attempts, wall time in microseconds or None from a 1.1 library). A pickle
#: of 1.2.0 before the wall time has three members.
_Call = Tuple[Any, ...]
_P = TypeVar("_P", bound="Payment")

#: What ``repr``, ``str`` and ``to_dict(redact=True)`` put in place of the
#: payment token and the customer id (the library's word for it, too).
REDACTED = "[redacted]"


@dataclasses.dataclass(frozen=True, init=False, repr=False)
class Payment:
    """A payment, as the API sent it: a ``FullPayment`` or a
    ``RestrictedPayment``.

    One attribute per member of the API reference's Payment object
    (``links`` is ``_links``). The API sends every payment with ``object``,
    ``id``, ``livemode``, ``provider``, ``method``, ``status``,
    ``transaction_metadata`` and ``_links``, so those attributes are never
    ``None``; the others are ``None`` on a ``RestrictedPayment`` (the object
    a caller with only a public key gets), and on a ``FullPayment`` only the
    ones the API sends as ``null`` when they do not apply (``charge_id``,
    ``reference``, ``reason``, ``processed_at``, ``error_code``) can be.

    ``get_payment`` returns a ``FullPayment``; ``create_payment`` a
    ``FullPayment`` with a secret key, else a ``RestrictedPayment`` (tell
    them apart with ``isinstance``, which type checkers understand, or
    ``payment.restricted``). A success whose payment lacks one of its
    shape's members, or has one of another type than documented, is not a
    payment: the call raises ``InvalidResponseError``. ``raw`` is the whole
    object as a dict, unknown members included, exactly as received;
    ``to_dict()`` a copy of it for ``json.dumps``.

    ``repr`` and ``str`` show what identifies the payment (id, status,
    provider, method, policy, ...) and never the payment token or the
    customer id: they say ``[redacted]``. ``raw`` and ``to_dict()`` hold
    both, as the API sent them (``to_dict(redact=True)`` does not).

    A Payment returned by ``create_payment`` or ``get_payment`` also says
    how it was fetched: ``request_id`` (the response's ``X-Request-Id``,
    quote it to support), ``http_status`` (e.g. 200), ``attempts`` (HTTP
    attempts made, retries included) and ``total_time`` (the call's wall
    time in seconds), as the library's ``kasko_result`` said. They are not
    payment fields: ``None`` for a Payment built by hand or with
    ``from_dict``, and left out of ``==``, ``raw`` and ``to_dict``.
    """

    # How it is stored (the attributes and their behaviour are those of a
    # frozen dataclass with one field per attribute): building a Payment must
    # cost next to nothing, as the client builds one per call. So a Payment
    # decoded from the API keeps the decoded object in ``_source`` (its own
    # shallow copy, never handed out, so that changing ``raw`` cannot change
    # the typed attributes) and each typed attribute is a property that reads
    # and type-checks its field when it is asked for; the members its shape
    # requires were checked once, when it was built (``_check``). A Payment
    # built with ``Payment(object=..., ..., raw=...)`` has ``_source = None``
    # and keeps the given values, checked the same way, in ``_values``. The
    # properties are added after the dataclass decorator has run (see the
    # end of the module). ``_call`` is what the call's result said besides
    # the payment: the tuple (X-Request-Id as bytes or None, HTTP status,
    # attempts), read before the result was freed and decoded only when
    # asked for; None for a Payment not returned by a call.
    __slots__ = ("_source", "_values", "_raw", "_call", "__weakref__")

    object: str
    id: str
    livemode: bool
    provider: str
    method: str
    status: str
    policy_id: Optional[str]
    charge_id: Optional[str]
    fee: Optional[float]
    reference: Optional[str]
    token: Optional[str]
    reason: Optional[str]
    processed_at: Optional[str]
    error_code: Optional[str]
    metadata: Optional[Metadata]
    transaction_metadata: Metadata
    customer_id: Optional[str]
    refunds: Optional[List[Any]]
    links: Dict[str, Any]
    raw: Dict[str, Any] = dataclasses.field(repr=False, compare=False)

    def __init__(
        self,
        object: str,
        id: str,
        livemode: bool,
        provider: str,
        method: str,
        status: str,
        policy_id: Optional[str],
        charge_id: Optional[str],
        fee: Optional[float],
        reference: Optional[str],
        token: Optional[str],
        reason: Optional[str],
        processed_at: Optional[str],
        error_code: Optional[str],
        metadata: Optional[Metadata],
        transaction_metadata: Metadata,
        customer_id: Optional[str],
        refunds: Optional[List[Any]],
        links: Dict[str, Any],
        raw: Dict[str, Any],
    ) -> None:
        values = (
            object, id, livemode, provider, method, status, policy_id,
            charge_id, fee, reference, token, reason, processed_at,
            error_code, metadata, transaction_metadata, customer_id,
            refunds, links,
        )
        problem = _check_values(type(self), values)
        if problem is not None:
            raise ValueError(f"{type(self).__name__}: {problem}")
        _set_source(self, None)
        _set_values(self, values)
        _set_raw(self, raw)
        _set_call(self, None)

    def __hash__(self) -> int:
        # The generated hash would fail on the list and dict fields.
        return hash((self.id, self.status))

    def __repr__(self) -> str:
        parts = [
            f"{name}={value!r}"
            for name, value in ((name, getattr(self, name)) for name in _SHOWN)
            if value is not None
        ]
        parts.extend(f"{name}={REDACTED}" for name in _HIDDEN if getattr(self, name) is not None)
        request_id = self.request_id
        if request_id is not None:
            parts.append(f"request_id={request_id!r}")
        return f"<kasko.{type(self).__name__} {' '.join(parts)}>"

    __str__ = __repr__

    def __reduce__(self) -> Tuple[Any, ...]:
        # Rebuilt through __init__ (pickle, copy, deepcopy): the default for a
        # class with __slots__ would set them through the frozen __setattr__.
        # (A subclass's own attributes, if it has a __dict__, go as the state,
        # and so does what the call said, if the payment came from one.)
        args = tuple(getattr(self, name) for name in _ATTRIBUTES) + (self.raw,)
        state = getattr(self, "__dict__", None)
        call = _get_call(self)
        if call is None:
            return (type(self), args, state)
        return (type(self), args, (state, call))

    def __setstate__(self, state: Any) -> None:
        attributes: Optional[Dict[str, Any]]
        call: Optional[_Call]
        if type(state) is tuple:
            attributes, call = cast(Tuple[Optional[Dict[str, Any]], Optional[_Call]], state)
        else:
            attributes, call = state, None
        if attributes:
            self.__dict__.update(attributes)
        _set_call(self, call)

    @property
    def request_id(self) -> Optional[str]:
        """The ``X-Request-Id`` of the response that brought this payment
        (quote it to support); ``None`` if the server sent none, or the
        Payment was not returned by a call."""
        call = _get_call(self)
        if call is None:
            return None
        request_id: Optional[bytes] = call[0]
        return None if request_id is None else request_id.decode("utf-8", "replace")

    @property
    def http_status(self) -> Optional[int]:
        """The HTTP status of the response that brought this payment (200,
        201, ...); ``None`` if the Payment was not returned by a call."""
        call = _get_call(self)
        return None if call is None else call[1]

    @property
    def attempts(self) -> Optional[int]:
        """The HTTP attempts the call made (retries included); ``None`` if
        the Payment was not returned by a call."""
        call = _get_call(self)
        return None if call is None else call[2]

    @property
    def total_time(self) -> Optional[float]:
        """The call's wall time in seconds (``kasko_result_total_time_us``
        / 1e6), from its start to its answer, retries and their waits
        included; ``None`` if the Payment was not returned by a call (or
        the library is older than 1.2)."""
        call = _get_call(self)
        if call is None or len(call) < 4 or call[3] is None:
            return None
        total: float = call[3] / 1e6
        return total

    @classmethod
    def from_dict(cls: Type[_P], data: Mapping[str, Any]) -> _P:
        """Builds a payment from a decoded payment object (e.g. a stored
        ``to_dict()``), checked as a call's answer is: ``Payment.from_dict``
        makes a ``FullPayment`` of an object with a ``policy_id`` member,
        else a ``RestrictedPayment``; ``FullPayment.from_dict`` and
        ``RestrictedPayment.from_dict`` accept their own shape only. Raises
        ``ValueError`` when a member the shape always has is missing or of
        another type than documented."""
        raw = dict(data)
        if cls not in _OWN_CLASSES:  # a subclass may have its own __init__
            return cls(**_typed(raw), raw=raw)
        shape, problem = _check(raw)
        if problem is None and cls is not Payment and shape is not cls:
            problem = f"the {_SHAPE_NAME[shape]} object, not the {_SHAPE_NAME[cls]} one"
        if problem is not None:
            raise ValueError(f"not a payment object: {problem}")
        payment: Any = _from_checked(shape, raw)
        return payment  # type: ignore[no-any-return]

    @property
    def restricted(self) -> bool:
        """True for the restricted object (no ``policy_id`` field at all),
        which the API returns to a caller without a secret key."""
        return "policy_id" not in self.raw

    def to_dict(self, *, redact: bool = False) -> Dict[str, Any]:
        """The payment object as the API sent it, unknown members included:
        a deep copy of ``raw``, e.g. for ``json.dumps(payment.to_dict())``
        (``Payment.from_dict`` reads it back). It holds the payment token
        and the customer id; ``redact=True`` puts ``"[redacted]"`` in their
        place (when they are there and not ``null``), e.g. for a log."""
        data = copy.deepcopy(self.raw)
        if redact:
            for key in _HIDDEN_KEYS:
                if data.get(key) is not None:
                    data[key] = REDACTED
        return data


@dataclasses.dataclass(frozen=True, init=False, repr=False)
class FullPayment(Payment):
    """The full payment object, which the API returns to a caller with a
    secret key (``get_payment`` always; ``create_payment`` with a secret
    key): every member of the reference's Payment object. Only
    ``charge_id``, ``reference``, ``reason``, ``processed_at`` and
    ``error_code`` may be ``None`` (the API sends ``null`` when they do not
    apply). See ``Payment``."""

    __slots__ = ()
    __hash__ = Payment.__hash__

    policy_id: str
    fee: float
    token: str
    metadata: Metadata
    customer_id: str
    refunds: List[Any]


@dataclasses.dataclass(frozen=True, init=False, repr=False)
class RestrictedPayment(Payment):
    """The restricted payment object, which the API returns to a caller
    with only a public key (``create_payment`` without a secret key):
    ``object``, ``id``, ``livemode``, ``provider``, ``method``, ``status``,
    ``transaction_metadata`` and ``links``. The other attributes are always
    ``None``. See ``Payment``."""

    __slots__ = ()
    __hash__ = Payment.__hash__

    policy_id: None
    charge_id: None
    fee: None
    reference: None
    token: None
    reason: None
    processed_at: None
    error_code: None
    metadata: None
    customer_id: None
    refunds: None


_OWN_CLASSES = (Payment, FullPayment, RestrictedPayment)
_SHAPE_NAME: Dict[type, str] = {FullPayment: "full", RestrictedPayment: "restricted"}


# -- storage ---------------------------------------------------------------------
# The slots' own descriptors set them, past the frozen __setattr__.

_set_source: Callable[[Payment, Optional[Dict[str, Any]]], None] = Payment.__dict__["_source"].__set__
_set_values: Callable[[Payment, Tuple[Any, ...]], None] = Payment.__dict__["_values"].__set__
_set_raw: Callable[[Payment, Dict[str, Any]], None] = Payment.__dict__["_raw"].__set__
_set_call: Callable[[Payment, Optional[_Call]], None] = Payment.__dict__["_call"].__set__
_get_call: Callable[[Payment], Optional[_Call]] = Payment.__dict__["_call"].__get__
_new: Callable[[type], Payment] = object.__new__


def _from_checked(cls: Type[_P], data: Dict[str, Any], call: Optional[_Call] = None) -> _P:
    """A ``cls`` (``FullPayment`` or ``RestrictedPayment``) of a decoded
    object that ``_check`` found to be of that shape, which it takes over (no
    copy of ``data`` is made; ``raw`` is a shallow copy of it). ``call`` is
    what the call's result said: (X-Request-Id, HTTP status, attempts, wall
    time in microseconds)."""
    payment: Any = _new(cls)
    _set_source(payment, data)
    _set_raw(payment, data.copy())
    _set_call(payment, call)
    return payment  # type: ignore[no-any-return]


def from_response(data: Dict[str, Any], call: _Call, view: bool) -> Payment:
    """The payment of a call's answer (``data``, decoded from the library's
    JSON; taken over), or ``ValueError`` saying why it is not one: a member
    its shape always has is missing or of another type than documented, or
    (``view``) it is the restricted object, where a view returns the full
    one. The library has checked ``object`` and ``id`` already."""
    shape, problem = _check(data)
    if problem is None and view and shape is RestrictedPayment:
        problem = 'the restricted object (no "policy_id"), where a view returns the full one'
    if problem is not None:
        raise ValueError(f"response is not a payment object: {problem}")
    return _from_checked(shape, data, call)


# -- the typed attributes --------------------------------------------------------

def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _is_metadata(value: Any) -> bool:
    return isinstance(value, (list, dict))


#: attribute -> (the API's field, the check of its documented type), in the
#: order of the dataclass fields (and of ``_values``).
_SCHEMA: Dict[str, Tuple[str, Callable[[Any], bool]]] = {
    "object": ("object", _is_str),
    "id": ("id", _is_str),
    "livemode": ("livemode", _is_bool),
    "provider": ("provider", _is_str),
    "method": ("method", _is_str),
    "status": ("status", _is_str),
    "policy_id": ("policy_id", _is_str),
    "charge_id": ("charge_id", _is_str),
    "fee": ("fee", _is_number),
    "reference": ("reference", _is_str),
    "token": ("token", _is_str),
    "reason": ("reason", _is_str),
    "processed_at": ("processed_at", _is_str),
    "error_code": ("error_code", _is_str),
    "metadata": ("metadata", _is_metadata),
    "transaction_metadata": ("transaction_metadata", _is_metadata),
    "customer_id": ("customer_id", _is_str),
    "refunds": ("refunds", _is_list),
    "links": ("_links", _is_dict),
}
_ATTRIBUTES: Tuple[str, ...] = tuple(_SCHEMA)
assert _ATTRIBUTES == tuple(f.name for f in dataclasses.fields(Payment))[:-1]


def _typed(data: Mapping[str, Any]) -> Dict[str, Any]:
    """attribute -> its value (or ``None``) for a decoded object."""
    typed: Dict[str, Any] = {}
    for attribute, (key, check) in _SCHEMA.items():
        value = data.get(key)
        typed[attribute] = value if check(value) else None
    return typed


# -- what each shape always has ----------------------------------------------------
# The reference's member lists (Tests/reference/payment-fields.json, which the
# tests compare these with): the restricted object is _EVERY; the full object
# is every member of _SCHEMA, of which only _NULLABLE may be null (the
# reference's example sends them as null: they apply to some payments only).

#: The members of every payment: the restricted object's, in its order.
_EVERY: Tuple[str, ...] = (
    "object", "id", "livemode", "provider", "method", "status", "transaction_metadata", "_links",
)
#: The full object's members that are null when they do not apply.
_NULLABLE: Tuple[str, ...] = ("charge_id", "reference", "reason", "processed_at", "error_code")

_WHAT: Dict[Callable[[Any], bool], str] = {
    _is_str: "a string", _is_bool: "a boolean", _is_number: "a number", _is_list: "an array",
    _is_dict: "an object", _is_metadata: "an array or an object",
}
#: (member, its check, what it must be) for each shape's members that are
#: never null, in the reference's order.
_Checks = Tuple[Tuple[str, Callable[[Any], bool], str], ...]
_FULL_CHECKS: _Checks = tuple(
    (key, check, _WHAT[check]) for key, check in _SCHEMA.values() if key not in _NULLABLE
)
_RESTRICTED_CHECKS: _Checks = tuple(
    (key, check, _WHAT[check]) for key, check in _SCHEMA.values() if key in _EVERY
)
assert tuple(key for key, _, _ in _RESTRICTED_CHECKS) == _EVERY
#: The attributes (by index) a RestrictedPayment has none of.
_NOT_RESTRICTED: Tuple[int, ...] = tuple(
    index for index, (key, _) in enumerate(_SCHEMA.values()) if key not in _EVERY
)


#: The JSON types each check accepts (json makes exactly these).
_JSON_TYPES: Dict[Callable[[Any], bool], Tuple[type, ...]] = {
    _is_str: (str,), _is_bool: (bool,), _is_number: (int, float), _is_list: (list,),
    _is_dict: (dict,), _is_metadata: (list, dict),
}


def _fast_check(checks: _Checks) -> Tuple[Callable[[Any], Any], FrozenSet[Tuple[type, ...]]]:
    """An itemgetter of the members of ``checks`` and every tuple of their
    types that passes them: one C-level pass checks a decoded object."""
    accepted = frozenset(itertools.product(*(_JSON_TYPES[check] for _, check, _ in checks)))
    return operator.itemgetter(*(key for key, _, _ in checks)), accepted


_FULL_FAST = _fast_check(_FULL_CHECKS)
_RESTRICTED_FAST = _fast_check(_RESTRICTED_CHECKS)


def _check(data: Mapping[str, Any]) -> Tuple[Type[Payment], Optional[str]]:
    """The shape of a decoded payment object (``FullPayment`` if it has a
    ``policy_id`` member, else ``RestrictedPayment``) and, if it is not a
    payment of that shape, why (else ``None``). A call pays this once: the
    types of the members the shape always has, looked up in one C-level pass,
    and member by member only if that fails."""
    if "policy_id" in data:
        shape: Type[Payment] = FullPayment
        get, accepted = _FULL_FAST
        checks = _FULL_CHECKS
    else:
        shape = RestrictedPayment
        get, accepted = _RESTRICTED_FAST
        checks = _RESTRICTED_CHECKS
    try:
        if tuple(map(type, get(data))) in accepted:
            return shape, None
    except KeyError:  # a member missing: said below
        pass
    for key, check, what in checks:
        if not check(data.get(key)):
            if key not in data:
                return shape, f'the {_SHAPE_NAME[shape]} object has no "{key}"'
            return shape, f'"{key}" is not {what}'
    return shape, None  # e.g. a subclass of str, from from_dict


def _check_values(cls: type, values: Tuple[Any, ...]) -> Optional[str]:
    """Why the attribute values given to ``cls(...)`` do not make a payment
    of that class, else ``None``."""
    checks = _FULL_VALUE_CHECKS if issubclass(cls, FullPayment) else _RESTRICTED_VALUE_CHECKS
    for index, attribute, check, what in checks:
        value = values[index]
        if not check(value):
            return f"{attribute} must be {what}, not {value!r}"
    if issubclass(cls, RestrictedPayment):
        for index in _NOT_RESTRICTED:
            if values[index] is not None:
                return f"{_ATTRIBUTES[index]} must be None: the restricted object has no such member"
    return None


_IN_PYTHON: Dict[Callable[[Any], bool], str] = {
    _is_str: "a str", _is_bool: "a bool", _is_number: "an int or a float", _is_list: "a list",
    _is_dict: "a dict", _is_metadata: "a list or a dict",
}
#: (index, attribute, its check, what it must be) per shape, for ``cls(...)``.
_ValueChecks = Tuple[Tuple[int, str, Callable[[Any], bool], str], ...]
_FULL_VALUE_CHECKS: _ValueChecks = tuple(
    (index, attribute, check, _IN_PYTHON[check])
    for index, (attribute, (key, check)) in enumerate(_SCHEMA.items()) if key not in _NULLABLE
)
_RESTRICTED_VALUE_CHECKS: _ValueChecks = tuple(
    (index, attribute, check, _IN_PYTHON[check])
    for index, (attribute, (key, check)) in enumerate(_SCHEMA.items()) if key in _EVERY
)

#: What repr and str show (when not None), and what they show as [redacted].
_SHOWN: Tuple[str, ...] = (
    "id", "status", "provider", "method", "livemode", "policy_id", "charge_id", "fee",
    "reference", "reason", "processed_at", "error_code",
)
_HIDDEN: Tuple[str, ...] = ("token", "customer_id")
_HIDDEN_KEYS: Tuple[str, ...] = tuple(_SCHEMA[name][0] for name in _HIDDEN)


# One getter per attribute, each with its check written out: this is the
# per-access cost of a typed attribute.

def _str_property(key: str, index: int) -> "property":
    def get(self: Any) -> Optional[str]:
        source = self._source
        if source is None:
            return self._values[index]  # type: ignore[no-any-return]
        value = source.get(key)
        return value if isinstance(value, str) else None
    return property(get)


def _bool_property(key: str, index: int) -> "property":
    def get(self: Any) -> Optional[bool]:
        source = self._source
        if source is None:
            return self._values[index]  # type: ignore[no-any-return]
        value = source.get(key)
        return value if isinstance(value, bool) else None
    return property(get)


def _number_property(key: str, index: int) -> "property":
    def get(self: Any) -> Optional[float]:
        source = self._source
        if source is None:
            return self._values[index]  # type: ignore[no-any-return]
        value = source.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return value
    return property(get)


def _list_property(key: str, index: int) -> "property":
    def get(self: Any) -> Optional[List[Any]]:
        source = self._source
        if source is None:
            return self._values[index]  # type: ignore[no-any-return]
        value = source.get(key)
        return value if isinstance(value, list) else None  # pyright: ignore[reportUnknownVariableType]
    return property(get)


def _dict_property(key: str, index: int) -> "property":
    def get(self: Any) -> Optional[Dict[str, Any]]:
        source = self._source
        if source is None:
            return self._values[index]  # type: ignore[no-any-return]
        value = source.get(key)
        return value if isinstance(value, dict) else None  # pyright: ignore[reportUnknownVariableType]
    return property(get)


def _metadata_property(key: str, index: int) -> "property":
    def get(self: Any) -> Optional[Metadata]:
        source = self._source
        if source is None:
            return self._values[index]  # type: ignore[no-any-return]
        value = source.get(key)
        return value if isinstance(value, (list, dict)) else None  # pyright: ignore[reportUnknownVariableType]
    return property(get)


_PROPERTY_OF_CHECK: Dict[Callable[[Any], bool], Callable[[str, int], "property"]] = {
    _is_str: _str_property,
    _is_bool: _bool_property,
    _is_number: _number_property,
    _is_list: _list_property,
    _is_dict: _dict_property,
    _is_metadata: _metadata_property,
}


def _raw(self: Any) -> Dict[str, Any]:
    return self._raw  # type: ignore[no-any-return]


def _install_properties() -> None:
    for index, (attribute, (key, check)) in enumerate(_SCHEMA.items()):
        setattr(Payment, attribute, _PROPERTY_OF_CHECK[check](key, index))
    setattr(Payment, "raw", property(_raw))


_install_properties()
