"""--response-delay-ms: every API answer waits that long after the request
was carried out, on a timer (so many can wait at once), while the
sandbox's own routes answer at once; and its refusals."""

import subprocess
import threading
import time

import pytest

import sandbox_support as ss


def test_an_api_answer_waits_at_least_the_delay(spawn_sandbox):
    sb = spawn_sandbox("--response-delay-ms", "300")
    started = time.monotonic()
    response = ss.view(sb, "t_nosuch")
    waited = time.monotonic() - started
    ss.expect(response, 404)
    assert waited >= 0.3, waited


def test_the_sandboxs_own_routes_answer_at_once(spawn_sandbox):
    sb = spawn_sandbox("--response-delay-ms", "60000")
    answered = []
    thread = threading.Thread(target=lambda: answered.append(ss.view(sb, "t_held", timeout=70)), daemon=True)
    thread.start()
    # Were it delayed too, this would time out (10 s) long before 60 s.
    assert sb.get("/__sandbox/health", timeout=10).status == 200
    assert not answered, "the API answer came before its delay"


def test_many_answers_wait_at_once(spawn_sandbox):
    sb = spawn_sandbox("--response-delay-ms", "1000")
    started = time.monotonic()
    results = ss.concurrently(50, lambda i: ss.view(sb, "t_nosuch%d" % i, timeout=30).status)
    elapsed = time.monotonic() - started
    assert results == [404] * 50
    # Not a speed check: one after another they would take 50 s, and a
    # timer each lets them overlap (about 1 s); 25 s tells the two apart.
    assert elapsed < 25, elapsed


@pytest.mark.parametrize("value", ["-1", "60001", "1.5", "soon"])
def test_refused_with_exit_2(sandbox_bin, value):
    done = subprocess.run([sandbox_bin, "--response-delay-ms", value], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=10)
    assert done.returncode == 2 and done.stdout == b""
    assert b"--response-delay-ms" in done.stderr


def test_help_documents_it(sandbox_bin):
    text = subprocess.run([sandbox_bin, "--help"], capture_output=True, timeout=10).stdout
    assert b"--response-delay-ms N" in text
