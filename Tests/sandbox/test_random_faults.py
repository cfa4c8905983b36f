"""--random-faults P: random faults on /payments only, never with an
explicit header, every request counted; P = 0 means none."""

import collections

import sandbox_support as ss

# What each random fault looks like to a client viewing an unknown payment
# (docs/sandbox-faults.md lists the faults; a delay still ends in the 404).
ALLOWED = {("response", 429), ("response", 500), ("response", 502), ("response", 503), ("response", 504),
           ("response", 404), ("empty", None), ("response", 200)}


def test_random_faults_1(spawn_sandbox):
    sb = spawn_sandbox("--faults", "--random-faults", "1", name="random")
    seen = collections.Counter()
    for _ in range(40):
        response = ss.view(sb, ss.UNKNOWN_ID, timeout=5)
        seen[(response.outcome, response.status)] += 1
    assert set(seen) <= ALLOWED, seen
    assert len(seen) >= 4, "too few kinds of fault in 40 requests: %s" % dict(seen)
    # Not outside /payments ...
    for _ in range(10):
        assert ss.expect(sb.get("/__sandbox/health"), 200) == {"status": "ok"}
    # ... nor with an explicit header.
    ss.expect_error(ss.view(sb, ss.UNKNOWN_ID, [ss.AUTH, ss.fault("{}")]), 404, "Not Found")
    assert ss.attempts(sb, ss.UNKNOWN_ID) == 41


def test_random_faults_0_means_none(spawn_sandbox):
    sb = spawn_sandbox("--faults", "--random-faults", "0", name="random0")
    for _ in range(20):
        ss.expect_error(ss.view(sb, ss.UNKNOWN_ID), 404, "Not Found")
