"""The process: arguments, --help, the URL line on stdout, stderr, signals,
and what never reaches the logs."""

import re
import signal
import socket
import subprocess

import pytest

import sandbox_support as ss


def run(binary, *args):
    return subprocess.run([binary] + list(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=10)


def test_help_exits_0_with_usage(sandbox_bin):
    done = run(sandbox_bin, "--help")
    assert done.returncode == 0
    assert done.stdout.startswith(b"Usage: kasko-sandbox")


def test_help_documents_faults(sandbox_bin):
    assert b"--random-faults P" in run(sandbox_bin, "--help").stdout


@pytest.mark.parametrize("args", [
    "--bogus", "--port abc", "--port 70000", "--port -1", "--port", "--public-key", "stray", "--help=x",
    "--random-faults 0.5", "--random-faults 0", "--faults --random-faults 2", "--faults --random-faults -0.1",
    "--faults --random-faults nan", "--faults --random-faults", "--faults=1",
])
def test_bad_arguments_exit_2_with_a_message_on_stderr_only(sandbox_bin, args):
    done = run(sandbox_bin, *args.split())
    assert done.returncode == 2
    assert done.stderr.strip(), "no message on stderr"
    assert done.stdout == b""


def test_first_stdout_line_is_the_base_url(spawn_sandbox):
    sb = spawn_sandbox("--secret-key", ss.SK, "--public-key", ss.PK)
    assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+", sb.url), sb.url
    ss.expect(sb.get("/__sandbox/health"), 200)


def _traffic(sb):
    """Requests that carry both keys and tokens, good and bad."""
    offer = ss.new_offer(sb)
    ss.expect(ss.create(sb, offer, key="pk_test_wrong"), 401)
    ss.expect(sb.post("/payments?key=" + ss.SK, [ss.JSON_CT], offer.body()), 401)
    ss.expect(ss.create(sb, offer, headers=[("Authorization", "Bearer sk_test_wrong")]), 401)
    ss.expect(ss.create(sb, offer, "paypal"), 404)
    payment = ss.expect_full(ss.create(sb, offer, headers=[ss.AUTH]), sb.url)
    ss.expect_full(ss.view(sb, payment["id"]), sb.url)
    ss.expect(ss.view(sb, payment["id"], [("Authorization", "Bearer " + ss.PK)]), 401)
    ss.expect(ss.create(sb, offer), 400)
    sb.exchange(b"THIS IS NOT HTTP " + ss.SK.encode() + b"\r\n\r\n")


def test_sigterm_exits_0_stdout_url_only_nothing_secret_logged(spawn_sandbox):
    sb = spawn_sandbox("--secret-key", ss.SK, "--public-key", ss.PK)
    _traffic(sb)
    assert sb.stop(signal.SIGTERM) == 0
    assert sb.stdout() == sb.url + "\n", "stdout is more than the URL line"
    logs = sb.stdout() + sb.stderr()
    for secret in (ss.SK, ss.PK, "ptok_"):
        assert secret not in logs, "a key or token in the logs (%s)" % sb.err_path


def test_no_faults_writes_nothing_to_stderr(spawn_sandbox):
    sb = spawn_sandbox("--secret-key", ss.SK, "--public-key", ss.PK)
    _traffic(sb)
    sb.get("/__sandbox/health", [("X-Sandbox-Fault", '{"status":503}')])
    assert sb.stop() == 0
    assert sb.stderr() == ""


def test_sigint_exits_0(spawn_sandbox):
    sb = spawn_sandbox("--public-key", "pk_live_smoke", "--secret-key", "sk_live_smoke")
    ss.expect(sb.get("/__sandbox/health"), 200)
    assert sb.stop(signal.SIGINT) == 0


def test_faults_stdout_is_the_url_line_only(spawn_sandbox):
    sb = spawn_sandbox("--faults")
    ss.expect(sb.get("/__sandbox/health", [("X-Sandbox-Fault", '{"status":503}')]), 503)
    assert sb.stop() == 0
    assert sb.stdout() == sb.url + "\n"


def test_faults_says_so_on_stderr(spawn_sandbox):
    sb = spawn_sandbox("--faults")
    ss.wait_until(lambda: "fault injection enabled" in sb.stderr(), 10, "the --faults notice on stderr")


def test_faults_sigterm_exits_0(spawn_sandbox):
    sb = spawn_sandbox("--faults")
    ss.new_offer(sb)
    assert sb.stop(signal.SIGTERM) == 0


def _has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_url_is_bracketed_and_serves(spawn_sandbox):
    sb = spawn_sandbox("--host", "::1")
    assert re.fullmatch(r"http://\[::1\]:[0-9]+", sb.url), sb.url
    assert ss.expect(sb.get("/__sandbox/health"), 200) == {"status": "ok"}
