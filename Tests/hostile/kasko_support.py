"""ctypes binding of libkasko's C API, test data, and the assertions every
hostile-server test shares. The library comes from $KASKO_LIBRARY only."""

import ctypes
import json
import os
import re
import secrets
import string
import threading
import time

import pytest

STATUS = {
    "KASKO_OK": 0,
    "KASKO_ERR_INVALID_ARGUMENT": 1,
    "KASKO_ERR_BAD_REQUEST": 2,
    "KASKO_ERR_UNAUTHORIZED": 3,
    "KASKO_ERR_NOT_FOUND": 4,
    "KASKO_ERR_PENDING_PAYMENT": 5,
    "KASKO_ERR_RATE_LIMITED": 6,
    "KASKO_ERR_SERVER": 7,
    "KASKO_ERR_NETWORK": 8,
    "KASKO_ERR_INVALID_RESPONSE": 9,
    "KASKO_ERR_INTERNAL": 10,
    "KASKO_ERR_BAD_SIGNATURE": 11,
    "KASKO_ERR_CANCELLED": 12,
}
NAME = {value: name for name, value in STATUS.items()}

ERROR_KEYS = ["object", "code", "http_status", "status", "message", "pending_payment_id",
              "retryable", "outcome", "attempts", "request_id"]

PAYMENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")

# Every library call runs in a worker thread joined with this timeout, so a
# hang fails the test instead of hanging the suite.
CALL_TIMEOUT = 30.0

ANY = object()  # "do not check this field"

# What each library call of the current test returned, for the optional
# per-test log (KASKO_HOSTILE_LOG); reset before every test.
OBSERVED = []


def observe(call, status, text):
    OBSERVED.append((call, status, text))


# -- the library -------------------------------------------------------------------

class Library:
    def __init__(self, path):
        self.path = path
        lib = ctypes.CDLL(path)
        lib.kasko_version.restype = ctypes.c_char_p
        lib.kasko_version.argtypes = []
        lib.kasko_status_name.restype = ctypes.c_char_p
        lib.kasko_status_name.argtypes = [ctypes.c_int]
        lib.kasko_client_new.restype = ctypes.c_int
        lib.kasko_client_new.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                                         ctypes.POINTER(ctypes.c_void_p)]
        lib.kasko_client_free.restype = None
        lib.kasko_client_free.argtypes = [ctypes.c_void_p]
        lib.kasko_payment_create.restype = ctypes.c_int
        lib.kasko_payment_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.kasko_payment_get.restype = ctypes.c_int
        lib.kasko_payment_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.kasko_string_free.restype = None
        lib.kasko_string_free.argtypes = [ctypes.c_void_p]
        self.lib = lib

    def version(self):
        return self.lib.kasko_version().decode()

    def status_name(self, status):
        return self.lib.kasko_status_name(status).decode()

    def take_string(self, pointer):
        """Copy a library-owned string out and free it."""
        if not pointer.value:
            return None
        try:
            return ctypes.string_at(pointer.value)
        finally:
            self.lib.kasko_string_free(pointer.value)

    def client_new(self, config):
        """(status, client pointer or None, error JSON bytes or None)."""
        text = config if isinstance(config, (bytes, str)) else json.dumps(config)
        text = text.encode() if isinstance(text, str) else text
        client = ctypes.c_void_p()
        error = ctypes.c_void_p()
        status = self.lib.kasko_client_new(text, ctypes.byref(client), ctypes.byref(error))
        error_text = self.take_string(error)
        observe("client_new", status, error_text)
        return status, (client.value or None), error_text

    def client_free(self, client):
        self.lib.kasko_client_free(client)

    def create(self, client, request):
        """(status, JSON bytes)."""
        text = request if isinstance(request, (bytes, str)) else json.dumps(request)
        text = text.encode() if isinstance(text, str) else text
        out = ctypes.c_void_p()
        status = self.lib.kasko_payment_create(client, text, ctypes.byref(out))
        result = self.take_string(out)
        observe("create", status, result)
        return status, result

    def get(self, client, payment_id):
        out = ctypes.c_void_p()
        status = self.lib.kasko_payment_get(client, payment_id.encode(), ctypes.byref(out))
        result = self.take_string(out)
        observe("view", status, result)
        return status, result


def run_bounded(function, *args, timeout=CALL_TIMEOUT):
    """Run function(*args) in a thread; fail the test if it does not return
    within `timeout` seconds. Returns (result, seconds taken)."""
    box = {}

    def target():
        try:
            box["result"] = function(*args)
        except BaseException as error:  # re-raised in the test's thread
            box["error"] = error

    thread = threading.Thread(target=target, name="kasko-call", daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(timeout)
    elapsed = time.monotonic() - started
    if thread.is_alive():
        pytest.fail("library call %s did not return within %.0f s (hang)" % (function.__name__, timeout))
    if "error" in box:
        raise box["error"]
    return box["result"], elapsed


# -- test data ---------------------------------------------------------------------

ALNUM = string.ascii_letters + string.digits


def random_alnum(count):
    return "".join(secrets.choice(ALNUM) for _ in range(count))


def random_hex(count):
    return "".join(secrets.choice("0123456789abcdef") for _ in range(count))


def new_payment_id():
    return "t" + random_hex(32)


def new_policy_id():
    return "tpol_" + random_alnum(28)


def new_token():
    return "ptok_" + random_alnum(40)


class Keys:
    def __init__(self):
        self.public = "pk_test_" + random_alnum(32)
        self.secret = "sk_test_" + random_alnum(32)

    @property
    def bearer_line(self):
        return "Authorization: Bearer " + self.secret


def client_config(keys, base_url, **extra):
    config = {
        "public_key": keys.public,
        "secret_key": keys.secret,
        "base_url": base_url,
        "max_retries": 2,
        "timeout_ms": 5000,
        "connect_timeout_ms": 2000,
    }
    config.update(extra)
    return config


def create_request(token=None, policy_id=None):
    return {
        "token": token or new_token(),
        "provider": "invoice",
        "method": "invoice",
        "policy_id": policy_id or new_policy_id(),
    }


def full_payment(payment_id, policy_id, token=None, base_url="http://127.0.0.1"):
    """A full payment object, in the reference's member order, as text."""
    return (
        '{"object":"payment","id":"%s","livemode":false,"provider":"invoice","method":"invoice",'
        '"status":"ok","policy_id":"%s","charge_id":null,"fee":0,"reference":null,"token":"%s",'
        '"reason":null,"processed_at":"2024-01-01T00:00:00Z","error_code":null,"metadata":[],'
        '"transaction_metadata":[],"customer_id":"cus_%s","refunds":[],'
        '"_links":{"_self":{"href":"%s/payments/%s"}}}'
        % (payment_id, policy_id, token or new_token(), random_alnum(16), base_url, payment_id))


def restricted_payment(payment_id, base_url="http://127.0.0.1"):
    """The restricted shape a create may return: no policy_id."""
    return (
        '{"object":"payment","id":"%s","livemode":false,"provider":"invoice","method":"invoice",'
        '"status":"ok","transaction_metadata":[],"_links":{"_self":{"href":"%s/payments/%s"}}}'
        % (payment_id, base_url, payment_id))


def api_error_body(status_text, message, **extra):
    body = {"status": status_text, "message": message}
    body.update(extra)
    return json.dumps(body)


# -- the contract --------------------------------------------------------------------

def contract_for_http(status, operation):
    """What the contract says a final HTTP status means:
    (code, outcome, retryable, retried by the library)."""
    view = operation == "view"
    if 200 <= status <= 299:
        raise ValueError("2xx is a success")
    if status == 400:
        return "KASKO_ERR_BAD_REQUEST", "rejected", False, False
    if status in (401, 403):
        return "KASKO_ERR_UNAUTHORIZED", "rejected", False, False
    if status == 404:
        return "KASKO_ERR_NOT_FOUND", "rejected", False, False
    if status == 422:
        return "KASKO_ERR_PENDING_PAYMENT", "rejected", False, False
    if status == 429:
        return "KASKO_ERR_RATE_LIMITED", "rejected", True, view
    if 400 <= status <= 499:
        return "KASKO_ERR_SERVER", "rejected", False, False
    if status == 500:
        return "KASKO_ERR_SERVER", "unknown", view, False
    if status in (502, 503, 504):
        return "KASKO_ERR_SERVER", "unknown", view, view
    # other 5xx, any 1xx/3xx final status, >= 600
    return "KASKO_ERR_SERVER", "unknown", False, False


def parse_error(text):
    """Decode an error object, keeping member order and refusing duplicates."""
    assert text is not None, "the library returned no JSON (NULL out_json)"
    assert b"\x00" not in text
    decoded_text = text.decode("utf-8")

    def pairs_hook(pairs):
        keys = [key for key, _ in pairs]
        assert len(keys) == len(set(keys)), "duplicate member in %r" % keys
        return dict(pairs)  # dicts keep insertion order

    error = json.loads(decoded_text, object_pairs_hook=pairs_hook)
    assert isinstance(error, dict), "error JSON is not an object: %r" % decoded_text
    return list(error), error


def assert_error(lib, status, text, *, code, outcome=ANY, retryable=ANY, attempts=ANY,
                 http_status=ANY, pending_payment_id=ANY, request_id=ANY):
    """Assert a whole error object: status, every key in the contract's order
    with its type, and each expected value (ANY: type checked only)."""
    summary = "status %s, JSON %s" % (NAME.get(status, status), (text or b"")[:600].decode("utf-8", "replace"))
    assert NAME.get(status) == code, "expected %s, got %s" % (code, summary)
    assert lib.status_name(status) == code
    keys, error = parse_error(text)
    if keys and keys[-1] == "errors":
        assert isinstance(error["errors"], list), summary
        keys = keys[:-1]
    assert keys == ERROR_KEYS, "error object keys/order %r, contract %r" % (keys, ERROR_KEYS)
    assert error["object"] == "error", summary
    assert error["code"] == code, summary
    assert error["http_status"] is None or type(error["http_status"]) is int, summary
    assert error["status"] is None or isinstance(error["status"], str), summary
    assert isinstance(error["message"], str), summary
    assert error["pending_payment_id"] is None or isinstance(error["pending_payment_id"], str), summary
    assert type(error["retryable"]) is bool, summary
    assert error["outcome"] in ("not_sent", "rejected", "unknown"), summary
    assert type(error["attempts"]) is int and error["attempts"] >= 0, summary
    assert error["request_id"] is None or isinstance(error["request_id"], str), summary
    for field, expected in (("outcome", outcome), ("retryable", retryable), ("attempts", attempts),
                            ("http_status", http_status), ("pending_payment_id", pending_payment_id),
                            ("request_id", request_id)):
        if expected is not ANY:
            assert error[field] == expected, "%s: expected %r, got %r (%s)" % (field, expected, error[field], summary)
    return error


def assert_ok(status, text):
    assert NAME.get(status) == "KASKO_OK", "expected KASKO_OK, got %s: %s" % (
        NAME.get(status, status), (text or b"")[:600].decode("utf-8", "replace"))
    assert text is not None


def all_strings(value):
    """Every string in a decoded JSON value: values and object keys."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_strings(item)


def json_escaped_forms(secret):
    """How `secret` may be spelled inside JSON text (without the quotes)."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    forms.add(json.dumps(secret).replace("/", "\\/")[1:-1])
    return forms


def describe_observed(servers=()):
    """One line: what the calls of this test returned and what servers saw."""
    parts = []
    for call, status, text in OBSERVED:
        name = NAME.get(status, str(status)).replace("KASKO_ERR_", "").replace("KASKO_", "")
        detail = ""
        if status != 0 and text:
            try:
                error = json.loads(text)
                detail = "/%s/retryable=%s/attempts=%s/http=%s" % (
                    error.get("outcome"), str(error.get("retryable")).lower(), error.get("attempts"),
                    error.get("http_status"))
            except ValueError:
                detail = "/unparsable"
        parts.append("%s->%s%s" % (call, name, detail))
    for server in servers:
        parts.append("%s:%dreq/%dconn" % (server.name, server.request_count, server.connection_count))
    return " ".join(parts)


def with_ids(builder):
    """Mark a (payment_id, request) -> script builder for the `exchange`
    fixture, for scripts whose answers need the call's ids."""
    builder.wants_ids = True
    return builder
