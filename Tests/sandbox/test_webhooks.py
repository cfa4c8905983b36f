"""policy.created webhooks (--webhook-url, --webhook-secret): the three
headers, the HMAC-SHA1 signature over the raw body, the 6.6 payload,
redelivery with the same X-KASKO-Delivery after a failure (a 3xx
included), giving up after --webhook-attempts, and the deliveries listing.
Every wait is on a condition: the receiver's count or the listing."""

import json
import re
import socket

import pytest

import checkout_support as cs
import sandbox_support as ss

SECRET = "whsec_sandbox_test_secret"


@pytest.fixture
def receiver():
    made = []

    def make(*statuses):
        r = cs.WebhookReceiver(statuses or (204,))
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def webhook_sandbox(spawn_sandbox, url, *extra):
    sb = spawn_sandbox("--webhook-url", url, "--webhook-secret", SECRET, "--webhook-backoff-ms", "20",
                       "--policy-delay-ms", "10", *extra)
    return sb


def paid_policy(sb):
    created, offer = cs.new_offer(sb, metadata={"order": "W-1"})
    ss.expect(cs.pay(sb, offer), 200)
    return created


def settled_delivery(sb, policy_id, timeout=10.0):
    def done():
        mine = cs.deliveries_of(sb, policy_id)
        return mine[0] if mine and mine[0]["state"] != "pending" else None
    return ss.wait_until(done, timeout, "the delivery for %s to settle" % policy_id)


def assert_no_secret_in_logs(sb):
    logs = sb.stdout() + sb.stderr()
    leaked = SECRET in logs or "ptok_" in logs
    assert not leaked, "the webhook secret or a payment token is in the sandbox's logs"


def test_signed_policy_created(spawn_sandbox, receiver):
    r = receiver(204)
    sb = webhook_sandbox(spawn_sandbox, r.url)
    created = paid_policy(sb)
    [(path, headers, body)] = r.wait_for(1)
    assert path == "/hooks/kasko?source=sandbox"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("kasko-sandbox/")
    assert headers["X-KASKO-Event"] == "policy.created"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-KASKO-Delivery"]), headers["X-KASKO-Delivery"]
    assert re.fullmatch(r"sha1=[0-9a-f]{40}", headers["X-KASKO-Signature"])
    assert headers["X-KASKO-Signature"] == cs.signature(SECRET, body)
    assert b"ptok_" not in body

    payload = json.loads(body)
    assert list(payload) == cs.WEBHOOK_FIELDS
    p = cs.policy(sb, created["id"])
    assert p["status"] == "paid"
    assert (payload["id"], payload["livemode"], payload["policy_id"], payload["product_id"]) == (
        created["id"], False, created["insurer_policy_id"], cs.ITEM)
    for name in ("first_name", "last_name", "email", "policy_created_date", "start_date", "end_date",
                 "gross_premium", "premium_tax", "metadata", "assets"):
        assert payload[name] == p[name], name
    assert payload["metadata"] == {"order": "W-1"}
    assert payload["_links"] == {"self": {"href": sb.url + "/policies/" + created["id"]}}

    delivery = settled_delivery(sb, created["id"])
    assert list(delivery) == ["delivery", "event", "policy_id", "state", "attempts"]
    assert (delivery["delivery"], delivery["event"], delivery["state"]) == (
        headers["X-KASKO-Delivery"], "policy.created", "delivered")
    [attempt] = delivery["attempts"]
    assert list(attempt) == ["at", "http_status", "error"]
    assert (attempt["http_status"], attempt["error"]) == (204, None)
    assert re.fullmatch(ss.ISO, attempt["at"]), attempt["at"]
    assert cs.stats(sb)["webhook_deliveries"] == 1
    assert_no_secret_in_logs(sb)


def test_a_wrong_secret_does_not_verify(spawn_sandbox, receiver):
    r = receiver(204)
    sb = webhook_sandbox(spawn_sandbox, r.url)
    paid_policy(sb)
    [(_, headers, body)] = r.wait_for(1)
    assert headers["X-KASKO-Signature"] != cs.signature(SECRET + "x", body)
    assert headers["X-KASKO-Signature"] != cs.signature(SECRET, body + b"\n")


def test_redelivered_after_500_with_the_same_delivery_id(spawn_sandbox, receiver):
    r = receiver(500, 204)
    sb = webhook_sandbox(spawn_sandbox, r.url)
    created = paid_policy(sb)
    (_, first, first_body), (_, second, second_body) = r.wait_for(2)
    assert first["X-KASKO-Delivery"] == second["X-KASKO-Delivery"]
    assert first_body == second_body
    assert second["X-KASKO-Signature"] == cs.signature(SECRET, second_body)
    delivery = settled_delivery(sb, created["id"])
    assert delivery["state"] == "delivered"
    assert [a["http_status"] for a in delivery["attempts"]] == [500, 204]


@pytest.mark.parametrize("status", [301, 304, 404])
def test_anything_but_2xx_is_a_failure(spawn_sandbox, receiver, status):
    r = receiver(status, 200)
    sb = webhook_sandbox(spawn_sandbox, r.url)
    created = paid_policy(sb)
    r.wait_for(2)
    delivery = settled_delivery(sb, created["id"])
    assert delivery["state"] == "delivered"
    assert [a["http_status"] for a in delivery["attempts"]] == [status, 200]


def test_gives_up_after_the_attempts(spawn_sandbox, receiver):
    r = receiver(503)
    sb = webhook_sandbox(spawn_sandbox, r.url, "--webhook-attempts", "3")
    created = paid_policy(sb)
    delivery = settled_delivery(sb, created["id"])
    assert delivery["state"] == "failed"
    assert [a["http_status"] for a in delivery["attempts"]] == [503, 503, 503]
    assert len({h["X-KASKO-Delivery"] for _, h, _ in r.wait_for(3)}) == 1
    assert len(r.requests) == 3


def test_backoff_doubles(spawn_sandbox, receiver):
    r = receiver(500, 500, 500, 204)
    sb = spawn_sandbox("--webhook-url", r.url, "--webhook-secret", SECRET, "--webhook-backoff-ms", "100",
                       "--policy-delay-ms", "0")
    created = paid_policy(sb)
    delivery = ss.wait_until(lambda: (lambda d: d if d and d[0]["state"] == "delivered" else None)(
        cs.deliveries_of(sb, created["id"])), 15, "delivery")[0]
    assert [a["http_status"] for a in delivery["attempts"]] == [500, 500, 500, 204]


def test_connection_refused_is_recorded_and_retried(spawn_sandbox):
    # A port that nothing listens on: bound, then closed.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sb = webhook_sandbox(spawn_sandbox, "http://127.0.0.1:%d/hook" % port, "--webhook-attempts", "2")
    created = paid_policy(sb)
    delivery = settled_delivery(sb, created["id"])
    assert delivery["state"] == "failed"
    assert [a["http_status"] for a in delivery["attempts"]] == [None, None]
    assert all(isinstance(a["error"], str) and a["error"] for a in delivery["attempts"])
    assert_no_secret_in_logs(sb)


def test_deliveries_in_creation_order(spawn_sandbox, receiver):
    r = receiver(204)
    sb = webhook_sandbox(spawn_sandbox, r.url)
    first = paid_policy(sb)
    r.wait_for(1)
    second = paid_policy(sb)
    r.wait_for(2)
    ss.wait_until(lambda: all(d["state"] == "delivered" for d in cs.deliveries(sb)) and len(cs.deliveries(sb)) == 2,
                  10, "both deliveries")
    assert [d["policy_id"] for d in cs.deliveries(sb)] == [first["id"], second["id"]]


def test_without_webhook_url_nothing_is_sent(sandbox):
    assert cs.deliveries(sandbox) == []


def test_sigterm_with_a_redelivery_scheduled_exits_0(spawn_sandbox, receiver):
    r = receiver(500)
    sb = spawn_sandbox("--webhook-url", r.url, "--webhook-secret", SECRET, "--webhook-backoff-ms", "60000",
                       "--policy-delay-ms", "0")
    created = paid_policy(sb)
    ss.wait_until(lambda: (lambda d: d and d[0]["attempts"])(cs.deliveries_of(sb, created["id"])), 10,
                  "the first attempt")
    assert sb.stop() == 0
    assert_no_secret_in_logs(sb)
