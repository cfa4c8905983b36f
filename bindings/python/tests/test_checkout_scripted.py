"""The checkout calls against a scripted loopback server (no sandbox
routes needed): what is sent (method, path, Accept, key), how each answer
becomes its object (ETag/Last-Modified headers read from the result), and
answers the binding refuses itself (InvalidResponseError)."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List

import pytest

from conftest import ScriptedServer

import kasko

pytestmark = pytest.mark.skipif(
    not kasko._lib.library().has_checkout,
    reason="the library is older than 1.3: no checkout calls",
)

POLICY_ID = "tpol_" + "a" * 28
QUOTE_REQUEST = {"integration_id": "in_x", "item_id": "ins_x", "subscription_plan_id": "pp_x",
                 "data": {"trip_cost": 1}}
OFFER_REQUEST = {"quote_token": "qtok_" + "0" * 40, "first_name": "A", "last_name": "B",
                 "email": "a@b.example", "language": "de"}


@pytest.fixture
def scripted(scripted_server: ScriptedServer) -> Iterator[kasko.Client]:
    with kasko.Client("pk_test_scripted", "sk_test_scripted", base_url=scripted_server.url,
                      max_retries=0) as c:
        yield c


def test_a_quote_is_posted_with_the_v3_accept_and_decoded(
    scripted: kasko.Client, scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(200, {"token": "qtok_" + "1" * 40, "gross_payment_amount": 4000,
                                 "extra_data": {"tax_rate": 0.19}, "later": True})
    quote = scripted.create_quote(QUOTE_REQUEST)
    assert quote.token == "qtok_" + "1" * 40 and quote.gross_payment_amount == 4000
    assert quote.extra_data == {"tax_rate": 0.19} and quote.raw["later"] is True
    assert quote.request_id == "req_scripted1" and quote.http_status == 200
    method, path, headers = scripted_server.requests[0]
    assert method == "POST" and path.startswith("/quotes?key=")
    assert headers["accept"] == "application/vnd.kasko.v3+json"


def test_an_offer_is_posted_with_the_v2_accept_and_decoded(
    scripted: kasko.Client, scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(201, {"id": POLICY_ID, "insurer_policy_id": "TEST-SANDBOX-ABCDEFGH",
                                 "payment_token": "ptok_s", "_links": {}})
    offer = scripted.create_offer(OFFER_REQUEST)
    assert offer.id == POLICY_ID and offer.insurer_policy_id == "TEST-SANDBOX-ABCDEFGH"
    assert offer.payment_token == "ptok_s" and offer.http_status == 201
    leaked = "ptok_" in repr(offer)
    assert not leaked
    method, path, headers = scripted_server.requests[0]
    assert method == "POST" and path.startswith("/policies?key=")
    assert headers["accept"] == "application/vnd.kasko.v2+json"
    # Manual underwriting: no token member at all.
    scripted_server.script(201, {"id": POLICY_ID, "insurer_policy_id": "TEST-SANDBOX-ABCDEFGH"})
    assert scripted.create_offer(OFFER_REQUEST).payment_token is None


def test_the_request_mapping_is_sent_as_json(
    scripted: kasko.Client, scripted_server: ScriptedServer,
) -> None:
    from types import MappingProxyType

    scripted_server.script(200, {"token": "qtok_x", "gross_payment_amount": 1, "extra_data": {}})
    scripted.create_quote(MappingProxyType(dict(QUOTE_REQUEST, note="Zürich")))
    assert scripted_server.requests[0][0] == "POST"


def test_a_policy_views_headers_are_read(
    scripted: kasko.Client, scripted_server: ScriptedServer,
) -> None:
    date = "Wed, 02 Dec 2026 12:00:00 GMT"
    scripted_server.script(200, {"id": POLICY_ID, "status": "pending", "version_id": "tpv_1"},
                           {"ETag": "tpv_1", "Last-Modified": date})
    policy = scripted.get_policy(POLICY_ID)
    assert policy.etag == "tpv_1" and policy.last_modified == date and not policy.paid
    method, path, headers = scripted_server.requests[0]
    assert (method, path) == ("GET", f"/policies/{POLICY_ID}")
    assert headers["accept"] == "application/vnd.kasko.v2+json"
    assert headers["authorization"].startswith("Bearer ")
    # Without the headers: None.
    scripted_server.script(200, {"id": POLICY_ID, "status": "paid"})
    bare = scripted.get_policy(POLICY_ID)
    assert bare.etag is None and bare.last_modified is None and bare.paid


def test_an_offer_view(scripted: kasko.Client, scripted_server: ScriptedServer) -> None:
    scripted_server.script(200, {"id": POLICY_ID, "status": "ready", "payment_token": "ptok_v",
                                 "version_id": "tpv_2"})
    offer = scripted.get_offer(POLICY_ID)
    assert offer.status == "ready" and offer.version_id == "tpv_2"
    assert scripted_server.requests[0][:2] == ("GET", f"/offers/{POLICY_ID}")


@pytest.mark.parametrize("call, body", [
    ("quote", {"token": "qtok_x", "gross_payment_amount": "4000", "extra_data": {}}),
    ("quote", {"token": "qtok_x", "gross_payment_amount": 4000}),
    ("policy", {"id": POLICY_ID}),
    ("policy", {"id": POLICY_ID, "status": 7}),
    ("offer", {"id": POLICY_ID, "payment_token": 7}),
])
def test_answers_that_are_not_the_object_are_invalid_responses(
    scripted: kasko.Client, scripted_server: ScriptedServer, call: str, body: Dict[str, Any],
) -> None:
    scripted_server.script(200, body)
    with pytest.raises(kasko.InvalidResponseError) as info:
        if call == "quote":
            scripted.create_quote(QUOTE_REQUEST)
        elif call == "policy":
            scripted.get_policy(POLICY_ID)
        else:
            scripted.get_offer(POLICY_ID)
    error = info.value
    assert error.http_status == 200 and error.request_id == "req_scripted1"
    assert error.outcome == "unknown"


def test_a_paid_policy_resolves_without_a_create(
    scripted: kasko.Client, scripted_server: ScriptedServer,
) -> None:
    scripted_server.script(200, {"id": POLICY_ID, "status": "paid"})
    resolution = scripted.resolve_payment(token="ptok_s", provider="invoice", method="invoice",
                                          policy_id=POLICY_ID)
    assert resolution.state is kasko.PaymentState.PAID and resolution.evidence == "policy_paid"
    assert resolution.created_by_this_call is False and resolution.payment_id is None
    assert resolution.attempts == 1 and resolution.http_status == 200
    assert [r[0] for r in scripted_server.requests] == ["GET"]


def test_a_pending_payment_is_read_from_the_422(
    scripted: kasko.Client, scripted_server: ScriptedServer,
) -> None:
    pending = "t" + "b" * 32
    scripted_server.script(200, {"id": POLICY_ID, "status": "pending"})
    scripted_server.script(422, {"status": "Unprocessable Entity",
                                 "message": f"Policy already has pending payment - {pending}"})
    resolution = scripted.resolve_payment(token="ptok_s", provider="deferred", method="deferred",
                                          policy_id=POLICY_ID)
    assert resolution.state == "pending" and resolution.payment_id == pending
    assert resolution.evidence == "pending_payment" and resolution.attempts == 2
    assert [r[0] for r in scripted_server.requests] == ["GET", "POST"]
    assert json.loads(json.dumps(resolution.to_dict()))["state"] == "pending"


def test_a_validation_failure_carries_the_errors_array(
    scripted: kasko.Client, scripted_server: ScriptedServer,
) -> None:
    errors = [{"code": "required", "field": "policy_start_date"}]
    scripted_server.script(400, {"status": "Bad Request", "message": "Data validation failed.",
                                 "errors": errors})
    with pytest.raises(kasko.BadRequestError) as info:
        scripted.create_quote(QUOTE_REQUEST)
    assert info.value.errors == errors and info.value.http_status == 400


def test_the_checkout_prototypes_match_the_header(header_file: Any) -> None:
    """Each ctypes declaration of a 1.3 checkout function has the header's
    parameters: a ``const char *`` is ``c_char_p``, a ``T **`` out
    parameter ``POINTER(c_void_p)``, another pointer ``c_void_p``; the
    return type ``kasko_status`` is ``c_int``, ``const char *`` ``c_char_p``."""
    import ctypes
    import re

    text = re.sub(r"/\*.*?\*/", "", header_file.read_text(), flags=re.S)
    for name, (argtypes, restype) in kasko._lib._SIGNATURES_1_3_CHECKOUT.items():
        found = re.search(r"([\w \*]+?)\b%s\s*\(([^)]*)\)" % name, text)
        assert found is not None, f"{name} is not in {header_file}"
        returns, parameters = found.group(1).strip(), found.group(2)
        expected_return = ctypes.c_char_p if returns.startswith("const char") else ctypes.c_int
        assert restype is expected_return, (name, returns)
        params = [p.strip() for p in parameters.split(",")]
        assert len(params) == len(argtypes), (name, params)
        for param, argtype in zip(params, argtypes):
            if param.startswith("const char *"):
                assert argtype is ctypes.c_char_p, (name, param)
            elif "**" in param:
                assert argtype == ctypes.POINTER(ctypes.c_void_p), (name, param)
            else:
                assert "*" in param and argtype is ctypes.c_void_p, (name, param)


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
def test_checkout_spans_and_events_on_a_scripted_server(
    scripted: kasko.Client, scripted_server: ScriptedServer,
) -> None:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    events: List[kasko.Event] = []
    scripted.set_event_hook(events.append)
    kasko_otel.instrument(scripted, tracer_provider=provider)
    try:
        scripted_server.script(200, {"token": "qtok_x", "gross_payment_amount": 1, "extra_data": {}})
        scripted.create_quote(QUOTE_REQUEST)
        scripted_server.script(201, {"id": POLICY_ID, "payment_token": "ptok_s"})
        scripted.create_offer(OFFER_REQUEST)
        scripted_server.script(200, {"id": POLICY_ID, "status": "ready"})
        scripted.get_offer(POLICY_ID)
        scripted_server.script(200, {"id": POLICY_ID, "status": "pending"})
        scripted_server.script(422, {"status": "Unprocessable Entity",
                                     "message": "Policy already has pending payment - t" + "c" * 32})
        scripted.resolve_payment(token="ptok_s", provider="deferred", method="deferred",
                                 policy_id=POLICY_ID)
    finally:
        kasko_otel.uninstrument(scripted)
        scripted.set_event_hook(None)
        provider.shutdown()
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == [
        "POST /quotes", "POST /policies", "GET /offers/{id}", "payment_resolve"]
    attributes = [dict(s.attributes or {}) for s in spans]
    assert str(attributes[0]["url.full"]).endswith("/quotes?key=REDACTED")
    assert str(attributes[2]["url.full"]).endswith(f"/offers/{POLICY_ID}")
    # The resolution's span ends with its create: url.full is the create's.
    assert str(attributes[3]["url.full"]).endswith("/payments?key=REDACTED")
    assert attributes[3]["kasko.attempts"] == 2 and "url.template" not in attributes[3]
    ends = [(e.operation, e.route) for e in events if e.kind == "call_end"]
    assert ends == [("quote_create", "/quotes"), ("offer_create", "/policies"),
                    ("offer_get", "/offers/{id}"), ("policy_get", "/policies/{id}"),
                    ("payment_create", "/payments")]
