"""The checkout's options: --policy-delay-ms and the webhook options, every
refusal (exit 2, a message on stderr that never shows the secret or the
URL), and --help documenting them and the catalog."""

import subprocess

import pytest

SECRET = "whsec_never_shown_1234"


def run(binary, *args):
    return subprocess.run([binary] + list(args), stdin=subprocess.DEVNULL, capture_output=True, timeout=10)


@pytest.mark.parametrize("args,word", [
    (["--webhook-secret", SECRET], b"--webhook-url"),
    (["--webhook-url", "http://127.0.0.1:9/h"], b"--webhook-secret"),
    (["--webhook-url", "ftp://127.0.0.1/h", "--webhook-secret", SECRET], b"--webhook-url"),
    (["--webhook-url", "http://", "--webhook-secret", SECRET], b"--webhook-url"),
    (["--webhook-url", "http://user:" + SECRET + "@host/", "--webhook-secret", SECRET], b"--webhook-url"),
    (["--webhook-url", "http://host:0/", "--webhook-secret", SECRET], b"--webhook-url"),
    (["--webhook-url", "http://host:99999/", "--webhook-secret", SECRET], b"--webhook-url"),
    (["--webhook-url", "http://ho st/", "--webhook-secret", SECRET], b"--webhook-url"),
    (["--webhook-url", "http://127.0.0.1:9/h", "--webhook-secret", ""], b"--webhook-secret"),
    (["--webhook-url", "http://127.0.0.1:9/h", "--webhook-secret"], b"--webhook-secret"),
    (["--webhook-backoff-ms", "0"], b"--webhook-backoff-ms"),
    (["--webhook-backoff-ms", "fast"], b"--webhook-backoff-ms"),
    (["--webhook-attempts", "0"], b"--webhook-attempts"),
    (["--webhook-attempts", "101"], b"--webhook-attempts"),
    (["--policy-delay-ms", "-1"], b"--policy-delay-ms"),
    (["--policy-delay-ms", "600001"], b"--policy-delay-ms"),
    (["--policy-delay-ms", "1.5"], b"--policy-delay-ms"),
])
def test_refused_with_exit_2_and_no_secret_shown(sandbox_bin, args, word):
    done = run(sandbox_bin, *args)
    assert done.returncode == 2
    assert done.stdout == b""
    assert word in done.stderr
    shown = SECRET.encode() in done.stderr
    assert not shown, "the webhook secret is echoed in the refusal"


def test_help_documents_the_checkout(sandbox_bin):
    text = run(sandbox_bin, "--help").stdout
    for word in (b"--webhook-url URL", b"--webhook-secret SECRET", b"--webhook-backoff-ms N",
                 b"--webhook-attempts N", b"--policy-delay-ms N", b"in_sandbox_travel", b"ins_sandbox_travel",
                 b"pp_sandbox_single", b"pp_sandbox_annual", b"in_sandbox_building", b"POST /quotes",
                 b"POST /policies", b"GET  /offers/{id}", b"GET  /policies/{id}", b"/__sandbox/stats",
                 b"/__sandbox/webhooks/deliveries", b"/__sandbox/policies/{id}/payments", b"approve"):
        assert word in text, word


def test_accepted_options_start_and_say_nothing_secret(spawn_sandbox):
    sb = spawn_sandbox("--webhook-url", "http://127.0.0.1:9/hook", "--webhook-secret=" + SECRET,
                       "--webhook-backoff-ms=5", "--webhook-attempts", "1", "--policy-delay-ms", "0")
    assert sb.running()
    logs = sb.stdout() + sb.stderr()
    assert logs.count("\n") == 1 and SECRET not in logs
