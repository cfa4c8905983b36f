"""One client from many threads, the GIL released during calls, close() while
calls are running, and no file-descriptor growth."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Tuple

import pytest

from conftest import Faults, Sandbox, open_fds

import kasko

THREADS = 8
CALLS_PER_THREAD = 50  # 25 creates + 25 views


def test_8_threads_x_50_calls_on_one_client(client: kasko.Client, sandbox: Sandbox) -> None:
    offers = [[sandbox.offer() for _ in range(CALLS_PER_THREAD // 2)] for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def worker(mine: List[Dict[str, str]]) -> List[Tuple[Dict[str, str], kasko.Payment, kasko.Payment]]:
        barrier.wait()
        results = []
        for offer in mine:
            created = client.create_payment(
                token=offer["token"], provider="invoice", method="invoice",
                policy_id=offer["policy_id"],
            )
            assert created.id is not None
            viewed = client.get_payment(created.id)
            results.append((offer, created, viewed))
        return results

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(worker, offers))

    ids = set()
    calls = 0
    for results in outcomes:
        for offer, created, viewed in results:
            calls += 2
            assert created.policy_id == offer["policy_id"] and created.status == "ok"
            assert viewed.id == created.id and viewed.policy_id == offer["policy_id"]
            ids.add(created.id)
    assert calls == THREADS * CALLS_PER_THREAD
    assert len(ids) == THREADS * CALLS_PER_THREAD // 2


def slow_payments(client: kasko.Client, sandbox: Sandbox, faults: Faults, count: int) -> List[str]:
    """`count` new payments whose next view is answered after 0.5 s."""
    ids = []
    for _ in range(count):
        offer = sandbox.offer()
        payment = client.create_payment(
            token=offer["token"], provider="invoice", method="invoice", policy_id=offer["policy_id"]
        )
        assert payment.id is not None
        faults.arm(payment.id, {"delay_ms": 500})
        ids.append(payment.id)
    return ids


def test_calls_release_the_gil(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, sandbox_url: str, public_key: str,
    secret_key: str,
) -> None:
    # Each answer takes 0.5 s; four at once must overlap, and the main thread
    # must keep running Python meanwhile.
    ids = slow_payments(client, sandbox, faults, 4)
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, max_retries=0) as c:
        with pytest.raises(kasko.NotFoundError):  # warm-up
            c.get_payment("t00000000000000000000000000000000")
        start = time.monotonic()
        ticks = 0
        with ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(c.get_payment, payment_id) for payment_id in ids]
            while not all(f.done() for f in futures):
                ticks += 1
                time.sleep(0.01)
            payments = [f.result() for f in futures]
        elapsed = time.monotonic() - start
    assert [p.id for p in payments] == ids
    assert elapsed < 1.5, f"calls did not overlap: {elapsed:.2f} s"
    assert ticks > 10


def test_close_while_calls_are_running(
    client: kasko.Client, sandbox: Sandbox, faults: Faults, sandbox_url: str, public_key: str,
    secret_key: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = slow_payments(client, sandbox, faults, 4)
    lib = kasko._lib.library()
    original = lib.kasko_client_free
    frees: List[Any] = []

    def counting_free(handle: Any) -> None:
        frees.append(handle)
        original(handle)

    monkeypatch.setattr(lib, "kasko_client_free", counting_free)
    c = kasko.Client(public_key, secret_key, base_url=sandbox_url, max_retries=0)
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(c.get_payment, payment_id) for payment_id in ids]
        time.sleep(0.2)  # the calls are in flight
        c.close()  # returns at once; the handle is freed by the last call
        assert c.closed
        with pytest.raises(kasko.InvalidArgumentError):
            c.get_payment(ids[0])
        payments = [f.result(timeout=30) for f in futures]
    assert [p.id for p in payments] == ids
    assert len(frees) == 1
    c.close()
    assert len(frees) == 1
    assert all(faults.attempts(payment_id) == 1 for payment_id in ids)


def test_no_fd_growth_over_1000_calls(client: kasko.Client, sandbox: Sandbox) -> None:
    offer = sandbox.offer()
    payment = client.create_payment(
        token=offer["token"], provider="invoice", method="invoice", policy_id=offer["policy_id"]
    )
    assert payment.id is not None
    for _ in range(20):  # warm-up: the connection pool fills
        client.get_payment(payment.id)
    before = open_fds()
    for i in range(1000):
        if i % 10 == 9:
            with pytest.raises(kasko.NotFoundError):
                client.get_payment("t00000000000000000000000000000000")
        else:
            assert client.get_payment(payment.id).id == payment.id
    after = open_fds()
    assert after - before <= 2, f"open fds grew from {before} to {after}"


def test_no_fd_growth_over_many_clients(sandbox_url: str, public_key: str, secret_key: str) -> None:
    def one() -> None:
        with kasko.Client(public_key, secret_key, base_url=sandbox_url) as c:
            with pytest.raises(kasko.NotFoundError):
                c.get_payment("t00000000000000000000000000000000")

    for _ in range(5):
        one()
    before = open_fds()
    for _ in range(200):
        one()
    after = open_fds()
    assert after - before <= 2, f"open fds grew from {before} to {after}"
