"""Faults on the checkout routes (--faults): the fault keys (a quote's
integration_id, an offer's quote_token, a view's id), rules limited to one
route, drop after_body carrying the request out, and --random-faults on
every API route but not /__sandbox."""

import json

import pytest

import checkout_support as cs
import sandbox_support as ss

SANDBOX_FAULT = "sandbox fault"


def test_quote_create_key_is_the_integration_id(faults):
    ss.arm(faults, cs.BUILDING, '{"status":503}', 1)
    ss.expect_error(cs.post_quote(faults, cs.quote_body(integration=cs.BUILDING)), 503, "Service Unavailable",
                    SANDBOX_FAULT)
    ss.expect(cs.post_quote(faults, cs.quote_body(integration=cs.BUILDING)), 409)
    assert ss.attempts(faults, cs.BUILDING) == 2


def test_offer_create_key_is_the_quote_token(faults):
    quote = cs.new_quote(faults, trip_cost=424242)
    ss.arm(faults, quote["token"], '{"status":500}', 1)
    ss.expect_error(cs.post_offer(faults, cs.offer_body(quote["token"])), 500, "Internal Server Error",
                    SANDBOX_FAULT)
    cs.expect_secret(cs.post_offer(faults, cs.offer_body(quote["token"])), 201)
    assert ss.attempts(faults, quote["token"]) == 2


def test_offer_and_policy_views_keyed_by_id(faults):
    created, _ = cs.new_offer(faults)
    ss.arm(faults, created["id"], '{"status":502}', 2)
    ss.expect_error(cs.view_offer(faults, created["id"]), 502, "Bad Gateway", SANDBOX_FAULT)
    ss.expect_error(cs.view_policy(faults, created["id"]), 502, "Bad Gateway", SANDBOX_FAULT)
    ss.expect(cs.view_policy(faults, created["id"]), 200)
    assert ss.attempts(faults, created["id"]) == 3


def test_a_route_limits_the_rule(faults):
    created, offer = cs.new_offer(faults)
    pid = created["id"]
    ss.expect(faults.post("/__sandbox/faults", [ss.JSON_CT], json.dumps(
        {"key": pid, "fault": {"status": 503}, "times": 1, "route": "policy_view"})), 201)
    # Same key, other routes: untouched.
    cs.expect_secret(cs.view_offer(faults, pid), 200)
    ss.expect(cs.pay(faults, offer), 200)
    ss.expect_error(cs.view_policy(faults, pid), 503, "Service Unavailable", SANDBOX_FAULT)
    ss.expect(cs.view_policy(faults, pid), 200)


def test_route_rules_keep_their_order_per_route(faults):
    payment_id = ss.new_payment(faults)
    ss.expect(faults.post("/__sandbox/faults", [ss.JSON_CT], json.dumps(
        {"key": payment_id, "fault": {"status": 500}, "times": 1, "route": "payment_create"})), 201)
    ss.arm(faults, payment_id, '{"status":504}', 1)
    # The view skips the create-only rule and takes the next one.
    ss.expect_error(ss.view(faults, payment_id), 504, "Gateway Timeout", SANDBOX_FAULT)
    ss.expect_full(ss.view(faults, payment_id), faults.url)
    assert ss.expect(faults.delete("/__sandbox/faults/" + payment_id), 200) == {"cleared": 1}


@pytest.mark.parametrize("route", ["payments", "", 5, "POLICY_VIEW"])
def test_unknown_route_400(faults, route):
    body = json.dumps({"key": "k", "fault": {"status": 500}, "route": route})
    ss.expect_bad_request(faults.post("/__sandbox/faults", [ss.JSON_CT], body), "route", "policy_view")


def test_drop_after_body_on_offer_create_still_makes_the_offer(faults):
    quote = cs.new_quote(faults, trip_cost=31337)
    before = cs.stats(faults)["offers"]
    ss.arm(faults, quote["token"], '{"drop":"after_body"}', 1)
    assert cs.post_offer(faults, cs.offer_body(quote["token"])).outcome == "empty"
    assert cs.stats(faults)["offers"] == before + 1


def test_drop_before_body_on_quote_changes_nothing(faults):
    before = cs.stats(faults)["quotes"]
    assert cs.post_quote(faults, cs.quote_body(), [cs.QUOTE_ACCEPT, ss.fault('{"drop":"before_body"}')]) \
        .outcome == "empty"
    assert cs.stats(faults)["quotes"] == before


def test_header_fault_on_policy_view(faults):
    created, _ = cs.new_offer(faults)
    response = cs.view_policy(faults, created["id"], [ss.AUTH, cs.OFFER_ACCEPT,
                                                      ss.fault('{"status":429,"retry_after":1}')])
    ss.expect_error(response, 429, "Too Many Requests", SANDBOX_FAULT)
    assert response.header("retry-after") == "1"


def test_random_faults_apply_to_checkout_routes_not_sandbox(spawn_sandbox):
    sb = spawn_sandbox("--faults", "--random-faults", "1")
    # Every API request gets a fault; none is a normal 200 quote answer.
    for _ in range(8):
        response = cs.post_quote(sb, cs.quote_body())
        normal = (response.outcome == "response" and response.status == 200 and response.is_json()
                  and "token" in response.json and response.elapsed_ms < 50)
        assert not normal
    # The sandbox's own endpoints are never faulted.
    for _ in range(8):
        ss.expect(sb.get("/__sandbox/stats"), 200)
