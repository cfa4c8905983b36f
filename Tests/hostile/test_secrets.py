"""A server that echoes the client's secrets (secret key, public key, the
Authorization header line, the payment token) in its error answer: none of
them may appear in the error object; `[redacted]` does instead."""

import json

import pytest

import hostile_server as hs
import kasko_support as ks

LOCATIONS = ["message", "status", "errors_value", "errors_key", "request_id"]
SECRET_KINDS = ["secret_key", "public_key", "authorization_line", "token"]


def secret_text(kind, keys, token):
    return {"secret_key": keys.secret, "public_key": keys.public,
            "authorization_line": keys.bearer_line, "token": token}[kind]


def echo_answer(http_status, location, secret, ensure_ascii=True):
    """Handler: an API error answer with `secret` at `location`."""
    status_text = hs.REASONS[http_status]
    message = "request refused"
    errors = [{"field": "policy_id", "message": "is invalid"}]
    headers = ["Retry-After: 0"]
    if location == "message":
        message = "we received %s from you" % secret
    elif location == "status":
        status_text = "Bad %s" % secret
    elif location == "errors_value":
        errors = [{"field": "token", "message": "not valid: %s" % secret}, secret]
    elif location == "errors_key":
        errors = [{secret: "is not valid"}]
    elif location == "request_id":
        headers.append(("X-Request-Id: req_%s" % secret).encode("utf-8"))
    else:
        raise ValueError(location)
    body = json.dumps({"status": status_text, "message": message, "errors": errors}, ensure_ascii=ensure_ascii)
    return hs.respond(http_status, body.encode("utf-8"), headers=headers)


def assert_no_secrets(text, secrets):
    """No secret in the raw error JSON (in any JSON spelling) nor in any
    decoded string (values and keys); `[redacted]` is there instead."""
    raw = text.decode("utf-8")
    for secret in secrets:
        for form in ks.json_escaped_forms(secret):
            assert form not in raw, "secret %r appears in the error object: %s" % (secret[:12] + "...", raw[:800])
    _, error = ks.parse_error(text)
    for value in ks.all_strings(error):
        for secret in secrets:
            assert secret not in value, "secret %r appears in decoded %r" % (secret[:12] + "...", value[:300])
    assert "[redacted]" in raw, "the error object does not say [redacted]: %s" % raw[:800]


def assert_server_got_secrets(server, keys, token=None):
    """The secrets really went to the server, so the echo test can fail."""
    seen = server.requests[0]
    assert seen.header("Authorization") == "Bearer " + keys.secret, seen.headers
    assert keys.bearer_line.encode() in seen.head
    if token is not None:
        assert "key=" + keys.public in seen.target, seen.target
        assert json.loads(seen.body.decode("utf-8"))["token"] == token


def expect_contract_error(lib, result, http_status):
    code, outcome, retryable, retried = ks.contract_for_http(http_status, result.operation)
    error = ks.assert_error(lib, result.status, result.text, code=code, outcome=outcome, retryable=retryable,
                            attempts=1, http_status=http_status)
    result.assert_requests(1)
    return error


@pytest.mark.parametrize("http_status", [400, 401, 500])
@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("kind", SECRET_KINDS)
def test_create_error_echoing_a_secret_is_redacted(lib, exchange, keys, http_status, location, kind):
    token = ks.new_token()
    request = ks.create_request(token=token)
    result = exchange("create", echo_answer(http_status, location, secret_text(kind, keys, token)), request=request)
    assert_server_got_secrets(result.server, keys, token)
    assert_no_secrets(result.text, [keys.secret, keys.public, token])
    expect_contract_error(lib, result, http_status)


@pytest.mark.parametrize("http_status", [400, 401, 500])
@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("kind", ["secret_key", "public_key", "authorization_line"])
def test_view_error_echoing_a_secret_is_redacted(lib, exchange, keys, http_status, location, kind):
    result = exchange("view", echo_answer(http_status, location, secret_text(kind, keys, None)))
    assert_server_got_secrets(result.server, keys)
    assert_no_secrets(result.text, [keys.secret, keys.public])
    expect_contract_error(lib, result, http_status)


@pytest.mark.parametrize("operation", ["create", "view"])
def test_error_echoing_every_secret_everywhere_is_redacted(lib, exchange, keys, operation):
    token = ks.new_token()
    everything = "%s %s %s %s" % (keys.secret, keys.public, keys.bearer_line, token)
    body = json.dumps({"status": "Bad " + everything, "message": "echo: " + everything,
                       "errors": [{everything: everything}, everything, {"nested": [everything]}]})
    headers = [("X-Request-Id: " + keys.bearer_line + " " + token).encode()]
    result = exchange(operation, hs.respond(401, body, headers=headers), request=ks.create_request(token=token))
    assert_server_got_secrets(result.server, keys, token if operation == "create" else None)
    assert_no_secrets(result.text, [keys.secret, keys.public] + ([token] if operation == "create" else []))
    expect_contract_error(lib, result, 401)


# -- tokens that JSON has to escape ---------------------------------------------------------

TOKENS = {
    "with_quote": lambda: "ptok_" + ks.random_alnum(20) + '"' + ks.random_alnum(20),
    "with_backslash": lambda: "ptok_" + ks.random_alnum(20) + "\\" + ks.random_alnum(20),
    "with_slash": lambda: "ptok_" + ks.random_alnum(20) + "/" + ks.random_alnum(20),
    "with_non_ascii_letter": lambda: "ptok_" + ks.random_alnum(20) + "\u00e4" + ks.random_alnum(20),
    "with_non_bmp_character": lambda: "ptok_" + ks.random_alnum(20) + "\U0001F511" + ks.random_alnum(20),
}


@pytest.mark.parametrize("http_status", [400, 401, 500])
@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("server_encoding", ["ascii_escapes", "raw_utf8"])
@pytest.mark.parametrize("token_kind", sorted(TOKENS))
def test_create_error_echoing_a_token_that_needs_escaping_is_redacted(lib, exchange, keys, http_status, location,
                                                                      server_encoding, token_kind):
    token = TOKENS[token_kind]()
    request = ks.create_request(token=token)
    answer = echo_answer(http_status, location, token, ensure_ascii=server_encoding == "ascii_escapes")
    result = exchange("create", answer, request=request)
    assert_server_got_secrets(result.server, keys, token)
    assert_no_secrets(result.text, [keys.secret, keys.public, token])
    expect_contract_error(lib, result, http_status)


def wire_spelling_of_token(request):
    """The token exactly as the request body spelled it (JSON escapes and all)."""
    body = request.body
    start = body.index(b'"token":"') + len(b'"token":"')
    end = body.index(b'","provider"', start)
    return body[start:end].decode("utf-8")


def echo_wire_spelling(http_status, location):
    """Handler: like echo_answer, with the token quoted back as the raw text
    of the request body (what a server that splices the raw body does)."""
    def handler(conn, request):
        return echo_answer(http_status, location, wire_spelling_of_token(request))(conn, request)
    return handler


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("token_kind", ["with_quote", "with_backslash"])
def test_create_error_echoing_the_token_as_spelled_on_the_wire_is_redacted(lib, exchange, keys, location,
                                                                           token_kind):
    """The request body spells `ptok_..\\"..`; the server quotes those bytes
    back, so the decoded message holds the escaped spelling of the token."""
    token = TOKENS[token_kind]()
    spelled = json.dumps(token)[1:-1]
    assert spelled != token
    result = exchange("create", echo_wire_spelling(400, location), request=ks.create_request(token=token))
    assert_server_got_secrets(result.server, keys, token)
    assert wire_spelling_of_token(result.server.requests[0]) == spelled
    assert_no_secrets(result.text, [keys.secret, keys.public, token, spelled])
    expect_contract_error(lib, result, 400)


@pytest.mark.parametrize("location", ["message", "status", "errors_value", "errors_key"])
@pytest.mark.parametrize("token_kind", ["with_non_ascii_letter", "with_non_bmp_character"])
def test_create_error_echoing_the_ascii_escaped_spelling_of_a_token_is_redacted(lib, exchange, keys, location,
                                                                                token_kind):
    """The server quotes the token as ASCII-only JSON spells it, so the
    decoded message holds `ptok_..\\u00e4..` (the request itself carried
    raw UTF-8)."""
    token = TOKENS[token_kind]()
    spelled = json.dumps(token)[1:-1]
    assert spelled != token
    result = exchange("create", echo_answer(400, location, spelled), request=ks.create_request(token=token))
    assert_server_got_secrets(result.server, keys, token)
    assert_no_secrets(result.text, [keys.secret, keys.public, token, spelled])
    expect_contract_error(lib, result, 400)


# -- more places a server can put a secret -----------------------------------------------

def more_echoes():
    """name -> (secret) -> handler; the secret goes where the library might
    quote it from: the reason phrase, a non-JSON body, duplicate members,
    \\u-escaped JSON, nested or non-array "errors", the 422 pending id."""
    def fully_escaped(secret):
        return "".join("\\u%04x" % ord(character) for character in secret)

    return {
        "reason_phrase": lambda secret: hs.respond(400, b"", reason="Bad " + secret),
        "html_body": lambda secret: hs.respond(400, "<html><p>%s</p></html>" % secret, content_type="text/html"),
        "plain_text_body": lambda secret: hs.respond(400, "error: " + secret, content_type="text/plain"),
        "duplicate_message_second": lambda secret: hs.respond(
            400, '{"status":"Bad Request","message":"ok","message":"%s"}' % secret),
        "duplicate_message_first": lambda secret: hs.respond(
            400, '{"status":"Bad Request","message":"%s","message":"ok"}' % secret),
        "duplicate_status": lambda secret: hs.respond(
            400, '{"status":"Bad Request","status":"%s","message":"ok"}' % secret),
        "message_fully_unicode_escaped": lambda secret: hs.respond(
            400, '{"status":"Bad Request","message":"echo %s"}' % fully_escaped(secret)),
        "errors_key_fully_unicode_escaped": lambda secret: hs.respond(
            400, '{"status":"Bad Request","message":"m","errors":[{"%s":1}]}' % fully_escaped(secret)),
        "errors_object_not_array": lambda secret: hs.respond(
            400, json.dumps({"status": "Bad Request", "message": "m", "errors": {secret: secret}})),
        "errors_deeply_nested": lambda secret: hs.respond(
            400, json.dumps({"status": "Bad Request", "message": "m",
                             "errors": [{"a": {"b": [[{"c": secret}], {secret: [secret]}]}}]})),
        "message_after_10k_characters": lambda secret: hs.respond(
            400, json.dumps({"status": "Bad Request", "message": "x" * 10000 + secret})),
        "secret_twice_in_message": lambda secret: hs.respond(
            400, json.dumps({"status": "Bad Request", "message": secret + secret + " " + secret})),
        "pending_payment_id_is_the_secret": lambda secret: hs.respond(
            422, json.dumps({"status": "Unprocessable Entity",
                             "message": "Policy - tpol_x already has pending payment - %s." % secret})),
    }


MORE_ECHOES = more_echoes()


@pytest.mark.parametrize("kind", SECRET_KINDS)
@pytest.mark.parametrize("place", sorted(MORE_ECHOES))
def test_create_error_with_secret_in_unusual_place_does_not_leak(lib, exchange, keys, kind, place):
    token = ks.new_token()
    secret = secret_text(kind, keys, token)
    result = exchange("create", MORE_ECHOES[place](secret), request=ks.create_request(token=token))
    assert_server_got_secrets(result.server, keys, token)
    # Here the library may also drop the text instead of redacting it.
    raw = result.text.decode("utf-8")
    for value in (keys.secret, keys.public, token):
        for form in ks.json_escaped_forms(value):
            assert form not in raw, "secret %r leaked: %s" % (value[:12] + "...", raw[:600])
    _, error = ks.parse_error(result.text)
    for text in ks.all_strings(error):
        for value in (keys.secret, keys.public, token):
            assert value not in text
    http_status = 422 if place.startswith("pending") else 400
    expect_contract_error(lib, result, http_status)
    if place.startswith("pending"):
        # "- Authorization: Bearer ..." may legitimately yield the id "Authorization".
        allowed = (None, "Authorization") if kind == "authorization_line" else (None,)
        assert error["pending_payment_id"] in allowed, error["pending_payment_id"]


@pytest.mark.parametrize("kind", ["secret_key", "public_key", "token"])
@pytest.mark.parametrize("padding", [150, 166, 176, 180])
def test_secret_straddling_the_request_id_length_cap_does_not_leak_in_part(lib, exchange, keys, kind, padding):
    """An X-Request-Id of `req_` + padding + secret, longer than the ~200
    bytes the library keeps: cutting it before redacting would leave the
    first 16+ characters of the secret (8+ of its random part) in request_id."""
    token = ks.new_token()
    secret = secret_text(kind, keys, token)
    header = "X-Request-Id: req_" + "a" * padding + secret
    result = exchange("create", hs.respond(400, ks.api_error_body("Bad Request", "no"), headers=[header]),
                      request=ks.create_request(token=token))
    assert_server_got_secrets(result.server, keys, token)
    error = expect_contract_error(lib, result, 400)
    request_id = error["request_id"] or ""
    fragment = secret[:16]
    assert fragment not in request_id, "request_id keeps %d characters of the %s: ...%s" % (
        len(request_id) - request_id.find(secret[:6]), kind, request_id[-40:])
    assert secret not in request_id


@pytest.mark.parametrize("kind", ["secret_key", "public_key", "token"])
def test_view_answered_with_a_secret_as_payment_id_does_not_leak(lib, exchange, keys, kind):
    token = ks.new_token()
    secret = secret_text(kind, keys, token)
    result = exchange("view", hs.respond(200, ks.full_payment(secret, ks.new_policy_id())))
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_INVALID_RESPONSE", outcome="unknown",
                    retryable=False, attempts=1)
    result.assert_requests(1)
    for value in (keys.secret, keys.public, secret):
        assert value not in result.text.decode()


@pytest.mark.parametrize("kind", ["secret_key", "public_key", "token"])
def test_create_answered_with_a_secret_as_policy_id_does_not_leak(lib, exchange, keys, kind):
    token = ks.new_token()
    secret = secret_text(kind, keys, token)
    result = exchange("create", hs.respond(200, ks.full_payment(ks.new_payment_id(), secret)),
                      request=ks.create_request(token=token))
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_INVALID_RESPONSE", outcome="unknown",
                    retryable=False, attempts=1)
    result.assert_requests(1)
    for value in (keys.secret, keys.public, token):
        assert value not in result.text.decode()
