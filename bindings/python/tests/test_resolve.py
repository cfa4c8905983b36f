"""resolve_payment, the way out of a create whose outcome is unknown,
against the sandbox over HTTP: a create is made to fail with outcome
"unknown" by a fault armed on the payment create route only (so that the
resolution's policy view is untouched), and the resolution says what the
lost create did, or pays itself when the server never acted; the sandbox's
per-policy payment counter proves that there is never a second payment.

No test prints a payment token (see test_checkout)."""

from __future__ import annotations

import pickle
import time
from typing import Any, Dict

import pytest

from conftest import Faults, Sandbox
from test_checkout import new_offer, same, shows_token, wait_until_paid

import kasko

pytestmark = pytest.mark.skipif(
    not kasko._lib.library().has_checkout,
    reason="the library is older than 1.3: no resolve_payment",
)


def fields(offer: kasko.Offer, provider: str = "invoice") -> Dict[str, Any]:
    token = offer.payment_token
    assert token is not None
    return {"token": token, "provider": provider, "method": provider, "policy_id": offer.id}


def lose_create(client: kasko.Client, faults: Faults, offer: kasko.Offer, provider: str,
                drop: str) -> kasko.KaskoError:
    """A create_payment of the offer whose connection is dropped (`drop`:
    "after_body", the sandbox paid; "before_body", it did not): it fails
    with outcome "unknown", the case resolve_payment is for."""
    faults.arm(offer.id, {"drop": drop}, times=1, route="payment_create")
    with pytest.raises(kasko.KaskoError) as info:
        client.create_payment(**fields(offer, provider))
    error = info.value
    assert isinstance(error, kasko.NetworkError), (type(error).__name__, error.code, error.message)
    assert error.outcome == "unknown" and error.attempts == 1
    return error


def test_a_lost_invoice_create_that_paid_resolves_as_paid(
    client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    offer = new_offer(client)
    lose_create(client, faults, offer, "invoice", "after_body")
    assert len(sandbox.payments_of(offer.id)) == 1  # the sandbox did pay
    resolution = client.resolve_payment(**fields(offer))
    assert isinstance(resolution, kasko.PaymentResolution)
    assert resolution.state is kasko.PaymentState.PAID and resolution.state == "paid"
    assert resolution.state == kasko.PaymentResolution.PAID
    assert resolution.created_by_this_call is False
    # The policy view may still say "pending" (creation is asynchronous):
    # then the repeated create's "already paid" is the evidence.
    assert resolution.evidence in ("policy_paid", "already_paid")
    assert resolution.policy_id == offer.id and resolution.message
    assert resolution.http_status in (200, 400) and resolution.attempts is not None
    assert resolution.attempts >= 1 and resolution.total_time is not None
    assert len(sandbox.payments_of(offer.id)) == 1
    # Once the policy is paid, the view alone answers, and nothing is sent
    # that could pay.
    wait_until_paid(client, offer.id)
    again = client.resolve_payment(**fields(offer))
    assert again.state == "paid" and again.evidence == "policy_paid" and again.attempts == 1
    assert again.http_status == 200
    assert len(sandbox.payments_of(offer.id)) == 1


def test_a_lost_deferred_create_resolves_as_pending_with_its_payment(
    client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    offer = new_offer(client)
    lose_create(client, faults, offer, "deferred", "after_body")
    payments = sandbox.payments_of(offer.id)
    assert len(payments) == 1
    resolution = client.resolve_payment(**fields(offer, "deferred"))
    assert resolution.state is kasko.PaymentState.PENDING
    assert resolution.payment_id == payments[0]
    assert resolution.evidence == "pending_payment" and resolution.created_by_this_call is False
    assert resolution.http_status == 422
    assert sandbox.payments_of(offer.id) == payments
    # The pending payment named is the one to wait for: settle it, and the
    # resolution then says paid, still without a second payment.
    assert client.get_payment(payments[0]).status == "pending"
    sandbox.settle(payments[0])
    wait_until_paid(client, offer.id)
    settled = client.resolve_payment(**fields(offer, "deferred"))
    assert settled.state == "paid" and settled.evidence == "policy_paid"
    assert sandbox.payments_of(offer.id) == payments


@pytest.mark.parametrize("provider", ["invoice", "deferred"])
def test_a_create_the_server_never_acted_on_is_made_by_the_resolution(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, provider: str,
) -> None:
    offer = new_offer(client)
    lose_create(client, faults, offer, provider, "before_body")
    assert sandbox.payments_of(offer.id) == []  # nothing was carried out
    resolution = client.resolve_payment(**fields(offer, provider))
    assert resolution.created_by_this_call is True and resolution.evidence == "created"
    expected = kasko.PaymentState.PAID if provider == "invoice" else kasko.PaymentState.PENDING
    assert resolution.state is expected
    assert resolution.payment_id is not None
    assert sandbox.payments_of(offer.id) == [resolution.payment_id]
    assert resolution.http_status in (200, 201)
    assert resolution.attempts == 2  # the policy view, then the create
    # Resolving again never pays twice: it reads back the payment made.
    again = client.resolve_payment(**fields(offer, provider))
    assert again.created_by_this_call is False
    assert again.state == ("paid" if provider == "invoice" else "pending")
    assert sandbox.payments_of(offer.id) == [resolution.payment_id]


def test_a_refused_create_resolves_as_not_paid(
    client: kasko.Client, sandbox: Sandbox,
) -> None:
    offer = new_offer(client)
    other = new_offer(client)
    wrong = fields(offer)
    wrong["token"] = fields(other)["token"]  # a token of another policy
    resolution = client.resolve_payment(**wrong)
    assert resolution.state is kasko.PaymentState.NOT_PAID
    assert resolution.evidence == "create_refused" and resolution.payment_id is None
    assert resolution.created_by_this_call is False and resolution.http_status == 400
    assert sandbox.payments_of(offer.id) == [] and sandbox.payments_of(other.id) == []
    missing = client.resolve_payment(**dict(fields(offer), provider="nowhere", method="nowhere"))
    assert missing.state == "not_paid" and missing.http_status == 404


def test_resolution_failures_raise_and_settle_nothing(
    client: kasko.Client, public_client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    offer = new_offer(client)
    # The policy view needs the secret key.
    with pytest.raises(kasko.AuthenticationError):
        public_client.resolve_payment(**fields(offer))
    # An unknown policy: the view's 404.
    with pytest.raises(kasko.NotFoundError):
        client.resolve_payment(**dict(fields(offer), policy_id="tpol_" + "2" * 28))
    # The repeated create gets no answer either: still unknown, raised.
    faults.arm(offer.id, {"drop": "before_body"}, times=1, route="payment_create")
    with pytest.raises(kasko.NetworkError) as info:
        client.resolve_payment(**fields(offer))
    assert info.value.outcome == "unknown" and info.value.attempts == 2
    assert sandbox.payments_of(offer.id) == []
    # ... and a later resolution settles it.
    assert client.resolve_payment(**fields(offer)).created_by_this_call is True
    assert len(sandbox.payments_of(offer.id)) == 1


def test_a_resolution_object(client: kasko.Client) -> None:
    offer = new_offer(client)
    resolution = client.resolve_payment(**fields(offer))
    text = repr(resolution)
    leaked = shows_token(text)
    assert not leaked
    assert text.startswith("<kasko.PaymentResolution state='paid' ")
    assert "created_by_this_call=True" in text and "evidence='created'" in text
    assert resolution.raw["object"] == "payment_resolution"
    assert str(resolution.state) == "paid" and f"{resolution.state}" == "paid"
    copied = pickle.loads(pickle.dumps(resolution))
    assert same(copied, resolution) and copied.state is kasko.PaymentState.PAID
    assert kasko.PaymentResolution.from_dict(resolution.to_dict()) == resolution
    with pytest.raises(ValueError):
        kasko.PaymentResolution.from_dict(dict(resolution.raw, state="maybe"))
    assert [s.value for s in kasko.PaymentState] == ["paid", "pending", "not_paid"]


def test_a_resolution_takes_call_options(client: kasko.Client, faults: Faults) -> None:
    offer = new_offer(client)
    faults.arm(offer.id, {"delay_ms": 1500}, times=None, route="policy_view")
    started = time.monotonic()
    with pytest.raises(kasko.NetworkError):
        client.resolve_payment(**fields(offer), timeout_ms=200)
    assert time.monotonic() - started < 10
    with pytest.raises(kasko.InvalidArgumentError):
        client.resolve_payment(**fields(offer), traceparent="bogus")
