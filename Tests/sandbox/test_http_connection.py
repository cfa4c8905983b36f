"""HTTP/1.1 connection handling: keep-alive, Connection: close, and bytes
that are not (quite) HTTP. The sandbox must answer, or close, and stay up."""

import re
import socket

import sandbox_support as ss


def accepted(sandbox):
    return ss.expect(sandbox.get("/__sandbox/connections"), 200)["accepted"]


def test_keep_alive_second_request_reuses_the_connection(sandbox):
    conn = ss.Connection(sandbox.url)
    try:
        # The first answer proves the sandbox has counted this connection:
        # counting it is not ordered with the counting of the one that asks.
        assert ss.expect(conn.request("GET", "/__sandbox/health"), 200) == {"status": "ok"}
        before = accepted(sandbox)
        assert ss.expect(conn.request("GET", "/__sandbox/health"), 200) == {"status": "ok"}
        # One more connection (the one asking), none for the second request.
        assert accepted(sandbox) == before + 1
        assert not conn.closed_by_peer(wait=0.2)
    finally:
        conn.close()


def test_connection_close_honoured(sandbox):
    conn = ss.Connection(sandbox.url)
    try:
        response = conn.request("GET", "/__sandbox/health", [("Connection", "close")])
        ss.expect(response, 200)
        assert (response.header("connection") or "").lower() == "close"
        assert conn.closed_by_peer()
    finally:
        conn.close()


def test_keep_alive_response_has_no_connection_close(sandbox):
    response = sandbox.get("/__sandbox/health")
    ss.expect(response, 200)
    assert not response.has_header("connection")


def test_malformed_request_line_400_json_then_closed(sandbox):
    r = sandbox.exchange(b"THIS IS NOT HTTP\r\n\r\n", require_eof=True)
    assert r.startswith(b"HTTP/1.1 400"), r[:200]
    assert b"application/json" in r
    assert b"X-Request-Id: req_" in r
    assert r.endswith(b'Malformed HTTP request."}'), r[-200:]


def test_oversized_headers_431(sandbox):
    r = sandbox.exchange(b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 431"), r[:200]
    assert b"application/json" in r


def test_many_headers_answered_not_crashed(sandbox):
    r = sandbox.exchange(b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\n"
                         + b"".join(b"X-H%d: v\r\n" % i for i in range(20000)) + b"\r\n")
    assert r.startswith(b"HTTP/1.1 431") or r.startswith(b"HTTP/1.1 200"), r[:200]
    assert ss.expect(sandbox.get("/__sandbox/health"), 200) == {"status": "ok"}


def test_bad_chunked_encoding_400(sandbox):
    r = sandbox.exchange(b"POST /__sandbox/offers HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n")
    assert r.startswith(b"HTTP/1.1 400"), r[:200]


def test_garbage_bytes_400(sandbox):
    r = sandbox.exchange(bytes(range(256)) * 4)
    assert r.startswith(b"HTTP/1.1 400"), r[:200]


def test_half_a_request_then_eof_no_crash(sandbox):
    sandbox.exchange(b'POST /payments?key=x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"tok', half_close=True)
    assert sandbox.running()
    assert ss.expect(sandbox.get("/__sandbox/health"), 200) == {"status": "ok"}


def test_pipelined_requests_answered_in_order(sandbox):
    r = sandbox.exchange(b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", require_eof=True)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", r) == [b"200", b"404", b"200"]


def test_http_1_0_without_keep_alive_gets_1_0_and_close(sandbox):
    r = sandbox.exchange(b"GET /__sandbox/health HTTP/1.0\r\n\r\n", require_eof=True)
    assert r.startswith(b"HTTP/1.0 200"), r[:200]
    assert b"Connection: close" in r
    assert r.endswith(b'{"status":"ok"}')


def test_head_405_without_a_body_connection_still_usable(sandbox):
    r = sandbox.exchange(b"HEAD /__sandbox/health HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", require_eof=True)
    first, _, rest = r.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 405"), first
    assert b"Content-Length: 31" in first
    assert rest.startswith(b"HTTP/1.1 200"), rest[:200]


def test_absolute_form_request_target(sandbox):
    r = sandbox.exchange(b"GET http://example.test/__sandbox/health HTTP/1.1\r\n"
                         b"Host: example.test\r\nConnection: close\r\n\r\n", require_eof=True)
    assert r.startswith(b"HTTP/1.1 200"), r[:200]


def test_abrupt_disconnects(sandbox):
    for _ in range(50):
        sock = socket.create_connection((sandbox.host, sandbox.port), timeout=5)
        sock.sendall(b"POST /__sandbox/offers HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.close()
    assert sandbox.running()
    assert ss.expect(sandbox.get("/__sandbox/health"), 200) == {"status": "ok"}


def test_still_healthy_after_abuse(sandbox):
    """All of the above on one connection each, then a normal request."""
    for data in (b"THIS IS NOT HTTP\r\n\r\n", bytes(range(256)) * 4,
                 b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"):
        sandbox.exchange(data)
    assert ss.expect(sandbox.get("/__sandbox/health"), 200) == {"status": "ok"}
