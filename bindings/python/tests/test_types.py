"""Payment and the exception hierarchy, without a server (the exceptions from
results the library makes with kasko_result_new_error)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Dict

import pytest

from conftest import header_enum, library_error_object, payment_json

import kasko
from kasko._errors import class_for_code, internal_error, invalid_argument, new_error


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


def test_payment_with_null_omitted_and_ill_typed_optional_fields() -> None:
    # The members a shape may lack (or the API sends as null) read as None,
    # and so do those of another type than documented; raw keeps them.
    data: Dict[str, Any] = payment_json("t1")
    data["charge_id"] = 5
    data["reference"] = ["r"]
    del data["reason"]
    p = kasko.Payment.from_dict(data)
    assert type(p) is kasko.FullPayment
    assert p.charge_id is None and p.reference is None and p.reason is None
    assert p.raw["charge_id"] == 5 and "reason" not in p.raw


def test_payment_with_a_required_member_ill_typed_is_refused() -> None:
    # Every member its shape always has is checked (test_payment_types.py
    # goes through each of them, from the reference's lists).
    with pytest.raises(ValueError, match='"livemode" is not a boolean'):
        kasko.Payment.from_dict({**payment_json("t1"), "livemode": 0})
    with pytest.raises(ValueError, match='"fee" is not a number'):
        kasko.Payment.from_dict({**payment_json("t1"), "fee": "0"})
    with pytest.raises(ValueError, match='the restricted object has no "livemode"'):
        kasko.Payment.from_dict({"object": "payment", "id": "t1"})


def test_payment_is_immutable() -> None:
    p = kasko.Payment.from_dict(payment_json("t1"))
    with pytest.raises(AttributeError):
        p.status = "x"  # type: ignore[misc]


#: status name -> class, as the README's table has it.
CLASS_OF_CODE = {
    "KASKO_ERR_INVALID_ARGUMENT": kasko.InvalidArgumentError,
    "KASKO_ERR_BAD_REQUEST": kasko.BadRequestError,
    "KASKO_ERR_UNAUTHORIZED": kasko.AuthenticationError,
    "KASKO_ERR_NOT_FOUND": kasko.NotFoundError,
    "KASKO_ERR_PENDING_PAYMENT": kasko.PendingPaymentError,
    "KASKO_ERR_RATE_LIMITED": kasko.RateLimitError,
    "KASKO_ERR_SERVER": kasko.ServerError,
    "KASKO_ERR_NETWORK": kasko.NetworkError,
    "KASKO_ERR_INVALID_RESPONSE": kasko.InvalidResponseError,
    "KASKO_ERR_INTERNAL": kasko.InternalError,
    "KASKO_ERR_BAD_SIGNATURE": kasko.BadSignatureError,
    "KASKO_ERR_CANCELLED": kasko.CallCancelledError,
}


def test_status_table_matches_the_header(header_file: Path) -> None:
    # The binding reads the statuses from the library (kasko_status_name over
    # 0, 1, ...); they must be exactly the header's enum.
    assert kasko._lib.library().statuses == header_enum(header_file, "kasko_status")


def test_every_error_status_has_its_class() -> None:
    statuses = kasko._lib.library().statuses
    assert set(statuses) - {"KASKO_OK"} == set(CLASS_OF_CODE)


@pytest.mark.parametrize("code", sorted(CLASS_OF_CODE))
def test_status_maps_to_class(code: str) -> None:
    # An error result the library makes (kasko_result_new_error) of each status.
    error = new_error(kasko._lib.library(), code, "m")
    assert type(error) is CLASS_OF_CODE[code] and isinstance(error, kasko.KaskoError)
    assert error.code == code and error.message == "m"
    assert error.raw == library_error_object(code, "m")
    assert error.raw["object"] == "error" and error.raw["code"] == code


@pytest.mark.parametrize("code", ["KASKO_STATUS_UNKNOWN", "KASKO_ERR_FROM_THE_FUTURE", ""])
def test_a_status_this_binding_does_not_know_is_internal(code: str) -> None:
    assert class_for_code(code) is kasko.InternalError


def test_a_status_added_by_a_newer_library_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The result says a status past the library's table (a newer library's).
    lib = kasko._lib.library()
    newer = max(lib.statuses.values()) + 1
    monkeypatch.setattr(lib, "kasko_result_status", lambda result: newer)
    error = new_error(lib, "KASKO_ERR_NOT_FOUND", "from a newer library")
    assert type(error) is kasko.InternalError
    assert error.code == lib.status_name(newer) == "KASKO_STATUS_UNKNOWN"
    assert error.message == "from a newer library"


def test_outcome_names_match_the_header(header_file: Path) -> None:
    outcomes = header_enum(header_file, "kasko_outcome")
    lib = kasko._lib.library()
    for name, value in outcomes.items():
        assert lib.outcome_name(value) == name[len("KASKO_OUTCOME_"):].lower()
    assert {lib.outcome_name(v) for v in outcomes.values()} == {
        "succeeded", "not_sent", "rejected", "unknown",
    }


def test_binding_errors_come_from_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    # An error of the binding's own is a result made by the library.
    lib = kasko._lib.library()
    made = []
    original = lib.kasko_result_new_error

    def counting(status: int, message: bytes, out: Any) -> int:
        made.append((status, message))
        result: int = original(status, message, out)
        return result

    monkeypatch.setattr(lib, "kasko_result_new_error", counting)
    error = internal_error("the binding's own words")
    assert made == [(lib.statuses["KASKO_ERR_INTERNAL"], b"the binding's own words")]
    assert type(error) is kasko.InternalError
    assert error.code == "KASKO_ERR_INTERNAL" and error.http_status is None
    assert error.outcome == "not_sent" and error.attempts == 0 and error.retryable is False
    assert error.raw == library_error_object("KASKO_ERR_INTERNAL", "the binding's own words")


def test_a_nul_in_a_message_is_spelled_out() -> None:
    error = invalid_argument("a\x00b")
    assert error.message == "a\\0b" and error.raw["message"] == "a\\0b"


def test_error_attributes_and_text() -> None:
    # The keyword constructor, for code that raises a kasko error itself.
    raw = {
        "object": "error", "code": "KASKO_ERR_PENDING_PAYMENT", "http_status": 422,
        "status": "Unprocessable Entity", "message": "Policy p already has pending payment - t9.",
        "pending_payment_id": "t9", "retryable": False, "outcome": "rejected", "attempts": 1,
        "request_id": "req_1", "errors": [{"code": "invalid_value", "field": "token"}],
    }
    error = kasko.PendingPaymentError(
        "Policy p already has pending payment - t9.", code="KASKO_ERR_PENDING_PAYMENT",
        http_status=422, status="Unprocessable Entity", retryable=False, outcome="rejected",
        attempts=1, request_id="req_1", errors=raw["errors"], raw=raw, pending_payment_id="t9",
    )
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
    assert vars(clone) == vars(error) and str(clone) == str(error)


def test_error_defaults() -> None:
    error = kasko.NotFoundError("gone")
    assert error.message == "gone" and str(error) == "KASKO_STATUS_UNKNOWN: gone"
    assert error.http_status is None and error.raw == {} and error.errors is None
    assert error.outcome == "unknown" and error.attempts == 0 and error.retryable is False


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
