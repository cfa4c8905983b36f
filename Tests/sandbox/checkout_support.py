"""Helpers for the checkout cases (contract 14): quotes, offers, policies,
counters and a webhook receiver.

Answers that carry a payment token (ptok_) are checked with expect_secret,
whose failure messages never include the body; the payment token is never
part of an assertion expression, so pytest cannot print it either.
"""

import datetime
import hashlib
import hmac
import http.server
import json
import re
import threading

import sandbox_support as ss

QUOTE_ACCEPT = ("Accept", "application/vnd.kasko.v3+json")
OFFER_ACCEPT = ("Accept", "application/vnd.kasko.v2+json")
TRAVEL = "in_sandbox_travel"
ITEM = "ins_sandbox_travel"
SINGLE = "pp_sandbox_single"
ANNUAL = "pp_sandbox_annual"
BUILDING = "in_sandbox_building"

OFFER_FIELDS = ["id", "version_id", "distributor_id", "insurer_id", "item_id", "integration_id",
                "subscription_plan_id", "touchpoint_id", "integration_version_id", "insurer_policy_id",
                "first_name", "last_name", "email", "currency", "language", "flow", "status", "quote", "data",
                "media", "metadata", "payment_token", "accepted_at", "created_at", "_links"]
POLICY_FIELDS = ["id", "version_id", "item_id", "product_id", "insurer_policy_id", "first_name", "last_name",
                 "email", "currency", "language", "status", "expired", "policy_created_date", "start_date",
                 "end_date", "termination_date", "gross_premium", "premium_tax", "data", "quote", "metadata",
                 "assets", "_links"]
WEBHOOK_FIELDS = ["id", "livemode", "policy_id", "product_id", "first_name", "last_name", "email",
                  "policy_created_date", "start_date", "end_date", "gross_premium", "premium_tax", "metadata",
                  "assets", "_links"]
ISO_OFFSET = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"
PAYMENT_TOKEN = re.compile(r"ptok_[0-9a-f]{40}")


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def expect_secret(response, status):
    """Like ss.expect, for answers that may hold a payment token: the
    failure messages name the status and headers, never the body."""
    if response.outcome != "response":
        raise AssertionError("no complete response (%s)" % response.outcome)
    if response.status != status:
        raise AssertionError("status %r, want %r" % (response.status, status))
    problems = [p.split(" -- ")[0] for p in ss.common_problems(response)]
    if problems:
        raise AssertionError("; ".join(problems))
    return response.json


def check_payment_token(value):
    """Fails, without showing the value, unless it is ptok_ + 40 hex."""
    if not (isinstance(value, str) and PAYMENT_TOKEN.fullmatch(value)):
        raise AssertionError("payment_token is not ptok_ + 40 hex")


def quote_body(plan=SINGLE, trip_cost=100000, start="2027-03-01", integration=TRAVEL, item=ITEM, **data):
    fields = {"trip_cost": trip_cost, "policy_start_date": start}
    fields.update(data)
    return compact({"item_id": item, "subscription_plan_id": plan, "integration_id": integration, "data": fields})


def post_quote(sb, body, headers=(QUOTE_ACCEPT, ss.JSON_CT), key=ss.PK):
    return sb.post("/quotes?key=" + key, list(headers), body)


def new_quote(sb, **kwargs):
    return ss.expect(post_quote(sb, quote_body(**kwargs)), 200)


def offer_body(quote_token, **overrides):
    fields = {"quote_token": quote_token, "first_name": "Erika", "last_name": "Musterfrau",
              "email": "erika@example.com", "language": "de"}
    fields.update(overrides)
    return compact({k: v for k, v in fields.items() if v is not None})


def post_offer(sb, body, headers=(OFFER_ACCEPT, ss.JSON_CT), key=ss.PK):
    return sb.post("/policies?key=" + key, list(headers), body)


def new_offer(sb, quote=None, **overrides):
    """An offer from a fresh quote: (the 201 answer, an ss.Offer for payments;
    its token is None while the offer awaits approval)."""
    quote = quote or new_quote(sb)
    created = expect_secret(post_offer(sb, offer_body(quote["token"], **overrides)), 201)
    return created, ss.Offer(created["id"], created.get("payment_token"))


def view_offer(sb, offer_id, headers=(ss.AUTH,)):
    return sb.get("/offers/" + offer_id, list(headers))


def view_policy(sb, policy_id, headers=(ss.AUTH, OFFER_ACCEPT)):
    return sb.get("/policies/" + policy_id, list(headers))


def offer_status(sb, offer_id):
    return expect_secret(view_offer(sb, offer_id), 200)["status"]


def policy(sb, policy_id):
    return ss.expect(view_policy(sb, policy_id), 200)


def pay(sb, offer, provider="invoice", headers=()):
    """POST /payments with the offer's token; the answer (no token in it
    unless the secret key is sent)."""
    return ss.create(sb, offer, provider, headers=headers)


def wait_paid(sb, policy_id, timeout=10.0):
    return ss.wait_until(lambda: (lambda p: p if p["status"] == "paid" else None)(policy(sb, policy_id)),
                         timeout, "policy %s to become paid" % policy_id)


def settle(sb, payment_id, status="ok"):
    return ss.expect(sb.post("/__sandbox/payments/%s/settle" % payment_id, [ss.JSON_CT],
                             compact({"status": status})), 200)


def stats(sb):
    d = ss.expect(sb.get("/__sandbox/stats"), 200)
    assert list(d) == ["quotes", "offers", "payments", "policies_paid", "webhook_deliveries"], list(d)
    return d


def payments_of(sb, policy_id):
    d = ss.expect(sb.get("/__sandbox/policies/%s/payments" % policy_id), 200)
    assert list(d) == ["policy_id", "payments"] and d["policy_id"] == policy_id, list(d)
    return d["payments"]


def deliveries(sb):
    d = ss.expect(sb.get("/__sandbox/webhooks/deliveries"), 200)
    assert list(d) == ["deliveries"], list(d)
    return d["deliveries"]


def deliveries_of(sb, policy_id):
    return [d for d in deliveries(sb) if d["policy_id"] == policy_id]


def day(text):
    return datetime.date.fromisoformat(text)


def expect_validation(response, *problems):
    """400 "Data validation failed." listing exactly these (code, field) pairs, in order."""
    d = ss.expect(response, 400)
    assert list(d) == ["status", "message", "errors"], list(d)
    assert d["status"] == "Bad Request" and d["message"] == "Data validation failed."
    assert [(e["code"], e["field"]) for e in d["errors"]] == list(problems)
    assert all(list(e) == ["code", "field"] for e in d["errors"])
    return d


# ---------------------------------------------------------------- webhooks

def signature(secret, body):
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


class WebhookReceiver:
    """An http.server on 127.0.0.1, port 0, in a thread. It answers each
    POST with the next of `statuses` (the last one repeats) and keeps every
    request's headers and raw body; wait_for(n) waits on a condition."""

    def __init__(self, statuses=(204,)):
        self.statuses = list(statuses)
        self.requests = []
        self.condition = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.condition:
                    index = len(receiver.requests)
                    status = receiver.statuses[min(index, len(receiver.statuses) - 1)]
                    receiver.requests.append((self.path, dict(self.headers.items()), body))
                    receiver.condition.notify_all()
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hooks/kasko?source=sandbox" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count, timeout=10.0):
        with self.condition:
            done = self.condition.wait_for(lambda: len(self.requests) >= count, timeout)
        assert done, "the receiver got %d of %d requests in %.0f s" % (len(self.requests), count, timeout)
        return self.requests[:count]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
