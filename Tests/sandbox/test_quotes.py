"""POST /quotes (v3): the answer's shape, the deterministic price and
token, and every documented refusal (401, 400 Accept / body / validation,
404 integration or plan, 409 pricing being created)."""

import re

import pytest

import checkout_support as cs
import sandbox_support as ss


def test_single_quote_shape_and_price(sandbox):
    d = cs.new_quote(sandbox, plan=cs.SINGLE, trip_cost=100000)
    assert list(d) == ["token", "gross_payment_amount", "extra_data"]
    assert re.fullmatch(r"qtok_[0-9a-f]{40}", d["token"]), d["token"]
    # 4 % of 1000.00 = 40.00; tax (4000*19+59)//119 = 639.
    assert d["gross_payment_amount"] == 4000
    assert d["extra_data"] == {"gross_premium": 4000, "premium_tax": 639, "net_premium": 3361, "tax_rate": 0.19}
    assert list(d["extra_data"]) == ["gross_premium", "premium_tax", "net_premium", "tax_rate"]


@pytest.mark.parametrize("plan,trip_cost,gross", [
    (cs.SINGLE, 1, 500), (cs.SINGLE, 12499, 500), (cs.SINGLE, 12550, 502), (cs.SINGLE, 10000000, 400000),
    (cs.ANNUAL, 1, 8900), (cs.ANNUAL, 199, 8901), (cs.ANNUAL, 100000, 9900),
])
def test_price_is_the_contracts_formula(sandbox, plan, trip_cost, gross):
    d = cs.new_quote(sandbox, plan=plan, trip_cost=trip_cost)
    tax = (gross * 19 + 59) // 119
    assert d["gross_payment_amount"] == gross
    assert d["extra_data"] == {"gross_premium": gross, "premium_tax": tax, "net_premium": gross - tax,
                               "tax_rate": 0.19}


def test_same_quote_same_token_across_sandboxes(sandbox, spawn_sandbox):
    first = cs.new_quote(sandbox, trip_cost=77777, start="2027-05-05")
    again = cs.new_quote(sandbox, trip_cost=77777, start="2027-05-05")
    elsewhere = cs.new_quote(spawn_sandbox(), trip_cost=77777, start="2027-05-05")
    assert first == again == elsewhere


def test_unknown_data_keys_are_ignored(sandbox):
    plain = cs.new_quote(sandbox, trip_cost=5000)
    extra = cs.new_quote(sandbox, trip_cost=5000, traveller_count=3, note="x")
    assert plain == extra


@pytest.mark.parametrize("change", [
    {"trip_cost": 100001}, {"start": "2027-03-02"}, {"plan": cs.ANNUAL},
])
def test_any_priced_input_changes_the_token(sandbox, change):
    assert cs.new_quote(sandbox)["token"] != cs.new_quote(sandbox, **change)["token"]


def test_valid_bearer_is_accepted(sandbox):
    ss.expect(cs.post_quote(sandbox, cs.quote_body(), [cs.QUOTE_ACCEPT, ss.JSON_CT, ss.AUTH]), 200)


@pytest.mark.parametrize("key,headers", [
    ("", [cs.QUOTE_ACCEPT]),
    ("pk_test_other", [cs.QUOTE_ACCEPT]),
    (ss.SK, [cs.QUOTE_ACCEPT]),
    (ss.PK, [cs.QUOTE_ACCEPT, ("Authorization", "Bearer sk_test_wrong")]),
    (ss.PK, [cs.QUOTE_ACCEPT, ("Authorization", "Basic c2tfdGVzdF9zYW5kYm94Og==")]),
], ids=["no-key", "other-key", "secret-as-key", "wrong-bearer", "basic"])
def test_unauthorized_401(sandbox, key, headers):
    ss.expect_error(cs.post_quote(sandbox, cs.quote_body(), headers, key=key), 401, "Unauthorized",
                    "Not authorized.")


@pytest.mark.parametrize("headers", [
    [], [("Accept", "application/json")], [("Accept", "application/vnd.kasko.v2+json")],
    [cs.QUOTE_ACCEPT, cs.QUOTE_ACCEPT],
], ids=["none", "json", "v2", "twice"])
def test_wrong_accept_400(sandbox, headers):
    ss.expect_error(cs.post_quote(sandbox, cs.quote_body(), headers), 400, "Bad Request",
                    "Quotes need Accept: application/vnd.kasko.v3+json.")


@pytest.mark.parametrize("body", ["", "[]", "null", "{", "42", '"text"'])
def test_body_not_an_object_400(sandbox, body):
    ss.expect_error(cs.post_quote(sandbox, body), 400, "Bad Request", "The request body must be a JSON object.")


def test_every_missing_field_is_listed_in_order(sandbox):
    cs.expect_validation(cs.post_quote(sandbox, "{}"), ("required", "item_id"),
                         ("required", "subscription_plan_id"), ("required", "integration_id"), ("required", "data"))


def test_wrong_types_are_invalid_values(sandbox):
    body = cs.compact({"item_id": 1, "subscription_plan_id": None, "integration_id": ["x"], "data": []})
    cs.expect_validation(cs.post_quote(sandbox, body), ("invalid_value", "item_id"),
                         ("required", "subscription_plan_id"), ("invalid_value", "integration_id"),
                         ("invalid_value", "data"))


@pytest.mark.parametrize("data,problems", [
    ({}, [("required", "trip_cost"), ("required", "policy_start_date")]),
    ({"trip_cost": 0, "policy_start_date": "2027-02-29"},
     [("invalid_value", "trip_cost"), ("invalid_value", "policy_start_date")]),
    ({"trip_cost": 10000001, "policy_start_date": "2027-1-01"},
     [("invalid_value", "trip_cost"), ("invalid_value", "policy_start_date")]),
    ({"trip_cost": 1.5, "policy_start_date": 20270101}, [("invalid_value", "trip_cost"),
                                                         ("invalid_value", "policy_start_date")]),
    ({"trip_cost": True, "policy_start_date": "2028-02-29"}, [("invalid_value", "trip_cost")]),
    ({"trip_cost": "100", "policy_start_date": "2027-13-01"},
     [("invalid_value", "trip_cost"), ("invalid_value", "policy_start_date")]),
    ({"trip_cost": None, "policy_start_date": "2027-04-31T00:00:00"},
     [("required", "trip_cost"), ("invalid_value", "policy_start_date")]),
])
def test_data_fields_validated(sandbox, data, problems):
    body = cs.compact({"item_id": cs.ITEM, "subscription_plan_id": cs.SINGLE, "integration_id": cs.TRAVEL,
                       "data": data})
    cs.expect_validation(cs.post_quote(sandbox, body), *problems)


@pytest.mark.parametrize("integration,item", [
    ("in_unknown", cs.ITEM), (cs.TRAVEL, "ins_other"),
])
def test_unknown_integration_or_item_404(sandbox, integration, item):
    ss.expect_error(cs.post_quote(sandbox, cs.quote_body(integration=integration, item=item)), 404, "Not Found",
                    "Integration - %s product - %s not found." % (integration, item))


def test_unknown_plan_404(sandbox):
    ss.expect_error(cs.post_quote(sandbox, cs.quote_body(plan="pp_unknown")), 404, "Not Found",
                    "Subscription plan with id - pp_unknown not found.")


def test_building_integration_409(sandbox):
    ss.expect_error(cs.post_quote(sandbox, cs.quote_body(integration=cs.BUILDING)), 409, "Conflict",
                    "Pricing logic for integration - in_sandbox_building is being created.")


def test_get_quotes_405(sandbox):
    response = sandbox.get("/quotes")
    ss.expect_error(response, 405, "Method Not Allowed")
    assert response.header("allow") == "POST"
