"""POST /policies (an offer from a quote) and GET /offers/{id}: shapes,
refusals, manual underwriting and approval, and the offer's states
(ready -> accepted on payment; a failed deferred payment -> ready)."""

import re

import pytest

import checkout_support as cs
import sandbox_support as ss


def test_offer_created_shape(sandbox):
    created, offer = cs.new_offer(sandbox)
    assert list(created) == ["id", "insurer_policy_id", "payment_token", "_links"]
    assert re.fullmatch(r"tpol_[0-9a-f]{28}", created["id"]), created["id"]
    assert re.fullmatch(r"TEST-SANDBOX-[A-Z0-9]{8}", created["insurer_policy_id"]), created["insurer_policy_id"]
    cs.check_payment_token(created["payment_token"])
    assert created["_links"] == {"_self": {"href": sandbox.url + "/policies/" + created["id"]}}


def test_offers_differ(sandbox):
    quote = cs.new_quote(sandbox)
    first, _ = cs.new_offer(sandbox, quote)
    second, _ = cs.new_offer(sandbox, quote)
    assert first["id"] != second["id"]
    same_token = first["payment_token"] == second["payment_token"]
    assert not same_token, "two offers share a payment token"


def test_live_offer_is_lpol(spawn_sandbox):
    sb = spawn_sandbox("--public-key", "pk_live_smoke", "--secret-key", "sk_live_smoke")
    quote = ss.expect(cs.post_quote(sb, cs.quote_body(), key="pk_live_smoke"), 200)
    created = cs.expect_secret(cs.post_offer(sb, cs.offer_body(quote["token"]), key="pk_live_smoke"), 201)
    assert re.fullmatch(r"lpol_[0-9a-f]{28}", created["id"]), created["id"]


def test_offer_object(sandbox):
    quote = cs.new_quote(sandbox, plan=cs.ANNUAL, trip_cost=250000, start="2027-06-15")
    created, offer = cs.new_offer(sandbox, quote, data={"destination": "IT", "travellers": [1, 2]},
                                  metadata={"order": "A-1"}, language="en")
    d = cs.expect_secret(cs.view_offer(sandbox, created["id"]), 200)
    assert list(d) == cs.OFFER_FIELDS
    same_token = d["payment_token"] == offer.token
    assert same_token, "GET /offers shows another payment token than POST /policies gave"
    assert re.fullmatch(r"tpv_[0-9a-f]{28}", d["version_id"]), d["version_id"]
    assert (d["id"], d["insurer_policy_id"]) == (created["id"], created["insurer_policy_id"])
    assert (d["distributor_id"], d["insurer_id"]) == ("dis_sandbox", "insr_sandbox")
    assert (d["item_id"], d["integration_id"], d["subscription_plan_id"]) == (cs.ITEM, cs.TRAVEL, cs.ANNUAL)
    assert d["touchpoint_id"] is None and d["integration_version_id"] is None
    assert (d["first_name"], d["last_name"], d["email"]) == ("Erika", "Musterfrau", "erika@example.com")
    assert (d["currency"], d["language"], d["flow"], d["status"]) == ("eur", "en", "default", "ready")
    assert d["quote"] == {
        "version": 3, "integration_id": cs.TRAVEL, "item_id": cs.ITEM, "subscription_plan_id": cs.ANNUAL,
        "gross_payment_amount": quote["gross_payment_amount"], "payment_data": quote["extra_data"],
        "customer_input": {"policy_start_date": "2027-06-15", "trip_cost": 250000}}
    assert d["data"] == {"destination": "IT", "travellers": [1, 2]}
    assert d["media"] == [] and d["metadata"] == {"order": "A-1"}
    assert d["accepted_at"] is None
    assert re.fullmatch(cs.ISO_OFFSET, d["created_at"]), d["created_at"]
    assert d["_links"] == {"_self": {"href": sandbox.url + "/offers/" + d["id"]}}


def test_empty_data_and_metadata(sandbox):
    created, _ = cs.new_offer(sandbox, data=[], metadata=[])
    d = cs.expect_secret(cs.view_offer(sandbox, created["id"]), 200)
    assert d["data"] == [] and d["metadata"] == {}


@pytest.mark.parametrize("key,headers", [
    ("", [cs.OFFER_ACCEPT]), (ss.SK, [cs.OFFER_ACCEPT]),
    (ss.PK, [cs.OFFER_ACCEPT, ("Authorization", "Bearer nope")]),
], ids=["no-key", "secret-as-key", "wrong-bearer"])
def test_create_unauthorized_401(sandbox, key, headers):
    quote = cs.new_quote(sandbox)
    ss.expect_error(cs.post_offer(sandbox, cs.offer_body(quote["token"]), headers, key=key), 401, "Unauthorized",
                    "Not authorized.")


def test_create_with_valid_bearer(sandbox):
    quote = cs.new_quote(sandbox)
    cs.expect_secret(cs.post_offer(sandbox, cs.offer_body(quote["token"]), [cs.OFFER_ACCEPT, ss.AUTH]), 201)


@pytest.mark.parametrize("headers", [[], [cs.QUOTE_ACCEPT], [("Accept", "*/*")]], ids=["none", "v3", "any"])
def test_create_wrong_accept_400(sandbox, headers):
    quote = cs.new_quote(sandbox)
    ss.expect_error(cs.post_offer(sandbox, cs.offer_body(quote["token"]), headers), 400, "Bad Request",
                    "Offers need Accept: application/vnd.kasko.v2+json.")


@pytest.mark.parametrize("body", ["", "[]", "nope"])
def test_create_body_not_object_400(sandbox, body):
    ss.expect_error(cs.post_offer(sandbox, body), 400, "Bad Request", "The request body must be a JSON object.")


def test_create_missing_fields_all_listed(sandbox):
    cs.expect_validation(cs.post_offer(sandbox, "{}"), ("required", "quote_token"), ("required", "first_name"),
                         ("required", "last_name"), ("required", "email"), ("required", "language"))


def test_create_invalid_values(sandbox):
    body = cs.compact({"quote_token": "qtok_" + "0" * 40, "first_name": 7, "last_name": "", "email": "a@b@c",
                       "language": "DE", "data": "x", "metadata": [1]})
    cs.expect_validation(cs.post_offer(sandbox, body), ("invalid_value", "quote_token"),
                         ("invalid_value", "first_name"), ("required", "last_name"), ("invalid_value", "email"),
                         ("invalid_value", "language"), ("invalid_value", "data"), ("invalid_value", "metadata"))


@pytest.mark.parametrize("email", ["@example.com", "erika@", "erika", "er ika@example.com"])
def test_create_bad_email(sandbox, email):
    quote = cs.new_quote(sandbox)
    cs.expect_validation(cs.post_offer(sandbox, cs.offer_body(quote["token"], email=email)),
                         ("invalid_value", "email"))


@pytest.mark.parametrize("language", ["d", "deu", "d1", "é"])
def test_create_bad_language(sandbox, language):
    quote = cs.new_quote(sandbox)
    cs.expect_validation(cs.post_offer(sandbox, cs.offer_body(quote["token"], language=language)),
                         ("invalid_value", "language"))


def test_unknown_quote_token(sandbox):
    cs.expect_validation(cs.post_offer(sandbox, cs.offer_body("qtok_unknown")), ("invalid_value", "quote_token"))


def test_view_unauthorized_401(sandbox):
    created, _ = cs.new_offer(sandbox)
    for headers in ([], [("Authorization", "Bearer " + ss.PK)]):
        ss.expect_error(cs.view_offer(sandbox, created["id"], headers), 401, "Unauthorized", "Not authorized.")


def test_view_unknown_404(sandbox):
    ss.expect_error(cs.view_offer(sandbox, "tpol_" + "0" * 28), 404, "Not Found",
                    "Offer - tpol_%s could not be found." % ("0" * 28))


def test_manual_underwriting_then_approve(sandbox):
    created, offer = cs.new_offer(sandbox, data={"manual_underwriting": True})
    assert list(created) == ["id", "insurer_policy_id", "_links"]
    d = cs.expect_secret(cs.view_offer(sandbox, created["id"]), 200)
    assert d["status"] == "pending" and d["payment_token"] is None
    # No token yet: any payment is the token mismatch.
    offer.token = "ptok_" + "0" * 40
    ss.expect_error(cs.pay(sandbox, offer), 400, "Bad Request",
                    "The token is not valid for policy - %s." % created["id"])

    approved = cs.expect_secret(sandbox.post("/__sandbox/offers/%s/approve" % created["id"]), 200)
    assert list(approved) == cs.OFFER_FIELDS
    assert approved["status"] == "ready" and approved["version_id"] != d["version_id"]
    cs.check_payment_token(approved["payment_token"])
    offer.token = approved["payment_token"]
    ss.expect_restricted(cs.pay(sandbox, offer), sandbox.url)
    assert cs.offer_status(sandbox, created["id"]) == "accepted"


def test_approve_refusals(sandbox):
    created, _ = cs.new_offer(sandbox)
    ss.expect_error(sandbox.post("/__sandbox/offers/%s/approve" % created["id"]), 409, "Conflict",
                    "Offer - %s is not awaiting approval (status ready)." % created["id"])
    ss.expect_error(sandbox.post("/__sandbox/offers/tpol_nope/approve"), 404, "Not Found",
                    "Offer - tpol_nope could not be found.")


def test_accepted_on_invoice_payment(sandbox):
    created, offer = cs.new_offer(sandbox)
    before = cs.expect_secret(cs.view_offer(sandbox, created["id"]), 200)
    ss.expect_restricted(cs.pay(sandbox, offer), sandbox.url)
    after = cs.expect_secret(cs.view_offer(sandbox, created["id"]), 200)
    assert after["status"] == "accepted"
    assert re.fullmatch(cs.ISO_OFFSET, after["accepted_at"] or ""), after["accepted_at"]
    assert after["version_id"] != before["version_id"]


def test_failed_deferred_payment_puts_it_back_to_ready(sandbox):
    created, offer = cs.new_offer(sandbox)
    payment = ss.expect_restricted(cs.pay(sandbox, offer, "deferred"), sandbox.url)
    assert cs.offer_status(sandbox, created["id"]) == "accepted"
    cs.settle(sandbox, payment["id"], "failed")
    d = cs.expect_secret(cs.view_offer(sandbox, created["id"]), 200)
    assert d["status"] == "ready" and d["accepted_at"] is None
    # Payable again, and accepted again by the next payment.
    ss.expect_restricted(cs.pay(sandbox, offer, "deferred"), sandbox.url)
    assert cs.offer_status(sandbox, created["id"]) == "accepted"


def test_sandbox_shortcut_offer_is_viewable(sandbox, offer):
    d = cs.expect_secret(cs.view_offer(sandbox, offer.policy_id), 200)
    assert list(d) == cs.OFFER_FIELDS and d["status"] == "ready"
    assert d["subscription_plan_id"] == cs.SINGLE
    assert d["quote"]["customer_input"]["trip_cost"] == 100000
    same_token = d["payment_token"] == offer.token
    assert same_token, "the shortcut's token differs from the offer's"
    p = cs.policy(sandbox, offer.policy_id)
    assert p["status"] == "pending" and p["gross_premium"] == 4000
