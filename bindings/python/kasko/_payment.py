"""The Payment object."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Union

__all__ = ["Payment"]

#: ``metadata`` and ``transaction_metadata`` are documented as arrays; an API
#: written in PHP may send a non-empty one as an object, so both are allowed.
Metadata = Union[List[Any], Dict[str, Any]]
#: What a call's result said besides the payment: (X-Request-Id, HTTP status,
#: attempts).
_Call = Tuple[Optional[bytes], int, int]


@dataclasses.dataclass(frozen=True, init=False)
class Payment:
    """A payment, as the API sent it.

    One attribute per field of the API reference's Payment object. An
    attribute is ``None`` when the API sent ``null``, left the field out (a
    caller with only a public key gets the *restricted* object: ``object``,
    ``id``, ``livemode``, ``provider``, ``method``, ``status``,
    ``transaction_metadata`` and ``links``), or sent a value of another type
    than documented. ``raw`` is the whole object as a dict, unknown fields
    included, exactly as received. ``links`` is the API's ``_links``.

    A Payment returned by ``create_payment`` or ``get_payment`` also says
    how it was fetched: ``request_id`` (the response's ``X-Request-Id``,
    quote it to support), ``http_status`` (e.g. 200) and ``attempts`` (HTTP
    attempts made, retries included), as the library's ``kasko_result``
    said. They are not payment fields: ``None`` for a Payment built by hand
    or with ``from_dict``, and left out of ``==``, ``raw`` and ``to_dict``.
    """

    # How it is stored (the attributes and their behaviour are those of a
    # frozen dataclass with one field per attribute): building a Payment must
    # cost next to nothing, as the client builds one per call. So a Payment
    # decoded from the API keeps the decoded object in ``_source`` (its own
    # shallow copy, never handed out, so that changing ``raw`` cannot change
    # the typed attributes) and each typed attribute is a property that reads
    # and type-checks its field when it is asked for. A Payment built with
    # ``Payment(object=..., ..., raw=...)`` has ``_source = None`` and keeps
    # the given values, unchecked, in ``_values``. The properties are added
    # after the dataclass decorator has run (see the end of the module).
    # ``_call`` is what the call's result said besides the payment: the
    # tuple (X-Request-Id as bytes or None, HTTP status, attempts), read
    # before the result was freed and decoded only when asked for; None for
    # a Payment not returned by a call.
    __slots__ = ("_source", "_values", "_raw", "_call", "__weakref__")

    object: Optional[str]
    id: Optional[str]
    livemode: Optional[bool]
    provider: Optional[str]
    method: Optional[str]
    status: Optional[str]
    policy_id: Optional[str]
    charge_id: Optional[str]
    fee: Optional[float]
    reference: Optional[str]
    token: Optional[str]
    reason: Optional[str]
    processed_at: Optional[str]
    error_code: Optional[str]
    metadata: Optional[Metadata]
    transaction_metadata: Optional[Metadata]
    customer_id: Optional[str]
    refunds: Optional[List[Any]]
    links: Optional[Dict[str, Any]]
    raw: Dict[str, Any] = dataclasses.field(repr=False, compare=False)

    def __init__(
        self,
        object: Optional[str],
        id: Optional[str],
        livemode: Optional[bool],
        provider: Optional[str],
        method: Optional[str],
        status: Optional[str],
        policy_id: Optional[str],
        charge_id: Optional[str],
        fee: Optional[float],
        reference: Optional[str],
        token: Optional[str],
        reason: Optional[str],
        processed_at: Optional[str],
        error_code: Optional[str],
        metadata: Optional[Metadata],
        transaction_metadata: Optional[Metadata],
        customer_id: Optional[str],
        refunds: Optional[List[Any]],
        links: Optional[Dict[str, Any]],
        raw: Dict[str, Any],
    ) -> None:
        _set_source(self, None)
        _set_values(
            self,
            (
                object, id, livemode, provider, method, status, policy_id,
                charge_id, fee, reference, token, reason, processed_at,
                error_code, metadata, transaction_metadata, customer_id,
                refunds, links,
            ),
        )
        _set_raw(self, raw)
        _set_call(self, None)

    def __hash__(self) -> int:
        # The generated hash would fail on the list and dict fields.
        return hash((self.id, self.status))

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
        attributes, call = state if type(state) is tuple else (state, None)
        if attributes:
            self.__dict__.update(attributes)
        _set_call(self, call)

    @property
    def request_id(self) -> Optional[str]:
        """The ``X-Request-Id`` of the response that brought this payment
        (quote it to support); ``None`` if the server sent none, or the
        Payment was not returned by a call."""
        call = _get_call(self)
        if call is None or call[0] is None:
            return None
        return call[0].decode("utf-8", "replace")

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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Payment":
        """Builds a Payment from a decoded payment object."""
        if cls is not Payment:  # a subclass may have its own __init__
            raw = dict(data)
            return cls(**_typed(raw), raw=raw)
        return _from_decoded(dict(data))

    @property
    def restricted(self) -> bool:
        """True for the restricted object (no ``policy_id`` field at all),
        which the API returns to a caller without a secret key."""
        return "policy_id" not in self.raw

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy of ``raw``, e.g. for ``json.dumps``."""
        return copy.deepcopy(self.raw)


# -- storage ---------------------------------------------------------------------
# The slots' own descriptors set them, past the frozen __setattr__.

_set_source: Callable[[Payment, Optional[Dict[str, Any]]], None] = Payment.__dict__["_source"].__set__
_set_values: Callable[[Payment, Tuple[Any, ...]], None] = Payment.__dict__["_values"].__set__
_set_raw: Callable[[Payment, Dict[str, Any]], None] = Payment.__dict__["_raw"].__set__
_set_call: Callable[[Payment, Optional[_Call]], None] = Payment.__dict__["_call"].__set__
_get_call: Callable[[Payment], Optional[_Call]] = Payment.__dict__["_call"].__get__
_new: Callable[[type], Payment] = object.__new__


def _from_decoded(data: Dict[str, Any], call: Optional[_Call] = None) -> Payment:
    """A Payment of a freshly decoded object, which it takes over (no copy of
    ``data`` is made; ``raw`` is a shallow copy of it). ``call`` is what the
    call's result said: (X-Request-Id, HTTP status, attempts)."""
    payment = _new(Payment)
    _set_source(payment, data)
    _set_raw(payment, data.copy())
    _set_call(payment, call)
    return payment


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
        return value if isinstance(value, list) else None
    return property(get)


def _dict_property(key: str, index: int) -> "property":
    def get(self: Any) -> Optional[Dict[str, Any]]:
        source = self._source
        if source is None:
            return self._values[index]  # type: ignore[no-any-return]
        value = source.get(key)
        return value if isinstance(value, dict) else None
    return property(get)


def _metadata_property(key: str, index: int) -> "property":
    def get(self: Any) -> Optional[Metadata]:
        source = self._source
        if source is None:
            return self._values[index]  # type: ignore[no-any-return]
        value = source.get(key)
        return value if isinstance(value, (list, dict)) else None
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


for _index, (_attribute, (_key, _check)) in enumerate(_SCHEMA.items()):
    setattr(Payment, _attribute, _PROPERTY_OF_CHECK[_check](_key, _index))
setattr(Payment, "raw", property(_raw))
del _index, _attribute, _key, _check
