"""The 1 MiB request body limit, and Expect: 100-continue."""

import pytest

import sandbox_support as ss

MIB = 1048576


def post(sandbox, headers, body):
    return sandbox.post("/payments?key=" + ss.PK, [ss.JSON_CT] + headers, body)


def test_body_of_exactly_1_mib_is_read(sandbox):
    body = '{"token":"' + "x" * (MIB - 12) + '"}'
    assert len(body) == MIB
    # Read and parsed: the answer is about the fields, not the size.
    ss.expect_bad_request(post(sandbox, [], body), "provider")


@pytest.mark.parametrize("headers", [
    [],
    [("Expect", "100-continue")],
    [("Transfer-Encoding", "chunked")],
], ids=["content-length", "expect-100-continue", "chunked"])
def test_body_over_1_mib_413(sandbox, headers):
    d = ss.expect(post(sandbox, headers, b"x" * (MIB + 1)), 413)
    assert d["status"] == "Payload Too Large"


def test_expect_100_continue_answered_promptly(sandbox, offer):
    body = offer.body()[:-1] + ',"pad":"' + "y" * 5000 + '"}'
    response = post(sandbox, [("Expect", "100-continue")], body)
    ss.expect_restricted(response, sandbox.url)
    assert [status for status, _ in response.interim] == [100], "no 100 Continue before the body"
    # curl, like our client, would wait a whole second without the 100.
    assert response.elapsed_ms < 800, "100-continue answered after %d ms" % response.elapsed_ms
