"""The Payment object."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Dict, List, Mapping, Optional, Union

__all__ = ["Payment"]

#: ``metadata`` and ``transaction_metadata`` are documented as arrays; an API
#: written in PHP may send a non-empty one as an object, so both are allowed.
Metadata = Union[List[Any], Dict[str, Any]]


def _str(data: Mapping[str, Any], key: str) -> Optional[str]:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _bool(data: Mapping[str, Any], key: str) -> Optional[bool]:
    value = data.get(key)
    return value if isinstance(value, bool) else None


def _number(data: Mapping[str, Any], key: str) -> Optional[float]:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _list(data: Mapping[str, Any], key: str) -> Optional[List[Any]]:
    value = data.get(key)
    return value if isinstance(value, list) else None


def _dict(data: Mapping[str, Any], key: str) -> Optional[Dict[str, Any]]:
    value = data.get(key)
    return value if isinstance(value, dict) else None


def _metadata(data: Mapping[str, Any], key: str) -> Optional[Metadata]:
    value = data.get(key)
    return value if isinstance(value, (list, dict)) else None


@dataclasses.dataclass(frozen=True)
class Payment:
    """A payment, as the API sent it.

    One attribute per field of the API reference's Payment object. An
    attribute is ``None`` when the API sent ``null``, left the field out (a
    caller with only a public key gets the *restricted* object: ``object``,
    ``id``, ``livemode``, ``provider``, ``method``, ``status``,
    ``transaction_metadata`` and ``links``), or sent a value of another type
    than documented. ``raw`` is the whole object as a dict, unknown fields
    included, exactly as received. ``links`` is the API's ``_links``.
    """

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

    def __hash__(self) -> int:
        # The generated hash would fail on the list and dict fields.
        return hash((self.id, self.status))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Payment":
        """Builds a Payment from a decoded payment object."""
        raw = dict(data)
        return cls(
            object=_str(raw, "object"),
            id=_str(raw, "id"),
            livemode=_bool(raw, "livemode"),
            provider=_str(raw, "provider"),
            method=_str(raw, "method"),
            status=_str(raw, "status"),
            policy_id=_str(raw, "policy_id"),
            charge_id=_str(raw, "charge_id"),
            fee=_number(raw, "fee"),
            reference=_str(raw, "reference"),
            token=_str(raw, "token"),
            reason=_str(raw, "reason"),
            processed_at=_str(raw, "processed_at"),
            error_code=_str(raw, "error_code"),
            metadata=_metadata(raw, "metadata"),
            transaction_metadata=_metadata(raw, "transaction_metadata"),
            customer_id=_str(raw, "customer_id"),
            refunds=_list(raw, "refunds"),
            links=_dict(raw, "_links"),
            raw=raw,
        )

    @property
    def restricted(self) -> bool:
        """True for the restricted object (no ``policy_id`` field at all),
        which the API returns to a caller without a secret key."""
        return "policy_id" not in self.raw

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy of ``raw``, e.g. for ``json.dumps``."""
        return copy.deepcopy(self.raw)
