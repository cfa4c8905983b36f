"""Event logging on the ``kasko`` logger (caplog), when the library hook is
set for it (only when asked for, or when logging would show something), and
KASKO_LOG in a fresh interpreter (stderr)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from typing import Any, Dict, Iterator, List

import pytest

from conftest import BINDING_DIR, Faults, Sandbox

import kasko

pytestmark = pytest.mark.skipif(
    not kasko._lib.library().has_events, reason="the library is older than 1.2: no event hook"
)


def invoice(client: kasko.Client, offer: Dict[str, str]) -> kasko.Payment:
    return client.create_payment(token=offer["token"], provider="invoice", method="invoice",
                                 policy_id=offer["policy_id"])


def kasko_records(caplog: pytest.LogCaptureFixture) -> List[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "kasko"]


def fields(record: logging.LogRecord) -> Dict[str, str]:
    """The logfmt fields of a line (values unquoted)."""
    found: Dict[str, str] = {}
    for name, quoted, plain in re.findall(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))', record.getMessage()):
        found[name] = quoted or plain
    return found


@pytest.fixture
def logged(sandbox_url: str, public_key: str, secret_key: str,
           caplog: pytest.LogCaptureFixture) -> Iterator[kasko.Client]:
    caplog.set_level(logging.DEBUG, logger="kasko")
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, timeout=30, max_retries=2) as c:
        # The kasko logger is enabled and has handlers (caplog's): set at creation.
        assert c.event_logging is True
        yield c


def test_a_retried_view_logs_a_warning_per_retry_and_debug_lines(
    logged: kasko.Client, sandbox: Sandbox, faults: Faults, caplog: pytest.LogCaptureFixture
) -> None:
    payment = invoice(logged, sandbox.offer())
    faults.arm(payment.id, {"status": 503}, times=2)
    caplog.clear()
    viewed = logged.get_payment(payment.id)
    records = kasko_records(caplog)
    assert [(r.levelno, r.getMessage().split()[0]) for r in records] == [
        (logging.WARNING, "retry"), (logging.WARNING, "retry"),
        (logging.DEBUG, "attempt"), (logging.DEBUG, "call_end"),
    ]
    for number, record in enumerate(records[:3], 1):
        line = fields(record)
        assert line["operation"] == "payment_get" and line["method"] == "GET"
        assert line["path"] == f"/payments/{payment.id}" and line["attempt"] == str(number)
        for name in ("total_ms", "dns_ms", "connect_ms", "tls_ms", "first_byte_ms"):
            assert re.fullmatch(r"\d+\.\d{3}", line[name]), (name, line)
        event = getattr(record, "kasko_event")
        assert isinstance(event, kasko.Event) and event.attempt == number
        assert line["request_id"] == event.request_id
    for record in records[:2]:
        line = fields(record)
        assert line["http_status"] == "503" and line["code"] == "KASKO_ERR_SERVER"
        assert line["outcome"] == "unknown" and line["message"]
        assert re.fullmatch(r"\d+", line["retry_delay_ms"])
    last, end = fields(records[2]), fields(records[3])
    assert last["http_status"] == "200" and last["outcome"] == "succeeded" and "message" not in last
    assert end["attempts"] == "3" and end["code"] == "KASKO_OK"
    assert end["request_id"] == viewed.request_id
    assert viewed.total_time is not None
    assert float(end["total_ms"]) == pytest.approx(viewed.total_time * 1000, abs=0.001)


def test_failures_are_logged_at_info_and_an_unknown_create_at_warning(
    logged: kasko.Client, sandbox: Sandbox, faults: Faults, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    with pytest.raises(kasko.NotFoundError):
        logged.get_payment("t" + "0" * 32)
    offer = sandbox.offer()
    faults.arm(offer["policy_id"], {"drop": "after_body"})
    with pytest.raises(kasko.NetworkError):
        invoice(logged, offer)
    records = kasko_records(caplog)
    assert [(r.levelno, r.getMessage().split()[0]) for r in records] == [
        (logging.DEBUG, "attempt"), (logging.INFO, "call_end"),
        (logging.DEBUG, "attempt"), (logging.WARNING, "call_end"),
    ]
    view_end, create_end = fields(records[1]), fields(records[3])
    assert view_end["http_status"] == "404" and view_end["outcome"] == "rejected"
    assert view_end["code"] == "KASKO_ERR_NOT_FOUND" and "not found" in view_end["message"]
    assert create_end["http_status"] == "none" and create_end["outcome"] == "unknown"
    assert create_end["operation"] == "payment_create" and create_end["path"] == "/payments"


def test_levels_are_read_per_event(
    logged: kasko.Client, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kasko")
    caplog.clear()
    payment = invoice(logged, sandbox.offer())
    logged.get_payment(payment.id)
    assert kasko_records(caplog) == []


def test_logging_and_a_hook_of_ones_own_coexist(
    logged: kasko.Client, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    events: List[kasko.Event] = []
    logged.set_event_hook(events.append)
    caplog.clear()
    invoice(logged, sandbox.offer())
    assert [e.kind for e in events] == ["attempt", "call_end"]
    assert [r.getMessage().split()[0] for r in kasko_records(caplog)] == ["attempt", "call_end"]
    logged.set_event_logging(False)
    assert logged.event_logging is False and logged.event_hook == events.append
    caplog.clear()
    invoice(logged, sandbox.offer())
    assert kasko_records(caplog) == [] and len(events) == 4
    logged.set_event_hook(None)
    logged.set_event_logging(True)
    invoice(logged, sandbox.offer())
    assert len(events) == 4 and len(kasko_records(caplog)) == 2


def test_the_hook_is_not_set_when_logging_shows_nothing(
    sandbox_url: str, public_key: str, secret_key: str, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib = kasko._lib.library()
    sets: List[Any] = []
    original = lib.kasko_client_set_event_hook

    def counting(*arguments: Any) -> int:
        sets.append(arguments)
        result: int = original(*arguments)
        return result

    monkeypatch.setattr(lib, "kasko_client_set_event_hook", counting)
    monkeypatch.delenv("KASKO_LOG", raising=False)
    caplog.set_level(logging.ERROR, logger="kasko")
    with kasko.Client(public_key, secret_key, base_url=sandbox_url) as c:
        assert c.event_logging is False and sets == []
        c.set_event_logging(True)  # asked for: set, whatever the level
        assert c.event_logging is True and len(sets) == 1


# -- in a fresh interpreter: no logging configuration but the test's -------------


def run_python(code: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("KASKO_LOG", None)
    env.update(environment)
    env["PYTHONPATH"] = str(BINDING_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)


CALLS = """
import json, os, urllib.request, kasko
url = os.environ["KASKO_SANDBOX_URL"]
def post(path, body=None):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode() if body else b"",
                                     method="POST")
    return json.loads(urllib.request.urlopen(request).read() or b"{}")
offer = post("/__sandbox/offers")
client = kasko.Client(os.environ["KASKO_SANDBOX_PUBLIC_KEY"], os.environ["KASKO_SANDBOX_SECRET_KEY"],
                      base_url=url, max_retries=1)
print("logging", client.event_logging)
payment = client.create_payment(token=offer["token"], provider="invoice", method="invoice",
                                policy_id=offer["policy_id"])
post("/__sandbox/faults", {"key": payment.id, "fault": {"status": 503}, "times": 1})
client.get_payment(payment.id)
print("ok", payment.id)
"""


def test_kasko_log_debug_prints_lines_to_stderr() -> None:
    done = run_python(CALLS, KASKO_LOG="debug")
    assert done.returncode == 0, done.stderr
    out = done.stdout.split()
    assert out[:2] == ["logging", "True"] and out[2] == "ok"
    payment_id = out[3]
    lines = [line for line in done.stderr.splitlines() if " kasko: " in line]
    kinds = [re.search(r" (DEBUG|INFO|WARNING) kasko: (\w+)", line) for line in lines]
    assert [k.groups() if k else line for k, line in zip(kinds, lines)] == [
        ("DEBUG", "attempt"), ("DEBUG", "call_end"),
        ("WARNING", "retry"), ("DEBUG", "attempt"), ("DEBUG", "call_end"),
    ], done.stderr
    assert f"path=/payments/{payment_id} attempt=1 http_status=503" in lines[2]
    assert "retry_delay_ms=" in lines[2] and "request_id=req_" in lines[3]
    assert "attempts=2" in lines[4] and "total_ms=" in lines[4]


@pytest.mark.parametrize("value", ["WARNING", "warning"])
def test_kasko_log_warning_prints_retries_only(value: str) -> None:
    done = run_python(CALLS, KASKO_LOG=value)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if " kasko: " in line]
    assert len(lines) == 1 and " WARNING kasko: retry " in lines[0], done.stderr


def test_without_kasko_log_or_logging_nothing_is_set_or_printed() -> None:
    done = run_python(CALLS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["logging", "False"] and done.stderr == ""
    # logging.basicConfig() at WARNING: not set (a hook in Python per
    # event would about double each call's cost for the rare retry line).
    done = run_python("import logging; logging.basicConfig()\n" + CALLS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["logging", "False"] and ":kasko:" not in done.stderr
    # At DEBUG: set, and every line shows.
    done = run_python("import logging; logging.basicConfig(level=logging.DEBUG)\n" + CALLS)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["logging", "True"]
    lines = [line for line in done.stderr.splitlines() if ":kasko:" in line]
    assert [line.split(":")[0] for line in lines] == ["DEBUG", "DEBUG", "WARNING", "DEBUG", "DEBUG"], done.stderr
    assert lines[2].startswith("WARNING:kasko:retry "), done.stderr


def test_a_bad_kasko_log_is_a_warning() -> None:
    done = run_python(CALLS, KASKO_LOG="verbose")
    assert done.returncode == 0, done.stderr
    assert "KASKO_LOG='verbose' is not one of debug, info, warning: ignored" in done.stderr
    assert "RuntimeWarning" in done.stderr and " kasko: " not in done.stderr
    assert done.stdout.split()[:2] == ["logging", "False"]


def test_import_kasko_and_calls_without_logging_do_not_import_logging() -> None:
    # The logging package costs milliseconds of every program's start; it
    # is imported once event logging is on or something must be reported.
    done = run_python(CALLS + "import sys\nprint('logging imported', 'logging' in sys.modules)\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["logging", "False"]
    assert done.stdout.strip().endswith("logging imported False"), done.stdout
