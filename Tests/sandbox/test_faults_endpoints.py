"""The --faults endpoints: attempts, rule arming and its refusals."""

import uuid

import pytest

import sandbox_support as ss


def test_unseen_key_has_0_attempts(faults):
    assert ss.attempts(faults, "probe-" + uuid.uuid4().hex) == 0


def test_attempts_key_is_percent_decoded(faults):
    assert ss.expect(faults.get("/__sandbox/attempts/a%2Fb"), 200)["key"] == "a/b"


@pytest.mark.parametrize("method, path, allow", [
    ("GET", "/__sandbox/faults", "POST, DELETE"),
    ("POST", "/__sandbox/attempts/probe", "GET, DELETE"),
], ids=["GET-faults", "POST-attempts-key"])
def test_method_not_allowed(faults, method, path, allow):
    response = faults.request(method, path)
    ss.expect_error(response, 405, "Method Not Allowed")
    assert response.header("allow") == allow


def test_faults_slash_empty_key_404(faults):
    ss.expect_error(faults.get("/__sandbox/faults/"), 404, "Not Found")


REFUSED = [
    ("not-json", "nope", ""),
    ("array", "[1]", ""),
    ("unknown-field", '{"key":"k","fault":{},"colour":"red"}', "'colour'"),
    ("unknown-fault-field", '{"key":"k","fault":{"status":503,"sleep":1}}', "'sleep'"),
    ("key-missing", '{"fault":{}}', "key"),
    ("key-empty", '{"key":"","fault":{}}', "key"),
    ("key-not-string", '{"key":7,"fault":{}}', "key"),
    ("key-over-256-bytes", '{"key":"%s","fault":{}}' % ("k" * 257), "key"),
    ("fault-missing", '{"key":"k"}', "fault"),
    ("fault-not-object", '{"key":"k","fault":"status"}', "fault"),
    ("times-0", '{"key":"k","fault":{},"times":0}', "times"),
    ("times-not-integer", '{"key":"k","fault":{},"times":"2"}', "times"),
    ("status-out-of-range", '{"key":"k","fault":{"status":100}}', "status"),
    ("status-not-integer", '{"key":"k","fault":{"status":"503"}}', "status"),
    ("delay_ms-negative", '{"key":"k","fault":{"delay_ms":-1}}', "delay_ms"),
    ("delay_ms-boolean", '{"key":"k","fault":{"delay_ms":true}}', "delay_ms"),
    ("drop-unknown", '{"key":"k","fault":{"drop":"sometimes"}}', "drop"),
    ("body-keyword-unknown", '{"key":"k","fault":{"body":"weird"}}', "body"),
    ("reset-not-boolean", '{"key":"k","fault":{"reset":"yes"}}', "reset"),
    ("retry_after-without-status", '{"key":"k","fault":{"retry_after":1}}', "retry_after"),
    ("trickle_bytes-without-trickle_ms", '{"key":"k","fault":{"trickle_bytes":4}}', "trickle_ms"),
    ("drop-with-status", '{"key":"k","fault":{"drop":"after_body","status":503}}', "drop"),
    ("reset-with-body", '{"key":"k","fault":{"reset":true,"body":"non_json"}}', "reset"),
    ("deeply-nested", '{"key":"k","fault":' + '{"a":' * 100000 + "1" + "}" * 100001 + "\n", ""),
]


@pytest.mark.parametrize("body, word", [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_arming_refused_and_nothing_armed(faults, body, word):
    ss.expect_bad_request(faults.post("/__sandbox/faults", [ss.JSON_CT], body), word)
    assert ss.expect(faults.delete("/__sandbox/faults"), 200) == {"cleared": 0}


def test_nothing_was_armed_by_all_the_refused_requests(faults):
    for _, body, _ in REFUSED:
        assert faults.post("/__sandbox/faults", [ss.JSON_CT], body).status == 400
    assert ss.expect(faults.delete("/__sandbox/faults"), 200) == {"cleared": 0}


def test_arming_then_clearing_counts_rules(faults):
    key = "k-" + uuid.uuid4().hex
    ss.arm(faults, key, '{"status":503}', 2)
    ss.arm(faults, key, '{"delay_ms":1}')
    assert ss.expect(faults.delete("/__sandbox/faults"), 200) == {"cleared": 2}
