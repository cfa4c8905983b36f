"""The X-Sandbox-Fault header (--faults): each fault on /__sandbox/health,
header errors, connection behaviour, and the header on creates."""

import re
import socket

import pytest

import sandbox_support as ss


def health(sb, spec, **kwargs):
    return sb.get("/__sandbox/health", [ss.fault(spec)], **kwargs)


def test_status_503_with_retry_after(faults):
    response = health(faults, '{"status":503,"retry_after":2}')
    ss.expect_error(response, 503, "Service Unavailable", "sandbox fault")
    assert response.header("retry-after") == "2"


def test_status_429_with_retry_after_date(faults):
    response = health(faults, '{"status":429,"retry_after":"Wed, 21 Oct 2015 07:28:00 GMT"}')
    ss.expect_error(response, 429, "Too Many Requests", "sandbox fault")
    assert response.header("retry-after") == "Wed, 21 Oct 2015 07:28:00 GMT"


def test_status_with_a_raw_json_body(faults):
    response = health(faults, '{"status":502,"body":"{\\"upstream\\":\\"down\\"}"}')
    assert ss.expect(response, 502) == {"upstream": "down"}
    assert not response.has_header("retry-after")


def test_status_with_a_raw_non_json_body(faults):
    response = health(faults, '{"status":500,"body":"not json at all"}')
    assert (response.outcome, response.status, response.raw) == ("response", 500, b"not json at all")


def test_delay_then_the_normal_answer(faults):
    response = health(faults, '{"delay_ms":300}')
    assert ss.expect(response, 200) == {"status": "ok"}
    assert response.elapsed_ms >= 300, response.elapsed_ms


def test_delay_and_status(faults):
    response = health(faults, '{"delay_ms":200,"status":504}')
    ss.expect_error(response, 504, "Gateway Timeout", "sandbox fault")
    assert response.elapsed_ms >= 200, response.elapsed_ms


@pytest.mark.parametrize("spec", ['{"drop":"before_body"}', '{"drop":"after_body"}'], ids=["before_body", "after_body"])
def test_drop_is_an_empty_reply(faults, spec):
    response = health(faults, spec)
    assert response.outcome == "empty", response


def test_delay_and_drop(faults):
    response = health(faults, '{"delay_ms":200,"drop":"before_body"}')
    assert response.outcome == "empty", response
    assert response.elapsed_ms >= 200, response.elapsed_ms


def test_reset_is_a_connection_reset(faults):
    response = health(faults, '{"reset":true}')
    assert response.outcome == "reset", response
    assert response.status is None


def test_body_non_json_is_labelled_json(faults):
    response = health(faults, '{"body":"non_json"}')
    assert (response.outcome, response.status) == ("response", 200), response
    assert not response.is_json()
    assert response.header("content-type") == "application/json"


def test_body_truncated_is_shorter_than_its_content_length(faults):
    response = health(faults, '{"body":"truncated"}')
    assert (response.outcome, response.status) == ("partial", 200), response
    assert 0 < len(response.raw) < int(response.header("content-length"))
    assert response.raw.startswith(b'{"object":"payment"')


def test_body_oversized_is_2_mib_of_payment_like_json(faults):
    response = health(faults, '{"body":"oversized"}')
    d = ss.expect(response, 200)
    assert len(response.raw) == 2 * 1024 * 1024
    assert d["object"] == "payment"
    assert len(d["padding"]) > 2000000


def test_body_not_payment(faults):
    response = health(faults, '{"body":"not_payment"}')
    ss.expect(response, 200)
    assert response.raw == b'{"object":"refund","id":"r1"}'


def test_trickle_is_slow_but_the_normal_answer(faults):
    response = health(faults, '{"trickle_ms":20}')
    assert ss.expect(response, 200) == {"status": "ok"}
    assert response.elapsed_ms >= 250, response.elapsed_ms


def test_trickle_one_byte_a_write_with_status(faults):
    response = health(faults, '{"trickle_ms":5,"trickle_bytes":1,"status":503}')
    ss.expect_error(response, 503, "Service Unavailable", "sandbox fault")
    assert response.elapsed_ms >= 500, response.elapsed_ms


def test_empty_object_is_no_fault(faults):
    assert ss.expect(health(faults, "{}"), 200) == {"status": "ok"}


def test_unknown_field_400_named(faults):
    ss.expect_bad_request(health(faults, '{"bogus":1}'), "X-Sandbox-Fault", "'bogus'")


def test_malformed_json_400(faults):
    ss.expect_bad_request(health(faults, '{"status":503'), "X-Sandbox-Fault")


def test_header_twice_400(faults):
    response = faults.get("/__sandbox/health", [ss.fault('{"status":503}'), ss.fault('{"status":502}')])
    ss.expect_bad_request(response, "X-Sandbox-Fault")


def test_huge_header_refused_not_a_crash(faults):
    response = health(faults, '{"body":"%s"}' % ("x" * 70000))
    assert response.status in (400, 431), response
    assert ss.expect(faults.get("/__sandbox/health"), 200) == {"status": "ok"}


def test_nested_junk_400(faults):
    ss.expect_bad_request(health(faults, '{"a":{"b":[[[[[[[[1]]]]]]]]}}'), "X-Sandbox-Fault")


def test_client_giving_up_on_an_endless_trickle(faults):
    response = health(faults, '{"body":"oversized","trickle_ms":1,"trickle_bytes":1}', timeout=1)
    assert (response.outcome, response.status) == ("timeout", 200), response
    assert ss.expect(faults.get("/__sandbox/health"), 200) == {"status": "ok"}


def test_trickled_response_keeps_the_connection_alive(faults):
    conn = ss.Connection(faults.url)
    try:
        for _ in range(2):
            response = conn.request("GET", "/__sandbox/health", [ss.fault('{"trickle_ms":1}')])
            assert ss.expect(response, 200) == {"status": "ok"}
        assert not conn.closed_by_peer(wait=0.2)
    finally:
        conn.close()


def test_close_after_response_answers_then_eof_without_connection_close(faults):
    sock = socket.create_connection((faults.host, faults.port), timeout=5)
    try:
        sock.sendall(b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\n"
                     b'X-Sandbox-Fault: {"close":"after_response"}\r\n\r\n')
        r = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            r += chunk
    finally:
        sock.close()
    assert r.startswith(b"HTTP/1.1 200"), r[:200]
    assert b"Connection" not in r
    assert r.endswith(b'{"status":"ok"}')


def test_pipelined_delayed_and_trickled_responses_stay_in_order(faults):
    r = faults.exchange(b'GET /__sandbox/health HTTP/1.1\r\nHost: x\r\nX-Sandbox-Fault: {"delay_ms":200}\r\n\r\n'
                        b'GET /nope HTTP/1.1\r\nHost: x\r\nX-Sandbox-Fault: {"trickle_ms":1,"trickle_bytes":3}\r\n\r\n'
                        b"GET /__sandbox/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", require_eof=True)
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", r) == [b"200", b"404", b"200"]


def test_healthy_after_faults(faults):
    for spec in ('{"reset":true}', '{"drop":"after_body"}', '{"body":"truncated"}'):
        health(faults, spec)
    health(faults, '{"body":"oversized","trickle_ms":1,"trickle_bytes":1}', timeout=0.3)
    assert ss.expect(faults.get("/__sandbox/health"), 200) == {"status": "ok"}


# ---- the header on creates

def test_create_drop_before_body(faults, fault_offer):
    response = ss.create(faults, fault_offer, headers=[ss.fault('{"drop":"before_body"}')])
    assert response.outcome == "empty", response


def test_create_drop_before_body_with_expect_100_continue_does_not_wait(faults, fault_offer):
    response = ss.create(faults, fault_offer, headers=[ss.fault('{"drop":"before_body"}'), ("Expect", "100-continue")])
    assert response.outcome == "empty", response
    assert response.interim == [], "a 100 Continue before the drop"
    assert response.elapsed_ms < 800, response.elapsed_ms


def test_create_503(faults, fault_offer):
    response = ss.create(faults, fault_offer, headers=[ss.fault('{"status":503}')])
    ss.expect_error(response, 503, "Service Unavailable", "sandbox fault")


def test_create_reset(faults, fault_offer):
    assert ss.create(faults, fault_offer, headers=[ss.fault('{"reset":true}')]).outcome == "reset"


def test_faulted_creates_made_no_payment_and_are_counted_once_read(faults, fault_offer):
    offer = fault_offer
    assert ss.create(faults, offer, headers=[ss.fault('{"drop":"before_body"}')]).outcome == "empty"
    expecting = ("Expect", "100-continue")
    assert ss.create(faults, offer, headers=[ss.fault('{"drop":"before_body"}'), expecting]).outcome == "empty"
    ss.expect(ss.create(faults, offer, headers=[ss.fault('{"status":503}')]), 503)
    assert ss.create(faults, offer, headers=[ss.fault('{"reset":true}')]).outcome == "reset"
    d = ss.expect_restricted(ss.create(faults, offer), faults.url)
    assert d["status"] == "ok"
    # Counted: the 503, the reset and the create; not the two dropped before
    # their body was read (their policy_id was never seen).
    assert ss.attempts(faults, offer.policy_id) == 3
