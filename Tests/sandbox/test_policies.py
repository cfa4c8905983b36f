"""GET /policies/{id}: the policy object, its refusals, and the
asynchronous creation (pending -> paid after --policy-delay-ms) for an
invoice payment and for a settled deferred one, with ETag and
Last-Modified following the changes."""

import email.utils
import re
import time

import pytest

import checkout_support as cs
import sandbox_support as ss


def test_pending_policy_object(sandbox):
    quote = cs.new_quote(sandbox, plan=cs.SINGLE, trip_cost=100000, start="2027-01-20")
    created, _ = cs.new_offer(sandbox, quote, metadata={"ref": "r1"})
    response = cs.view_policy(sandbox, created["id"])
    p = ss.expect(response, 200)
    assert list(p) == cs.POLICY_FIELDS
    assert p["id"] == created["id"] and p["insurer_policy_id"] == created["insurer_policy_id"]
    assert re.fullmatch(r"tpv_[0-9a-f]{28}", p["version_id"]), p["version_id"]
    assert p["item_id"] == p["product_id"] == cs.ITEM
    assert (p["status"], p["expired"], p["policy_created_date"], p["termination_date"]) == (
        "pending", False, None, None)
    assert (p["start_date"], p["end_date"]) == ("2027-01-20T00:00:00+00:00", "2027-02-19T00:00:00+00:00")
    assert (p["gross_premium"], p["premium_tax"]) == (4000, 639)
    assert p["currency"] == "eur" and p["language"] == "de"
    assert p["data"] == [] and p["metadata"] == {"ref": "r1"} and p["assets"] == []
    assert p["quote"]["version"] == 3 and p["quote"]["payment_data"] == quote["extra_data"]
    assert p["_links"] == {"_self": {"href": sandbox.url + "/policies/" + p["id"]}}
    assert "ptok_" not in response.text
    assert response.header("etag") == p["version_id"]
    assert email.utils.parsedate_to_datetime(response.header("last-modified")).tzinfo is not None


@pytest.mark.parametrize("start,end", [
    ("2027-03-01", "2028-03-01T00:00:00+00:00"), ("2028-02-29", "2029-03-01T00:00:00+00:00"),
])
def test_annual_runs_a_year(sandbox, start, end):
    created, _ = cs.new_offer(sandbox, cs.new_quote(sandbox, plan=cs.ANNUAL, start=start))
    assert cs.policy(sandbox, created["id"])["end_date"] == end


def test_view_unauthorized_401(sandbox):
    created, _ = cs.new_offer(sandbox)
    for headers in ([cs.OFFER_ACCEPT], [cs.OFFER_ACCEPT, ("Authorization", "Bearer wrong")]):
        ss.expect_error(cs.view_policy(sandbox, created["id"], headers), 401, "Unauthorized", "Not authorized.")


def test_view_wrong_accept_400(sandbox):
    created, _ = cs.new_offer(sandbox)
    for headers in ([ss.AUTH], [ss.AUTH, cs.QUOTE_ACCEPT]):
        ss.expect_error(cs.view_policy(sandbox, created["id"], headers), 400, "Bad Request",
                        "Policies need Accept: application/vnd.kasko.v2+json.")


def test_view_unknown_404(sandbox):
    ss.expect_error(cs.view_policy(sandbox, "tpol_missing"), 404, "Not Found",
                    "Policy - tpol_missing could not be found.")


def test_invoice_payment_makes_it_paid_after_the_delay(sandbox):
    created, offer = cs.new_offer(sandbox)
    pending = cs.view_policy(sandbox, created["id"])
    ss.expect_restricted(cs.pay(sandbox, offer), sandbox.url)
    # Asynchronous: right after the payment the policy is still pending.
    assert cs.policy(sandbox, created["id"])["status"] == "pending"
    paid = cs.wait_paid(sandbox, created["id"])
    assert re.fullmatch(cs.ISO_OFFSET, paid["policy_created_date"] or ""), paid["policy_created_date"]
    assert paid["assets"] == [{"designation": "policy_document", "name": "Policy Certificate", "extension": "pdf",
                               "href": "%s/__sandbox/assets/%s/policy.pdf" % (sandbox.url, created["id"])}]
    response = cs.view_policy(sandbox, created["id"])
    assert response.header("etag") == paid["version_id"] != pending.header("etag")
    assert (email.utils.parsedate_to_datetime(response.header("last-modified"))
            >= email.utils.parsedate_to_datetime(pending.header("last-modified")))


def test_deferred_is_paid_only_after_settling(spawn_sandbox):
    sb = spawn_sandbox("--policy-delay-ms", "50")
    created, offer = cs.new_offer(sb)
    payment = ss.expect_restricted(cs.pay(sb, offer, "deferred"), sb.url)
    # An invoice policy paid after it is created once its delay has run:
    # by then the pending deferred payment has created nothing.
    witness, witness_offer = cs.new_offer(sb)
    ss.expect_restricted(cs.pay(sb, witness_offer), sb.url)
    cs.wait_paid(sb, witness["id"])
    assert cs.policy(sb, created["id"])["status"] == "pending"
    cs.settle(sb, payment["id"], "ok")
    assert cs.wait_paid(sb, created["id"])["assets"] != []
    assert cs.stats(sb)["policies_paid"] == 2


def test_failed_deferred_is_never_paid(spawn_sandbox):
    sb = spawn_sandbox("--policy-delay-ms", "0")
    created, offer = cs.new_offer(sb)
    payment = ss.expect_restricted(cs.pay(sb, offer, "deferred"), sb.url)
    cs.settle(sb, payment["id"], "failed")
    # A later invoice payment is what makes it paid: it is the one counted.
    ss.expect_restricted(cs.pay(sb, offer), sb.url)
    cs.wait_paid(sb, created["id"])
    assert cs.stats(sb)["policies_paid"] == 1


def test_last_modified_moves_with_a_later_change(spawn_sandbox):
    sb = spawn_sandbox("--policy-delay-ms", "1100")
    created, offer = cs.new_offer(sb)
    before = cs.view_policy(sb, created["id"])
    ss.expect_restricted(cs.pay(sb, offer), sb.url)
    cs.wait_paid(sb, created["id"])
    after = cs.view_policy(sb, created["id"])
    assert after.header("etag") != before.header("etag")
    assert (email.utils.parsedate_to_datetime(after.header("last-modified"))
            > email.utils.parsedate_to_datetime(before.header("last-modified")))


def test_policy_delay_is_honoured(spawn_sandbox):
    sb = spawn_sandbox("--policy-delay-ms", "400")
    created, offer = cs.new_offer(sb)
    start = time.monotonic()
    ss.expect_restricted(cs.pay(sb, offer), sb.url)
    cs.wait_paid(sb, created["id"])
    assert time.monotonic() - start >= 0.39
