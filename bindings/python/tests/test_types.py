"""Payment and the exception hierarchy, without a server."""

from __future__ import annotations

import pickle
from typing import Any, Dict

import pytest

from conftest import payment_json

import kasko
from kasko._errors import error_from_status


def test_payment_from_full_object() -> None:
    data: Dict[str, Any] = payment_json("t84223322f013e2287210b6295010fc6d")
    data["charge_id"] = "ch_1"
    data["fee"] = 1.5
    data["metadata"] = {"k": "v"}  # an object is accepted too
    data["brand_new_field"] = {"x": 1}
    p = kasko.Payment.from_dict(data)
    assert p.id == "t84223322f013e2287210b6295010fc6d"
    assert p.charge_id == "ch_1" and p.fee == 1.5 and p.metadata == {"k": "v"}
    assert p.reference is None and p.reason is None and p.processed_at is None
    assert p.links == data["_links"]
    assert p.raw["brand_new_field"] == {"x": 1}  # unknown fields kept
    assert p.to_dict() == data and p.to_dict() is not p.raw
    assert not p.restricted


def test_payment_with_omitted_and_ill_typed_fields() -> None:
    p = kasko.Payment.from_dict({"object": "payment", "id": "t1", "fee": "0", "livemode": 0})
    assert p.id == "t1" and p.fee is None and p.livemode is None
    assert p.policy_id is None and p.refunds is None and p.links is None
    assert p.raw["fee"] == "0"
    assert p.restricted


def test_payment_is_immutable() -> None:
    p = kasko.Payment.from_dict(payment_json("t1"))
    with pytest.raises(AttributeError):
        p.status = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "status, cls",
    [
        (1, kasko.InvalidArgumentError),
        (2, kasko.BadRequestError),
        (3, kasko.AuthenticationError),
        (4, kasko.NotFoundError),
        (5, kasko.PendingPaymentError),
        (6, kasko.RateLimitError),
        (7, kasko.ServerError),
        (8, kasko.NetworkError),
        (9, kasko.InvalidResponseError),
        (10, kasko.InternalError),
        (11, kasko.InternalError),  # a status added by a newer library
        (-1, kasko.InternalError),
    ],
)
def test_status_maps_to_class(status: int, cls: type) -> None:
    error = error_from_status(status, {"object": "error", "code": "X", "message": "m"}, "N")
    assert type(error) is cls and isinstance(error, kasko.KaskoError)
    assert error.code == "X" and error.message == "m"


def test_missing_error_object_is_synthesised() -> None:
    error = error_from_status(10, None, "KASKO_ERR_INTERNAL")
    assert type(error) is kasko.InternalError
    assert error.code == "KASKO_ERR_INTERNAL" and error.http_status is None
    assert error.message


def test_error_attributes_and_text() -> None:
    raw = {
        "object": "error", "code": "KASKO_ERR_PENDING_PAYMENT", "http_status": 422,
        "status": "Unprocessable Entity", "message": "Policy p already has pending payment - t9.",
        "pending_payment_id": "t9", "retryable": False, "outcome": "rejected", "attempts": 1,
        "request_id": "req_1", "errors": [{"code": "invalid_value", "field": "token"}],
    }
    error = error_from_status(5, raw, "KASKO_ERR_PENDING_PAYMENT")
    assert isinstance(error, kasko.PendingPaymentError)
    assert error.pending_payment_id == "t9"
    assert error.http_status == 422 and error.status == "Unprocessable Entity"
    assert error.retryable is False and error.outcome == "rejected" and error.attempts == 1
    assert error.request_id == "req_1" and error.errors == raw["errors"]
    assert error.raw == raw
    assert str(error) == (
        "KASKO_ERR_PENDING_PAYMENT (HTTP 422 Unprocessable Entity): "
        "Policy p already has pending payment - t9. [request id req_1]"
    )
    assert "PendingPaymentError(" in repr(error)
    clone = pickle.loads(pickle.dumps(error))
    assert isinstance(clone, kasko.PendingPaymentError) and clone.pending_payment_id == "t9"


def test_hierarchy() -> None:
    for name in ("InvalidArgumentError", "BadRequestError", "AuthenticationError", "NotFoundError",
                 "PendingPaymentError", "RateLimitError", "ServerError", "NetworkError",
                 "InvalidResponseError", "InternalError"):
        assert issubclass(getattr(kasko, name), kasko.KaskoError)
    assert issubclass(kasko.KaskoError, Exception)
    assert issubclass(kasko.InvalidArgumentError, ValueError)


def test_payment_is_hashable_and_comparable() -> None:
    a = kasko.Payment.from_dict(payment_json("t1"))
    b = kasko.Payment.from_dict(payment_json("t1"))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != kasko.Payment.from_dict(payment_json("t2"))
