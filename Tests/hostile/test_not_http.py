"""Replies that are not HTTP, a ~1 MB response header, and bodies over
1 MiB: INVALID_RESPONSE, outcome unknown, never retried (contract row
"reply is not HTTP ...")."""

import pytest

import hostile_server as hs
import kasko_support as ks

OPERATIONS = ["create", "view"]


def tempting_payment(payment_id, request):
    """A body that would be a valid answer, so only the framing is wrong."""
    return ks.full_payment(payment_id, request["policy_id"]).encode()


def not_http_replies():
    """name -> builder(payment_id, request) -> the raw bytes sent before closing."""
    def with_valid_headers(status_line):
        def build(payment_id, request):
            body = tempting_payment(payment_id, request)
            return (status_line + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                    + body)
        return build

    def fixed(data):
        return lambda payment_id, request: data

    def headers_only(payment_id, request):
        body = tempting_payment(payment_id, request)
        return b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body

    return {
        "garbage": fixed(b"garbage\r\n\r\n"),
        "blank_lines_only": fixed(b"\r\n\r\n"),
        "http_1_2_status_line": with_valid_headers(b"HTTP/1.2 200 OK"),
        "http_0_9_status_line": with_valid_headers(b"HTTP/0.9 200 OK"),
        "icy_status_line": with_valid_headers(b"ICY 200 OK"),
        "rtsp_status_line": with_valid_headers(b"RTSP/1.0 200 OK"),
        "status_099": fixed(b"HTTP/1.1 099 Weird\r\nContent-Length: 0\r\n\r\n"),
        "status_099_valid_body": with_valid_headers(b"HTTP/1.1 099 Weird"),
        "status_000": fixed(b"HTTP/1.1 000\r\n\r\n"),
        "status_negative": fixed(b"HTTP/1.1 -20 Minus\r\nContent-Length: 0\r\n\r\n"),
        "status_four_digits": with_valid_headers(b"HTTP/1.1 2000 OK"),
        "status_leading_zero_four_digits": with_valid_headers(b"HTTP/1.1 0200 OK"),
        "status_letters": with_valid_headers(b"HTTP/1.1 2OO OK"),
        "status_line_cut_after_two_digits": fixed(b"HTTP/1.1 20\r\n\r\n"),
        "status_line_cut_after_one_digit": fixed(b"HTTP/1.1 2\r\nContent-Length: 0\r\n\r\n"),
        "status_line_cut_after_version": fixed(b"HTTP/1.1\r\n\r\n"),
        "status_line_cut_after_version_space": fixed(b"HTTP/1.1 \r\n\r\n"),
        "status_line_cut_after_slash": fixed(b"HTTP/\r\n\r\n"),
        "headers_without_status_line": headers_only,
    }


NOT_HTTP = not_http_replies()


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("reply", sorted(NOT_HTTP))
def test_not_http_reply_is_invalid_response_unknown_and_not_retried(lib, exchange, operation, reply):
    script = ks.with_ids(lambda payment_id, request: hs.raw(NOT_HTTP[reply](payment_id, request)))
    result = exchange(operation, script)
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_INVALID_RESPONSE",
                    outcome="unknown", retryable=False, attempts=1)
    result.assert_requests(1)
    assert result.connections == 1


# A reply that stops in the middle of its status line or head and closes:
# the contract calls it either "not HTTP" (INVALID_RESPONSE) or "connection
# closed after sending" (NETWORK); either way a create is never sent again,
# its outcome is unknown, and a view is retried only if it is NETWORK.
CUT_AND_CLOSED = {
    "status_line_cut_mid_code_then_close": b"HTTP/1.1 2",
    "status_line_cut_mid_version_then_close": b"HTTP/1.",
    "status_line_cut_mid_protocol_then_close": b"HTT",
    "header_without_colon": b"HTTP/1.1 200 OK\r\nthis header has no colon\r\nContent-Length: 0\r\n\r\n",
}


@pytest.mark.parametrize("reply", sorted(CUT_AND_CLOSED))
def test_cut_reply_to_create_is_unknown_and_never_resent(lib, exchange, reply):
    result = exchange("create", hs.raw(CUT_AND_CLOSED[reply]))
    assert ks.NAME.get(result.status) in ("KASKO_ERR_INVALID_RESPONSE", "KASKO_ERR_NETWORK"), result.text
    ks.assert_error(lib, result.status, result.text, code=ks.NAME[result.status],
                    outcome="unknown", retryable=False, attempts=1)
    result.assert_requests(1)


@pytest.mark.parametrize("reply", sorted(CUT_AND_CLOSED))
def test_cut_reply_to_view_is_unknown_and_retried_only_as_network(lib, exchange, reply):
    result = exchange("view", hs.raw(CUT_AND_CLOSED[reply]))
    name = ks.NAME.get(result.status)
    assert name in ("KASKO_ERR_INVALID_RESPONSE", "KASKO_ERR_NETWORK"), result.text
    if name == "KASKO_ERR_INVALID_RESPONSE":
        ks.assert_error(lib, result.status, result.text, code=name, outcome="unknown", retryable=False, attempts=1)
        result.assert_requests(1)
    else:
        ks.assert_error(lib, result.status, result.text, code=name, outcome="unknown", retryable=True, attempts=3)
        result.assert_requests(3)


# -- one ~1 MB response header ---------------------------------------------------------

BIG = b"a" * 1_000_000


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("http_status", [200, 404, 503])
@pytest.mark.parametrize("position", ["first_header", "after_content_length"])
def test_one_megabyte_response_header_is_invalid_response_never_internal(lib, exchange, operation, http_status,
                                                                          position):
    def build(payment_id, request):
        body = ks.full_payment(payment_id, request["policy_id"]).encode() if http_status == 200 else b"{}"
        length = b"Content-Length: %d\r\n" % len(body)
        big = b"X-Big: " + BIG + b"\r\n"
        headers = big + length if position == "first_header" else length + big
        return hs.raw(b"HTTP/1.1 %d Whatever\r\nContent-Type: application/json\r\n" % http_status
                      + headers + b"Retry-After: 0\r\n\r\n" + body)

    result = exchange(operation, ks.with_ids(build))
    assert ks.NAME.get(result.status) != "KASKO_ERR_INTERNAL", result.text
    error = ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_INVALID_RESPONSE",
                            outcome="unknown", retryable=False, attempts=1)
    assert error["outcome"] != "not_sent"
    result.assert_requests(1)


# -- bodies over 1 MiB (and exactly 1 MiB) ---------------------------------------------

MIB = 1 << 20


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("framing", ["content_length", "close_delimited", "chunked"])
@pytest.mark.parametrize("http_status", [200, 404, 503])
def test_body_over_one_mib_is_invalid_response_unknown_not_retried(lib, exchange, operation, framing, http_status):
    def build(payment_id, request):
        payment = ks.full_payment(payment_id, request["policy_id"]).encode()
        body = payment + b" " * (MIB + 1 - len(payment))
        assert len(body) == MIB + 1
        head = b"HTTP/1.1 %d Whatever\r\nContent-Type: application/json\r\nRetry-After: 0\r\n" % http_status
        if framing == "content_length":
            return hs.raw(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        if framing == "close_delimited":
            return hs.raw(head + b"Connection: close\r\n\r\n" + body)
        chunks = b"".join(b"%x\r\n" % len(body[i:i + 65536]) + body[i:i + 65536] + b"\r\n"
                          for i in range(0, len(body), 65536))
        return hs.raw(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")

    result = exchange(operation, ks.with_ids(build))
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_INVALID_RESPONSE",
                    outcome="unknown", retryable=False, attempts=1)
    result.assert_requests(1)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_payment_body_of_exactly_one_mib_is_ok_and_unchanged(lib, exchange, operation):
    sent = {}

    def build(payment_id, request):
        payment = ks.full_payment(payment_id, request["policy_id"]).encode()
        sent["body"] = payment + b" " * (MIB - len(payment))
        return hs.respond(200, sent["body"])

    result = exchange(operation, ks.with_ids(build))
    ks.assert_ok(result.status, result.text)
    assert len(sent["body"]) == MIB
    assert result.text == sent["body"]
    result.assert_requests(1)
