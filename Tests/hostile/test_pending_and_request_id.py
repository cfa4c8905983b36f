"""pending_payment_id extracted from a 422 message, and request_id taken
from X-Request-Id (trimmed; empty -> null)."""

import json

import pytest

import hostile_server as hs
import kasko_support as ks


def pending_message(policy_id, payment_id_text):
    return "Policy - %s already has pending payment - %s." % (policy_id, payment_id_text)


def answer_422(message_builder, headers=()):
    @ks.with_ids
    def script(payment_id, request):
        message = message_builder(request["policy_id"])
        body = json.dumps({"status": "Unprocessable Entity", "message": message}) if message is not None else ""
        return hs.respond(422, body, headers=headers)
    return script


def expect_pending(lib, result, pending_payment_id):
    error = ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_PENDING_PAYMENT", outcome="rejected",
                            retryable=False, attempts=1, http_status=422, pending_payment_id=pending_payment_id)
    result.assert_requests(1)
    return error


VALID_IDS = {
    "hex_id": lambda: ks.new_payment_id(),
    "live_hex_id": lambda: "l" + ks.random_hex(32),
    "with_underscore_and_dash": lambda: "t_" + ks.random_hex(10) + "-" + ks.random_hex(10),
    "single_character": lambda: "t",
    "exactly_128_characters": lambda: "t" + ks.random_alnum(127),
}


@pytest.mark.parametrize("operation", ["create", "view"])
@pytest.mark.parametrize("kind", sorted(VALID_IDS))
def test_422_pending_payment_id_is_extracted(lib, exchange, operation, kind):
    pending = VALID_IDS[kind]()
    result = exchange(operation, answer_422(lambda policy: pending_message(policy, pending)))
    expect_pending(lib, result, pending)


@pytest.mark.parametrize("length", [129, 5000])
def test_422_pending_payment_id_too_long_is_null(lib, exchange, length):
    pending = "t" + ks.random_alnum(length - 1)
    result = exchange("create", answer_422(lambda policy: pending_message(policy, pending)))
    expect_pending(lib, result, None)


INVALID_CHARACTER_IDS = {
    "exclamation_inside": "t1234abcd!5678",
    "slash_path_inside": "t1234/../admin",
    "space_inside": "t1234 5678",
    "non_ascii_letter_inside": "t1234\u00e45678",
    "non_ascii_digit_inside": "t1234\u0665678",
    "fullwidth_letters": "\uff54\uff11\uff12",
    "starts_with_invalid": "!t1234",
    "quote_inside": "t1234\"5678",
    "percent_encoded": "t1234%2F5678",
    "nul_escape_inside": "t1234\u00005678",
}


@pytest.mark.parametrize("kind", sorted(INVALID_CHARACTER_IDS))
def test_422_pending_payment_id_with_invalid_characters_is_null(lib, exchange, kind):
    """The contract: pending_payment_id is a valid payment id or null. The
    library never guesses a prefix ("t1234 5678" is not "t1234"): the caller
    would look up the wrong payment."""
    text = INVALID_CHARACTER_IDS[kind]
    result = exchange("create", answer_422(lambda policy: pending_message(policy, text)))
    expect_pending(lib, result, None)


NO_ID = {
    "no_marker": lambda policy: "Policy - %s is broken." % policy,
    "marker_without_id": lambda policy: "Policy - %s already has pending payment - ." % policy,
    "marker_at_end": lambda policy: "Policy - %s already has pending payment - " % policy,
    "empty_message": lambda policy: "",
    "no_body": lambda policy: None,
}


@pytest.mark.parametrize("kind", sorted(NO_ID))
def test_422_without_a_pending_id_is_null(lib, exchange, kind):
    result = exchange("create", answer_422(NO_ID[kind]))
    expect_pending(lib, result, None)


def test_pending_marker_in_a_400_gives_no_pending_id(lib, exchange):
    pending = ks.new_payment_id()
    body = json.dumps({"status": "Bad Request", "message": pending_message("tpol_x", pending)})
    result = exchange("create", hs.respond(400, body))
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_BAD_REQUEST", outcome="rejected",
                    retryable=False, attempts=1, http_status=400, pending_payment_id=None)
    result.assert_requests(1)


# -- X-Request-Id -------------------------------------------------------------------------

REQUEST_IDS = {
    "absent": ([], None),
    "empty": (["X-Request-Id:"], None),
    "empty_after_space": (["X-Request-Id: "], None),
    "only_spaces": (["X-Request-Id:      "], None),
    "only_tabs": (["X-Request-Id:\t\t"], None),
    "plain": (["X-Request-Id: req_abc123"], "req_abc123"),
    "surrounded_by_spaces": (["X-Request-Id:   req_1  "], "req_1"),
    "surrounded_by_tabs": (["X-Request-Id:\treq_2\t"], "req_2"),
    "mixed_whitespace": (["X-Request-Id: \t req_3 \t "], "req_3"),
    "lower_case_name": (["x-request-id: req_lower"], "req_lower"),
    "inner_space_kept": (["X-Request-Id:  req a b  "], "req a b"),
}


@pytest.mark.parametrize("operation", ["create", "view"])
@pytest.mark.parametrize("http_status", [404, 400, 401])
@pytest.mark.parametrize("kind", sorted(REQUEST_IDS))
def test_request_id_is_trimmed_and_empty_is_null(lib, exchange, operation, http_status, kind):
    headers, expected = REQUEST_IDS[kind]
    body = ks.api_error_body(hs.REASONS[http_status], "no")
    result = exchange(operation, hs.respond(http_status, body, headers=headers))
    code, outcome, retryable, retried = ks.contract_for_http(http_status, operation)
    ks.assert_error(lib, result.status, result.text, code=code, outcome=outcome, retryable=retryable,
                    attempts=1, http_status=http_status, request_id=expected)
    result.assert_requests(1)
