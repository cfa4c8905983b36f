"""POST /payments refusals after the credentials: the body, the provider
and method, the policy and its token (in that order of checking)."""

import json

import pytest

import sandbox_support as ss


def post(sandbox, body):
    return sandbox.post("/payments?key=" + ss.PK, [ss.JSON_CT], body)


@pytest.mark.parametrize("body", [
    b"not json",
    b"[1,2]",
    b'"token"',
    None,
    b'{"token":',
    b'{"token":"\xff\xfe"}',
    ("[" * 200000 + "\n").encode(),
    ('{"a":' * 100000 + "1" + "}" * 100000 + "\n").encode(),
], ids=["not-json", "array", "string", "empty", "truncated", "invalid-utf8", "deep-arrays", "deep-objects"])
def test_body_not_a_json_object(sandbox, body):
    ss.expect_bad_request(post(sandbox, body))


def fields(offer, **changes):
    body = {"token": offer.token, "provider": "invoice", "method": "invoice", "policy_id": offer.policy_id}
    for name, value in changes.items():
        if value is KeyError:
            del body[name]
        else:
            body[name] = value
    return json.dumps(body)


def test_missing_token_message(sandbox, offer):
    d = ss.expect_bad_request(post(sandbox, fields(offer, token=KeyError)), "token")
    assert d["message"] == "The token field is required."


@pytest.mark.parametrize("field, value", [
    ("provider", KeyError),
    ("method", KeyError),
    ("policy_id", KeyError),
    ("token", 123),
    ("token", True),
    ("provider", None),
    ("method", ["invoice"]),
    ("policy_id", ""),
], ids=["missing-provider", "missing-method", "missing-policy_id", "token-number", "token-bool",
        "provider-null", "method-array", "policy_id-empty"])
def test_bad_field_is_named(sandbox, offer, field, value):
    ss.expect_bad_request(post(sandbox, fields(offer, **{field: value})), field)


def test_unknown_provider_404(sandbox, offer):
    ss.expect_error(post(sandbox, offer.body("paypal")), 404, "Not Found", "Payment provider could not be identified.")


def test_method_not_of_provider_400(sandbox, offer):
    ss.expect_bad_request(post(sandbox, offer.body("invoice", method="deferred")), "deferred")


def test_provider_checked_before_policy(sandbox, offer):
    ss.expect_error(post(sandbox, offer.body("paypal", policy_id="tpol_unknown")), 404, "Not Found",
                    "Payment provider could not be identified.")


def test_unknown_policy_400_names_it(sandbox, offer):
    ss.expect_bad_request(post(sandbox, offer.body(policy_id="tpol_00000000000000000000000000ff")),
                          "Policy", "tpol_00000000000000000000000000ff")


def test_wrong_token_400_names_the_policy(sandbox, offer):
    ss.expect_bad_request(post(sandbox, offer.body(token="ptok_wrong")), "token", offer.policy_id)


def test_token_of_another_policy_400(sandbox, offer):
    other = ss.new_offer(sandbox)
    ss.expect_bad_request(post(sandbox, offer.body(token=other.token)), "token")


def test_refused_creates_leave_the_policy_payable(sandbox, offer):
    for body in (offer.body("paypal"), offer.body(token="ptok_wrong"), fields(offer, method=KeyError)):
        post(sandbox, body)
    ss.expect_restricted(post(sandbox, offer.body()), sandbox.url)
