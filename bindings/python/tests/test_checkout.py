"""The checkout calls (libkasko 1.3) against the sandbox over HTTP:
create_quote, create_offer, get_offer, get_policy, with every documented
answer (the contract of issue 14: /work/contract-14.md), the typed objects
they return, ETag/Last-Modified, manual underwriting, the arguments refused
before any I/O, and the events and spans of the new operations.

No test prints a payment token: comparisons that involve one are reduced to
a bool before the assert (pytest would show both sides otherwise)."""

from __future__ import annotations

import copy
import datetime
import email.utils
import pickle
import re
import time
from typing import Any, Dict, Iterator, List

import pytest

from conftest import Faults, Sandbox

import kasko

pytestmark = pytest.mark.skipif(
    not kasko._lib.library().has_checkout,
    reason="the library is older than 1.3: no checkout calls",
)

START = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()


def quote_request(trip_cost: int = 100000, plan: str = "pp_sandbox_single",
                  **members: Any) -> Dict[str, Any]:
    request: Dict[str, Any] = {
        "integration_id": "in_sandbox_travel",
        "item_id": "ins_sandbox_travel",
        "subscription_plan_id": plan,
        "data": {"trip_cost": trip_cost, "policy_start_date": START},
    }
    request.update(members)
    return request


CUSTOMER = {"first_name": "Erika", "last_name": "Mustermann", "email": "erika@example.org",
            "language": "de"}


def offer_request(quote: kasko.Quote, **members: Any) -> Dict[str, Any]:
    request: Dict[str, Any] = dict(CUSTOMER, quote_token=quote.token)
    request.update(members)
    return request


def new_offer(client: kasko.Client, **members: Any) -> kasko.Offer:
    return client.create_offer(offer_request(client.create_quote(quote_request()), **members))


def shows_token(text: str) -> bool:
    """Whether a text holds a payment token (never printed by the assert)."""
    return "ptok_" in text


def same(a: Any, b: Any) -> bool:
    """a == b, as a bool, so that a failing assert does not print either
    (they may be payment tokens)."""
    return bool(a == b)


def gross_single(trip_cost: int) -> int:
    return max(500, trip_cost * 4 // 100)


def tax_of(gross: int) -> int:
    return (gross * 19 + 59) // 119


def error_fields(error: kasko.KaskoError) -> List[tuple]:
    assert isinstance(error.errors, list), error.raw
    return [(e.get("code"), e.get("field")) for e in error.errors]


# -- quotes --------------------------------------------------------------------------

def test_a_quote_is_priced_as_the_contract_says(client: kasko.Client) -> None:
    quote = client.create_quote(quote_request(100000))
    assert isinstance(quote, kasko.Quote)
    assert re.fullmatch(r"qtok_[0-9a-f]{40}", quote.token), quote.token
    gross = gross_single(100000)
    assert quote.gross_payment_amount == gross == 4000
    assert quote.extra_data == {"gross_premium": gross, "premium_tax": tax_of(gross),
                                "net_premium": gross - tax_of(gross), "tax_rate": 0.19}
    assert quote.raw["token"] == quote.token
    assert quote.http_status == 200 and quote.attempts == 1
    assert isinstance(quote.request_id, str) and quote.request_id
    assert quote.total_time is not None and quote.total_time > 0
    # Deterministic: the same request, the same token; another plan, another price.
    again = client.create_quote(quote_request(100000))
    assert again.token == quote.token and again == quote
    annual = client.create_quote(quote_request(100000, plan="pp_sandbox_annual"))
    assert annual.gross_payment_amount == 8900 + 100000 // 100
    assert annual.token != quote.token
    assert client.create_quote(quote_request(100)).gross_payment_amount == 500  # the minimum
    text = repr(quote)
    assert text.startswith("<kasko.Quote ") and quote.token in text and "request_id=" in text


def test_a_quote_works_with_the_public_key_alone(public_client: kasko.Client) -> None:
    assert public_client.create_quote(quote_request()).gross_payment_amount == 4000


def test_quote_data_validation_is_a_400_with_the_servers_errors(client: kasko.Client) -> None:
    with pytest.raises(kasko.BadRequestError) as info:
        client.create_quote(quote_request(data={"trip_cost": "lots"}))
    error = info.value
    assert error.http_status == 400 and error.code == "KASKO_ERR_BAD_REQUEST"
    assert error.status == "Bad Request" and "Data validation failed." in error.message
    assert set(error_fields(error)) == {("invalid_value", "trip_cost"),
                                        ("required", "policy_start_date")}
    assert error.outcome == "rejected" and error.attempts == 1 and error.request_id
    for data, field in (({"trip_cost": 0, "policy_start_date": START}, "trip_cost"),
                        ({"trip_cost": 10000001, "policy_start_date": START}, "trip_cost"),
                        ({"trip_cost": 1000, "policy_start_date": "2027-02-30"}, "policy_start_date"),
                        ({"trip_cost": 1000, "policy_start_date": "tomorrow"}, "policy_start_date")):
        with pytest.raises(kasko.BadRequestError) as info:
            client.create_quote(quote_request(data=data))
        assert error_fields(info.value) == [("invalid_value", field)], data


def test_unknown_integration_item_and_plan_are_404(client: kasko.Client) -> None:
    with pytest.raises(kasko.NotFoundError) as info:
        client.create_quote(quote_request(integration_id="in_nowhere"))
    assert info.value.http_status == 404
    assert "Integration - in_nowhere product - ins_sandbox_travel not found." in info.value.message
    with pytest.raises(kasko.NotFoundError) as info:
        client.create_quote(quote_request(item_id="ins_other"))
    assert "Integration - in_sandbox_travel product - ins_other not found." in info.value.message
    with pytest.raises(kasko.NotFoundError) as info:
        client.create_quote(quote_request(plan="pp_nothing"))
    assert "Subscription plan with id - pp_nothing not found." in info.value.message


def test_an_integration_being_built_is_409_a_server_error(client: kasko.Client) -> None:
    with pytest.raises(kasko.ServerError) as info:
        client.create_quote(quote_request(integration_id="in_sandbox_building"))
    error = info.value
    assert error.http_status == 409 and error.code == "KASKO_ERR_SERVER"
    assert "Pricing logic for integration - in_sandbox_building is being created." in error.message


def test_wrong_keys_are_401(sandbox_url: str, public_key: str, secret_key: str) -> None:
    with kasko.Client("pk_test_" + "x" * 24, base_url=sandbox_url) as wrong_public:
        with pytest.raises(kasko.AuthenticationError) as info:
            wrong_public.create_quote(quote_request())
        assert info.value.http_status == 401 and "Not authorized." in info.value.message
    with kasko.Client(public_key, "sk_test_" + "x" * 24, base_url=sandbox_url) as wrong_secret:
        # A Bearer header is optional on a create, but must be right when sent.
        with pytest.raises(kasko.AuthenticationError):
            wrong_secret.create_quote(quote_request())
    with kasko.Client(public_key, secret_key, base_url=sandbox_url) as good:
        quote = good.create_quote(quote_request())
    with kasko.Client("pk_test_" + "x" * 24, base_url=sandbox_url) as wrong_public:
        with pytest.raises(kasko.AuthenticationError):
            wrong_public.create_offer(offer_request(quote))


# -- arguments refused before any I/O -------------------------------------------------

@pytest.fixture
def nowhere(closed_port: int) -> Iterator[kasko.Client]:
    """A client whose server refuses connections: a call that got as far as
    I/O would fail with NetworkError, so InvalidArgumentError (attempts 0,
    outcome not_sent) proves that nothing was sent."""
    with kasko.Client("pk_test_sandbox", "sk_test_sandbox",
                      base_url=f"http://127.0.0.1:{closed_port}", max_retries=0) as c:
        yield c


def refused(call: Any) -> kasko.InvalidArgumentError:
    with pytest.raises(kasko.InvalidArgumentError) as info:
        call()
    error = info.value
    assert error.attempts == 0 and error.outcome == "not_sent" and error.http_status is None
    return error


def test_quote_requests_are_checked_before_any_io(nowhere: kasko.Client) -> None:
    good = quote_request()
    for member in ("item_id", "subscription_plan_id", "integration_id", "data"):
        request = dict(good)
        del request[member]
        assert member in refused(lambda: nowhere.create_quote(request)).message
    refused(lambda: nowhere.create_quote(dict(good, data="trip")))
    refused(lambda: nowhere.create_quote(dict(good, item_id=7)))
    refused(lambda: nowhere.create_quote([("item_id", "x")]))  # type: ignore[arg-type]
    refused(lambda: nowhere.create_quote("{}"))  # type: ignore[arg-type]
    refused(lambda: nowhere.create_quote(dict(good, extra=object())))
    refused(lambda: nowhere.create_quote(dict(good, extra=float("nan"))))
    refused(lambda: nowhere.create_quote(dict(good, extra="\ud800")))
    refused(lambda: nowhere.create_quote(good, timeout_ms="5"))  # type: ignore[arg-type]
    refused(lambda: nowhere.create_quote(good, traceparent="bogus"))


def test_offer_requests_are_checked_before_any_io(nowhere: kasko.Client) -> None:
    good = dict(CUSTOMER, quote_token="qtok_" + "0" * 40)
    for member in ("quote_token", "first_name", "last_name", "email", "language"):
        request = dict(good)
        del request[member]
        assert member in refused(lambda: nowhere.create_offer(request)).message
    refused(lambda: nowhere.create_offer(dict(good, first_name=None)))
    refused(lambda: nowhere.create_offer(dict(good, data="x")))
    refused(lambda: nowhere.create_offer(None))  # type: ignore[arg-type]


@pytest.mark.parametrize("policy_id", ["", "tpol_/x", "tpol_ x", "tpol_\u00e9", "a" * 129, "tpol\x00"])
def test_bad_policy_ids_are_refused_before_any_io(nowhere: kasko.Client, policy_id: str) -> None:
    refused(lambda: nowhere.get_offer(policy_id))
    refused(lambda: nowhere.get_policy(policy_id))
    refused(lambda: nowhere.resolve_payment(token="ptok_x", provider="invoice", method="invoice",
                                            policy_id=policy_id))


def test_non_str_ids_and_fields_are_refused(nowhere: kasko.Client) -> None:
    refused(lambda: nowhere.get_offer(7))  # type: ignore[arg-type]
    refused(lambda: nowhere.get_policy(None))  # type: ignore[arg-type]
    refused(lambda: nowhere.resolve_payment(token=None, provider="invoice",  # type: ignore[arg-type]
                                            method="invoice", policy_id="tpol_x"))


def test_a_closed_client_refuses_checkout_calls(client: kasko.Client) -> None:
    client.close()
    refused(lambda: client.create_quote(quote_request()))
    refused(lambda: client.get_policy("tpol_x"))


def test_an_older_library_is_told_apart(client: kasko.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = kasko._lib.library()
    monkeypatch.setattr(lib, "has_checkout", False)
    with pytest.raises(kasko.InternalError) as info:
        client.create_quote(quote_request())
    assert "1.3.0" in info.value.message and "kasko_quote_create_v2" in info.value.message
    with pytest.raises(kasko.InternalError):
        client.resolve_payment(token="ptok_x", provider="invoice", method="invoice", policy_id="tpol_x")


# -- offers --------------------------------------------------------------------------

def test_an_offer_is_made_and_viewed(client: kasko.Client) -> None:
    quote = client.create_quote(quote_request())
    offer = client.create_offer(offer_request(quote, metadata={"order": "A-1"}))
    assert isinstance(offer, kasko.Offer)
    assert re.fullmatch(r"tpol_[A-Za-z0-9]{28}", offer.id), offer.id
    assert offer.insurer_policy_id is not None
    assert re.fullmatch(r"TEST-SANDBOX-[A-Z0-9]{8}", offer.insurer_policy_id)
    token = offer.payment_token
    assert token is not None and token.startswith("ptok_")
    assert offer.status is None  # the create's answer has no status
    assert offer.http_status == 201 and offer.attempts == 1 and offer.request_id
    assert offer.links is not None and offer.links["_self"]["href"].endswith("/policies/" + offer.id)

    view = client.get_offer(offer.id)
    assert view.id == offer.id and view.status == "ready" and view.http_status == 200
    assert same(view.payment_token, token), "the view's payment token is not the create's"
    assert view.insurer_policy_id == offer.insurer_policy_id
    assert view.raw["email"] == CUSTOMER["email"] and view.raw["language"] == "de"
    assert view.raw["metadata"] == {"order": "A-1"}
    assert view.raw["quote"]["gross_payment_amount"] == quote.gross_payment_amount
    assert view.raw["quote"]["customer_input"] == quote_request()["data"]
    assert isinstance(view.version_id, str) and view.version_id.startswith("tpv_")
    assert view.links is not None and view.links["_self"]["href"].endswith("/offers/" + offer.id)


def test_an_offers_repr_never_shows_the_payment_token(client: kasko.Client) -> None:
    offer = new_offer(client)
    view = client.get_offer(offer.id)
    for o in (offer, view):
        for text in (repr(o), str(o), f"{o}", repr([o])):
            leaked = shows_token(text)
            assert not leaked, "repr/str shows the payment token"
            assert "payment_token=[redacted]" in text and o.id in text
        redacted = o.to_dict(redact=True)
        assert redacted["payment_token"] == "[redacted]"
        leaked = shows_token(repr(redacted))
        assert not leaked, "to_dict(redact=True) holds the payment token"
        assert same(o.to_dict()["payment_token"], o.payment_token), "to_dict() lost the token"
    # Other members are untouched by redaction.
    assert view.to_dict(redact=True)["email"] == CUSTOMER["email"]


def test_offer_objects_compare_copy_and_pickle(client: kasko.Client) -> None:
    offer = new_offer(client)
    for copied in (copy.copy(offer), copy.deepcopy(offer), pickle.loads(pickle.dumps(offer))):
        assert isinstance(copied, kasko.Offer)
        assert same(copied, offer), "a copy is not equal"
        assert copied.request_id == offer.request_id and copied.http_status == 201
    assert hash(offer) == hash(copy.copy(offer))
    rebuilt = kasko.Offer.from_dict(offer.to_dict())
    assert same(rebuilt, offer) and rebuilt.request_id is None
    with pytest.raises(AttributeError):
        offer.id = "tpol_other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        kasko.Offer.from_dict({"payment_token": None})
    with pytest.raises(ValueError):
        kasko.Quote.from_dict({"token": "qtok_x"})


def test_offer_validation_is_a_400_with_the_servers_errors(client: kasko.Client) -> None:
    quote = client.create_quote(quote_request())
    with pytest.raises(kasko.BadRequestError) as info:
        client.create_offer(offer_request(quote, email="nobody", language="deu"))
    error = info.value
    assert error.http_status == 400 and "Data validation failed." in error.message
    assert set(error_fields(error)) == {("invalid_value", "email"), ("invalid_value", "language")}
    with pytest.raises(kasko.BadRequestError) as info:
        client.create_offer(dict(CUSTOMER, quote_token="qtok_" + "0" * 40))
    assert error_fields(info.value) == [("invalid_value", "quote_token")]


def test_unknown_offers_are_404_and_views_need_the_secret_key(
    client: kasko.Client, public_client: kasko.Client, sandbox_url: str, public_key: str,
) -> None:
    missing = "tpol_" + "0" * 28
    with pytest.raises(kasko.NotFoundError) as info:
        client.get_offer(missing)
    assert info.value.http_status == 404
    assert f"Offer - {missing} could not be found." in info.value.message
    offer = new_offer(client)
    with pytest.raises(kasko.AuthenticationError) as auth:
        public_client.get_offer(offer.id)
    assert auth.value.http_status == 401
    with kasko.Client(public_key, "sk_test_" + "y" * 24, base_url=sandbox_url) as wrong:
        with pytest.raises(kasko.AuthenticationError):
            wrong.get_offer(offer.id)
        with pytest.raises(kasko.AuthenticationError):
            wrong.get_policy(offer.id)


def test_manual_underwriting_gives_an_offer_without_a_token_until_approved(
    client: kasko.Client, sandbox: Sandbox,
) -> None:
    offer = new_offer(client, data={"manual_underwriting": True})
    assert offer.payment_token is None and "payment_token" not in offer.raw
    assert "payment_token" not in repr(offer)
    pending = client.get_offer(offer.id)
    assert pending.status == "pending" and pending.payment_token is None
    sandbox.approve(offer.id)
    ready = client.get_offer(offer.id)
    assert ready.status == "ready"
    token = ready.payment_token
    assert token is not None and token.startswith("ptok_")
    assert ready.version_id != pending.version_id
    payment = client.create_payment(token=token, provider="invoice", method="invoice",
                                    policy_id=offer.id)
    assert payment.status == "ok"
    assert client.get_offer(offer.id).status == "accepted"


# -- policies ------------------------------------------------------------------------

def wait_until_paid(client: kasko.Client, policy_id: str, deadline_s: float = 15.0) -> kasko.Policy:
    """Polls get_policy until the policy is paid (KASKO creates it
    asynchronously after the payment), failing after the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        policy = client.get_policy(policy_id)
        if policy.status == "paid":
            return policy
        assert time.monotonic() < deadline, f"policy {policy_id} not paid within {deadline_s} s"
        time.sleep(0.05)


def http_date(text: str) -> datetime.datetime:
    return email.utils.parsedate_to_datetime(text)


def test_a_policy_becomes_paid_and_its_etag_and_last_modified_change(client: kasko.Client) -> None:
    offer = new_offer(client)
    before = client.get_policy(offer.id)
    assert isinstance(before, kasko.Policy)
    assert before.id == offer.id and before.status == "pending" and not before.paid
    assert before.http_status == 200 and before.request_id
    assert before.etag is not None and before.etag == before.version_id
    assert before.last_modified is not None
    changed_at = http_date(before.last_modified)
    assert before.policy_created_date is None and before.assets == []
    assert before.start_date == START + "T00:00:00+00:00"
    end = datetime.date.fromisoformat(START) + datetime.timedelta(days=30)
    assert before.end_date is not None and before.end_date.startswith(end.isoformat())
    assert before.gross_premium == 4000 and before.premium_tax == tax_of(4000)
    # Last-Modified counts whole seconds: let the clock pass the second of
    # the last change, so that the payment's change shows in it.
    deadline = time.monotonic() + 5
    while datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) <= changed_at:
        assert time.monotonic() < deadline, "the clock did not pass Last-Modified"
        time.sleep(0.05)

    token = offer.payment_token
    assert token is not None
    client.create_payment(token=token, provider="invoice", method="invoice", policy_id=offer.id)
    after = wait_until_paid(client, offer.id)
    assert after.paid and after.etag is not None and after.last_modified is not None
    assert after.etag != before.etag and after.etag == after.version_id
    assert after.last_modified != before.last_modified
    assert http_date(after.last_modified) > changed_at
    assert after.policy_created_date is not None
    assert [a.get("designation") for a in after.assets] == ["policy_document"]
    text = repr(after)
    assert f"etag={after.etag!r}" in text and "status='paid'" in text
    leaked = shows_token(text)
    assert not leaked
    # The headers survive a pickle, like the call's other facts.
    assert pickle.loads(pickle.dumps(after)).etag == after.etag


def test_unknown_policies_are_404_and_views_need_the_secret_key(
    client: kasko.Client, public_client: kasko.Client,
) -> None:
    missing = "tpol_" + "1" * 28
    with pytest.raises(kasko.NotFoundError) as info:
        client.get_policy(missing)
    assert f"Policy - {missing} could not be found." in info.value.message
    offer = new_offer(client)
    with pytest.raises(kasko.AuthenticationError) as auth:
        public_client.get_policy(offer.id)
    assert auth.value.http_status == 401


def test_a_policy_view_is_retried_and_takes_call_options(
    client: kasko.Client, faults: Faults,
) -> None:
    offer = new_offer(client)
    faults.arm(offer.id, {"status": 503}, times=1, route="policy_view")
    policy = client.get_policy(offer.id, timeout_ms=10000,
                               traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    assert policy.attempts == 2 and policy.status == "pending"
    # Every attempt (the view is retried on timeouts) is slower than the
    # call's own limit, which replaces the client's 30 s.
    faults.arm(offer.id, {"delay_ms": 1500}, times=None, route="offer_view")
    with pytest.raises(kasko.NetworkError) as info:
        client.get_offer(offer.id, timeout_ms=200)
    assert info.value.code == "KASKO_ERR_NETWORK" and info.value.attempts == 3


# -- events and spans -----------------------------------------------------------------

needs_events = pytest.mark.skipif(not kasko._lib.library().has_events, reason="no event hook")


@needs_events
def test_the_new_operations_have_their_events(client: kasko.Client) -> None:
    events: List[kasko.Event] = []
    client.set_event_hook(events.append)
    offer = new_offer(client)
    client.get_offer(offer.id)
    client.get_policy(offer.id)
    client.set_event_hook(None)
    ends = [e for e in events if e.kind == "call_end"]
    seen = [(e.operation, e.method, e.route, e.code) for e in ends]
    assert seen == [
        ("quote_create", "POST", "/quotes", "KASKO_OK"),
        ("offer_create", "POST", "/policies", "KASKO_OK"),
        ("offer_get", "GET", "/offers/{id}", "KASKO_OK"),
        ("policy_get", "GET", "/policies/{id}", "KASKO_OK"),
    ]
    assert ends[2].path.endswith("/offers/" + offer.id) and "key=" not in ends[0].path
    for event in events:
        assert isinstance(event, kasko.Event)
        assert kasko.Event.from_dict(event.to_dict()) == event
        leaked = shows_token(repr(event.to_dict()))
        assert not leaked, "an event holds a payment token"


try:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import kasko.opentelemetry as kasko_otel

    HAVE_SDK = True
except ImportError:
    HAVE_SDK = False


@pytest.mark.skipif(not HAVE_SDK or not kasko._lib.library().has_events,
                    reason="opentelemetry-sdk is not installed, or no event hook")
def test_the_new_operations_have_their_spans(client: kasko.Client) -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    kasko_otel.instrument(client, tracer_provider=provider)
    try:
        offer = new_offer(client)
        client.get_offer(offer.id)
        client.get_policy(offer.id)
        token = offer.payment_token
        assert token is not None
        client.resolve_payment(token=token, provider="invoice", method="invoice", policy_id=offer.id)
    finally:
        kasko_otel.uninstrument(client)
        provider.shutdown()
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [
        "POST /quotes", "POST /policies", "GET /offers/{id}", "GET /policies/{id}", "payment_resolve",
    ]
    attributes = [dict(s.attributes or {}) for s in spans]
    assert [a["kasko.operation"] for a in attributes] == [
        "quote_create", "offer_create", "offer_get", "policy_get", "payment_resolve"]
    assert attributes[0]["url.template"] == "/quotes"
    assert str(attributes[0]["url.full"]).endswith("/quotes?key=REDACTED")
    assert str(attributes[1]["url.full"]).endswith("/policies?key=REDACTED")
    assert str(attributes[3]["url.full"]).endswith("/policies/" + offer.id)
    assert "http.request.method" not in attributes[4]
    # The resolution (a policy view, then the create) is one span with an
    # event per attempt of both.
    assert len([e for e in spans[4].events if e.name == "kasko.attempt"]) == 2
    assert attributes[4]["kasko.outcome"] == "succeeded"
    for a in attributes:
        leaked = shows_token(repr(a))
        assert not leaked
