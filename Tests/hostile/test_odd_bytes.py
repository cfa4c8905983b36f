"""Odd bytes in answers: NUL escapes, invalid UTF-8, control characters in
headers, deep nesting. The error object stays one valid UTF-8 JSON text (a
raw NUL would cut the C string short) and nothing crashes."""

import json

import pytest

import hostile_server as hs
import kasko_support as ks


def test_nul_escapes_in_error_message_survive_as_escapes(lib, exchange):
    body = '{"status":"Bad\\u0000Request","message":"before\\u0000after"}'
    result = exchange("create", hs.respond(400, body))
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_BAD_REQUEST", outcome="rejected",
                    retryable=False, attempts=1, http_status=400)
    result.assert_requests(1)
    assert result.text.endswith(b"}"), "the error string was cut short: %r" % result.text[-80:]


@pytest.mark.parametrize("operation", ["create", "view"])
def test_invalid_utf8_in_error_body_gives_valid_json(lib, exchange, operation):
    body = b'{"status":"Bad \xff\xfe Request","message":"broken \xc3\x28 utf8 \xed\xa0\x80","errors":["\xff"]}'
    result = exchange(operation, hs.respond(400, body))
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_BAD_REQUEST", outcome="rejected",
                    retryable=False, attempts=1, http_status=400)
    result.assert_requests(1)


REQUEST_ID_BYTES = {
    "control_characters": b"req\x01\x02\x7fend",
    "invalid_utf8": b"req_\xff\xfe",
    "nul_like_escape_text": b"req\\u0000x",
    "quote_and_backslash": b'req_"\\x',
    "very_long": b"req_" + b"x" * 5000,
}


@pytest.mark.parametrize("kind", sorted(REQUEST_ID_BYTES))
def test_odd_request_id_bytes_give_valid_json(lib, exchange, kind):
    result = exchange("view", hs.respond(404, b"{}", headers=[b"X-Request-Id: " + REQUEST_ID_BYTES[kind]]))
    error = ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_NOT_FOUND", outcome="rejected",
                            retryable=False, attempts=1, http_status=404)
    result.assert_requests(1)
    request_id = error["request_id"]
    assert request_id is None or (request_id == request_id.strip() and request_id != "")


@pytest.mark.parametrize("depth", [1000, 100000])
@pytest.mark.parametrize("operation", ["create", "view"])
def test_deeply_nested_payment_does_not_crash(lib, exchange, operation, depth):
    @ks.with_ids
    def script(payment_id, request):
        payment = ks.full_payment(payment_id, request["policy_id"])
        return hs.respond(200, payment.replace('"fee":0', '"fee":0,"deep":' + "[" * depth + "]" * depth))

    result = exchange(operation, script)
    assert ks.NAME.get(result.status) in ("KASKO_OK", "KASKO_ERR_INVALID_RESPONSE"), result.text[:300]
    if result.status != 0:
        ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_INVALID_RESPONSE", outcome="unknown",
                        retryable=False, attempts=1)
    result.assert_requests(1)


@pytest.mark.parametrize("depth", [1000, 100000])
@pytest.mark.parametrize("shape", ["arrays", "objects", "unclosed"])
def test_deeply_nested_error_body_does_not_crash(lib, exchange, depth, shape):
    nested = {"arrays": "[" * depth + "]" * depth,
              "objects": '{"a":' * depth + "1" + "}" * depth,
              "unclosed": "[" * depth}[shape]
    body = '{"status":"Bad Request","message":"m","errors":[%s]}' % nested
    result = exchange("create", hs.respond(400, body))
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_BAD_REQUEST", outcome="rejected",
                    retryable=False, attempts=1, http_status=400)
    result.assert_requests(1)


@pytest.mark.parametrize("operation", ["create", "view"])
def test_interim_100_then_final_200_is_ok(lib, exchange, operation):
    sent = {}

    @ks.with_ids
    def script(payment_id, request):
        sent["body"] = ks.full_payment(payment_id, request["policy_id"]).encode()
        return hs.raw(b"HTTP/1.1 100 Continue\r\n\r\n" + hs.http_response(200, sent["body"]), then="wait")

    result = exchange(operation, script)
    ks.assert_ok(result.status, result.text)
    assert result.text == sent["body"]
    result.assert_requests(1)
