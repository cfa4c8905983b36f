"""kasko.AsyncClient (libkasko 1.4, the contract of issue 15:
/work/contract-15.md) against the sandbox: every method and every status
the calls can end with, retries on the engine's timers, cancellation (of a
view held by a slow answer, of a create already sent: logged, its outcome
unknown), aclose() with calls in flight, 1000 concurrent views on one loop
with no thread per call, results freed, the event hook on the engine thread,
a closed loop.

Each test runs its own event loop (asyncio.run). No test prints a payment
token or a key: comparisons that involve one are reduced to a bool first."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import threading
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar

import pytest

from conftest import Faults, Sandbox

import kasko
from kasko import _async

T = TypeVar("T")

HAS_ASYNC = kasko._lib.library().has_async
needs_async = pytest.mark.skipif(not HAS_ASYNC, reason="the library is older than 1.4: no asynchronous calls")

START = "2099-01-01"


def run(coroutine: Awaitable[T]) -> T:
    async def main() -> T:
        return await coroutine

    return asyncio.run(main())


def quote_request(**members: Any) -> Dict[str, Any]:
    request: Dict[str, Any] = {
        "integration_id": "in_sandbox_travel",
        "item_id": "ins_sandbox_travel",
        "subscription_plan_id": "pp_sandbox_single",
        "data": {"trip_cost": 100000, "policy_start_date": START},
    }
    request.update(members)
    return request


CUSTOMER = {"first_name": "Erika", "last_name": "Mustermann", "email": "erika@example.org",
            "language": "de"}


def fields(offer: Dict[str, str], provider: str = "invoice") -> Dict[str, str]:
    return {"token": offer["token"], "provider": provider, "method": provider,
            "policy_id": offer["policy_id"]}


def shows_secret(text: str, *keys: str) -> bool:
    """Whether a text holds a payment token or one of the keys (never printed)."""
    return "ptok_" in text or any(key in text for key in keys)


def a_payment_id(client: kasko.Client, sandbox: Sandbox) -> str:
    payment = client.create_payment(**fields(sandbox.offer()))
    assert payment.id is not None
    return payment.id


@pytest.fixture
def connect(sandbox_url: str, public_key: str, secret_key: str) -> Callable[..., kasko.AsyncClient]:
    """Makes an AsyncClient on the sandbox (close it in the test's loop)."""
    def make(**options: Any) -> kasko.AsyncClient:
        options.setdefault("timeout", 30)
        return kasko.AsyncClient(public_key, secret_key, base_url=sandbox_url, **options)

    return make


async def until_seen(faults: Faults, key: str, count: int = 1, within: float = 10.0) -> None:
    """Polls the sandbox until `count` requests with this key reached it."""
    deadline = time.monotonic() + within
    while faults.attempts(key) < count:
        assert time.monotonic() < deadline, f"the sandbox did not see {count} request(s) for {key}"
        await asyncio.sleep(0.01)


def os_threads() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads: line in /proc/self/status")


def same_error(a: kasko.KaskoError, b: kasko.KaskoError) -> None:
    """The async call's error is the blocking call's, but for the request id
    and the timings."""
    assert type(a) is type(b), (type(a), type(b))
    for name in ("code", "http_status", "status", "message", "retryable", "outcome", "attempts",
                 "errors"):
        assert getattr(a, name) == getattr(b, name), name
    assert (a.request_id is None) == (b.request_id is None)


# -- a library without asynchronous calls ---------------------------------------------


def test_an_older_library_raises_internal_error_before_sending(
    closed_port: int, public_key: str, secret_key: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib = kasko._lib.library()
    monkeypatch.setattr(lib, "has_async", False)

    async def main() -> None:
        async with kasko.AsyncClient(public_key, secret_key,
                                     base_url=f"http://127.0.0.1:{closed_port}") as c:
            calls: List[Callable[[], Awaitable[Any]]] = [
                lambda: c.get_payment("t0123"),
                lambda: c.create_payment(token="t", provider="invoice", method="invoice",
                                         policy_id="tpol_x"),
                lambda: c.create_quote(quote_request()),
                lambda: c.create_offer(dict(CUSTOMER, quote_token="qtok_x")),
                lambda: c.get_offer("tpol_x"),
                lambda: c.get_policy("tpol_x"),
            ]
            for call in calls:
                with pytest.raises(kasko.InternalError) as info:
                    await call()
                assert "1.4.0" in info.value.message and info.value.attempts == 0
                assert info.value.outcome == "not_sent"

    run(main())


def test_async_client_is_exported_and_lazy() -> None:
    assert "AsyncClient" in kasko.__all__ and "CallCancelledError" in kasko.__all__
    assert kasko.AsyncClient is _async.AsyncClient and "AsyncClient" in dir(kasko)
    assert issubclass(kasko.CallCancelledError, kasko.KaskoError)
    assert not issubclass(kasko.CallCancelledError, asyncio.CancelledError)


# -- payments: every answer -------------------------------------------------------------


@needs_async
def test_create_then_get(connect: Callable[..., kasko.AsyncClient], sandbox: Sandbox) -> None:
    offer = sandbox.offer()

    async def main() -> Tuple[kasko.Payment, kasko.FullPayment]:
        async with connect() as c:
            created = await c.create_payment(**fields(offer))
            assert created.id is not None
            return created, await c.get_payment(created.id)

    created, viewed = run(main())
    assert isinstance(created, kasko.FullPayment) and isinstance(viewed, kasko.FullPayment)
    assert created.policy_id == offer["policy_id"] and created.status == "ok"
    assert viewed.id == created.id and viewed.policy_id == created.policy_id
    assert created.http_status == 201 or created.http_status == 200
    assert viewed.http_status == 200 and viewed.attempts == 1 and viewed.request_id
    assert viewed.total_time is not None and viewed.total_time > 0
    assert not shows_secret(repr(created)) and not shows_secret(repr(viewed))


@needs_async
def test_the_async_answer_is_the_blocking_one(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    blocking = client.get_payment(payment_id)

    async def main() -> kasko.FullPayment:
        async with connect() as c:
            return await c.get_payment(payment_id)

    viewed = run(main())
    assert type(viewed) is type(blocking) and same(viewed.raw, blocking.raw)
    assert viewed.http_status == blocking.http_status and viewed.attempts == blocking.attempts


def same(a: Any, b: Any) -> bool:
    return bool(a == b)


@needs_async
def test_restricted_payment_with_the_public_key_alone(
    sandbox_url: str, public_key: str, sandbox: Sandbox,
) -> None:
    offer = sandbox.offer()

    async def main() -> None:
        async with kasko.AsyncClient(public_key, base_url=sandbox_url) as c:
            payment = await c.create_payment(**fields(offer))
            assert isinstance(payment, kasko.RestrictedPayment)
            assert payment.id is not None
            with pytest.raises(kasko.AuthenticationError) as info:
                await c.get_payment(payment.id)
            assert info.value.http_status == 401

    run(main())


@needs_async
def test_pending_payment(connect: Callable[..., kasko.AsyncClient], sandbox: Sandbox) -> None:
    offer = sandbox.offer()

    async def main() -> None:
        async with connect() as c:
            first = await c.create_payment(**fields(offer, "deferred"))
            assert first.status == "pending"
            with pytest.raises(kasko.PendingPaymentError) as info:
                await c.create_payment(**fields(offer, "deferred"))
            error = info.value
            assert error.pending_payment_id == first.id and error.http_status == 422
            assert error.outcome == "rejected" and error.code == "KASKO_ERR_PENDING_PAYMENT"

    run(main())


@needs_async
def test_server_answers_are_the_blocking_calls_errors(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox,
    sandbox_url: str, public_key: str, secret_key: str,
) -> None:
    """400, 401, 404 (payment, provider): the same exception, attribute for
    attribute, as the blocking call's."""
    paid = sandbox.offer()
    client.create_payment(**fields(paid))
    wrong_token = dict(fields(sandbox.offer()), token="ptok_wrong")
    unknown_provider = dict(fields(sandbox.offer()), provider="no_such_provider")
    wrong_key = kasko.Client(public_key, "sk_test_" + "x" * 32, base_url=sandbox_url)
    cases: List[Tuple[type, Callable[[kasko.Client], Any], Callable[[kasko.AsyncClient], Awaitable[Any]]]] = [
        (kasko.BadRequestError, lambda b: b.create_payment(**wrong_token),
         lambda a: a.create_payment(**wrong_token)),
        (kasko.BadRequestError, lambda b: b.create_payment(**fields(paid)),
         lambda a: a.create_payment(**fields(paid))),
        (kasko.NotFoundError, lambda b: b.get_payment("t" + "0" * 32),
         lambda a: a.get_payment("t" + "0" * 32)),
        (kasko.NotFoundError, lambda b: b.create_payment(**unknown_provider),
         lambda a: a.create_payment(**unknown_provider)),
    ]
    expected: List[kasko.KaskoError] = []
    for cls, blocking, _ in cases:
        with pytest.raises(cls) as info:
            blocking(client)
        expected.append(info.value)
    with pytest.raises(kasko.AuthenticationError) as unauthorized:
        wrong_key.get_payment("t" + "0" * 32)
    wrong_key.close()

    async def main() -> None:
        async with connect() as c:
            for (cls, _, asynchronous), blocking_error in zip(cases, expected):
                with pytest.raises(cls) as info:
                    await asynchronous(c)
                same_error(info.value, blocking_error)
        wrong = "sk_test_" + "x" * 32
        async with kasko.AsyncClient(public_key, wrong, base_url=sandbox_url) as bad:
            with pytest.raises(kasko.AuthenticationError) as info:
                await bad.get_payment("t" + "0" * 32)
            same_error(info.value, unauthorized.value)
            leaked = shows_secret(str(info.value) + repr(info.value.raw), wrong, secret_key)
            assert not leaked

    run(main())


@needs_async
def test_faults_give_rate_limit_server_and_invalid_response_errors(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    limited, failing, garbled = (a_payment_id(client, sandbox) for _ in range(3))
    faults.arm(limited, {"status": 429, "retry_after": 0})
    faults.arm(failing, {"status": 500})
    faults.arm(garbled, {"body": "non_json"})

    async def main() -> None:
        async with connect(max_retries=0) as c:
            with pytest.raises(kasko.RateLimitError) as rate:
                await c.get_payment(limited)
            assert rate.value.http_status == 429 and rate.value.retryable and rate.value.attempts == 1
            with pytest.raises(kasko.ServerError) as server:
                await c.get_payment(failing)
            assert server.value.http_status == 500 and server.value.request_id
            with pytest.raises(kasko.InvalidResponseError) as invalid:
                await c.get_payment(garbled)
            assert invalid.value.code == "KASKO_ERR_INVALID_RESPONSE"
            assert (await c.get_payment(garbled)).id == garbled  # the rule was used up

    run(main())


@needs_async
def test_network_errors_timeouts_and_a_closed_port(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox,
    faults: Faults, closed_port: int, public_key: str, secret_key: str,
) -> None:
    slow = a_payment_id(client, sandbox)
    faults.arm(slow, {"delay_ms": 600}, times=3)

    async def main() -> None:
        async with connect(timeout=0.1, max_retries=2) as c:
            with pytest.raises(kasko.NetworkError) as info:
                await c.get_payment(slow)
            error = info.value
            assert error.outcome == "unknown" and error.retryable and error.attempts == 3
        assert faults.attempts(slow) == 3
        async with kasko.AsyncClient(public_key, secret_key, base_url=f"http://127.0.0.1:{closed_port}",
                                     max_retries=1, connect_timeout=5) as c:
            with pytest.raises(kasko.NetworkError) as refused:
                await c.get_payment("t0123")
            assert refused.value.http_status is None and refused.value.attempts == 2

    run(main())


@needs_async
def test_a_sent_create_that_timed_out_is_not_retried(
    connect: Callable[..., kasko.AsyncClient], sandbox: Sandbox, faults: Faults,
) -> None:
    offer = sandbox.offer()
    faults.arm(offer["policy_id"], {"delay_ms": 600})

    async def main() -> None:
        async with connect(timeout=0.1, max_retries=2) as c:
            with pytest.raises(kasko.NetworkError) as info:
                await c.create_payment(**fields(offer))
            assert info.value.outcome == "unknown" and not info.value.retryable
            assert info.value.attempts == 1

    run(main())
    time.sleep(0.7)
    assert faults.attempts(offer["policy_id"]) == 1


@needs_async
def test_invalid_arguments_are_refused_before_any_io(
    closed_port: int, public_key: str, secret_key: str, client: kasko.Client,
) -> None:
    """By the binding (not a str, a NUL), by the library in its callback (a
    malformed id or request, refused options): each the blocking call's
    InvalidArgumentError, nothing sent (the port refuses connections)."""
    blocking: Dict[str, kasko.KaskoError] = {}
    bad: Dict[str, Callable[[Any], Any]] = {
        "bad id": lambda c: c.get_payment("../etc/passwd"),
        "NUL": lambda c: c.get_payment("a\x00b"),
        "not a str": lambda c: c.get_payment(42),
        "empty token": lambda c: c.create_payment(token="", provider="invoice", method="invoice",
                                                  policy_id="tpol_x"),
        "bad options": lambda c: c.get_payment("t0123", timeout_ms=-1),
        "bad traceparent": lambda c: c.get_payment("t0123", traceparent="bogus"),
        "quote without data": lambda c: c.create_quote({"integration_id": "in_x"}),
        "offer not a mapping": lambda c: c.create_offer(["x"]),
        "offer without fields": lambda c: c.create_offer({"quote_token": "qtok_x"}),
        "bad policy id": lambda c: c.get_policy("a b"),
        "bad offer id": lambda c: c.get_offer(""),
    }
    with kasko.Client(public_key, secret_key, base_url=f"http://127.0.0.1:{closed_port}",
                      max_retries=0) as offline:
        for name, call in bad.items():
            with pytest.raises(kasko.InvalidArgumentError) as info:
                call(offline)
            blocking[name] = info.value

    async def main() -> None:
        async with kasko.AsyncClient(public_key, secret_key, base_url=f"http://127.0.0.1:{closed_port}",
                                     max_retries=0) as c:
            for name, call in bad.items():
                with pytest.raises(kasko.InvalidArgumentError) as info:
                    await call(c)
                error = info.value
                assert error.outcome == "not_sent" and error.attempts == 0, name
                same_error(error, blocking[name])

    run(main())


# -- checkout ---------------------------------------------------------------------------


@needs_async
def test_quote_offer_and_policy(connect: Callable[..., kasko.AsyncClient], client: kasko.Client) -> None:
    async def main() -> None:
        async with connect() as c:
            quote = await c.create_quote(quote_request())
            assert isinstance(quote, kasko.Quote) and quote.gross_payment_amount == 4000
            assert same(quote, client.create_quote(quote_request()))
            offer = await c.create_offer(dict(CUSTOMER, quote_token=quote.token))
            assert isinstance(offer, kasko.Offer) and offer.id.startswith("tpol_")
            viewed = await c.get_offer(offer.id)
            assert viewed.id == offer.id and same(viewed.payment_token, offer.payment_token)
            policy = await c.get_policy(offer.id)
            assert isinstance(policy, kasko.Policy) and policy.status == "pending"
            assert policy.etag is not None and policy.last_modified is not None
            blocking = client.get_policy(offer.id)
            assert policy.etag == blocking.etag and policy.raw == blocking.raw
            token = offer.payment_token
            assert token is not None
            payment = await c.create_payment(token=token, provider="invoice", method="invoice",
                                             policy_id=offer.id)
            assert payment.policy_id == offer.id
            with pytest.raises(kasko.BadRequestError) as info:
                await c.create_quote(quote_request(data={"trip_cost": "lots"}))
            assert info.value.errors and info.value.http_status == 400
            with pytest.raises(kasko.NotFoundError):
                await c.get_policy("tpol_" + "0" * 28)
            with pytest.raises(kasko.NotFoundError):
                await c.get_offer("tpol_" + "0" * 28)

    run(main())


# -- retries -------------------------------------------------------------------------------


@needs_async
def test_a_view_is_retried_through_two_503s(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"status": 503}, times=2)

    async def main() -> kasko.FullPayment:
        async with connect() as c:  # max_retries is the default 2
            return await c.get_payment(payment_id)

    viewed = run(main())
    assert viewed.id == payment_id and viewed.attempts == 3
    assert faults.attempts(payment_id) == 3


@needs_async
def test_retry_waits_do_not_block_the_loop(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    """While a view waits to be retried (429 with Retry-After: 1), the loop
    runs other work."""
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"status": 429, "retry_after": 1})

    async def main() -> Tuple[kasko.FullPayment, int]:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.ensure_future(tick())
        try:
            async with connect() as c:
                return await c.get_payment(payment_id), ticks
        finally:
            ticker.cancel()

    viewed, ticks = run(main())
    assert viewed.attempts == 2 and ticks >= 20, ticks


# -- cancellation ------------------------------------------------------------------------------


@needs_async
def test_cancelling_a_view_held_by_a_slow_answer(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox, faults: Faults,
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The library ends the call at once (its callback says
    KASKO_ERR_CANCELLED, outcome unknown: the request was sent), long before
    the slow answer would have come; the task raises CancelledError."""
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"delay_ms": 5000})
    caplog.set_level(logging.DEBUG, logger="kasko")
    late: List[Any] = []
    settle = _async._settle

    def recording_settle(call: Any, done: Any) -> None:
        if call.future.done():
            late.append(done[0])
        settle(call, done)

    monkeypatch.setattr(_async, "_settle", recording_settle)

    async def main() -> float:
        async with connect() as c:
            task = asyncio.ensure_future(c.get_payment(payment_id))
            await until_seen(faults, payment_id)
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await calls_settle(within=1.0)  # called back, cancelled, not answered
            took = time.monotonic() - started
            assert task.cancelled()
            assert len(late) == 1 and isinstance(late[0], kasko.CallCancelledError), late
            assert late[0].outcome == "unknown" and late[0].attempts == 1
            # The client goes on (the rule was used up).
            assert (await c.get_payment(payment_id)).id == payment_id
            return took

    took = run(main())
    assert took < 1.0, took
    assert faults.attempts(payment_id) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


@needs_async
def test_wait_for_timeout_cancels_the_call(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"delay_ms": 5000})

    async def main() -> None:
        async with connect() as c:
            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(c.get_payment(payment_id), 0.3)
            assert time.monotonic() - started < 2.0
            assert not _async._CALLS or await calls_settle()

    run(main())


async def calls_settle(within: float = 5.0) -> bool:
    """Waits until no call of the process is in flight (every callback came)."""
    deadline = time.monotonic() + within
    while _async._CALLS:
        assert time.monotonic() < deadline, f"{len(_async._CALLS)} call(s) never called back"
        await asyncio.sleep(0.01)
    return True


@needs_async
def test_a_cancelled_create_that_was_sent_is_logged_as_unknown(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox, faults: Faults,
    caplog: pytest.LogCaptureFixture,
) -> None:
    offer = sandbox.offer()
    policy_id = offer["policy_id"]
    faults.arm(policy_id, {"delay_ms": 1500}, route="payment_create")
    caplog.set_level(logging.WARNING, logger="kasko")

    async def main() -> None:
        async with connect() as c:
            task = asyncio.ensure_future(c.create_payment(**fields(offer)))
            await until_seen(faults, policy_id)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await calls_settle()

    run(main())
    warnings = [r for r in caplog.records if r.name == "kasko" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, caplog.text
    record = warnings[0]
    message = record.getMessage()
    assert policy_id in message and "unknown" in message and "resolve_payment" in message
    assert "KASKO_ERR_CANCELLED" in message
    assert getattr(record, "kasko_policy_id") == policy_id
    assert getattr(record, "kasko_outcome") == "unknown"
    leaked = shows_secret(caplog.text)
    assert not leaked
    # The sandbox carries the delayed create out: resolve_payment finds out
    # without paying twice.
    time.sleep(1.7)
    resolution = client.resolve_payment(**fields(offer))
    assert resolution.state in (kasko.PaymentState.PAID, kasko.PaymentState.PENDING), resolution.state
    assert len(sandbox.payments_of(policy_id)) == 1


@needs_async
def test_a_create_cancelled_before_it_was_sent_is_not_logged(
    connect: Callable[..., kasko.AsyncClient], sandbox: Sandbox, caplog: pytest.LogCaptureFixture,
) -> None:
    """A task cancelled before its coroutine ran submits nothing."""
    offer = sandbox.offer()
    caplog.set_level(logging.DEBUG, logger="kasko")

    async def main() -> None:
        async with connect() as c:
            task = asyncio.ensure_future(c.create_payment(**fields(offer)))
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    run(main())
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert sandbox.payments_of(offer["policy_id"]) == []


@needs_async
def test_aclose_with_calls_in_flight(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"delay_ms": 5000}, times=5)

    async def main() -> None:
        c = connect()
        tasks = [asyncio.ensure_future(c.get_payment(payment_id)) for _ in range(5)]
        await until_seen(faults, payment_id, 5)
        started = time.monotonic()
        await c.aclose()
        assert time.monotonic() - started < 1.0
        assert c.closed and not _async._CALLS
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            assert isinstance(result, kasko.CallCancelledError), result
            assert result.code == "KASKO_ERR_CANCELLED" and result.http_status is None
            assert result.outcome == "unknown" and result.attempts == 1  # sent
        await c.aclose()  # idempotent
        with pytest.raises(kasko.InvalidArgumentError):
            await c.get_payment(payment_id)
        assert "closed" in repr(c)

    run(main())


@needs_async
def test_aclose_right_after_submitting(connect: Callable[..., kasko.AsyncClient], sandbox: Sandbox) -> None:
    """Calls still queued when the client is freed end not sent."""
    offer = sandbox.offer()

    async def main() -> None:
        c = connect()

        async def create() -> kasko.Payment:
            return await c.create_payment(**fields(offer))

        tasks = [asyncio.ensure_future(create()) for _ in range(3)]
        await asyncio.sleep(0)  # each task has submitted its call
        await c.aclose()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            # Cancelled (not_sent or unknown), or the create's own answer if it won.
            assert isinstance(result, (kasko.CallCancelledError, kasko.Payment, kasko.BadRequestError,
                                       kasko.PendingPaymentError)), type(result)
            if isinstance(result, kasko.CallCancelledError):
                assert result.outcome in ("not_sent", "unknown")

    run(main())


# -- no thread per call ----------------------------------------------------------------------


@needs_async
def test_a_thousand_concurrent_views_on_one_loop_and_no_thread_per_call(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    python_before, os_before = threading.active_count(), os_threads()

    async def main() -> Tuple[List[kasko.FullPayment], int, int, int, int]:
        seen_python, seen_os, samples, most_in_flight = 0, 0, 0, 0
        async with connect() as c:
            tasks = [asyncio.ensure_future(c.get_payment(payment_id)) for _ in range(1000)]
            while True:
                in_flight = sum(not task.done() for task in tasks)
                if not in_flight:
                    break
                most_in_flight = max(most_in_flight, in_flight)
                seen_python = max(seen_python, threading.active_count())
                seen_os = max(seen_os, os_threads())
                samples += 1
                await asyncio.sleep(0.005)
            return [task.result() for task in tasks], seen_python, seen_os, samples, most_in_flight

    views, seen_python, seen_os, samples, most_in_flight = run(main())
    assert len(views) == 1000 and all(v.id == payment_id for v in views)
    assert samples >= 2, "no sample was taken while the calls were in flight"
    assert most_in_flight == 1000, most_in_flight  # all submitted before the first sample
    # At most the engine thread (and the dummy Thread of its callbacks) besides the main one.
    assert seen_python - 1 <= 2 and seen_python - python_before <= 2, (python_before, seen_python)
    assert seen_os - os_before <= 2, (os_before, seen_os)


# -- results freed, events, a closed loop ------------------------------------------------------


@needs_async
def test_every_callback_frees_its_result(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    lib = kasko._lib.library()
    main_thread = threading.get_ident()
    freed_on_engine: List[int] = []
    original = lib.kasko_result_free

    def counting_free(pointer: Any) -> None:
        if threading.get_ident() != main_thread:
            freed_on_engine.append(pointer.value if isinstance(pointer, ctypes.c_void_p) else pointer)
        original(pointer)

    monkeypatch.setattr(lib, "kasko_result_free", counting_free)

    async def main() -> None:
        async with connect() as c:
            await c.get_payment(payment_id)
            with pytest.raises(kasko.NotFoundError):
                await c.get_payment("t" + "0" * 32)
            with pytest.raises(kasko.InvalidArgumentError):  # refused by the library, called back
                await c.get_payment("bad id")
            await asyncio.gather(*(c.get_payment(payment_id) for _ in range(20)))

    run(main())
    assert len(freed_on_engine) == 23 and all(freed_on_engine)


@needs_async
def test_the_event_hook_runs_on_the_engine_thread(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    events: List[Tuple[kasko.Event, int]] = []

    async def main() -> None:
        async with connect() as c:
            c.set_event_hook(lambda event: events.append((event, threading.get_ident())))
            assert c.event_hook is not None
            await c.get_payment(payment_id)

    run(main())
    kinds = [(e.kind, e.operation) for e, _ in events]
    assert kinds == [("attempt", "payment_get"), ("call_end", "payment_get")], kinds
    assert all(thread != threading.get_ident() for _, thread in events)


@needs_async
def test_a_create_whose_loop_closed_is_logged(
    connect: Callable[..., kasko.AsyncClient], sandbox: Sandbox, faults: Faults,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The loop is closed with the call in flight; the client is freed
    later: the callback finds the loop closed, frees the result and logs the
    create whose outcome is unknown."""
    offer = sandbox.offer()
    faults.arm(offer["policy_id"], {"delay_ms": 1500}, route="payment_create")
    caplog.set_level(logging.WARNING, logger="kasko")
    c = connect()
    loop = asyncio.new_event_loop()

    async def start() -> "asyncio.Future[kasko.Payment]":
        task = asyncio.ensure_future(c.create_payment(**fields(offer)))
        await until_seen(faults, offer["policy_id"])
        return task

    task = loop.run_until_complete(start())
    task._log_destroy_pending = False  # type: ignore[attr-defined]  # pending for ever, on purpose
    loop.close()
    assert not task.done()
    run(c.aclose())
    assert not _async._CALLS
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "kasko"]
    assert len(warnings) == 1 and offer["policy_id"] in warnings[0].getMessage(), caplog.text
    del task


def test_an_async_client_cannot_be_pickled_and_hides_its_keys(
    sandbox_url: str, public_key: str, secret_key: str,
) -> None:
    import pickle

    async def main() -> None:
        async with kasko.AsyncClient(public_key, secret_key, base_url=sandbox_url) as c:
            with pytest.raises(TypeError):
                pickle.dumps(c)
            text = repr(c)
            assert text.startswith("<kasko.AsyncClient ") and sandbox_url in text
            leaked = secret_key in text or (len(public_key) > 16 and public_key in text)
            assert not leaked
            assert c.public_key == public_key and c.base_url == sandbox_url and not c.closed

    run(main())


def test_a_bad_configuration_is_refused_as_by_client() -> None:
    with pytest.raises(kasko.InvalidArgumentError) as info:
        kasko.AsyncClient("pk_test_x", max_retries=11)
    assert "max_retries" in info.value.message


@needs_async
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_child_forgets_the_parents_calls(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    faults.arm(payment_id, {"delay_ms": 1000})

    async def main() -> None:
        async with connect() as c:
            task = asyncio.ensure_future(c.get_payment(payment_id))
            await until_seen(faults, payment_id)
            pid = os.fork()
            if pid == 0:  # the child: the parent's call is not pending here
                os._exit(0 if not _async._CALLS else 1)
            _, status = os.waitpid(pid, 0)
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
            assert (await task).id == payment_id

    run(main())


@needs_async
def test_a_call_the_library_refuses_to_take_raises_and_is_forgotten(
    closed_port: int, public_key: str, secret_key: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """KASKO_ERR_CANCELLED (the client is being freed) and KASKO_ERR_INTERNAL
    (no engine): no callback comes, so the call is raised and unregistered."""
    lib = kasko._lib.library()
    for code, cls in (("KASKO_ERR_CANCELLED", kasko.CallCancelledError),
                      ("KASKO_ERR_INTERNAL", kasko.InternalError)):
        monkeypatch.setattr(lib, "kasko_payment_get_async",
                            lambda *arguments, status=lib.statuses[code]: status)

        async def main() -> None:
            async with kasko.AsyncClient(public_key, secret_key,
                                         base_url=f"http://127.0.0.1:{closed_port}") as c:
                with pytest.raises(cls) as info:
                    await c.get_payment("t0123")
                assert info.value.code == code and info.value.outcome == "not_sent"
                assert "kasko_payment_get_async" in info.value.message

        run(main())
        assert not _async._CALLS


@needs_async
def test_a_create_answered_just_before_its_task_was_cancelled_is_logged(
    connect: Callable[..., kasko.AsyncClient], sandbox: Sandbox, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The answer reached the future, but the task was cancelled before it
    resumed: the payment exists and the task never sees it, so it is logged
    (with the payment's id)."""
    offer = sandbox.offer()
    caplog.set_level(logging.WARNING, logger="kasko")
    tasks: List["asyncio.Future[Any]"] = []
    settle = _async._settle

    def settle_then_cancel(call: Any, done: Any) -> None:
        settle(call, done)
        for task in tasks:
            task.cancel()

    monkeypatch.setattr(_async, "_settle", settle_then_cancel)

    async def main() -> None:
        async with connect() as c:
            tasks.append(asyncio.ensure_future(c.create_payment(**fields(offer))))
            with pytest.raises(asyncio.CancelledError):
                await tasks[0]

    run(main())
    payments = sandbox.payments_of(offer["policy_id"])
    assert len(payments) == 1
    warnings = [r for r in caplog.records if r.name == "kasko" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, caplog.text
    message = warnings[0].getMessage()
    assert offer["policy_id"] in message and payments[0] in message and "succeeded" in message
    assert getattr(warnings[0], "kasko_outcome") == "succeeded"
    leaked = shows_secret(caplog.text)
    assert not leaked


@needs_async
def test_one_client_serves_loops_on_two_threads(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox,
) -> None:
    payment_id = a_payment_id(client, sandbox)
    c = connect()
    results: Dict[str, List[str]] = {}

    def on_a_thread(name: str) -> None:
        async def views() -> List[str]:
            return [p.id for p in await asyncio.gather(*(c.get_payment(payment_id) for _ in range(50)))]

        results[name] = asyncio.run(views())

    threads = [threading.Thread(target=on_a_thread, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    run(c.aclose())
    assert results == {"a": [payment_id] * 50, "b": [payment_id] * 50}


EXIT_WITH_CALLS_IN_FLIGHT = """
import asyncio, os, kasko
client = kasko.AsyncClient(os.environ["KEY_PUBLIC"], os.environ["KEY_SECRET"],
                           base_url=os.environ["KASKO_SANDBOX_URL"])
loop = asyncio.new_event_loop()
async def start():
    task = asyncio.ensure_future(client.create_payment(
        token=os.environ["OFFER_TOKEN"], provider="invoice", method="invoice",
        policy_id=os.environ["OFFER_POLICY"]))
    await asyncio.sleep(0.3)  # sent, held by the sandbox's delay
    return task
task = loop.run_until_complete(start())
task._log_destroy_pending = False
loop.close()
print("exiting", flush=True)
# No aclose(): the interpreter exits with the create in flight.
"""


@needs_async
def test_the_interpreter_exits_with_a_create_in_flight(sandbox: Sandbox, faults: Faults,
                                                       public_key: str, secret_key: str) -> None:
    """At exit the open clients are freed while threads can still take the
    GIL (atexit): the engine calls back at once (nothing hangs for the
    answer's 10 s), and the create sent but never answered is logged, its
    loop being closed."""
    import subprocess
    import sys

    from conftest import BINDING_DIR

    offer = sandbox.offer()
    faults.arm(offer["policy_id"], {"delay_ms": 10000}, route="payment_create")
    env = dict(os.environ, KEY_PUBLIC=public_key, KEY_SECRET=secret_key,
               OFFER_TOKEN=offer["token"], OFFER_POLICY=offer["policy_id"])
    env["PYTHONPATH"] = str(BINDING_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", EXIT_WITH_CALLS_IN_FLIGHT], env=env,
                          capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    leaked = shows_secret(done.stdout + done.stderr, secret_key)
    assert not leaked
    assert done.returncode == 0 and done.stdout == "exiting\n", (done.returncode, done.stderr)
    assert faults.attempts(offer["policy_id"]) == 1
    assert f"payment_create for policy {offer['policy_id']} was cancelled" in done.stderr, done.stderr
    assert "outcome is unknown" in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert took < 5, took  # not the 10 s of the delay


@needs_async
def test_resolve_payment_awaited_after_a_dropped_create(
    connect: Callable[..., kasko.AsyncClient], client: kasko.Client, sandbox: Sandbox, faults: Faults,
) -> None:
    """Both steps on the engine: after a create whose answer was dropped
    once the payment was made, the awaited resolution says paid, as the
    blocking one does, and the policy still has one payment."""
    offer = sandbox.offer()
    policy_id = offer["policy_id"]
    faults.arm(policy_id, {"drop": "after_body"}, route="payment_create")

    async def main() -> Tuple[Any, Any]:
        async with connect() as c:
            with pytest.raises(kasko.NetworkError) as lost:
                await c.create_payment(**fields(offer))
            assert lost.value.outcome == "unknown"
            resolution = await c.resolve_payment(**fields(offer))
            fresh = sandbox.offer()
            made = await c.resolve_payment(**fields(fresh))
            return resolution, (fresh, made)

    resolution, (fresh, made) = run(main())
    assert resolution.state is kasko.PaymentState.PAID, resolution
    assert resolution.evidence in ("already_paid", "policy_paid") and not resolution.created_by_this_call
    assert len(sandbox.payments_of(policy_id)) == 1
    blocking = client.resolve_payment(**fields(offer))
    assert blocking.state is kasko.PaymentState.PAID
    # On an offer nothing had paid, the resolution's own create is the payment.
    assert made.evidence == "created" and made.created_by_this_call and made.payment_id
    assert len(sandbox.payments_of(fresh["policy_id"])) == 1
