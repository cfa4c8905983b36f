"""POST /__sandbox/offers: a policy and its token."""

import re

import sandbox_support as ss


def test_offer_created(sandbox):
    d = ss.expect(sandbox.post("/__sandbox/offers"), 201)
    assert list(d) == ["policy_id", "token"]
    assert re.fullmatch(r"tpol_[0-9a-f]{28}", d["policy_id"]), d["policy_id"]
    assert re.fullmatch(r"ptok_[0-9a-f]{40}", d["token"])


def test_offers_differ(sandbox):
    first, second = ss.new_offer(sandbox), ss.new_offer(sandbox)
    assert first.policy_id != second.policy_id
    assert first.token != second.token


def test_live_offer_is_lpol(spawn_sandbox):
    sb = spawn_sandbox("--public-key", "pk_live_smoke", "--secret-key", "sk_live_smoke")
    d = ss.expect(sb.post("/__sandbox/offers"), 201)
    assert re.fullmatch(r"lpol_[0-9a-f]{28}", d["policy_id"]), d["policy_id"]
    assert re.fullmatch(r"ptok_[0-9a-f]{40}", d["token"])
