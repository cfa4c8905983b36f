"""Creating and viewing payments: the reference examples, paid policies,
query forms, and one winner among concurrent creates."""

import collections

import pytest

import sandbox_support as ss


def reference_create(sandbox, offer):
    """The reference's create example, public key only, as written there."""
    body = ('{\n    "token": "%s",\n    "method": "invoice",\n    "provider": "invoice",\n'
            '    "policy_id": "%s"\n}' % (offer.token, offer.policy_id))
    return sandbox.post("/payments?key=" + ss.PK, [("Content-Type", "application/json")], body)


def test_create_invoice_payment_key_only_is_restricted_and_ok(sandbox, offer):
    d = ss.expect_restricted(reference_create(sandbox, offer), sandbox.url)
    assert d["provider"] == "invoice"
    assert d["method"] == "invoice"
    assert d["status"] == "ok"


def test_create_with_secret_is_full(sandbox, offer):
    d = ss.expect_full(ss.create(sandbox, offer, headers=[ss.AUTH]), sandbox.url)
    assert (d["status"], d["provider"], d["policy_id"], d["token"]) == ("ok", "invoice", offer.policy_id, offer.token)


@pytest.fixture
def paid(sandbox, offer):
    """An offer paid by the reference create; (offer, payment id)."""
    return offer, ss.expect_restricted(reference_create(sandbox, offer), sandbox.url)["id"]


def test_already_paid_400(sandbox, paid):
    offer, _ = paid
    response = ss.create(sandbox, offer, headers=[ss.AUTH])
    ss.expect_error(response, 400, "Bad Request", ss.already_paid(offer.policy_id))


def test_already_paid_other_provider_400(sandbox, paid):
    offer, _ = paid
    ss.expect_error(ss.create(sandbox, offer, "deferred"), 400, "Bad Request", ss.already_paid(offer.policy_id))


def test_reference_view_is_full(sandbox, paid):
    offer, payment_id = paid
    response = sandbox.get("/payments/" + payment_id,
                           [("Accept", "application/vnd.kasko.v2+json"), ("Authorization", "Bearer " + ss.SK)])
    d = ss.expect_full(response, sandbox.url)
    assert d["id"] == payment_id
    assert d["status"] == "ok"
    assert d["provider"] == "invoice"
    assert d["policy_id"] == offer.policy_id
    assert d["token"] == offer.token
    assert d["error_code"] is None


def test_view_unknown_404(sandbox):
    ss.expect_error(ss.view(sandbox, "t84223322f013e2287210b6295010fc6a"), 404, "Not Found")


def test_percent_encoded_key_among_other_params(sandbox, offer):
    response = sandbox.post("/payments?foo=1&key=pk%5Ftest%5Fsandbox", [ss.JSON_CT], offer.body())
    ss.expect_restricted(response, sandbox.url)


def test_concurrent_creates_on_one_policy_one_wins(sandbox, offer):
    body = offer.body("deferred")
    responses = ss.concurrently(24, lambda i: sandbox.post("/payments?key=" + ss.PK, [ss.JSON_CT], body))
    codes = collections.Counter(r.status for r in responses)
    assert codes == {200: 1, 422: 23}, codes
    winner = next(r for r in responses if r.status == 200).json["id"]
    for r in responses:
        if r.status == 422:
            assert r.json["message"] == ss.pending_message(offer.policy_id, winner)
