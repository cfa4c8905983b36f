"""2xx answers: a payment object is passed on byte for byte; anything that
is not the payment asked for (wrong id, wrong policy, duplicate members,
not a payment at all) is INVALID_RESPONSE, outcome unknown, not retried."""

import json

import pytest

import hostile_server as hs
import kasko_support as ks

OPERATIONS = ["create", "view"]


def payment_members(payment_id, policy_id):
    """The full payment's members after "object" and "id", as JSON text."""
    full = ks.full_payment(payment_id, policy_id)
    prefix = '{"object":"payment","id":"%s",' % payment_id
    assert full.startswith(prefix)
    return full[len(prefix):-1]


# -- success: passed on unchanged ---------------------------------------------------------

def ok_bodies():
    def compact(payment_id, request):
        return ks.full_payment(payment_id, request["policy_id"])

    def pretty_unicode(payment_id, request):
        document = json.loads(ks.full_payment(payment_id, request["policy_id"]))
        document["reference"] = "Ünïcødé – ✓ \u2028 \"quoted\" \\ /"
        return json.dumps(document, indent=3, ensure_ascii=False) + "\n\n"

    def escaped_unicode(payment_id, request):
        document = json.loads(ks.full_payment(payment_id, request["policy_id"]))
        document["reference"] = "Ünïcødé 😀"
        return json.dumps(document, ensure_ascii=True)

    def nested_ids(payment_id, request):
        # "id", "object" and "policy_id" inside nested values are not top-level members.
        document = json.loads(ks.full_payment(payment_id, request["policy_id"]))
        document["metadata"] = [{"id": "tother", "object": "refund", "policy_id": "tpol_other"}]
        document["_links"]["_self"]["id"] = "tsomethingelse"
        return json.dumps(document)

    def restricted(payment_id, request):
        return ks.restricted_payment(payment_id)

    return {"compact": compact, "pretty_printed_unicode": pretty_unicode, "ascii_escaped_unicode": escaped_unicode,
            "nested_id_object_policy_members": nested_ids, "restricted_shape": restricted}


OK_BODIES = ok_bodies()


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("http_status", [200, 201])
@pytest.mark.parametrize("shape", sorted(OK_BODIES))
def test_matching_payment_is_ok_and_passed_on_byte_for_byte(lib, exchange, operation, http_status, shape):
    sent = {}

    @ks.with_ids
    def script(payment_id, request):
        sent["body"] = OK_BODIES[shape](payment_id, request).encode()
        return hs.respond(http_status, sent["body"])

    result = exchange(operation, script)
    ks.assert_ok(result.status, result.text)
    assert result.text == sent["body"]
    result.assert_requests(1)


def test_create_answered_with_restricted_shape_without_policy_id_is_ok(lib, exchange):
    sent = {}

    @ks.with_ids
    def script(payment_id, request):
        sent["body"] = ks.restricted_payment(payment_id).encode()
        assert b"policy_id" not in sent["body"]
        return hs.respond(200, sent["body"])

    result = exchange("create", script)
    ks.assert_ok(result.status, result.text)
    assert result.text == sent["body"]
    result.assert_requests(1)


# -- not the payment asked for ---------------------------------------------------------

def invalid_for_view():
    """name -> (payment_id, request) -> body, for a view of payment_id."""
    other = ks.new_payment_id

    def wrong_id(a, request):
        return ks.full_payment(other(), request["policy_id"])

    def id_prefix_of_asked(a, request):
        return ks.full_payment(a[:-1], request["policy_id"])

    def id_extends_asked(a, request):
        return ks.full_payment(a + "0", request["policy_id"])

    def id_differs_in_case(a, request):
        return ks.full_payment(a.upper(), request["policy_id"])

    def duplicate_id_asked_first(a, request):
        return '{"object":"payment","id":"%s","id":"%s",%s}' % (a, other(), payment_members(a, request["policy_id"]))

    def duplicate_id_asked_last(a, request):
        return '{"object":"payment","id":"%s",%s,"id":"%s"}' % (other(), payment_members(a, request["policy_id"]), a)

    def duplicate_id_same_value(a, request):
        return '{"object":"payment","id":"%s","id":"%s",%s}' % (a, a, payment_members(a, request["policy_id"]))

    def duplicate_id_escaped_key(a, request):
        return '{"object":"payment","id":"%s","\\u0069d":"%s",%s}' % (a, other(), payment_members(a, request["policy_id"]))

    def escaped_id_value_differs(a, request):
        b = other()
        return '{"object":"payment","id":"\\u0074%s",%s}' % (b[1:], payment_members(a, request["policy_id"]))

    return {
        "id_of_another_payment": wrong_id,
        "id_is_prefix_of_asked": id_prefix_of_asked,
        "id_extends_asked": id_extends_asked,
        "id_differs_in_case": id_differs_in_case,
        "duplicate_id_asked_then_other": duplicate_id_asked_first,
        "duplicate_id_other_then_asked": duplicate_id_asked_last,
        "duplicate_id_same_value": duplicate_id_same_value,
        "duplicate_id_via_escaped_key": duplicate_id_escaped_key,
        "escaped_id_value_of_another_payment": escaped_id_value_differs,
    }


def invalid_for_both():
    """Bodies that are no valid answer to a create or a view."""
    def members(a, request):
        return payment_members(a, request["policy_id"])

    return {
        "empty_body": lambda a, r: "",
        "null": lambda a, r: "null",
        "array": lambda a, r: "[%s]" % ks.full_payment(a, r["policy_id"]),
        "string": lambda a, r: json.dumps(ks.full_payment(a, r["policy_id"])),
        "empty_object": lambda a, r: "{}",
        "html": lambda a, r: "<html><body>OK</body></html>",
        "object_is_refund": lambda a, r: '{"object":"refund","id":"%s",%s}' % (a, members(a, r)),
        "object_missing": lambda a, r: '{"id":"%s",%s}' % (a, members(a, r)),
        "object_not_a_string": lambda a, r: '{"object":1,"id":"%s",%s}' % (a, members(a, r)),
        "id_missing": lambda a, r: '{"object":"payment",%s}' % members(a, r),
        "id_empty": lambda a, r: '{"object":"payment","id":"",%s}' % members(a, r),
        "id_not_a_string": lambda a, r: '{"object":"payment","id":123,%s}' % members(a, r),
        "id_null": lambda a, r: '{"object":"payment","id":null,%s}' % members(a, r),
        "duplicate_object_payment_then_refund":
            lambda a, r: '{"object":"payment","object":"refund","id":"%s",%s}' % (a, members(a, r)),
        "duplicate_object_refund_then_payment":
            lambda a, r: '{"object":"refund","object":"payment","id":"%s",%s}' % (a, members(a, r)),
        "duplicate_object_payment_twice":
            lambda a, r: '{"object":"payment","id":"%s",%s,"object":"payment"}' % (a, members(a, r)),
        "duplicate_object_via_escaped_key":
            lambda a, r: '{"object":"payment","\\u006fbject":"refund","id":"%s",%s}' % (a, members(a, r)),
        "truncated_json": lambda a, r: ks.full_payment(a, r["policy_id"])[:-1],
        "trailing_garbage": lambda a, r: ks.full_payment(a, r["policy_id"]) + " trailing",
        "two_documents": lambda a, r: ks.full_payment(a, r["policy_id"]) * 2,
        "invalid_utf8": lambda a, r: ks.full_payment(a, r["policy_id"]).replace('"fee":0', '"fee":0,"x":"\udcff"'),
        "raw_nul_in_string": lambda a, r: ks.full_payment(a, r["policy_id"]).replace('"fee":0', '"fee":0,"x":"a\x00b"'),
        "raw_nul_after_document": lambda a, r: ks.full_payment(a, r["policy_id"]) + "\x00",
        "raw_control_character_in_string":
            lambda a, r: ks.full_payment(a, r["policy_id"]).replace('"fee":0', '"fee":0,"x":"a\x01b"'),
    }


INVALID_FOR_VIEW = invalid_for_view()
INVALID_FOR_BOTH = invalid_for_both()


def encode_body(text):
    return text.encode("utf-8", "surrogateescape")


def expect_invalid(lib, result):
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_INVALID_RESPONSE", outcome="unknown",
                    retryable=False, attempts=1)
    result.assert_requests(1)


@pytest.mark.parametrize("body", sorted(INVALID_FOR_VIEW))
def test_view_answered_with_another_payment_is_invalid_response(lib, exchange, body):
    script = ks.with_ids(lambda payment_id, request: hs.respond(200, encode_body(INVALID_FOR_VIEW[body](payment_id, request))))
    result = exchange("view", script)
    expect_invalid(lib, result)


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("body", sorted(INVALID_FOR_BOTH))
def test_2xx_body_that_is_not_a_payment_is_invalid_response(lib, exchange, operation, body):
    script = ks.with_ids(lambda payment_id, request: hs.respond(200, encode_body(INVALID_FOR_BOTH[body](payment_id, request))))
    result = exchange(operation, script)
    expect_invalid(lib, result)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_204_without_body_is_invalid_response(lib, exchange, operation):
    result = exchange(operation, hs.raw(b"HTTP/1.1 204 No Content\r\n\r\n"))
    expect_invalid(lib, result)


# -- creates: the payment must be for the policy in the request --------------------------

def invalid_for_create():
    other_policy = ks.new_policy_id

    def head(a):
        return '{"object":"payment","id":"%s","livemode":false,"provider":"invoice","method":"invoice","status":"ok"' % a

    tail = ',"transaction_metadata":[],"_links":{}}'

    return {
        "policy_id_of_another_policy": lambda a, r: ks.full_payment(a, other_policy()),
        "policy_id_prefix_of_requested": lambda a, r: ks.full_payment(a, r["policy_id"][:-1]),
        "policy_id_differs_in_case": lambda a, r: ks.full_payment(a, r["policy_id"].upper()),
        "duplicate_policy_id_requested_then_other":
            lambda a, r: head(a) + ',"policy_id":"%s","policy_id":"%s"' % (r["policy_id"], other_policy()) + tail,
        "duplicate_policy_id_other_then_requested":
            lambda a, r: head(a) + ',"policy_id":"%s","policy_id":"%s"' % (other_policy(), r["policy_id"]) + tail,
        "duplicate_policy_id_same_value":
            lambda a, r: head(a) + ',"policy_id":"%s","policy_id":"%s"' % (r["policy_id"], r["policy_id"]) + tail,
        "duplicate_policy_id_via_escaped_key":
            lambda a, r: head(a) + ',"policy_id":"%s","\\u0070olicy_id":"%s"' % (r["policy_id"], other_policy()) + tail,
        "escaped_policy_id_value_of_another_policy":
            lambda a, r: head(a) + ',"policy_id":"\\u0074%s"' % other_policy()[1:] + tail,
        "duplicate_id_in_create_answer":
            lambda a, r: '{"object":"payment","id":"%s","id":"%s",%s}' % (a, ks.new_payment_id(),
                                                                         payment_members(a, r["policy_id"])),
        "duplicate_object_in_create_answer":
            lambda a, r: '{"object":"refund","object":"payment","id":"%s",%s}' % (a, payment_members(a, r["policy_id"])),
    }


INVALID_FOR_CREATE = invalid_for_create()


@pytest.mark.parametrize("body", sorted(INVALID_FOR_CREATE))
def test_create_answered_with_payment_of_another_policy_is_invalid_response(lib, exchange, body):
    script = ks.with_ids(lambda payment_id, request: hs.respond(200, INVALID_FOR_CREATE[body](payment_id, request)))
    result = exchange("create", script)
    expect_invalid(lib, result)
