"""The deferred provider: pending, 422 while pending, settling ok or
failed, and a failed payment freeing its policy."""

import pytest

import sandbox_support as ss


@pytest.fixture
def pending(sandbox, offer):
    """A pending deferred payment made with both keys: (offer, payment)."""
    d = ss.expect_full(ss.create(sandbox, offer, "deferred", headers=[ss.AUTH]), sandbox.url)
    return offer, d


def settle(sandbox, payment_id, body=None):
    headers = [ss.JSON_CT] if body is not None else []
    return sandbox.post("/__sandbox/payments/%s/settle" % payment_id, headers, body)


def test_deferred_create_with_secret_is_full_and_pending(pending):
    offer, d = pending
    assert d["status"] == "pending"
    assert d["processed_at"] is None
    assert d["token"] == offer.token
    assert d["policy_id"] == offer.policy_id
    assert d["provider"] == "deferred"


@pytest.mark.parametrize("provider", ["deferred", "invoice"])
def test_pending_payment_422(sandbox, pending, provider):
    offer, d = pending
    ss.expect_error(ss.create(sandbox, offer, provider), 422, "Unprocessable Entity",
                    ss.pending_message(offer.policy_id, d["id"]))


def test_view_pending(sandbox, pending):
    _, d = pending
    view = ss.expect_full(ss.view(sandbox, d["id"]), sandbox.url)
    assert view["status"] == "pending"
    assert view["processed_at"] is None


def test_settle_bad_status_400(sandbox, pending):
    ss.expect_bad_request(settle(sandbox, pending[1]["id"], '{"status":"maybe"}'), "status")


def test_settle_body_not_object_400(sandbox, pending):
    ss.expect_bad_request(settle(sandbox, pending[1]["id"], "[]"))


def test_settle_default_ok_then_viewed_settled(sandbox, pending):
    _, d = pending
    settled = ss.expect_full(settle(sandbox, d["id"]), sandbox.url)
    assert settled["status"] == "ok"
    assert settled["id"] == d["id"]
    view = ss.expect_full(ss.view(sandbox, d["id"]), sandbox.url)
    assert view["status"] == "ok"
    assert view["processed_at"] is not None


def test_settle_twice_409(sandbox, pending):
    _, d = pending
    ss.expect(settle(sandbox, d["id"]), 200)
    conflict = ss.expect(settle(sandbox, d["id"], '{"status":"ok"}'), 409)
    assert list(conflict) == ["status", "message"]
    assert conflict["status"] == "Conflict"


def test_paid_after_settle_400(sandbox, pending):
    offer, d = pending
    ss.expect(settle(sandbox, d["id"]), 200)
    ss.expect_error(ss.create(sandbox, offer, "deferred"), 400, "Bad Request", ss.already_paid(offer.policy_id))


def test_settle_unknown_404(sandbox):
    ss.expect_error(settle(sandbox, ss.UNKNOWN_ID), 404, "Not Found")


@pytest.fixture
def failed(sandbox, offer):
    """A deferred payment made with the public key only, then settled failed."""
    d = ss.expect_restricted(ss.create(sandbox, offer, "deferred"), sandbox.url)
    assert d["status"] == "pending"
    settled = ss.expect_full(settle(sandbox, d["id"], '{"status":"failed"}'), sandbox.url)
    assert settled["status"] == "failed"
    return offer, d["id"]


def test_deferred_create_key_only_is_restricted_and_pending(sandbox, offer):
    d = ss.expect_restricted(ss.create(sandbox, offer, "deferred"), sandbox.url)
    assert d["status"] == "pending"


def test_settle_failed_then_again_409(sandbox, failed):
    _, payment_id = failed
    assert ss.expect(settle(sandbox, payment_id, '{"status":"ok"}'), 409)["status"] == "Conflict"


def test_failed_frees_the_policy(sandbox, failed):
    offer, payment_id = failed
    retry = ss.expect_full(ss.create(sandbox, offer, "deferred", headers=[ss.AUTH]), sandbox.url)
    assert retry["status"] == "pending"
    assert retry["id"] != payment_id
    assert ss.expect_full(ss.view(sandbox, payment_id), sandbox.url)["status"] == "failed"


def test_failed_payment_still_viewable(sandbox, failed):
    _, payment_id = failed
    assert ss.expect_full(ss.view(sandbox, payment_id), sandbox.url)["status"] == "failed"
