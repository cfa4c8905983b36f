"""Health, request ids, unknown paths and wrong methods."""

import re

import pytest

import sandbox_support as ss


def test_health(sandbox):
    assert ss.expect(sandbox.get("/__sandbox/health"), 200) == {"status": "ok"}


def test_request_ids_differ_per_response(sandbox):
    first = sandbox.get("/__sandbox/health").header("x-request-id")
    second = sandbox.get("/__sandbox/health").header("x-request-id")
    assert first and re.fullmatch(r"req_[0-9a-f]{24}", first)
    assert first != second


@pytest.mark.parametrize("path, headers", [
    ("/nope", []),
    ("/", []),
    ("/payments/", [ss.AUTH]),
], ids=["unknown-path", "root", "empty-payment-id"])
def test_not_found(sandbox, path, headers):
    ss.expect_error(sandbox.get(path, headers), 404, "Not Found")


@pytest.mark.parametrize("method, path, headers, allow", [
    ("GET", "/payments?key=" + ss.PK, [], "POST"),
    ("DELETE", "/payments/" + ss.UNKNOWN_ID, [ss.AUTH], "GET"),
    ("GET", "/__sandbox/offers", [], None),
    ("POST", "/__sandbox/health", [], None),
    ("GET", "/__sandbox/payments/%s/settle" % ss.UNKNOWN_ID, [], None),
], ids=["GET-payments", "DELETE-payment", "GET-offers", "POST-health", "GET-settle"])
def test_method_not_allowed(sandbox, method, path, headers, allow):
    response = sandbox.request(method, path, headers)
    ss.expect_error(response, 405, "Method Not Allowed")
    if allow is not None:
        assert response.header("allow") == allow
