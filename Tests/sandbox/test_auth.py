"""Credentials: the public key (?key=) for creates, the secret key (Bearer)
for views, and live keys."""

import pytest

import sandbox_support as ss

CREATE_REFUSED = "Not authorized for policy purchase."
VIEW_REFUSED = "Not authorized."


@pytest.mark.parametrize("query, headers", [
    ("", []),
    ("?key=pk_test_wrong", []),
    ("?key=", []),
    ("?key=" + ss.PK, [("Authorization", "Bearer sk_test_wrong")]),
    ("?key=" + ss.PK, [("Authorization", ss.SK)]),
    ("?key=" + ss.SK, []),
], ids=["no-key", "wrong-key", "empty-key", "wrong-secret", "non-bearer-auth", "secret-key-as-key"])
def test_create_refused(sandbox, offer, query, headers):
    response = sandbox.post("/payments" + query, [ss.JSON_CT] + headers, offer.body())
    ss.expect_error(response, 401, "Unauthorized", CREATE_REFUSED)


def test_credentials_checked_before_the_body(sandbox):
    response = sandbox.post("/payments?key=" + ss.PK, [ss.JSON_CT, ("Authorization", "Bearer sk_test_wrong")],
                            "not json")
    ss.expect_error(response, 401, "Unauthorized", CREATE_REFUSED)


@pytest.fixture
def payment_id(sandbox):
    return ss.new_payment(sandbox)


@pytest.mark.parametrize("query, headers", [
    ("", []),
    ("?key=" + ss.PK, []),
    ("", [("Authorization", "Bearer " + ss.PK)]),
    ("", [("Authorization", "Bearer")]),
], ids=["no-auth", "public-key-only", "public-key-as-bearer", "empty-bearer"])
def test_view_refused(sandbox, payment_id, query, headers):
    response = sandbox.get("/payments/" + payment_id + query, headers)
    ss.expect_error(response, 401, "Unauthorized", VIEW_REFUSED)


def test_view_unknown_without_auth_is_401_not_404(sandbox):
    response = sandbox.get("/payments/t84223322f013e2287210b6295010fc6a")
    ss.expect_error(response, 401, "Unauthorized", VIEW_REFUSED)


@pytest.fixture
def live(spawn_sandbox):
    return spawn_sandbox("--public-key", "pk_live_smoke", "--secret-key", "sk_live_smoke", name="live")


def test_live_sandbox_refuses_test_key(live):
    offer = ss.new_offer(live)
    ss.expect_error(ss.create(live, offer), 401, "Unauthorized", CREATE_REFUSED)


def test_live_payment_has_l_id_and_livemode(live):
    offer = ss.new_offer(live)
    response = ss.create(live, offer, key="pk_live_smoke", headers=[("Authorization", "Bearer sk_live_smoke")])
    d = ss.expect_full(response, live.url, live=True)
    assert d["status"] == "ok"


def test_live_sandbox_refuses_test_secret(live):
    offer = ss.new_offer(live)
    d = ss.expect_full(ss.create(live, offer, key="pk_live_smoke", headers=[("Authorization", "Bearer sk_live_smoke")]),
                       live.url, live=True)
    ss.expect_error(ss.view(live, d["id"]), 401, "Unauthorized", VIEW_REFUSED)
    ss.expect_full(ss.view(live, d["id"], [("Authorization", "Bearer sk_live_smoke")]), live.url, live=True)
