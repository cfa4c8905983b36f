"""Client.set_event_hook against the sandbox over HTTP: one event per attempt
and one per call end, what they say, total_time, and a hook that raises,
calls the library, sleeps, blocks, or is replaced while other threads call,
and fork()."""

from __future__ import annotations

import gc
import json
import logging
import os
import select
import signal
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterator, List, Optional, Set

import pytest

from conftest import Faults, Sandbox

import kasko
from kasko import _events

pytestmark = pytest.mark.skipif(
    not kasko._lib.library().has_events, reason="the library is older than 1.2: no event hook"
)

DEADLINE = 30.0  # seconds for anything that must not hang


@pytest.fixture
def retrying(sandbox_url: str, public_key: str, secret_key: str) -> Iterator[kasko.Client]:
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, timeout=30, max_retries=2) as c:
        yield c


def a_payment(client: kasko.Client, sandbox: Sandbox) -> kasko.Payment:
    offer = sandbox.offer()
    return client.create_payment(token=offer["token"], provider="invoice", method="invoice",
                                 policy_id=offer["policy_id"])


def assert_monotonic(event: kasko.Event) -> None:
    """dns <= connect <= tls <= first_byte <= total, among the phases that happened."""
    phases = [event.dns_us, event.connect_us, event.tls_us, event.first_byte_us, event.total_us]
    assert all(isinstance(p, int) and p >= 0 for p in phases), event
    happened = [p for p in phases if p]
    assert happened == sorted(happened), f"timings not monotonic: {event}"
    assert event.total_us > 0, event


# -- what the events say -------------------------------------------------------------


def test_a_retried_view_has_one_event_per_attempt_and_a_call_end(
    retrying: kasko.Client, sandbox: Sandbox, faults: Faults
) -> None:
    payment_id = a_payment(retrying, sandbox).id
    events: List[kasko.Event] = []
    retrying.set_event_hook(events.append)
    assert retrying.event_hook == events.append
    faults.arm(payment_id, {"status": 503}, times=2)
    payment = retrying.get_payment(payment_id)
    assert payment.attempts == 3 == faults.attempts(payment_id)

    attempts = [e for e in events if e.kind == "attempt"]
    ends = [e for e in events if e.kind == "call_end"]
    assert len(attempts) == payment.attempts and len(ends) == 1 and events[-1] is ends[0]
    assert [e.attempt for e in attempts] == [1, 2, 3]
    assert [e.http_status for e in attempts] == [503, 503, 200]
    assert [e.retry for e in attempts] == [True, True, False]
    assert [e.code for e in attempts] == ["KASKO_ERR_SERVER", "KASKO_ERR_SERVER", "KASKO_OK"]
    assert [e.outcome for e in attempts] == ["unknown", "unknown", "succeeded"]  # a 5xx refuses nothing
    for event in attempts[:2]:
        assert isinstance(event.retry_delay_ms, int) and event.retry_delay_ms >= 0
        assert event.message and isinstance(event.request_id, str)
    assert attempts[2].retry_delay_ms is None and attempts[2].message is None
    for event in events:
        assert (event.operation, event.method, event.route) == ("payment_get", "GET", "/payments/{id}")
        assert event.path == f"/payments/{payment_id}"
        assert event.bytes_sent > 0 and event.bytes_received > 0
    for event in attempts:
        assert_monotonic(event)

    end = ends[0]
    assert end.attempt == payment.attempts and end.http_status == 200 and end.code == "KASKO_OK"
    assert end.outcome == "succeeded" and end.retry is False and end.message is None
    assert end.request_id == payment.request_id == attempts[-1].request_id
    assert end.dns_us is end.connect_us is end.tls_us is end.first_byte_us is None
    assert end.bytes_sent == sum(e.bytes_sent for e in attempts)
    assert end.bytes_received == sum(e.bytes_received for e in attempts)
    assert sum(e.total_us for e in attempts) <= end.total_us
    assert payment.total_time == end.total_us / 1e6 and payment.total_time > 0


def test_a_failed_create_with_an_unknown_outcome(
    retrying: kasko.Client, sandbox: Sandbox, faults: Faults
) -> None:
    offer = sandbox.offer()
    events: List[kasko.Event] = []
    retrying.set_event_hook(events.append)
    faults.arm(offer["policy_id"], {"drop": "after_body"})
    with pytest.raises(kasko.NetworkError) as info:
        retrying.create_payment(token=offer["token"], provider="invoice", method="invoice",
                                policy_id=offer["policy_id"])
    error = info.value
    assert error.outcome == "unknown" and error.attempts == 1  # a create is never retried then
    attempt, end = events
    assert (attempt.kind, end.kind) == ("attempt", "call_end")
    assert attempt.http_status is None and attempt.retry is False and attempt.outcome == "unknown"
    assert end.code == error.code == "KASKO_ERR_NETWORK" and end.outcome == "unknown"
    assert end.message == error.message and end.operation == "payment_create"
    assert end.path == "/payments" and end.route == "/payments"
    assert attempt.total_us <= end.total_us
    assert error.total_time == end.total_us / 1e6 and error.total_time > 0


def test_a_call_refused_before_any_io_has_a_call_end_only(client: kasko.Client) -> None:
    events: List[kasko.Event] = []
    client.set_event_hook(events.append)
    with pytest.raises(kasko.InvalidArgumentError) as info:
        client.get_payment("bad id")  # the library refuses the id
    (end,) = events
    assert end.kind == "call_end" and end.attempt == 0 and end.http_status is None
    assert end.code == "KASKO_ERR_INVALID_ARGUMENT" and end.outcome == "not_sent"
    assert info.value.total_time == 0.0 and info.value.attempts == 0
    # What the binding refuses itself never reaches the library: no event.
    with pytest.raises(kasko.InvalidArgumentError):
        client.get_payment("t12\x0034")
    assert len(events) == 1


def test_to_dict_is_the_librarys_event_object(client: kasko.Client, sandbox: Sandbox) -> None:
    seen: List[Dict[str, Any]] = []
    lib = kasko._lib.library()

    # The library's own view, read by a C hook of the test's (on a second
    # client: one hook per client).
    @kasko._lib.EVENT_HOOK
    def raw_hook(event: Optional[int], data: Optional[int]) -> None:
        seen.append(json.loads(lib.kasko_result_json(event)))

    events: List[kasko.Event] = []
    client.set_event_hook(events.append)
    payment_id = a_payment(client, sandbox).id
    client.get_payment(payment_id)
    assert lib.kasko_client_set_event_hook(client._handle, raw_hook, None) == lib.OK
    try:
        client.get_payment(payment_id)
    finally:
        client.set_event_hook(events.append)  # the binding's hook back, the test's gone
    assert len(seen) == 2 and set(seen[0]) >= {
        "event", "operation", "method", "route", "path", "attempt", "http_status", "status",
        "outcome", "retry", "retry_delay_ms", "request_id", "bytes_sent", "bytes_received",
        "dns_us", "connect_us", "tls_us", "first_byte_us", "total_us", "message"}
    for event in events:
        assert event.to_dict() == event.raw
        assert kasko.Event.from_dict(event.to_dict()) == event
        json.dumps(event.to_dict())
    mine = [e.to_dict() for e in events[2:]]
    timing = ("dns_us", "connect_us", "tls_us", "first_byte_us", "total_us", "request_id",
              "bytes_sent", "bytes_received")
    for ours, theirs in zip(mine, seen):
        assert {k: v for k, v in ours.items() if k not in timing} == \
            {k: v for k, v in theirs.items() if k not in timing}


def test_event_from_a_malformed_object_never_fails() -> None:
    event = kasko.Event.from_dict({"event": "attempt", "attempt": "1", "retry": 1, "total_us": None,
                                   "http_status": True, "future": [1]})
    assert event.kind == "attempt" and event.attempt == 0 and event.retry is False
    assert event.http_status is None and event.total_us == 0 and event.code == ""
    assert event.to_dict()["future"] == [1] and event.to_dict()["event"] == "attempt"


# -- setting, replacing, clearing ------------------------------------------------------


def test_clearing_and_replacing(client: kasko.Client, sandbox: Sandbox) -> None:
    first: List[kasko.Event] = []
    second: List[kasko.Event] = []
    payment_id = a_payment(client, sandbox).id
    client.set_event_hook(first.append)
    client.get_payment(payment_id)
    client.set_event_hook(second.append)
    client.get_payment(payment_id)
    client.set_event_hook(None)
    assert client.event_hook is None
    client.get_payment(payment_id)
    assert [e.kind for e in first] == [e.kind for e in second] == ["attempt", "call_end"]


def test_bad_hooks_and_closed_clients_are_refused(client: kasko.Client) -> None:
    with pytest.raises(kasko.InvalidArgumentError, match="callable"):
        client.set_event_hook("print")  # type: ignore[arg-type]
    with pytest.raises(kasko.InvalidArgumentError, match="bool"):
        client.set_event_logging(1)  # type: ignore[arg-type]
    client.close()
    with pytest.raises(kasko.InvalidArgumentError, match="closed"):
        client.set_event_hook(print)
    with pytest.raises(kasko.InvalidArgumentError, match="closed"):
        client.set_event_hook(None)


def test_a_library_without_hooks(
    sandbox_url: str, public_key: str, secret_key: str, sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib = kasko._lib.library()
    monkeypatch.setattr(lib, "has_events", False)
    monkeypatch.setattr(lib, "kasko_result_total_time_us", lambda result: None)
    with kasko.Client(public_key, secret_key, base_url=sandbox_url) as c:
        assert c.event_logging is False
        with pytest.raises(kasko.InternalError, match="1.2"):
            c.set_event_hook(print)
        payment = a_payment(c, sandbox)
        assert payment.total_time is None and payment.attempts == 1
        with pytest.raises(kasko.NotFoundError) as info:
            c.get_payment("t" + "0" * 32)
        assert info.value.total_time is None


# -- what a hook may do -------------------------------------------------------------------


def test_a_hook_that_raises_is_logged_and_the_call_goes_on(
    client: kasko.Client, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="kasko")
    client.set_event_logging(True)
    raised: List[str] = []

    def hook(event: kasko.Event) -> None:
        raised.append(event.kind)
        raise ValueError(f"boom in {event.kind}")

    client.set_event_hook(hook)
    payment = a_payment(client, sandbox)
    assert payment.id and raised == ["attempt", "call_end"]
    errors = [r for r in caplog.records if r.name == "kasko" and r.levelno == logging.ERROR]
    assert len(errors) == 2
    for record, kind in zip(errors, raised):
        assert "event hook" in record.getMessage() and "ignored" in record.getMessage()
        assert record.exc_info is not None and str(record.exc_info[1]) == f"boom in {kind}"
    # The other consumer, logging, got both events all the same.
    lines = [r.getMessage().split()[0] for r in caplog.records if r.levelno < logging.ERROR
             and r.name == "kasko"]
    assert lines == ["attempt", "call_end"]


def test_a_hook_that_raises_keyboard_interrupt_interrupts_the_call_once_it_is_done(
    client: kasko.Client, sandbox: Sandbox
) -> None:
    def hook(event: kasko.Event) -> None:
        if event.kind == "attempt":
            raise KeyboardInterrupt

    client.set_event_hook(hook)
    offer = sandbox.offer()
    with pytest.raises(KeyboardInterrupt):
        client.create_payment(token=offer["token"], provider="invoice", method="invoice",
                              policy_id=offer["policy_id"])
    assert not _events.PENDING
    client.set_event_hook(None)
    # The create was carried out before the interrupt was raised: it is paid.
    with pytest.raises(kasko.BadRequestError):
        client.create_payment(token=offer["token"], provider="invoice", method="invoice",
                              policy_id=offer["policy_id"])


def test_a_hook_may_call_the_library_and_those_calls_deliver_nothing(
    client: kasko.Client, sandbox: Sandbox, sandbox_url: str, public_key: str, secret_key: str,
) -> None:
    inner_id = a_payment(client, sandbox).id
    other_events: List[kasko.Event] = []
    events: List[kasko.Event] = []
    inner: List[str] = []
    refusals: List[str] = []
    with kasko.Client(public_key, secret_key, base_url=sandbox_url) as other:
        other.set_event_hook(other_events.append)

        def hook(event: kasko.Event) -> None:
            events.append(event)
            if event.kind == "attempt":
                inner.append(client.get_payment(inner_id).id)  # this client
                inner.append(other.get_payment(inner_id).id)   # and another one
                for target in (client, other):  # changing hooks inside one: refused
                    try:
                        target.set_event_hook(None)
                    except kasko.InvalidArgumentError as error:
                        refusals.append(error.message)

        client.set_event_hook(hook)
        outer_id = a_payment(client, sandbox).id
        assert client.get_payment(outer_id).id == outer_id
        assert client.event_hook is hook and other.event_hook == other_events.append
    assert inner == [inner_id] * 4
    assert [e.kind for e in events] == ["attempt", "call_end"] * 2
    assert all(inner_id not in e.path for e in events)
    assert other_events == []
    assert len(refusals) == 4 and all("inside an event hook" in m for m in refusals)


def test_a_slow_hook_delays_only_its_own_call(
    client: kasko.Client, sandbox: Sandbox, sandbox_url: str, public_key: str, secret_key: str,
) -> None:
    payment_id = a_payment(client, sandbox).id
    entered = threading.Event()
    release = threading.Event()

    def hook(event: kasko.Event) -> None:
        if threading.current_thread().name == "blocked" and event.kind == "call_end":
            entered.set()
            assert release.wait(DEADLINE), "never released"

    client.set_event_hook(hook)
    blocked = threading.Thread(target=client.get_payment, args=(payment_id,), name="blocked")
    blocked.start()
    try:
        assert entered.wait(DEADLINE)
        # Meanwhile other threads' calls on the same client run to the end.
        with ThreadPoolExecutor(4) as pool:
            done = list(pool.map(lambda _: client.get_payment(payment_id).id, range(8)))
        assert done == [payment_id] * 8
        assert blocked.is_alive()
    finally:
        release.set()
        blocked.join(DEADLINE)
    assert not blocked.is_alive()


def test_a_hook_that_sleeps_is_part_of_the_calls_time(
    retrying: kasko.Client, sandbox: Sandbox, faults: Faults
) -> None:
    # The library's total time includes the hook's time for every attempt
    # but the last; the hook's sleep is what is measured here.
    payment_id = a_payment(retrying, sandbox).id
    events: List[kasko.Event] = []

    def hook(event: kasko.Event) -> None:
        events.append(event)
        if event.kind == "attempt":
            time.sleep(0.05)

    retrying.set_event_hook(hook)
    faults.arm(payment_id, {"status": 503}, times=1)
    start = time.monotonic()
    payment = retrying.get_payment(payment_id)
    elapsed = time.monotonic() - start
    assert payment.attempts == 2 and [e.kind for e in events] == ["attempt", "attempt", "call_end"]
    assert payment.total_time is not None and 0.05 <= payment.total_time <= elapsed


# -- threads ------------------------------------------------------------------------------


@pytest.mark.parametrize("logging_on", [False, True], ids=["hook-only", "with-logging"])
def test_setting_and_clearing_while_threads_call(
    client: kasko.Client, sandbox: Sandbox, logging_on: bool
) -> None:
    # Without logging, clearing the hook clears the library's (NULL); with
    # it, the library's hook stays and only the Python hooks change.
    client.set_event_logging(logging_on)
    payment_id = a_payment(client, sandbox).id
    stop = threading.Event()
    failures: List[BaseException] = []
    calls = [0] * 6
    lock = threading.Lock()
    progress = threading.Condition(lock)
    running: Dict[int, int] = {}
    retired: Set[int] = set()
    violations: List[str] = []
    delivered = [0]
    got: Dict[int, int] = {}

    def make(number: int) -> Callable[[kasko.Event], None]:
        def hook(event: kasko.Event) -> None:
            with lock:
                if number in retired:
                    violations.append(f"hook {number} called after it was replaced")
                running[number] = running.get(number, 0) + 1
                delivered[0] += 1
                got[number] = got.get(number, 0) + 1
                progress.notify_all()
            with lock:
                running[number] -= 1
        return hook

    def worker(index: int) -> None:
        while not stop.is_set():
            try:
                assert client.get_payment(payment_id).id == payment_id
            except BaseException as exc:  # noqa: B902 - reported below
                failures.append(exc)
                return
            calls[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    try:
        current: Optional[int] = None
        for number in range(300):
            hook = make(number) if number % 3 else None
            client.set_event_hook(hook)
            if hook is not None and number % 10 == 1:
                # Overlap for certain, not by luck of scheduling: this hook
                # gets an event before it is replaced.
                with progress:
                    if not progress.wait_for(lambda: got.get(number, 0) > 0, timeout=DEADLINE):
                        violations.append(f"hook {number} got no event in {DEADLINE} s")
            with lock:
                # Once set_event_hook has returned, the previous hook is not running.
                if current is not None and running.get(current, 0):
                    violations.append(f"hook {current} still running after set_event_hook returned")
                if current is not None:
                    retired.add(current)
            current = number if hook is not None else None
        client.set_event_hook(None)
        with lock:
            if current is not None:
                retired.add(current)
            assert all(count == 0 for count in running.values())
    finally:
        stop.set()
        for thread in threads:
            thread.join(DEADLINE)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == [] and violations == []
    assert all(calls) and delivered[0] > 0


@pytest.mark.parametrize("logging_on", [False, True], ids=["hook-only", "with-logging"])
def test_clearing_waits_for_a_running_hook_without_a_deadlock(
    client: kasko.Client, sandbox: Sandbox, sandbox_url: str, public_key: str, secret_key: str,
    logging_on: bool,
) -> None:
    # kasko_client_set_event_hook waits for the deliveries running on other
    # threads; it is called with the GIL released, so the hook it waits for
    # (and every other thread) keeps running Python.
    client.set_event_logging(logging_on)
    payment_id = a_payment(client, sandbox).id
    entered = threading.Event()
    release = threading.Event()
    inside = [0]
    after_clear: List[str] = []

    def hook(event: kasko.Event) -> None:
        if cleared.is_set():
            after_clear.append(event.kind)
        inside[0] += 1
        entered.set()
        release.wait(DEADLINE)
        inside[0] -= 1

    cleared = threading.Event()

    def clear() -> None:
        client.set_event_hook(None)
        assert inside[0] == 0, "set_event_hook returned while the hook ran"
        cleared.set()

    client.set_event_hook(hook)
    caller = threading.Thread(target=client.get_payment, args=(payment_id,))
    caller.start()
    clearer = threading.Thread(target=clear)
    try:
        assert entered.wait(DEADLINE)
        clearer.start()
        # The clearer waits for the hook; this thread keeps running calls.
        with kasko.Client(public_key, secret_key, base_url=sandbox_url) as other:
            assert other.get_payment(payment_id).id == payment_id
        clearer.join(0.2)
        assert clearer.is_alive() and not cleared.is_set(), "did not wait for the running hook"
    finally:
        release.set()
        caller.join(DEADLINE)
        if clearer.ident is not None:
            clearer.join(DEADLINE)
    assert not caller.is_alive() and not clearer.is_alive()
    assert cleared.is_set() and after_clear == []
    client.get_payment(payment_id)
    assert after_clear == []


def test_a_hook_referring_to_its_client_does_not_keep_it_alive(
    sandbox_url: str, public_key: str, secret_key: str, sandbox: Sandbox,
) -> None:
    client = kasko.Client(public_key, secret_key, base_url=sandbox_url)
    client.set_event_hook(lambda event: client.public_key)
    a_payment(client, sandbox)
    key = client._hooks.key
    assert key in _events._REGISTRY
    ref = weakref.ref(client)
    del client
    gc.collect()
    assert ref() is None and key not in _events._REGISTRY


# -- fork -----------------------------------------------------------------------------


def in_child(body: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
    """Runs body() in a forked child; its JSON report, or a failure."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave, whatever happens
        try:
            os.close(read_fd)
            try:
                report = body()
            except BaseException as exc:  # noqa: B902
                report = {"error": f"{type(exc).__name__}: {exc}"}
            os.write(write_fd, json.dumps(report).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    data = b""
    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            if not select.select([read_fd], [], [], deadline - time.monotonic())[0]:
                break
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read_fd)
        exited = False
        while not exited and time.monotonic() < deadline:
            exited = os.waitpid(pid, os.WNOHANG)[0] != 0
            if not exited:
                select.select([], [], [], 0.01)  # poll the child's exit until the deadline
        if not exited:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child hung (killed after the deadline)")
    report = json.loads(data or b"{}")
    assert "error" not in report, report["error"]
    assert report, "the child reported nothing"
    return dict(report)


fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="this platform has no fork()")


@fork_only
def test_a_hooked_client_in_a_forked_child(client: kasko.Client, sandbox: Sandbox) -> None:
    payment_id = a_payment(client, sandbox).id
    events: List[str] = []
    client.set_event_hook(lambda event: events.append(f"{os.getpid()} {event.kind}"))
    client.get_payment(payment_id)

    def child() -> Dict[str, Any]:
        before = len(events)
        client.get_payment(payment_id)
        mine = events[before:]
        client.set_event_hook(None)
        client.get_payment(payment_id)
        return {"pid": os.getpid(), "events": mine, "after_clear": events[before + len(mine):]}

    report = in_child(child)
    assert report["events"] == [f"{report['pid']} attempt", f"{report['pid']} call_end"]
    assert report["after_clear"] == []
    # The parent's hook is still set and its events are its own.
    client.get_payment(payment_id)
    assert events == [f"{os.getpid()} attempt", f"{os.getpid()} call_end"] * 2


@fork_only
def test_fork_while_another_thread_waits_in_set_event_hook(
    client: kasko.Client, sandbox: Sandbox
) -> None:
    client.set_event_logging(False)
    payment_id = a_payment(client, sandbox).id
    entered = threading.Event()
    release = threading.Event()

    def blocking(event: kasko.Event) -> None:
        if threading.current_thread().name == "caller":
            entered.set()
            release.wait(DEADLINE)

    client.set_event_hook(blocking)
    caller = threading.Thread(target=client.get_payment, args=(payment_id,), name="caller")
    caller.start()
    setter = threading.Thread(target=client.set_event_hook, args=(None,))
    try:
        assert entered.wait(DEADLINE)
        setter.start()  # holds the client's hook lock while the library waits for `blocking`
        setter.join(0.2)
        assert setter.is_alive()

        def child() -> Dict[str, Any]:
            seen: List[str] = []
            client.set_event_hook(lambda event: seen.append(event.kind))  # no deadlock here
            client.get_payment(payment_id)
            client.set_event_hook(None)
            return {"seen": seen}

        assert in_child(child) == {"seen": ["attempt", "call_end"]}
    finally:
        release.set()
        caller.join(DEADLINE)
        if setter.ident is not None:
            setter.join(DEADLINE)
    assert not caller.is_alive() and not setter.is_alive() and client.event_hook is None
