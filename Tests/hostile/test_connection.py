"""The connection fails after the request was sent (closed, reset, timed out,
truncated), or before anything was sent (nothing listening). The rule under
test: a create that reached the server is never sent again, and its outcome
is unknown; a view is retried."""

import threading
import time

import pytest

import hostile_server as hs
import kasko_support as ks

AFTER_SENDING = {
    "closed_without_reply": hs.close_without_reply,
    "reset_without_reply": hs.reset_without_reply,
    "interim_100_then_closed": lambda: hs.raw(b"HTTP/1.1 100 Continue\r\n\r\n"),
    "interim_100_then_reset": lambda: hs.raw(b"HTTP/1.1 100 Continue\r\n\r\n", then="reset"),
    "truncated_body_then_closed": lambda: hs.raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"object\":\"pay"),
    "truncated_body_then_reset": lambda: hs.raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"object\":\"pay",
        then="reset"),
    "truncated_chunked_body_then_closed": lambda: hs.raw(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n{\"object\":\"pay"),
}


@pytest.mark.parametrize("failure", sorted(AFTER_SENDING))
def test_create_failing_after_sending_is_network_unknown_sent_once(lib, exchange, failure):
    result = exchange("create", AFTER_SENDING[failure]())
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_NETWORK", outcome="unknown",
                    retryable=False, attempts=1)
    result.assert_requests(1)
    assert result.connections == 1


@pytest.mark.parametrize("failure", sorted(AFTER_SENDING))
def test_view_failing_after_sending_is_network_unknown_retried(lib, exchange, failure):
    result = exchange("view", AFTER_SENDING[failure]())
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_NETWORK", outcome="unknown",
                    retryable=True, attempts=3)
    result.assert_requests(3)


# -- the create as the second request on a kept-alive connection -----------------------

@pytest.mark.parametrize("first_call", ["view", "create"])
@pytest.mark.parametrize("failure", ["closed_without_reply", "reset_without_reply"])
def test_create_on_kept_alive_connection_dying_is_not_resent(lib, servers, clients, keys, call, first_call, failure):
    """First call answered normally (Content-Length, keep-alive); the create
    that follows is read in full and then the connection dies. libcurl on
    its own would resend it on a new connection; the library must not."""
    payment_id = ks.new_payment_id()
    first_request = ks.create_request()
    script = [hs.respond(200, ks.full_payment(payment_id, first_request["policy_id"])),
              AFTER_SENDING[failure]()]
    server = servers(script)
    client = clients(ks.client_config(keys, server.url))
    if first_call == "view":
        status, text = call.view(client, payment_id)
    else:
        status, text = call.create(client, first_request)
    ks.assert_ok(status, text)
    assert server.request_count == 1

    status, text = call.create(client, ks.create_request())
    ks.assert_error(lib, status, text, code="KASKO_ERR_NETWORK", outcome="unknown", retryable=False, attempts=1)
    assert server.request_count == 2, "the create was sent %d times: %r" % (
        server.request_count - 1, server.requests)
    create = server.requests[1]
    assert create.method == "POST" and create.body_complete, create


def wait_until(condition, timeout=5.0):
    """Wait for `condition()` (a state the test cannot be told about, here a
    kernel TCP state) to become true, checking every few milliseconds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.005)
    return True


@pytest.mark.parametrize("second_call", ["view", "create"])
def test_kept_alive_connection_closed_before_the_call_is_replaced(lib, servers, clients, keys, call, second_call):
    """The server answers, then closes the idle connection. A call made after
    the client saw the close goes out once, on a new connection, and works."""
    payment_id = ks.new_payment_id()
    request = ks.create_request()
    payment = ks.full_payment(payment_id, request["policy_id"])
    server = servers([hs.respond_then_close(hs.http_response(200, payment)), hs.respond(200, payment)])
    client = clients(ks.client_config(keys, server.url))
    status, text = call.view(client, payment_id)
    ks.assert_ok(status, text)
    first = server.connections[0]
    assert first.closed.wait(5)
    # The client's end of the first connection has received the FIN.
    assert wait_until(lambda: hs.tcp_state(first.peer[1], server.port) in ("CLOSE_WAIT", None))

    if second_call == "view":
        status, text = call.view(client, payment_id)
    else:
        status, text = call.create(client, request)
    ks.assert_ok(status, text)
    assert server.request_count == 2, server.requests
    assert server.connection_count == 2
    assert server.requests[1].connection_index == 1


# -- timeouts ---------------------------------------------------------------------------

HANGS = {
    "no_answer_at_all": hs.never_answer,
    "head_sent_body_never": lambda: hs.raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n", then="wait"),
    "status_line_sent_headers_never": lambda: hs.raw(b"HTTP/1.1 200 OK\r\n", then="wait"),
}


@pytest.mark.parametrize("hang", sorted(HANGS))
def test_create_timing_out_after_sending_is_network_unknown_sent_once(lib, exchange, hang):
    result = exchange("create", HANGS[hang](), timeout_ms=300)
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_NETWORK", outcome="unknown",
                    retryable=False, attempts=1)
    result.assert_requests(1)


@pytest.mark.parametrize("hang", sorted(HANGS))
def test_view_timing_out_is_network_unknown_retried(lib, exchange, hang):
    result = exchange("view", HANGS[hang](), timeout_ms=300)
    ks.assert_error(lib, result.status, result.text, code="KASKO_ERR_NETWORK", outcome="unknown",
                    retryable=True, attempts=3)
    result.assert_requests(3)


# -- nothing listening ------------------------------------------------------------------

@pytest.mark.parametrize("operation", ["create", "view"])
def test_connection_refused_is_network_not_sent_and_retried(lib, clients, keys, call, operation):
    port = hs.free_port()
    client = clients(ks.client_config(keys, "http://127.0.0.1:%d" % port))
    status, text = call.make(operation, client)
    ks.assert_error(lib, status, text, code="KASKO_ERR_NETWORK", outcome="not_sent", retryable=True,
                    attempts=3, http_status=None, request_id=None)


def test_connection_refused_with_no_retries_makes_one_attempt(lib, clients, keys, call):
    port = hs.free_port()
    client = clients(ks.client_config(keys, "http://127.0.0.1:%d" % port, max_retries=0))
    status, text = call.create(client, ks.create_request())
    ks.assert_error(lib, status, text, code="KASKO_ERR_NETWORK", outcome="not_sent", retryable=True,
                    attempts=1, http_status=None)


# -- TLS failures: nothing sent, not retried -----------------------------------------------

def tls_garbage_reply(conn):
    conn.sock.recv(1)  # the ClientHello has begun
    conn.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    return hs.CLOSE


def tls_close_at_once(conn):
    return hs.CLOSE


def tls_read_hello_then_close(conn):
    conn.sock.recv(65536)
    return hs.CLOSE


def tls_read_hello_then_reset(conn):
    conn.sock.recv(65536)
    conn.reset()
    return hs.CLOSE


TLS_FAILURES = {
    "plain_http_reply_to_client_hello": tls_garbage_reply,
    "closed_on_accept": tls_close_at_once,
    "closed_after_client_hello": tls_read_hello_then_close,
    "reset_after_client_hello": tls_read_hello_then_reset,
}


@pytest.mark.parametrize("operation", ["create", "view"])
@pytest.mark.parametrize("failure", sorted(TLS_FAILURES))
def test_tls_handshake_failure_is_network_not_sent_not_retried(lib, servers, clients, keys, call, operation, failure):
    server = servers(hs.close_without_reply(), on_connect=TLS_FAILURES[failure])
    client = clients(ks.client_config(keys, "https://127.0.0.1:%d" % server.port))
    status, text = call.make(operation, client)
    ks.assert_error(lib, status, text, code="KASKO_ERR_NETWORK", outcome="not_sent", retryable=False, attempts=1,
                    http_status=None)
    assert server.request_count == 0
    assert server.connection_count == 1, "the TLS failure was retried"


# -- connect timeout: nothing sent, retried (a create too) --------------------------------

@pytest.fixture
def blackhole_port():
    """A loopback port whose accept queue is full, so a new connection's SYN
    is dropped and connect() times out (Linux: listen(0) holds one)."""
    import socket
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


@pytest.mark.parametrize("operation", ["create", "view"])
def test_connect_timeout_is_network_not_sent_and_retried(lib, clients, keys, call, blackhole_port, operation):
    client = clients(ks.client_config(keys, "http://127.0.0.1:%d" % blackhole_port, connect_timeout_ms=150))
    status, text = call.make(operation, client)
    ks.assert_error(lib, status, text, code="KASKO_ERR_NETWORK", outcome="not_sent", retryable=True, attempts=3,
                    http_status=None)
