"""Fixtures for the kasko-sandbox suite.

The binary comes from --sandbox PATH or $KASKO_SANDBOX_BIN. Two sandboxes
are shared by the whole session and started only when a test asks for
them: `sandbox` (the plain emulator, both test keys) and `faults_sandbox`
(--faults). Tests that need a process of their own (signals, stdout,
other keys, --random-faults) start one with `spawn_sandbox`. Every sandbox
is stopped at teardown; the shared ones must then exit 0 on SIGTERM with
nothing secret in their logs (a teardown error otherwise).
"""

import os
import re
import signal

import pytest

pytest.register_assert_rewrite("sandbox_support")

import sandbox_support as ss  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--sandbox", metavar="PATH", default=None,
                     help="the kasko-sandbox binary to test (default: $KASKO_SANDBOX_BIN)")


def _binary(config):
    return config.getoption("--sandbox") or os.environ.get("KASKO_SANDBOX_BIN")


def pytest_configure(config):
    path = _binary(config)
    if not path:
        raise pytest.UsageError(
            "no sandbox binary: pass --sandbox=PATH or set KASKO_SANDBOX_BIN, e.g.\n"
            "  python3 -m pytest -q Tests/sandbox --sandbox=.build/release/kasko-sandbox")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise pytest.UsageError("no executable kasko-sandbox at %s (build it: make)" % path)


def pytest_report_header(config):
    return "kasko-sandbox under test: %s" % _binary(config)


@pytest.fixture(scope="session")
def sandbox_bin(pytestconfig):
    return os.path.abspath(_binary(pytestconfig))


SECRETS = re.compile(re.escape(ss.SK) + "|" + re.escape(ss.PK) + "|ptok_")


def _stop_shared(sb):
    rc = sb.stop(signal.SIGTERM)
    problems = []
    if rc != 0:
        problems.append("exit status %r on SIGTERM" % rc)
    if sb.stdout().count("\n") != 1:
        problems.append("stdout is more than the URL line")
    logs = sb.stdout() + sb.stderr()
    if SECRETS.search(logs):
        problems.append("a key or a token appears in its logs (%s, %s)" % (sb.out_path, sb.err_path))
    return problems


@pytest.fixture(scope="session")
def sandbox(sandbox_bin, tmp_path_factory):
    """The shared plain sandbox, started with both test keys explicitly."""
    sb = ss.Sandbox(sandbox_bin, ["--secret-key", ss.SK, "--public-key", ss.PK],
                    tmp_path_factory.mktemp("sandbox"), "main")
    yield sb
    problems = _stop_shared(sb)
    if sb.stderr():
        problems.append("without --faults it wrote to stderr: %r" % sb.stderr()[:300])
    assert not problems, "shared sandbox: " + "; ".join(problems)


@pytest.fixture(scope="session")
def faults_sandbox(sandbox_bin, tmp_path_factory):
    """The shared sandbox with --faults (rules are cleared by `faults`)."""
    sb = ss.Sandbox(sandbox_bin, ["--faults"], tmp_path_factory.mktemp("sandbox"), "faults")
    yield sb
    problems = _stop_shared(sb)
    assert not problems, "shared --faults sandbox: " + "; ".join(problems)


@pytest.fixture
def faults(faults_sandbox):
    """The shared --faults sandbox with no rule armed, and none left armed
    after the test."""
    ss.expect(faults_sandbox.delete("/__sandbox/faults"), 200)
    yield faults_sandbox
    if faults_sandbox.running():
        ss.expect(faults_sandbox.delete("/__sandbox/faults"), 200)


@pytest.fixture
def spawn_sandbox(sandbox_bin, tmp_path):
    """spawn_sandbox(*args, name="x") -> a Sandbox of this test's own;
    every one is stopped (killed if need be) at teardown."""
    made = []

    def spawn(*args, name="own"):
        sb = ss.Sandbox(sandbox_bin, list(args), tmp_path, "%s%d" % (name, len(made)))
        made.append(sb)
        return sb

    yield spawn
    for sb in made:
        if sb.stop(signal.SIGTERM) is None:
            sb.kill()


@pytest.fixture
def offer(sandbox):
    """A fresh offer (policy_id, token) on the shared sandbox."""
    return ss.new_offer(sandbox)


@pytest.fixture
def fault_offer(faults):
    """A fresh offer on the shared --faults sandbox."""
    return ss.new_offer(faults)


@pytest.fixture
def fault_payment(faults):
    """A settled invoice payment's id on the shared --faults sandbox."""
    return ss.new_payment(faults)
