"""Armed fault rules (--faults): on views (key: the payment id) and creates
(key: the body's policy_id), their order and times, per-key independence,
clearing, the header's precedence, and the attempt counts."""

import collections
import uuid

import sandbox_support as ss

SANDBOX_FAULT = "sandbox fault"


def test_view_rules_apply_in_order_then_expire(faults, fault_payment):
    pid = fault_payment
    ss.arm(faults, pid, '{"status":503,"retry_after":0}', 2)
    ss.arm(faults, pid, '{"drop":"before_body"}', 1)
    ss.arm(faults, pid, '{"drop":"after_body"}', 1)
    ss.arm(faults, pid, '{"reset":true}', 1)
    for _ in range(2):
        response = ss.view(faults, pid)
        ss.expect_error(response, 503, "Service Unavailable", SANDBOX_FAULT)
        assert response.header("retry-after") == "0"
    assert ss.view(faults, pid).outcome == "empty"
    assert ss.view(faults, pid).outcome == "empty"
    assert ss.view(faults, pid).outcome == "reset"
    assert ss.expect_full(ss.view(faults, pid), faults.url)["id"] == pid
    ss.expect_full(ss.view(faults, pid), faults.url)
    assert ss.attempts(faults, pid) == 7


def test_unauthorized_views_are_counted_too(faults, fault_payment):
    ss.expect_full(ss.view(faults, fault_payment), faults.url)
    ss.expect_error(ss.view(faults, fault_payment, headers=[]), 401, "Unauthorized", "Not authorized.")
    assert ss.attempts(faults, fault_payment) == 2


def test_view_body_rules(faults, fault_payment):
    pid = fault_payment
    for spec in ('{"body":"truncated"}', '{"body":"oversized"}', '{"body":"non_json"}', '{"body":"not_payment"}',
                 '{"trickle_ms":2}', '{"delay_ms":250}', '{"close":"after_response"}'):
        ss.arm(faults, pid, spec, 1)
    truncated = ss.view(faults, pid)
    assert (truncated.outcome, truncated.status) == ("partial", 200), truncated
    oversized = ss.view(faults, pid)
    d = ss.expect(oversized, 200)
    assert len(oversized.raw) == 2097152 and d["object"] == "payment" and d["id"] == pid
    non_json = ss.view(faults, pid)
    assert (non_json.outcome, non_json.status) == ("response", 200) and not non_json.is_json(), non_json
    assert ss.expect(ss.view(faults, pid), 200) == {"object": "refund", "id": "r1"}
    trickled = ss.view(faults, pid)
    assert ss.expect_full(trickled, faults.url)["id"] == pid
    assert trickled.elapsed_ms >= 200, "trickle_ms 2 over a whole payment took %d ms" % trickled.elapsed_ms
    delayed = ss.view(faults, pid)
    ss.expect_full(delayed, faults.url)
    assert delayed.elapsed_ms >= 250, delayed.elapsed_ms
    closing = ss.view(faults, pid)
    ss.expect_full(closing, faults.url)
    assert not closing.has_header("connection")
    assert ss.attempts(faults, pid) == 7


def test_rule_without_times_lasts_until_cleared(faults):
    first, second = ss.new_payment(faults), ss.new_payment(faults)
    ss.arm(faults, first, '{"status":500}')
    for _ in range(3):
        ss.expect_error(ss.view(faults, first), 500, "Internal Server Error", SANDBOX_FAULT)
    # Rules are per key.
    assert ss.expect_full(ss.view(faults, second), faults.url)["id"] == second
    # The header overrides the rule.
    ss.expect_full(ss.view(faults, first, [ss.AUTH, ss.fault("{}")]), faults.url)
    assert ss.expect(faults.delete("/__sandbox/faults/" + first), 200) == {"cleared": 1}
    ss.expect_full(ss.view(faults, first), faults.url)
    assert ss.attempts(faults, first) == 5
    assert ss.attempts(faults, second) == 1


def test_the_header_does_not_consume_a_rule(faults, fault_payment):
    ss.arm(faults, fault_payment, '{"status":503}', 1)
    ss.expect_error(ss.view(faults, fault_payment, [ss.AUTH, ss.fault('{"status":502}')]), 502, "Bad Gateway",
                    SANDBOX_FAULT)
    ss.expect_error(ss.view(faults, fault_payment), 503, "Service Unavailable", SANDBOX_FAULT)
    ss.expect_full(ss.view(faults, fault_payment), faults.url)


def test_delete_faults_clears_all(faults):
    first, second = ss.new_payment(faults), ss.new_payment(faults)
    ss.arm(faults, first, '{"status":503}')
    ss.arm(faults, second, '{"status":503}', 5)
    assert ss.expect(faults.delete("/__sandbox/faults"), 200) == {"cleared": 2}
    ss.expect_full(ss.view(faults, first), faults.url)
    ss.expect_full(ss.view(faults, second), faults.url)


def test_delete_attempts_of_one_key(faults):
    first, second = ss.new_payment(faults), ss.new_payment(faults)
    for _ in range(2):
        ss.view(faults, first)
        ss.view(faults, second)
    assert ss.expect(faults.delete("/__sandbox/attempts/" + first), 200) == {"cleared": 1}
    assert ss.attempts(faults, first) == 0
    assert ss.attempts(faults, second) == 2
    assert ss.expect(faults.delete("/__sandbox/attempts/" + first), 200) == {"cleared": 0}


def test_delete_attempts_resets_all(faults):
    ss.expect(faults.delete("/__sandbox/attempts"), 200)
    # Views of unknown payments: counted, and nothing else is.
    keys = ["t" + uuid.uuid4().hex for _ in range(3)]
    for key in keys:
        ss.expect(ss.view(faults, key), 404)
    d = ss.expect(faults.delete("/__sandbox/attempts"), 200)
    assert d == {"cleared": 3}
    assert [ss.attempts(faults, key) for key in keys] == [0, 0, 0]


# ---- rules on creates

def test_create_drop_after_body_still_makes_the_payment(faults, fault_offer):
    offer = fault_offer
    ss.arm(faults, offer.policy_id, '{"drop":"after_body"}', 1)
    assert ss.create(faults, offer).outcome == "empty"
    ss.expect_error(ss.create(faults, offer), 400, "Bad Request", ss.already_paid(offer.policy_id))
    assert ss.attempts(faults, offer.policy_id) == 2


def test_deferred_create_drop_after_body_leaves_a_pending_payment(faults, fault_offer):
    offer = fault_offer
    ss.arm(faults, offer.policy_id, '{"drop":"after_body"}', 1)
    assert ss.create(faults, offer, "deferred", headers=[ss.AUTH]).outcome == "empty"
    d = ss.expect(ss.create(faults, offer, "deferred"), 422)
    assert d["status"] == "Unprocessable Entity" and "already has pending payment" in d["message"], d
    dropped = d["message"].rsplit(" ", 1)[1].rstrip(".")
    p = ss.expect_full(ss.view(faults, dropped), faults.url)
    assert (p["id"], p["policy_id"], p["status"]) == (dropped, offer.policy_id, "pending")
    settled = ss.expect_full(faults.post("/__sandbox/payments/%s/settle" % dropped), faults.url)
    assert settled["status"] == "ok"
    ss.expect_error(ss.create(faults, offer, "deferred"), 400, "Bad Request", ss.already_paid(offer.policy_id))


def test_create_faults_that_answer_make_nothing(faults, fault_offer):
    offer = fault_offer
    for spec in ('{"drop":"before_body"}', '{"reset":true}', '{"status":503}', '{"status":429,"retry_after":0}',
                 '{"body":"non_json"}', '{"body":"truncated"}'):
        ss.arm(faults, offer.policy_id, spec, 1)
    # drop before_body acts right after a create's body was read.
    assert ss.create(faults, offer).outcome == "empty"
    assert ss.create(faults, offer).outcome == "reset"
    ss.expect_error(ss.create(faults, offer), 503, "Service Unavailable", SANDBOX_FAULT)
    too_many = ss.create(faults, offer)
    ss.expect_error(too_many, 429, "Too Many Requests", SANDBOX_FAULT)
    assert too_many.header("retry-after") == "0"
    non_json = ss.create(faults, offer)
    assert (non_json.outcome, non_json.status) == ("response", 200) and not non_json.is_json(), non_json
    truncated = ss.create(faults, offer)
    assert (truncated.outcome, truncated.status) == ("partial", 200), truncated
    d = ss.expect_restricted(ss.create(faults, offer), faults.url)
    assert d["status"] == "ok"
    assert ss.attempts(faults, offer.policy_id) == 7


def test_create_delay_then_created(faults, fault_offer):
    ss.arm(faults, fault_offer.policy_id, '{"delay_ms":300}', 1)
    response = ss.create(faults, fault_offer, headers=[ss.AUTH])
    assert ss.expect_full(response, faults.url)["policy_id"] == fault_offer.policy_id
    assert response.elapsed_ms >= 300, response.elapsed_ms


def test_create_delay_outlasting_the_client_still_makes_the_payment(faults, fault_offer):
    offer = fault_offer
    ss.arm(faults, offer.policy_id, '{"delay_ms":1500}', 1)
    assert ss.create(faults, offer, timeout=0.5).outcome == "timeout"
    # The retry is held 3 s by the sandbox, from a later start: the first
    # create's delay ends at least 2 s before this one is handled, a margin
    # that a loaded machine's timers do not eat.
    retry = ss.create(faults, offer, headers=[ss.fault('{"delay_ms":3000}')])
    ss.expect_error(retry, 400, "Bad Request", ss.already_paid(offer.policy_id))


def test_concurrent_views_share_a_rule(faults, fault_payment):
    ss.arm(faults, fault_payment, '{"status":503}', 10)
    responses = ss.concurrently(16, lambda i: ss.view(faults, fault_payment))
    codes = collections.Counter(r.status for r in responses)
    assert codes == {200: 6, 503: 10}, codes
    assert ss.attempts(faults, fault_payment) == 16


def test_keys_over_256_bytes_are_not_counted(faults):
    long_id = "t" + uuid.uuid4().hex * 9
    ss.view(faults, long_id)
    assert ss.expect(faults.get("/__sandbox/attempts/" + long_id), 200)["attempts"] == 0
