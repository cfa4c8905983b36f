"""Every method and every exception class, against the real sandbox (its fault
injection for 429 / 5xx / non-JSON answers, timeouts and dropped connections)."""

from __future__ import annotations

import copy
import ctypes
import dataclasses
import pickle
import time
from typing import Any, Dict, List

import pytest

from conftest import Faults, Sandbox, library_error_object, library_refusal_of_config, payment_json

import kasko
from kasko import _payment


def attribute_of(field: str) -> str:
    """The Payment attribute of an API field: its name, ``links`` for ``_links``."""
    return field.lstrip("_")


def payment_attributes() -> List[str]:
    """Payment's typed attributes, in order (``raw`` is the whole object, not a field)."""
    return [f.name for f in dataclasses.fields(kasko.Payment) if f.name != "raw"]


def invoice(client: kasko.Client, offer: Dict[str, str]) -> kasko.Payment:
    return client.create_payment(
        token=offer["token"], provider="invoice", method="invoice", policy_id=offer["policy_id"]
    )


def assert_matches_raw(payment: kasko.Payment, fields: List[str]) -> None:
    """Each reference field's attribute is the field's value as the API sent it."""
    for field in fields:
        assert getattr(payment, attribute_of(field)) == payment.raw.get(field), field


# -- the reference's fields ----------------------------------------------------


def test_payment_covers_exactly_the_reference_fields(payment_fields: Dict[str, List[str]]) -> None:
    full = payment_fields["full"]
    # One typed attribute per field of the reference, in its order, and no other.
    assert payment_attributes() == [attribute_of(field) for field in full]
    for field in full:
        assert isinstance(getattr(kasko.Payment, attribute_of(field)), property), field
    # The binding's own field map agrees: each attribute reads its field.
    assert [key for key, _ in _payment._SCHEMA.values()] == full
    assert list(_payment._SCHEMA) == payment_attributes()
    # From a decoded object, each attribute is its field's value.
    data = payment_json("t1")
    assert list(data) == full
    payment = kasko.Payment.from_dict(data)
    for field in full:
        assert getattr(payment, attribute_of(field)) == data[field], field
    # The restricted object is the one without a policy id.
    restricted = kasko.Payment.from_dict({field: data[field] for field in payment_fields["restricted"]})
    assert restricted.restricted and not payment.restricted


# -- the two methods -----------------------------------------------------------


def test_create_payment_returns_the_full_object(
    client: kasko.Client, sandbox: Sandbox, payment_fields: Dict[str, List[str]]
) -> None:
    offer = sandbox.offer()
    payment = invoice(client, offer)
    assert isinstance(payment, kasko.Payment)
    assert list(payment.raw) == payment_fields["full"], "every documented field is sent, in order"
    assert_matches_raw(payment, payment_fields["full"])
    assert payment.object == "payment"
    assert isinstance(payment.id, str) and payment.id
    assert payment.livemode is False
    assert payment.provider == "invoice" and payment.method == "invoice"
    assert payment.status == "ok"
    assert payment.policy_id == offer["policy_id"]
    assert isinstance(payment.fee, (int, float))
    assert isinstance(payment.refunds, list)
    assert isinstance(payment.links, dict) and payment.id in payment.links["_self"]["href"]
    assert not payment.restricted


def test_get_payment_returns_the_same_payment(
    client: kasko.Client, sandbox: Sandbox, payment_fields: Dict[str, List[str]]
) -> None:
    created = invoice(client, sandbox.offer())
    assert created.id is not None
    viewed = client.get_payment(created.id)
    assert viewed.id == created.id
    assert viewed.policy_id == created.policy_id
    assert viewed.status == "ok"
    assert list(viewed.raw) == payment_fields["full"]
    assert_matches_raw(viewed, payment_fields["full"])
    assert viewed == created  # same fields (raw is not compared)


def test_restricted_object_with_only_a_public_key(
    public_client: kasko.Client, client: kasko.Client, sandbox: Sandbox,
    payment_fields: Dict[str, List[str]],
) -> None:
    offer = sandbox.offer()
    payment = invoice(public_client, offer)
    assert list(payment.raw) == payment_fields["restricted"], "the restricted members, in order"
    assert payment.restricted
    assert payment.id and payment.status == "ok" and payment.livemode is False
    # The fields a restricted object leaves out read as None.
    left_out = [field for field in payment_fields["full"] if field not in payment_fields["restricted"]]
    assert left_out
    for field in left_out:
        assert getattr(payment, attribute_of(field)) is None, field
    assert_matches_raw(payment, payment_fields["full"])

    # Viewing needs the secret key: refused by the API ...
    with pytest.raises(kasko.AuthenticationError) as info:
        public_client.get_payment(payment.id)
    assert info.value.http_status == 401
    # ... and works with it.
    full = client.get_payment(payment.id)
    assert full.policy_id == offer["policy_id"] and not full.restricted


def test_pending_payment_then_settle(client: kasko.Client, sandbox: Sandbox) -> None:
    offer = sandbox.offer()
    first = client.create_payment(
        token=offer["token"], provider="deferred", method="deferred", policy_id=offer["policy_id"]
    )
    assert first.status == "pending" and first.id
    with pytest.raises(kasko.PendingPaymentError) as info:
        client.create_payment(
            token=offer["token"], provider="deferred", method="deferred", policy_id=offer["policy_id"]
        )
    error = info.value
    assert error.pending_payment_id == first.id
    assert error.http_status == 422 and error.code == "KASKO_ERR_PENDING_PAYMENT"
    assert error.outcome == "rejected" and error.retryable is False
    assert first.id in error.message
    assert isinstance(error, kasko.KaskoError)

    sandbox.settle(first.id)
    settled = client.get_payment(first.id)
    assert settled.id == first.id and settled.status != "pending"


# -- errors from real server responses -------------------------------------------


def test_bad_request_wrong_token(client: kasko.Client, sandbox: Sandbox) -> None:
    offer = sandbox.offer()
    with pytest.raises(kasko.BadRequestError) as info:
        client.create_payment(
            token="ptok_wrong", provider="invoice", method="invoice", policy_id=offer["policy_id"]
        )
    error = info.value
    assert error.code == "KASKO_ERR_BAD_REQUEST" and error.http_status == 400
    assert error.status == "Bad Request" and error.message
    assert error.outcome == "rejected" and error.retryable is False
    assert error.attempts == 1 and error.request_id
    assert error.raw["object"] == "error"
    assert "KASKO_ERR_BAD_REQUEST (HTTP 400 Bad Request)" in str(error)


def test_bad_request_policy_already_paid(client: kasko.Client, sandbox: Sandbox) -> None:
    offer = sandbox.offer()
    invoice(client, offer)
    with pytest.raises(kasko.BadRequestError):
        invoice(client, offer)


def test_authentication_error_wrong_secret_key(
    sandbox_url: str, public_key: str, secret_key: str, sandbox: Sandbox
) -> None:
    wrong = "sk_test_" + "x" * 32
    with kasko.Client(public_key, wrong, base_url=sandbox_url) as bad:
        with pytest.raises(kasko.AuthenticationError) as info:
            invoice(bad, sandbox.offer())
        assert info.value.http_status == 401 and info.value.code == "KASKO_ERR_UNAUTHORIZED"
        for text in (str(info.value), repr(info.value), repr(info.value.raw)):
            assert wrong not in text and secret_key not in text
        with pytest.raises(kasko.AuthenticationError):
            bad.get_payment("t0123456789abcdef")


def test_authentication_error_wrong_public_key(
    sandbox_url: str, secret_key: str, sandbox: Sandbox
) -> None:
    with kasko.Client("pk_test_" + "y" * 32, secret_key, base_url=sandbox_url) as bad:
        with pytest.raises(kasko.AuthenticationError):
            invoice(bad, sandbox.offer())


def test_not_found_unknown_provider(client: kasko.Client, sandbox: Sandbox) -> None:
    offer = sandbox.offer()
    with pytest.raises(kasko.NotFoundError) as info:
        client.create_payment(
            token=offer["token"], provider="no_such_provider", method="invoice",
            policy_id=offer["policy_id"],
        )
    assert info.value.http_status == 404 and info.value.code == "KASKO_ERR_NOT_FOUND"


def test_not_found_unknown_payment(client: kasko.Client) -> None:
    with pytest.raises(kasko.NotFoundError) as info:
        client.get_payment("t00000000000000000000000000000000")
    assert info.value.http_status == 404 and info.value.outcome == "rejected"


# -- errors from sandbox faults (the sandbox runs with --faults) ---------------------
# Each test arms faults for its own key: a payment it created (views) or a
# fresh offer's policy id (creates).


def a_payment_id(client: kasko.Client, sandbox: Sandbox) -> str:
    payment = invoice(client, sandbox.offer())
    assert payment.id is not None
    return payment.id


def test_rate_limit_error(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, sandbox_url: str, public_key: str,
    secret_key: str,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"status": 429, "retry_after": 0})
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, max_retries=0) as c:
        with pytest.raises(kasko.RateLimitError) as info:
            c.get_payment(payment_id)
    error = info.value
    assert error.http_status == 429 and error.retryable is True
    assert error.code == "KASKO_ERR_RATE_LIMITED"
    assert isinstance(error.request_id, str) and error.request_id.startswith("req_")
    assert error.attempts == 1 and faults.attempts(payment_id) == 1


def test_server_error(client: kasko.Client, sandbox: Sandbox, faults: Faults) -> None:
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"status": 500})
    with pytest.raises(kasko.ServerError) as info:
        client.get_payment(payment_id)  # max_retries is the default 2; a 500 is not retried
    error = info.value
    assert error.http_status == 500 and error.message and error.code == "KASKO_ERR_SERVER"
    assert error.request_id
    assert error.attempts == 1 and faults.attempts(payment_id) == 1


def test_invalid_response_error(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, sandbox_url: str, public_key: str,
    secret_key: str,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"body": "non_json"})  # a 200 with an HTML body
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, max_retries=0) as c:
        with pytest.raises(kasko.InvalidResponseError) as info:
            c.get_payment(payment_id)
        assert info.value.code == "KASKO_ERR_INVALID_RESPONSE"
        assert c.get_payment(payment_id).id == payment_id  # the rule was used up


def test_view_retried_through_two_503s(client: kasko.Client, sandbox: Sandbox, faults: Faults) -> None:
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"status": 503}, times=2)
    viewed = client.get_payment(payment_id)  # max_retries is the default 2
    assert viewed.id == payment_id and viewed.status == "ok"
    assert faults.attempts(payment_id) == 3


def test_view_timeout_is_a_network_error(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, sandbox_url: str, public_key: str,
    secret_key: str,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"delay_ms": 600}, times=3)  # the timeout is 0.1 s
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, timeout=0.1, max_retries=2) as c:
        with pytest.raises(kasko.NetworkError) as info:
            c.get_payment(payment_id)
    error = info.value
    assert error.code == "KASKO_ERR_NETWORK" and error.http_status is None
    assert error.outcome == "unknown" and error.retryable is True
    assert error.attempts == 3 and faults.attempts(payment_id) == 3  # a view is retried


def test_create_timeout_is_not_retried(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, sandbox_url: str, public_key: str,
    secret_key: str,
) -> None:
    offer = sandbox.offer()
    faults.arm(offer["policy_id"], {"delay_ms": 600})  # the timeout is 0.1 s
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, timeout=0.1, max_retries=2) as c:
        with pytest.raises(kasko.NetworkError) as info:
            invoice(c, offer)
    error = info.value
    # Sent, no answer: the payment may exist, so it is not retried.
    assert error.code == "KASKO_ERR_NETWORK" and error.http_status is None
    assert error.outcome == "unknown" and error.retryable is False and error.attempts == 1
    time.sleep(0.7)  # the delayed create has been carried out; nothing else came
    assert faults.attempts(offer["policy_id"]) == 1
    with pytest.raises(kasko.BadRequestError):  # it did create the payment
        invoice(client, offer)


def test_create_dropped_after_the_body_is_not_retried(
    sandbox: Sandbox, faults: Faults, sandbox_url: str, public_key: str, secret_key: str
) -> None:
    offer = sandbox.offer()
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, max_retries=2) as c:
        invoice(c, sandbox.offer())  # the create below goes on a reused connection
        faults.arm(offer["policy_id"], {"drop": "after_body"})
        with pytest.raises(kasko.NetworkError) as info:
            invoice(c, offer)
        error = info.value
        assert error.code == "KASKO_ERR_NETWORK" and error.http_status is None
        assert error.outcome == "unknown" and error.retryable is False and error.attempts == 1
        # Neither the library nor libcurl sent it again.
        assert faults.attempts(offer["policy_id"]) == 1
        # The sandbox did create the payment: the policy is paid now.
        with pytest.raises(kasko.BadRequestError):
            invoice(c, offer)


def test_network_error(closed_port: int, public_key: str, secret_key: str) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    with kasko.Client(public_key, secret_key, base_url=url, max_retries=1,
                      connect_timeout=5) as c:
        with pytest.raises(kasko.NetworkError) as info:
            c.get_payment("t0123")
    error = info.value
    assert error.http_status is None and error.code == "KASKO_ERR_NETWORK"
    assert error.attempts == 2
    assert error.outcome in ("not_sent", "unknown")


# -- invalid arguments: refused before any I/O ------------------------------------
# The base URL is a port where nothing listens: a NetworkError would mean
# something was sent.


@pytest.fixture
def offline_client(closed_port: int, public_key: str, secret_key: str) -> Any:
    with kasko.Client(public_key, secret_key, base_url=f"http://127.0.0.1:{closed_port}",
                      max_retries=0) as c:
        yield c


def assert_not_sent(error: kasko.KaskoError) -> None:
    assert type(error) is kasko.InvalidArgumentError
    assert isinstance(error, ValueError)
    assert error.code == "KASKO_ERR_INVALID_ARGUMENT"
    assert error.outcome == "not_sent" and error.attempts == 0 and error.http_status is None
    assert error.message


@pytest.mark.parametrize("payment_id", ["", "../etc/passwd", "a b", "t" * 129, "é", "a\x00b"])
def test_get_payment_bad_id(offline_client: kasko.Client, payment_id: str) -> None:
    with pytest.raises(kasko.InvalidArgumentError) as info:
        offline_client.get_payment(payment_id)
    assert_not_sent(info.value)


def test_get_payment_id_of_wrong_type(offline_client: kasko.Client) -> None:
    with pytest.raises(kasko.InvalidArgumentError) as info:
        offline_client.get_payment(123)  # type: ignore[arg-type]
    assert_not_sent(info.value)


@pytest.mark.parametrize(
    "fields",
    [
        {"token": None},
        {"token": 5},
        {"policy_id": ""},
        {"provider": object()},
    ],
)
def test_create_payment_bad_request_fields(offline_client: kasko.Client, fields: Dict[str, Any]) -> None:
    request: Dict[str, Any] = {"token": "ptok_x", "provider": "invoice", "method": "invoice",
                               "policy_id": "tpol_" + "a" * 28}
    request.update(fields)
    with pytest.raises(kasko.InvalidArgumentError) as info:
        offline_client.create_payment(**request)
    assert_not_sent(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"public_key": ""},
        {"public_key": "pk_test_has space"},
        {"public_key": "pk_test_" + "a" * 32, "secret_key": "sk_live_" + "a" * 32},
        {"public_key": "pk_test_" + "a" * 32, "base_url": "http://example.com"},
        {"public_key": "pk_test_" + "a" * 32, "max_retries": 11},
        {"public_key": "pk_test_" + "a" * 32, "max_retries": "2"},
        {"public_key": "pk_test_" + "a" * 32, "timeout": "60"},
        {"public_key": "pk_test_" + "a" * 32, "timeout": float("nan")},
        {"public_key": "pk_test_" + "a" * 32, "connect_timeout": float("inf")},
        {"public_key": "pk_test_" + "a" * 32, "timeout": -1},
        {"public_key": 42},
    ],
)
def test_client_bad_configuration(kwargs: Dict[str, Any]) -> None:
    with pytest.raises(kasko.InvalidArgumentError) as info:
        kasko.Client(**kwargs)
    assert_not_sent(info.value)


def test_bad_key_is_not_quoted_in_the_error() -> None:
    secret = "sk_test_\x01verysecretvalue"
    with pytest.raises(kasko.InvalidArgumentError) as info:
        kasko.Client("pk_test_" + "a" * 32, secret)
    assert "verysecretvalue" not in str(info.value)
    assert "verysecretvalue" not in repr(info.value.raw)


# A refused configuration is kasko_client_new_v2's result, read like every
# other error: the library's message and error object, nothing parsed here.


@pytest.mark.parametrize(
    "kwargs, config, named",
    [
        ({"public_key": "pk_test_has space"}, {"public_key": "pk_test_has space"}, "public_key"),
        ({"public_key": "pk_test_" + "a" * 32, "secret_key": "sk_test_\x01verysecretvalue"},
         {"public_key": "pk_test_" + "a" * 32, "secret_key": "sk_test_\x01verysecretvalue"}, "secret_key"),
        ({"public_key": "pk_test_" + "a" * 32, "secret_key": "sk_live_verysecretvalue"},
         {"public_key": "pk_test_" + "a" * 32, "secret_key": "sk_live_verysecretvalue"}, "secret_key"),
        ({"public_key": "pk_test_" + "a" * 32, "max_retries": 11},
         {"public_key": "pk_test_" + "a" * 32, "max_retries": 11}, "max_retries"),
        ({"public_key": "pk_test_" + "a" * 32, "base_url": "http://example.com"},
         {"public_key": "pk_test_" + "a" * 32, "base_url": "http://example.com"}, "base_url"),
    ],
)
def test_refused_configuration_is_the_librarys_error(
    kwargs: Dict[str, Any], config: Dict[str, Any], named: str
) -> None:
    library = library_refusal_of_config(config)
    with pytest.raises(kasko.InvalidArgumentError) as info:
        kasko.Client(**kwargs)
    error = info.value
    assert_not_sent(error)
    # The library's own message, word for word (not a JSON member dug out
    # of text, not one of the binding's), naming what is wrong ...
    assert error.message == library["message"] and named in error.message
    assert str(error) == f"KASKO_ERR_INVALID_ARGUMENT: {error.message}"
    assert error.retryable is False and error.request_id is None and error.status is None
    # ... and raw is the library's error object for it.
    assert error.raw == library["json"] == library_error_object("KASKO_ERR_INVALID_ARGUMENT", error.message)
    assert error.raw["object"] == "error" and error.raw["code"] == "KASKO_ERR_INVALID_ARGUMENT"
    assert error.raw["outcome"] == "not_sent" and error.raw["attempts"] == 0
    assert error.raw["http_status"] is None and error.raw["message"] == error.message
    # Never a key.
    for text in (error.message, str(error), repr(error), repr(error.raw)):
        assert "verysecretvalue" not in text


def test_refused_configuration_attributes_come_from_the_accessors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Accessors that say something else than the error object: the
    # exception follows the accessors (raw is the JSON, untouched).
    lib = kasko._lib.library()
    monkeypatch.setattr(lib, "kasko_result_message", lambda result: b"the accessor's message")
    with pytest.raises(kasko.InvalidArgumentError) as info:
        kasko.Client("pk_test_has space")
    assert info.value.message == "the accessor's message"
    assert info.value.raw["message"].startswith("public_key contains whitespace")


def test_client_new_v2_breaking_its_contract_is_an_internal_error(
    monkeypatch: pytest.MonkeyPatch, sandbox_url: str, public_key: str
) -> None:
    lib = kasko._lib.library()
    invalid = lib.statuses["KASKO_ERR_INVALID_ARGUMENT"]
    monkeypatch.setattr(lib, "kasko_client_new_v2", lambda config, client, result: invalid)
    with pytest.raises(kasko.InternalError, match="KASKO_ERR_INVALID_ARGUMENT and no result"):
        kasko.Client(public_key, base_url=sandbox_url)
    monkeypatch.setattr(lib, "kasko_client_new_v2", lambda config, client, result: lib.OK)
    with pytest.raises(kasko.InternalError, match="KASKO_OK but no client"):
        kasko.Client(public_key, base_url=sandbox_url)


def test_the_binding_binds_no_1_0_constructor_and_frees_no_string() -> None:
    lib = kasko._lib.library()
    for name in ("kasko_client_new", "kasko_string_free", "kasko_payment_create", "kasko_payment_get"):
        assert name not in kasko._lib._SIGNATURES and not hasattr(lib, name), name
    assert "kasko_client_new_v2" in kasko._lib._SIGNATURES
    assert "kasko_call_options_check" in kasko._lib._SIGNATURES


# -- the client object -------------------------------------------------------------


def test_secret_never_shown(sandbox_url: str, public_key: str) -> None:
    secret = "sk_test_" + "S3cr3t" * 5 + "ab"
    client = kasko.Client(public_key, secret, base_url=sandbox_url)
    try:
        for text in (repr(client), str(client), f"{client}", repr(vars(client))):
            assert secret not in text
            assert "S3cr3t" not in text
        # The public key by its hint only (a repr lands in logs and test reports).
        assert public_key not in repr(client) and public_key[8:16] not in repr(client)
        assert f"public_key='{public_key[:8]}\u2026" in repr(client) and sandbox_url in repr(client)
        assert not any(secret in repr(value) for value in vars(client).values())
    finally:
        client.close()
    assert "closed" in repr(client) and secret not in repr(client)


def test_close_is_idempotent_and_calls_after_close_fail(client: kasko.Client) -> None:
    assert not client.closed
    client.close()
    client.close()
    assert client.closed
    with pytest.raises(kasko.InvalidArgumentError, match="closed") as info:
        client.get_payment("t0123")
    assert_not_sent(info.value)
    with pytest.raises(kasko.InvalidArgumentError):
        client.create_payment(token="t", provider="p", method="m", policy_id="p")


def test_context_manager_closes(sandbox_url: str, public_key: str) -> None:
    with kasko.Client(public_key, base_url=sandbox_url) as c:
        assert not c.closed
    assert c.closed


def test_client_cannot_be_copied_or_pickled(client: kasko.Client) -> None:
    with pytest.raises(TypeError):
        copy.copy(client)
    with pytest.raises(TypeError):
        copy.deepcopy(client)
    with pytest.raises(TypeError):
        pickle.dumps(client)


def test_errors_pickle(client: kasko.Client) -> None:
    with pytest.raises(kasko.NotFoundError) as info:
        client.get_payment("t00000000000000000000000000000000")
    clone = pickle.loads(pickle.dumps(info.value))
    assert type(clone) is kasko.NotFoundError and clone.raw == info.value.raw
    assert str(clone) == str(info.value)


def test_every_call_frees_the_result_it_got(
    client: kasko.Client, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = kasko._lib.library()
    freed: Dict[str, List[Any]] = {"kasko_result_free": []}
    for name, calls in freed.items():
        def counting_free(pointer: Any, calls: List[Any] = calls, original: Any = getattr(lib, name)) -> None:
            calls.append(pointer.value if isinstance(pointer, ctypes.c_void_p) else pointer)
            original(pointer)
        monkeypatch.setattr(lib, name, counting_free)

    payment = invoice(client, sandbox.offer())  # a payment
    assert payment.id
    client.get_payment(payment.id)  # a payment
    client.get_payment(payment.id, timeout_ms=5000)  # a payment, with call options
    with pytest.raises(kasko.NotFoundError):  # an error from the server
        client.get_payment("t00000000000000000000000000000000")
    with pytest.raises(kasko.InvalidArgumentError):  # an error from the library
        client.get_payment("bad id")
    with pytest.raises(kasko.InvalidArgumentError):  # from the library, about options
        client.get_payment(payment.id, traceparent="bogus")
    with pytest.raises(kasko.InvalidArgumentError):  # the binding's, from kasko_result_new_error
        client.get_payment("a\x00b")
    assert len(freed["kasko_result_free"]) == 7
    with pytest.raises(kasko.InvalidArgumentError):  # kasko_client_new_v2's result
        kasko.Client("")
    assert len(freed["kasko_result_free"]) == 8
    with kasko.Client(client.public_key, base_url=client.base_url):  # made: no result to free
        pass
    assert len(freed["kasko_result_free"]) == 8
    pointers = freed["kasko_result_free"]
    assert all(isinstance(p, int) and p for p in pointers)
