"""Without --faults, fault injection cannot be reached at all."""

import pytest

import sandbox_support as ss


@pytest.mark.parametrize("fault", ['{"status":503}', '{"bogus":1}'], ids=["valid", "invalid"])
def test_x_sandbox_fault_ignored(sandbox, fault):
    response = sandbox.get("/__sandbox/health", [("X-Sandbox-Fault", fault)])
    assert ss.expect(response, 200) == {"status": "ok"}


def test_create_with_a_drop_header_is_just_created(sandbox, offer):
    response = ss.create(sandbox, offer, headers=[("X-Sandbox-Fault", '{"drop":"before_body"}')])
    d = ss.expect_restricted(response, sandbox.url)
    assert d["status"] == "ok"


def test_arming_is_404(sandbox, offer):
    body = '{"key":"%s","fault":{"status":503}}' % offer.policy_id
    ss.expect_error(sandbox.post("/__sandbox/faults", [ss.JSON_CT], body), 404, "Not Found")


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/__sandbox/faults"),
    ("DELETE", "/__sandbox/faults/{policy}"),
    ("GET", "/__sandbox/faults"),
    ("GET", "/__sandbox/attempts/{policy}"),
    ("DELETE", "/__sandbox/attempts"),
    ("DELETE", "/__sandbox/attempts/{policy}"),
])
def test_fault_endpoints_are_404(sandbox, offer, method, path):
    ss.expect_error(sandbox.request(method, path.format(policy=offer.policy_id)), 404, "Not Found")
