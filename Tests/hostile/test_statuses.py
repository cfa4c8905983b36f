"""Final HTTP statuses other than 2xx: the contract's table, row by row,
for a create and for a view: status, outcome, retryable, attempts, and how
many requests the server saw (a create is never sent twice)."""

import json

import pytest

import hostile_server as hs
import kasko_support as ks

OPERATIONS = ["create", "view"]


def expect_contract(lib, result, http_status, max_retries=2):
    code, outcome, retryable, retried = ks.contract_for_http(http_status, result.operation)
    attempts = 1 + max_retries if retried else 1
    error = ks.assert_error(lib, result.status, result.text, code=code, outcome=outcome, retryable=retryable,
                            attempts=attempts, http_status=http_status)
    result.assert_requests(attempts)
    return error


# -- 1xx / 3xx final statuses and statuses >= 600 ---------------------------------------

@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("http_status", [301, 302, 303, 304, 307, 308, 600, 999])
def test_undocumented_final_status_is_server_unknown_not_retried(lib, exchange, operation, http_status):
    headers = ["Location: /payments/tfollowed0000000000000000000000000", "Retry-After: 0"]
    result = exchange(operation, hs.respond(http_status, b"", headers=headers))
    expect_contract(lib, result, http_status)
    assert ks.contract_for_http(http_status, operation)[:3] == ("KASKO_ERR_SERVER", "unknown", False)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_101_as_final_status_is_server_unknown_not_retried(lib, exchange, operation):
    # libcurl takes a 101 to a request that asked for no upgrade as the final
    # response; its body runs until the connection closes.
    result = exchange(operation, hs.raw(b"HTTP/1.1 101 Switching Protocols\r\n\r\nnot a payment"))
    expect_contract(lib, result, 101)


@pytest.mark.parametrize("http_status", [301, 302, 303, 307, 308])
def test_view_redirect_is_not_followed(lib, exchange, http_status):
    """The redirect points at a path the server would answer with a valid
    payment: following it would turn the error into KASKO_OK."""
    @ks.with_ids
    def script(payment_id, request):
        location = "Location: /payments/%s?followed=1" % payment_id
        return [hs.respond(http_status, b"", headers=[location]),
                hs.respond(200, ks.full_payment(payment_id, request["policy_id"]))]

    result = exchange("view", script)
    expect_contract(lib, result, http_status)
    assert all("followed" not in seen.target for seen in result.server.requests)


def test_create_303_with_location_is_not_followed(lib, exchange):
    @ks.with_ids
    def script(payment_id, request):
        return [hs.respond(303, b"", headers=["Location: /payments/%s" % payment_id]),
                hs.respond(200, ks.full_payment(payment_id, request["policy_id"]))]

    result = exchange("create", script)
    expect_contract(lib, result, 303)


# -- 5xx ------------------------------------------------------------------------------

FIVE_XX = [500, 501, 502, 503, 504, 505, 507, 599]


@pytest.mark.parametrize("http_status", FIVE_XX)
def test_5xx_to_create_is_server_unknown_not_retryable_sent_once(lib, exchange, http_status):
    body = ks.api_error_body(hs.REASONS.get(http_status, "Server Error"), "something broke")
    result = exchange("create", hs.respond(http_status, body, headers=["Retry-After: 0"]))
    expect_contract(lib, result, http_status)
    assert ks.contract_for_http(http_status, "create")[1:] == ("unknown", False, False)


@pytest.mark.parametrize("http_status", FIVE_XX)
def test_5xx_to_view_per_contract(lib, exchange, http_status):
    """500: not retried, retryable; 502/503/504: retried (3 requests);
    other 5xx: not retried, not retryable. Always outcome unknown."""
    body = ks.api_error_body(hs.REASONS.get(http_status, "Server Error"), "something broke")
    result = exchange("view", hs.respond(http_status, body, headers=["Retry-After: 0"]))
    expect_contract(lib, result, http_status)


@pytest.mark.parametrize("http_status", [502, 503, 504])
def test_view_retried_after_5xx_then_succeeds(lib, exchange, http_status):
    @ks.with_ids
    def script(payment_id, request):
        return [hs.respond(http_status, b"", headers=["Retry-After: 0"]),
                hs.respond(http_status, b"", headers=["Retry-After: 0"]),
                hs.respond(200, ks.full_payment(payment_id, request["policy_id"]))]

    result = exchange("view", script)
    ks.assert_ok(result.status, result.text)
    result.assert_requests(3)


@pytest.mark.parametrize("http_status", [502, 503, 504, 429])
def test_view_retries_stop_at_max_retries(lib, exchange, http_status):
    result = exchange("view", hs.respond(http_status, b"", headers=["Retry-After: 0"]), max_retries=0)
    expect_contract(lib, result, http_status, max_retries=0)


# -- 4xx ------------------------------------------------------------------------------

FOUR_XX = [400, 401, 403, 404, 405, 409, 410, 418, 422, 429, 499]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("http_status", FOUR_XX)
def test_4xx_with_api_error_body_per_contract(lib, exchange, operation, http_status):
    reason = hs.REASONS.get(http_status, "Client Error")
    body = ks.api_error_body(reason, "the API says no (%d)" % http_status)
    result = exchange(operation, hs.respond(http_status, body, headers=["Retry-After: 0"]))
    error = expect_contract(lib, result, http_status)
    assert error["outcome"] == "rejected"


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("http_status", [400, 401, 404, 409, 429])
def test_4xx_with_non_json_body_keeps_status_authoritative(lib, exchange, operation, http_status):
    body = b"<html><body><h1>%d</h1> from a proxy</body></html>" % http_status
    result = exchange(operation, hs.respond(http_status, body, headers=["Retry-After: 0"],
                                            content_type="text/html"))
    expect_contract(lib, result, http_status)


def test_409_to_create_is_server_rejected(lib, exchange):
    result = exchange("create", hs.respond(409, ks.api_error_body("Conflict", "conflict")))
    expect_contract(lib, result, 409)
    assert ks.contract_for_http(409, "create")[:3] == ("KASKO_ERR_SERVER", "rejected", False)


def test_429_to_create_is_rate_limited_retryable_but_not_retried(lib, exchange):
    result = exchange("create", hs.respond(429, ks.api_error_body("Too Many Requests", "slow down"),
                                           headers=["Retry-After: 0"]))
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_RATE_LIMITED", outcome="rejected",
                    retryable=True, attempts=1, http_status=429)
    result.assert_requests(1)


def test_429_to_view_is_retried_until_max_retries(lib, exchange):
    result = exchange("view", hs.respond(429, ks.api_error_body("Too Many Requests", "slow down"),
                                         headers=["Retry-After: 0"]))
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_RATE_LIMITED", outcome="rejected",
                    retryable=True, attempts=3, http_status=429)
    result.assert_requests(3)


def test_server_errors_array_if_passed_on_is_unchanged(lib, exchange):
    errors = [{"field": "policy_id", "message": "is invalid"}]
    body = json.dumps({"status": "Bad Request", "message": "invalid", "errors": errors})
    result = exchange("create", hs.respond(400, body))
    error = expect_contract(lib, result, 400)
    # The contract makes "errors" optional; when it is there, it is the server's.
    if "errors" in error:
        assert error["errors"] == errors
