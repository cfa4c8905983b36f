"""The C API 1.1 from Python: per-call options (timeout_ms, traceparent,
tracestate), arguments C cannot carry, and every attribute of a payment or an
exception compared with what the library's typed accessors say."""

from __future__ import annotations

import copy
import ctypes
import json
import pickle
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from conftest import (
    Faults,
    Sandbox,
    ScriptedServer,
    direct_get,
    header_enum,
    library_error_object,
    library_message_for_options,
    read_result,
)

import kasko

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
TRACESTATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"


def invoice(client: kasko.Client, offer: Dict[str, str], **options: Any) -> kasko.Payment:
    return client.create_payment(
        token=offer["token"], provider="invoice", method="invoice", policy_id=offer["policy_id"],
        **options,
    )


def a_payment_id(client: kasko.Client, sandbox: Sandbox) -> str:
    payment = invoice(client, sandbox.offer())
    payment_id = payment.id
    assert payment_id is not None
    return payment_id


def assert_refused_by_the_library(error: kasko.KaskoError, message: str) -> None:
    """An InvalidArgumentError whose every attribute is the library's."""
    assert type(error) is kasko.InvalidArgumentError
    assert error.code == "KASKO_ERR_INVALID_ARGUMENT" and error.message == message
    assert error.outcome == "not_sent" and error.attempts == 0 and error.retryable is False
    assert error.http_status is None and error.request_id is None
    assert error.raw["object"] == "error" and error.raw["message"] == message


@pytest.fixture
def one_shot_client(sandbox_url: str, public_key: str, secret_key: str) -> Iterator[kasko.Client]:
    """A client that does not retry, with the default 30 s timeout of the tests."""
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, timeout=30, max_retries=0) as c:
        yield c


# -- timeout_ms ---------------------------------------------------------------------


def test_call_timeout_shorter_than_the_clients(
    one_shot_client: kasko.Client, sandbox: Sandbox, faults: Faults
) -> None:
    payment_id = a_payment_id(one_shot_client, sandbox)
    faults.arm(payment_id, {"delay_ms": 1500})
    start = time.monotonic()
    with pytest.raises(kasko.NetworkError) as info:
        one_shot_client.get_payment(payment_id, timeout_ms=100)
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, f"the call's 100 ms timeout was not applied: {elapsed:.2f} s"
    error = info.value
    assert error.code == "KASKO_ERR_NETWORK" and error.http_status is None
    assert error.outcome == "unknown" and error.attempts == 1
    assert faults.attempts(payment_id) == 1


def test_call_timeout_longer_than_the_clients(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, sandbox_url: str, public_key: str,
    secret_key: str,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, timeout=0.1, max_retries=0) as c:
        faults.arm(payment_id, {"delay_ms": 400})
        assert c.get_payment(payment_id, timeout_ms=5000).id == payment_id
        # The option was for that call only; 0 also means the client's.
        no_options: Dict[str, Any] = {}
        for options in (no_options, {"timeout_ms": 0}):
            faults.arm(payment_id, {"delay_ms": 400})
            with pytest.raises(kasko.NetworkError):
                c.get_payment(payment_id, **options)
    time.sleep(0.5)
    assert faults.attempts(payment_id) == 3


def test_call_timeout_on_a_create(
    one_shot_client: kasko.Client, sandbox: Sandbox, faults: Faults
) -> None:
    offer = sandbox.offer()
    faults.arm(offer["policy_id"], {"delay_ms": 1500})
    with pytest.raises(kasko.NetworkError) as info:
        invoice(one_shot_client, offer, timeout_ms=100)
    assert info.value.outcome == "unknown" and info.value.attempts == 1


@pytest.mark.parametrize("timeout_ms", [-1, 10**12, -(2**63)])
def test_call_timeout_out_of_range_is_refused_by_the_library(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, timeout_ms: int
) -> None:
    payment_id = a_payment_id(client, sandbox)
    message = library_message_for_options(client, payment_id, timeout_ms=timeout_ms)
    assert "timeout_ms" in message
    with pytest.raises(kasko.InvalidArgumentError) as info:
        client.get_payment(payment_id, timeout_ms=timeout_ms)
    assert_refused_by_the_library(info.value, message)
    assert faults.attempts(payment_id) == 0  # neither call sent anything


@pytest.mark.parametrize("timeout_ms", ["100", 1.5, True, [100], 2**63, 2**64 + 5, -(2**63) - 1])
def test_call_timeout_that_c_cannot_carry_is_refused_by_the_binding(
    client: kasko.Client, timeout_ms: Any
) -> None:
    with pytest.raises(kasko.InvalidArgumentError) as info:
        client.get_payment("t0123", timeout_ms=timeout_ms)
    error = info.value
    assert "timeout_ms" in error.message
    assert error.raw == library_error_object("KASKO_ERR_INVALID_ARGUMENT", error.message)


# -- traceparent / tracestate -------------------------------------------------------


BAD_TRACEPARENTS = [
    "",
    "bogus",
    "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  # upper case
    "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # trace id all zeros
    "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # parent id all zeros
    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # version ff
    TRACEPARENT + "\r\nX-Injected: 1",
]


@pytest.mark.parametrize("traceparent", BAD_TRACEPARENTS)
def test_bad_traceparent_gets_the_librarys_message(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, traceparent: str
) -> None:
    payment_id = a_payment_id(client, sandbox)
    message = library_message_for_options(client, payment_id, traceparent=traceparent.encode())
    assert "traceparent" in message
    with pytest.raises(kasko.InvalidArgumentError) as info:
        client.get_payment(payment_id, traceparent=traceparent)
    assert_refused_by_the_library(info.value, message)
    with pytest.raises(kasko.InvalidArgumentError) as info:  # a create too, before any I/O
        invoice(client, sandbox.offer(), traceparent=traceparent, tracestate=TRACESTATE)
    assert_refused_by_the_library(info.value, message)
    assert faults.attempts(payment_id) == 0


@pytest.mark.parametrize("tracestate", ["", "no-equals-sign", "k=v," * 40, "k=\u00e9"])
def test_bad_tracestate_gets_the_librarys_message(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, tracestate: str
) -> None:
    payment_id = a_payment_id(client, sandbox)
    message = library_message_for_options(client, payment_id, tracestate=tracestate.encode())
    assert "tracestate" in message
    with pytest.raises(kasko.InvalidArgumentError) as info:
        client.get_payment(payment_id, traceparent=TRACEPARENT, tracestate=tracestate)
    assert_refused_by_the_library(info.value, message)
    assert faults.attempts(payment_id) == 0


def test_valid_trace_context_is_accepted(client: kasko.Client, sandbox: Sandbox) -> None:
    offer = sandbox.offer()
    created = invoice(client, offer, traceparent=TRACEPARENT, tracestate=TRACESTATE, timeout_ms=10000)
    assert created.policy_id == offer["policy_id"] and created.id
    viewed = client.get_payment(created.id, traceparent=TRACEPARENT)
    assert viewed.id == created.id
    assert client.get_payment(created.id, tracestate=TRACESTATE).id == created.id


def test_trace_context_is_sent_on_every_attempt(
    scripted_server: ScriptedServer, public_key: str, secret_key: str
) -> None:
    with kasko.Client(public_key, secret_key, base_url=scripted_server.url, max_retries=1,
                      proxy="") as c:
        scripted_server.script(503, {"status": "Service Unavailable"})
        payment = c.get_payment("t1234", traceparent=TRACEPARENT, tracestate=TRACESTATE)
        assert payment.id == "t1234"
        c.create_payment(token="ptok_x", provider="invoice", method="invoice",
                         policy_id="tpol_" + "b" * 28, traceparent=TRACEPARENT)
        c.get_payment("t1234")  # no options: no trace headers
    (_, _, first), (_, _, second), (method, _, create), (_, _, plain) = scripted_server.requests
    for headers in (first, second):
        assert headers["traceparent"] == TRACEPARENT and headers["tracestate"] == TRACESTATE
    assert method == "POST" and create["traceparent"] == TRACEPARENT and "tracestate" not in create
    assert "traceparent" not in plain and "tracestate" not in plain


def test_options_are_made_only_when_given_and_always_freed(
    client: kasko.Client, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = kasko._lib.library()
    made: List[int] = []
    freed: List[int] = []
    new, free = lib.kasko_call_options_new, lib.kasko_call_options_free

    def counting_new() -> int:
        options: int = new()
        made.append(options)
        return options

    def counting_free(options: int) -> None:
        freed.append(options)
        free(options)

    monkeypatch.setattr(lib, "kasko_call_options_new", counting_new)
    monkeypatch.setattr(lib, "kasko_call_options_free", counting_free)
    payment_id = a_payment_id(client, sandbox)
    client.get_payment(payment_id)
    assert made == []
    client.get_payment(payment_id, timeout_ms=5000, traceparent=TRACEPARENT, tracestate=TRACESTATE)
    with pytest.raises(kasko.InvalidArgumentError):  # the library refuses the option
        client.get_payment(payment_id, traceparent="bogus")
    with pytest.raises(kasko.NotFoundError):
        client.get_payment("t00000000000000000000000000000000", timeout_ms=5000)
    with pytest.raises(kasko.InvalidArgumentError):  # the binding refuses: nothing made
        client.get_payment(payment_id, traceparent="a\x00b")
    client.close()
    with pytest.raises(kasko.InvalidArgumentError, match="closed"):
        client.get_payment(payment_id, timeout_ms=5000)
    assert len(made) == 4 and sorted(made) == sorted(freed) and all(made)


# -- kasko_call_options_check: refused options are raised before the call ----------


def counting(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> List[Any]:
    """Wraps target.name (a function) to record each call's arguments."""
    calls: List[Any] = []
    original = getattr(target, name)

    def wrapper(*arguments: Any) -> Any:
        calls.append(arguments)
        return original(*arguments)

    monkeypatch.setattr(target, name, wrapper)
    return calls


@pytest.mark.parametrize(
    "options",
    [
        {"traceparent": "bogus"},
        {"timeout_ms": -1},
        {"traceparent": TRACEPARENT, "tracestate": "no-equals-sign"},
    ],
)
def test_refused_options_are_raised_from_the_check_without_a_call(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, monkeypatch: pytest.MonkeyPatch,
    options: Dict[str, Any],
) -> None:
    payment_id = a_payment_id(client, sandbox)
    message = library_message_for_options(
        client, payment_id,
        **{name: value.encode() if isinstance(value, str) else value for name, value in options.items()},
    )
    lib = kasko._lib.library()
    checks = counting(monkeypatch, lib, "kasko_call_options_check")
    views = counting(monkeypatch, client, "_get")
    creates = counting(monkeypatch, client, "_create")
    freed = counting(monkeypatch, lib, "kasko_result_free")
    with pytest.raises(kasko.InvalidArgumentError) as info:
        client.get_payment(payment_id, **options)
    # The check's error is the one the call would have returned.
    assert_refused_by_the_library(info.value, message)
    with pytest.raises(kasko.InvalidArgumentError) as info:
        invoice(client, sandbox.offer(), **options)
    assert_refused_by_the_library(info.value, message)
    assert len(checks) == 2 and views == [] and creates == []
    assert len(freed) == 2 and all(isinstance(p, ctypes.c_void_p) and p.value for (p,) in freed)
    assert faults.attempts(payment_id) == 0


def test_valid_options_pass_the_check_and_reach_the_call(
    client: kasko.Client, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    payment_id = a_payment_id(client, sandbox)
    lib = kasko._lib.library()
    checks = counting(monkeypatch, lib, "kasko_call_options_check")
    views = counting(monkeypatch, client, "_get")
    assert client.get_payment(payment_id, timeout_ms=5000, traceparent=TRACEPARENT,
                              tracestate=TRACESTATE).id == payment_id
    assert client.get_payment(payment_id).id == payment_id  # no options: nothing to check
    assert len(checks) == 1 and len(views) == 2
    (options, out), = checks
    assert options and views[0][2] == options  # the options checked are those of the call
    assert views[1][2] is None


def test_the_check_breaking_its_contract_is_an_internal_error(
    client: kasko.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = kasko._lib.library()
    invalid = lib.statuses["KASKO_ERR_INVALID_ARGUMENT"]
    monkeypatch.setattr(lib, "kasko_call_options_check", lambda options, out: invalid)
    with pytest.raises(kasko.InternalError, match="no result"):
        client.get_payment("t0123", timeout_ms=5000)


def test_call_options_check_from_c(client: kasko.Client) -> None:
    # What the binding relies on: NULL result for valid options, the call's
    # error for refused ones, and a refusal of NULL options.
    lib = kasko._lib.library()
    options = lib.kasko_call_options_new()
    result = ctypes.c_void_p(1)
    try:
        assert lib.kasko_call_options_check(options, ctypes.byref(result)) == lib.OK and result.value is None
        assert lib.kasko_call_options_check(options, None) == lib.OK
        lib.kasko_call_options_set_timeout_ms(options, 3600001)
        assert lib.kasko_call_options_check(options, None) == lib.statuses["KASKO_ERR_INVALID_ARGUMENT"]
        assert lib.kasko_call_options_check(options, ctypes.byref(result)) == lib.statuses["KASKO_ERR_INVALID_ARGUMENT"]
        seen = read_result(result)
        assert seen["code"] == "KASKO_ERR_INVALID_ARGUMENT" and "timeout_ms" in seen["message"]
        assert seen["outcome"] == "KASKO_OUTCOME_NOT_SENT" and seen["attempts"] == 0
        assert seen["json"] == library_error_object("KASKO_ERR_INVALID_ARGUMENT", seen["message"])
        lib.kasko_result_free(result)
        result = ctypes.c_void_p()
        assert lib.kasko_call_options_check(None, ctypes.byref(result)) == lib.statuses["KASKO_ERR_INVALID_ARGUMENT"]
        assert result.value and "options" in read_result(result)["message"]
    finally:
        lib.kasko_result_free(result)
        lib.kasko_call_options_free(options)


# -- what the call's result said about a success: Payment.request_id, ... ---------


def test_a_payment_says_how_it_was_fetched(client: kasko.Client, sandbox: Sandbox) -> None:
    offer = sandbox.offer()
    created = invoice(client, offer)
    assert created.http_status in (200, 201) and created.attempts == 1
    assert isinstance(created.request_id, str) and created.request_id.startswith("req_")
    assert created.id is not None
    viewed = client.get_payment(created.id)
    seen = direct_get(client, created.id)
    assert viewed.http_status == seen["http_status"] == 200 and viewed.attempts == seen["attempts"] == 1
    assert isinstance(viewed.request_id, str) and viewed.request_id.startswith("req_")
    assert len({created.request_id, viewed.request_id, seen["request_id"]}) == 3  # one per call
    # Not payment fields: equality, raw and to_dict know nothing of them.
    assert viewed == kasko.Payment.from_dict(viewed.raw)
    assert "request_id" not in viewed.raw and "attempts" not in viewed.to_dict()
    built = kasko.Payment.from_dict(viewed.raw)
    assert built.request_id is None and built.http_status is None and built.attempts is None
    # Copies keep them.
    for clone in (copy.copy(viewed), copy.deepcopy(viewed), pickle.loads(pickle.dumps(viewed))):
        assert (clone.request_id, clone.http_status, clone.attempts) == (
            viewed.request_id, viewed.http_status, viewed.attempts)
        assert clone == viewed
    for clone in (copy.copy(built), pickle.loads(pickle.dumps(built))):
        assert clone.request_id is None and clone.attempts is None and clone == built


def test_a_retried_view_says_how_many_attempts(
    scripted_server: ScriptedServer, public_key: str, secret_key: str
) -> None:
    with kasko.Client(public_key, secret_key, base_url=scripted_server.url, max_retries=2,
                      proxy="") as c:
        scripted_server.script(503, {"status": "Service Unavailable"})
        scripted_server.script(502, {"status": "Bad Gateway"})
        payment = c.get_payment("t1234")
        plain = c.get_payment("t1234")
    assert payment.id == "t1234" and payment.attempts == 3 and payment.http_status == 200
    assert payment.request_id == "req_scripted3"  # the answer's, not an earlier attempt's
    assert plain.attempts == 1 and plain.request_id == "req_scripted4"


def test_a_payment_without_a_request_id(
    scripted_server: ScriptedServer, public_key: str, secret_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = kasko._lib.library()
    monkeypatch.setattr(lib, "kasko_result_request_id", lambda result: None)
    with kasko.Client(public_key, secret_key, base_url=scripted_server.url, proxy="") as c:
        payment = c.get_payment("t1234")
    assert payment.request_id is None and payment.http_status == 200 and payment.attempts == 1


# -- what C cannot carry: the binding refuses it through kasko_result_new_error ---


@pytest.mark.parametrize(
    "call",
    [
        {"payment_id": "t12\x0034"},
        {"token": "ptok\x00"},
        {"provider": "\x00"},
        {"method": "in\x00voice"},
        {"policy_id": "tpol_\x00"},
        {"payment_id": "t1234", "traceparent": TRACEPARENT[:10] + "\x00" + TRACEPARENT[11:]},
        {"payment_id": "t1234", "tracestate": "k=v\x00"},
        {"payment_id": "t\ud800"},  # a lone surrogate: not UTF-8 either
    ],
)
def test_nul_in_an_argument_is_an_invalid_argument_from_the_library(
    client: kasko.Client, monkeypatch: pytest.MonkeyPatch, call: Dict[str, str]
) -> None:
    lib = kasko._lib.library()
    made: List[bytes] = []
    original = lib.kasko_result_new_error

    def counting(status: int, message: bytes, out: Any) -> int:
        made.append(message)
        result: int = original(status, message, out)
        return result

    monkeypatch.setattr(lib, "kasko_result_new_error", counting)
    (name, value), = ((k, v) for k, v in call.items() if "\x00" in v or "\ud800" in v)
    with pytest.raises(kasko.InvalidArgumentError) as info:
        if "payment_id" in call:
            arguments: Dict[str, Any] = dict(call)
            client.get_payment(**arguments)
        else:
            fields: Dict[str, Any] = {"token": "ptok_x", "provider": "invoice",
                                      "method": "invoice", "policy_id": "tpol_" + "a" * 28}
            fields.update(call)
            client.create_payment(**fields)
    error = info.value
    assert isinstance(error, ValueError)
    assert made == [error.message.encode()] and name in error.message
    # .raw is the library's error object for that status and message ...
    assert error.raw == library_error_object("KASKO_ERR_INVALID_ARGUMENT", error.message)
    assert error.raw["object"] == "error" and error.raw["code"] == "KASKO_ERR_INVALID_ARGUMENT"
    assert error.raw["message"] == error.message and error.raw["outcome"] == "not_sent"
    assert error.raw["attempts"] == 0 and error.raw["retryable"] is False
    # ... and the attributes say the same.
    assert error.code == "KASKO_ERR_INVALID_ARGUMENT" and error.outcome == "not_sent"
    assert error.attempts == 0 and error.http_status is None and error.retryable is False


@pytest.mark.parametrize("field", ["token", "provider", "method", "policy_id"])
def test_create_field_of_wrong_type(client: kasko.Client, field: str) -> None:
    fields: Dict[str, Any] = {"token": "ptok_x", "provider": "invoice", "method": "invoice",
                              "policy_id": "tpol_" + "a" * 28}
    fields[field] = b"bytes"
    with pytest.raises(kasko.InvalidArgumentError) as info:
        client.create_payment(**fields)
    assert info.value.message == f"{field} must be a str, not bytes"
    assert info.value.raw == library_error_object("KASKO_ERR_INVALID_ARGUMENT", info.value.message)


def test_str_subclasses_are_strings(client: kasko.Client, sandbox: Sandbox) -> None:
    class Text(str):
        pass

    offer = sandbox.offer()
    payment = client.create_payment(token=Text(offer["token"]), provider=Text("invoice"),
                                    method=Text("invoice"), policy_id=Text(offer["policy_id"]))
    assert payment.id and client.get_payment(Text(payment.id)).id == payment.id


# -- attributes from the typed accessors ----------------------------------------------


def test_payment_attributes_are_what_the_accessors_say(client: kasko.Client, sandbox: Sandbox) -> None:
    payment_id = a_payment_id(client, sandbox)
    payment = client.get_payment(payment_id)
    lib = kasko._lib.library()

    def typed(result: Any) -> Dict[str, Any]:
        seen: Dict[str, Any] = {}
        for field in ("object", "id", "provider", "method", "status", "policy_id", "token",
                      "customer_id"):
            pointer = ctypes.c_void_p()
            assert lib.kasko_result_member_string(result, field.encode(), ctypes.byref(pointer), None) == lib.OK
            assert pointer.value
            seen[field] = ctypes.string_at(pointer.value).decode()
        flag = ctypes.c_int()
        assert lib.kasko_result_member_bool(result, b"livemode", ctypes.byref(flag)) == lib.OK
        seen["livemode"] = bool(flag.value)
        fee = ctypes.c_double()
        assert lib.kasko_result_member_double(result, b"fee", ctypes.byref(fee)) == lib.OK
        seen["fee"] = fee.value
        for field in ("_links", "refunds", "metadata", "transaction_metadata"):
            text, length = ctypes.c_void_p(), ctypes.c_size_t()
            assert lib.kasko_result_member_json(result, field.encode(), ctypes.byref(text),
                                                ctypes.byref(length)) == lib.OK
            assert text.value
            seen[field] = json.loads(ctypes.string_at(text.value, length.value))
        return seen

    seen = direct_get(client, payment_id, keep=typed)
    assert seen["code"] == "KASKO_OK" and seen["message"] is None
    assert seen["http_status"] == 200 and seen["attempts"] == 1 and seen["outcome"] == "KASKO_OUTCOME_SUCCEEDED"
    assert seen["json"] == payment.raw
    for field, value in seen["kept"].items():
        attribute = "links" if field == "_links" else field
        assert getattr(payment, attribute) == value, field


def test_exception_attributes_are_what_the_accessors_say(client: kasko.Client) -> None:
    missing = "t00000000000000000000000000000000"
    with pytest.raises(kasko.NotFoundError) as info:
        client.get_payment(missing)
    error = info.value
    seen = direct_get(client, missing)
    assert error.code == seen["code"] == "KASKO_ERR_NOT_FOUND"
    assert error.http_status == seen["http_status"] == 404
    assert error.status == seen["member_status"] == "Not Found"
    assert error.message == seen["message"]
    assert error.outcome == seen["outcome"][len("KASKO_OUTCOME_"):].lower() == "rejected"
    assert error.retryable is bool(seen["retryable"]) is False
    assert error.attempts == seen["attempts"] == 1
    assert isinstance(error.request_id, str) and error.request_id.startswith("req_")
    assert isinstance(seen["request_id"], str) and seen["request_id"] != error.request_id  # per call
    assert error.errors is None and seen["member_errors"] is None
    assert set(error.raw) == set(seen["json"]) and error.raw["request_id"] == error.request_id


def test_exception_attributes_come_from_the_accessors_not_the_json(
    client: kasko.Client, monkeypatch: pytest.MonkeyPatch, header_file: Path
) -> None:
    # Accessors that say something else than the error object: the
    # attributes follow the accessors; only raw is the JSON.
    lib = kasko._lib.library()
    monkeypatch.setattr(lib, "kasko_result_http_status", lambda result: 499)
    monkeypatch.setattr(lib, "kasko_result_attempts", lambda result: 7)
    monkeypatch.setattr(lib, "kasko_result_retryable", lambda result: 1)
    monkeypatch.setattr(lib, "kasko_result_message", lambda result: b"typed message")
    monkeypatch.setattr(lib, "kasko_result_request_id", lambda result: b"req_typed")
    unknown = header_enum(header_file, "kasko_outcome")["KASKO_OUTCOME_UNKNOWN"]
    monkeypatch.setattr(lib, "kasko_result_outcome", lambda result: unknown)
    with pytest.raises(kasko.NotFoundError) as info:
        client.get_payment("t00000000000000000000000000000000")
    error = info.value
    assert error.http_status == 499 and error.attempts == 7 and error.retryable is True
    assert error.message == "typed message" and error.request_id == "req_typed"
    assert error.outcome == "unknown"
    assert error.raw["http_status"] == 404 and error.raw["attempts"] == 1
    assert error.raw["outcome"] == "rejected" and error.raw["message"] != "typed message"


def test_pending_payment_id_and_server_errors_from_the_accessors(
    scripted_server: ScriptedServer, public_key: str, secret_key: str
) -> None:
    errors = [{"field": "token", "code": "invalid_value", "message": "The token is wrong."}]
    scripted_server.script(400, {"status": "Bad Request", "message": "The given data was invalid.",
                                 "errors": errors})
    scripted_server.script(422, {"status": "Unprocessable Entity",
                                 "message": "Policy - tpol_x already has pending payment - t9876."})
    fields: Dict[str, Any] = {"token": "ptok_x", "provider": "invoice", "method": "invoice",
                              "policy_id": "tpol_" + "b" * 28}
    with kasko.Client(public_key, secret_key, base_url=scripted_server.url, proxy="") as c:
        with pytest.raises(kasko.BadRequestError) as bad:
            c.create_payment(**fields)
        with pytest.raises(kasko.PendingPaymentError) as pending:
            c.create_payment(**fields, traceparent=TRACEPARENT)
    assert bad.value.errors == errors == bad.value.raw["errors"]
    # The server's message, then the request it answered.
    assert bad.value.status == "Bad Request"
    assert bad.value.message == "The given data was invalid. (POST /payments: 400 Bad Request)"
    assert bad.value.request_id == "req_scripted1" and bad.value.outcome == "rejected"
    assert pending.value.pending_payment_id == "t9876" == pending.value.raw["pending_payment_id"]
    assert pending.value.http_status == 422 and pending.value.errors is None
    assert pending.value.request_id == "req_scripted2"


def test_version_number_is_exported() -> None:
    assert "version_number" in kasko.__all__
    assert kasko.version_number() // 1000000 == kasko.EXPECTED_MAJOR
