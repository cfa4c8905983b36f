"""The sandbox's counters: GET /__sandbox/policies/{id}/payments lists
every payment ever created on a policy (so a client can prove it never
made a second one), and GET /__sandbox/stats counts what was made."""

import sandbox_support as ss

import checkout_support as cs


def test_unknown_policy_404(sandbox):
    ss.expect_error(sandbox.get("/__sandbox/policies/tpol_nope/payments"), 404, "Not Found",
                    "Policy - tpol_nope could not be found.")


def test_no_payment_yet(sandbox):
    created, _ = cs.new_offer(sandbox)
    assert cs.payments_of(sandbox, created["id"]) == []


def test_concurrent_creates_make_exactly_one_payment(sandbox):
    created, offer = cs.new_offer(sandbox)
    answers = ss.concurrently(16, lambda i: cs.pay(sandbox, offer, "invoice" if i % 2 else "deferred"))
    made = [ss.expect(a, 200)["id"] for a in answers if a.status == 200]
    assert len(made) == 1, [a.status for a in answers]
    assert all(a.status in (400, 422) for a in answers if a.status != 200), [a.status for a in answers]
    assert cs.payments_of(sandbox, created["id"]) == made


def test_listing_keeps_every_payment_in_order(sandbox):
    created, offer = cs.new_offer(sandbox)
    first = ss.expect(cs.pay(sandbox, offer, "deferred"), 200)["id"]
    cs.settle(sandbox, first, "failed")
    second = ss.expect(cs.pay(sandbox, offer, "deferred"), 200)["id"]
    assert cs.payments_of(sandbox, created["id"]) == [first, second]


def test_drop_after_body_then_second_create_is_refused(faults):
    """The first create is carried out but its answer lost; the client's
    second create is refused as already paid (invoice) and the listing shows
    one payment."""
    created, offer = cs.new_offer(faults)
    ss.arm(faults, created["id"], '{"drop":"after_body"}', 1)
    assert cs.pay(faults, offer).outcome == "empty"
    retry = cs.pay(faults, offer)
    ss.expect_error(retry, 400, "Bad Request", ss.already_paid(created["id"]))
    assert len(cs.payments_of(faults, created["id"])) == 1


def test_drop_after_body_on_pending_then_second_create_is_422(faults):
    created, offer = cs.new_offer(faults)
    ss.arm(faults, created["id"], '{"drop":"after_body"}', 1)
    assert cs.pay(faults, offer, "deferred").outcome == "empty"
    [payment_id] = cs.payments_of(faults, created["id"])
    ss.expect_error(cs.pay(faults, offer, "deferred"), 422, "Unprocessable Entity",
                    ss.pending_message(created["id"], payment_id))
    assert cs.payments_of(faults, created["id"]) == [payment_id]


def test_stats_count_what_was_made(spawn_sandbox):
    sb = spawn_sandbox("--policy-delay-ms", "0")
    assert cs.stats(sb) == {"quotes": 0, "offers": 0, "payments": 0, "policies_paid": 0, "webhook_deliveries": 0}
    quote = cs.new_quote(sb)
    cs.new_quote(sb)  # the same quote again: answered, so counted
    ss.expect(cs.post_quote(sb, cs.quote_body(plan="pp_none")), 404)  # refused: not counted
    created, offer = cs.new_offer(sb, quote)
    ss.new_offer(sb)  # the shortcut counts as an offer too
    ss.expect(cs.pay(sb, offer), 200)
    ss.expect(cs.pay(sb, offer), 400)
    cs.wait_paid(sb, created["id"])
    assert cs.stats(sb) == {"quotes": 2, "offers": 2, "payments": 1, "policies_paid": 1, "webhook_deliveries": 0}
