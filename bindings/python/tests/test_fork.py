"""fork(): a client made and used before the fork keeps giving every process
its own answers.

A client used in a process other than the one that made it must work there
on fresh connections of its own and never touch a connection it inherited;
the parent's client keeps working. Both tests make the processes call at the
same time, and check every answer: a view's ``id`` is the id asked for, a
create's ``policy_id`` is the offer's. A library that shares the inherited
keep-alive sockets hands one process another's payment (or fails).

Everything is bounded: children are waited for with a deadline and killed
when it passes, pool results are fetched with a timeout.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
import time
import traceback
from typing import Any, Dict, List, Optional, Tuple

import pytest

from conftest import Sandbox

import kasko

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="this platform has no fork()")

CALL_TIMEOUT = 5.0       # seconds per attempt; max_retries=0, so nothing is papered over
CHILD_DEADLINE = 30.0    # a child must have reported and exited by then
OFFERS_PER_PROCESS = 25  # 25 creates + 25 views, then views until the other side is done
MAX_EXTRA_VIEWS = 2000


def _new_client(sandbox_url: str, public_key: str, secret_key: str) -> kasko.Client:
    return kasko.Client(
        public_key, secret_key, base_url=sandbox_url, timeout=CALL_TIMEOUT, max_retries=0, proxy=""
    )


class Tally:
    """What one process saw: each call is right, wrong (another request's
    answer) or failed (an exception)."""

    def __init__(self) -> None:
        self.calls = 0
        self.wrong: List[str] = []
        self.failed: List[str] = []

    def create(self, client: kasko.Client, offer: Dict[str, str]) -> Optional[str]:
        self.calls += 1
        try:
            payment = client.create_payment(
                token=offer["token"], provider="invoice", method="invoice", policy_id=offer["policy_id"]
            )
        except kasko.KaskoError as error:
            self.failed.append(f"[pid {os.getpid()}] create for {offer['policy_id']}: {error.code}: {error.message}")
            return None
        if payment.policy_id != offer["policy_id"] or not payment.id:
            self.wrong.append(
                f"[pid {os.getpid()}] create for {offer['policy_id']} returned payment {payment.id} "
                f"of policy {payment.policy_id}"
            )
            return None
        return payment.id

    def view(self, client: kasko.Client, payment_id: str) -> None:
        self.calls += 1
        try:
            payment = client.get_payment(payment_id)
        except kasko.KaskoError as error:
            self.failed.append(f"[pid {os.getpid()}] view of {payment_id}: {error.code}: {error.message}")
            return
        if payment.id != payment_id:
            self.wrong.append(f"[pid {os.getpid()}] view of {payment_id} returned payment {payment.id}")

    def as_dict(self) -> Dict[str, Any]:
        """A summary small enough for a pipe: counts and a few examples."""
        return {
            "pid": os.getpid(), "calls": self.calls, "wrong": len(self.wrong), "failed": len(self.failed),
            "examples": (self.wrong[:3] + self.failed[:3])[:4],
        }


def _planned_calls(client: kasko.Client, offers: List[Dict[str, str]], seed: str, tally: Tally) -> List[str]:
    """A create for each offer, each followed by a view of it; returns the ids made."""
    own: List[str] = []
    for offer in offers:
        made = tally.create(client, offer)
        if made is not None:
            own.append(made)
        tally.view(client, own[-1] if own else seed)
    return own


def _send(fd: int, data: bytes) -> None:
    """Writes a protocol byte; a peer that has already exited is not an error here."""
    try:
        os.write(fd, data)
    except BrokenPipeError:
        pass


def _readable(fd: int, timeout: float) -> bool:
    return bool(select.select([fd], [], [], max(timeout, 0.0))[0])


def _read_byte(fd: int, timeout: float) -> bytes:
    """One byte within timeout; b"" on EOF or timeout."""
    return os.read(fd, 1) if _readable(fd, timeout) else b""


def _views_until_peer_done(
    client: kasko.Client, own: List[str], seed: str, peer_fd: int, tally: Tally, deadline: float
) -> None:
    """Keeps calling while the other process is still calling (until its b"D" or EOF)."""
    targets = own or [seed]
    for extra in range(MAX_EXTRA_VIEWS):
        if time.monotonic() > deadline:
            return
        if _readable(peer_fd, 0):
            os.read(peer_fd, 1)  # b"D", or b"" at EOF: either way the peer is done
            return
        tally.view(client, targets[extra % len(targets)])


def _read_report(fd: int, deadline: float) -> Optional[Dict[str, Any]]:
    data = b""
    while time.monotonic() < deadline:
        if not _readable(fd, deadline - time.monotonic()):
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    text = data.lstrip(b"RD")  # protocol bytes before the JSON
    try:
        report = json.loads(text.decode("utf-8"))
    except ValueError:
        return None
    return report if isinstance(report, dict) else None


def _wait_or_kill(pid: int, deadline: float) -> Tuple[bool, int]:
    """Waits for a child until deadline (kills it then). Returns (exited in time, wait status)."""
    pidfd: Optional[int] = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
    if pidfd is not None:
        try:
            exited = _readable(pidfd, deadline - time.monotonic())
        finally:
            os.close(pidfd)
    else:
        exited = False
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return True, status
            select.select([], [], [], 0.01)  # no pidfd: look again in 10 ms
    if not exited:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return exited, status


def _describe(tally: Dict[str, Any]) -> str:
    return (
        f"pid {tally['pid']}: {tally['calls']} calls, {tally['wrong']} wrong, "
        f"{tally['failed']} failed; e.g. {tally['examples']}"
    )


def _problems(who: str, tally: Dict[str, Any], minimum_calls: int) -> List[str]:
    """Why this process's calls were not all right, or nothing."""
    if tally["calls"] < minimum_calls or tally["wrong"] or tally["failed"]:
        return [f"{who} ({_describe(tally)}; wanted >= {minimum_calls} calls, all right)"]
    return []


# -- (i) os.fork: parent and child at once --------------------------------------


def test_fork_parent_and_child_call_at_once(
    sandbox: Sandbox, sandbox_url: str, public_key: str, secret_key: str
) -> None:
    client = _new_client(sandbox_url, public_key, secret_key)
    try:
        # Used before the fork: a kept-alive connection exists and is inherited.
        seeds = []
        for _ in range(2):
            offer = sandbox.offer()
            seed = Tally().create(client, offer)
            assert seed is not None
            assert client.get_payment(seed).id == seed
            seeds.append(seed)
        parent_offers = [sandbox.offer() for _ in range(OFFERS_PER_PROCESS)]
        child_offers = [sandbox.offer() for _ in range(OFFERS_PER_PROCESS)]

        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            code = 1
            try:
                os.close(to_child_w)
                os.close(from_child_r)
                tally = Tally()
                _send(from_child_w, b"R")
                if _read_byte(to_child_r, CHILD_DEADLINE) == b"G":
                    deadline = time.monotonic() + CHILD_DEADLINE
                    own = _planned_calls(client, child_offers, seeds[1], tally)
                    _send(from_child_w, b"D")
                    _views_until_peer_done(client, own, seeds[1], to_child_r, tally, deadline)
                else:
                    tally.failed.append("the parent never said go")
                    _send(from_child_w, b"D")
                os.write(from_child_w, json.dumps(tally.as_dict()).encode())
                code = 0 if not tally.wrong and not tally.failed else 1
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)

        os.close(to_child_r)
        os.close(from_child_w)
        deadline = time.monotonic() + CHILD_DEADLINE
        try:
            parent = Tally()
            ready = _read_byte(from_child_r, CHILD_DEADLINE)
            _send(to_child_w, b"G")
            if ready == b"R":
                own = _planned_calls(client, parent_offers, seeds[0], parent)
                _send(to_child_w, b"D")
                _views_until_peer_done(client, own, seeds[0], from_child_r, parent, deadline)
            report = _read_report(from_child_r, deadline)
        finally:
            exited, status = _wait_or_kill(pid, deadline)
            os.close(to_child_w)
            os.close(from_child_r)
        assert ready == b"R", "the child never got going"
        assert exited, "the child did not finish in time (deadlock?): killed"
        assert report is not None, "no report from the child"
        problems = _problems("the parent", parent.as_dict(), 2 * OFFERS_PER_PROCESS)
        problems += _problems("the child", report, 2 * OFFERS_PER_PROCESS)
        assert not problems, "answers to other requests, or failures: " + "; ".join(problems)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"child wait status {status}"
        # The parent's client goes on working after the child left.
        assert client.get_payment(seeds[0]).id == seeds[0]
    finally:
        client.close()


# -- (ii) a fork Pool whose workers use a module-global client -----------------

POOL_WORKERS = 3
POOL_TASKS = 6           # two rounds of 3, each round on all 3 workers at once
OFFERS_PER_TASK = 8      # 8 creates + 8 views
POOL_TIMEOUT = 60.0

# Created (and used) by the test in the parent before the pool starts; the
# workers inherit it through fork.
POOL_CLIENT: Optional[kasko.Client] = None
_barrier: Any = None


def _pool_initializer(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def _pool_task(offers: List[Dict[str, str]]) -> Dict[str, Any]:
    assert POOL_CLIENT is not None
    # All 3 workers call at the same time (a worker waiting here cannot take
    # another task, so each round spans the 3 workers).
    _barrier.wait(timeout=POOL_TIMEOUT / 2)
    tally = Tally()
    own: List[str] = []
    for offer in offers:
        made = tally.create(POOL_CLIENT, offer)
        if made is not None:
            own.append(made)
            tally.view(POOL_CLIENT, made)
    return tally.as_dict()


def test_fork_pool_workers_use_a_global_client(
    sandbox: Sandbox, sandbox_url: str, public_key: str, secret_key: str
) -> None:
    global POOL_CLIENT
    POOL_CLIENT = _new_client(sandbox_url, public_key, secret_key)
    try:
        offer = sandbox.offer()
        seed = Tally().create(POOL_CLIENT, offer)
        assert seed is not None and POOL_CLIENT.get_payment(seed).id == seed
        tasks = [[sandbox.offer() for _ in range(OFFERS_PER_TASK)] for _ in range(POOL_TASKS)]
        parent_offers = [sandbox.offer() for _ in range(OFFERS_PER_TASK)]

        context = multiprocessing.get_context("fork")
        barrier = context.Barrier(POOL_WORKERS)
        with context.Pool(POOL_WORKERS, initializer=_pool_initializer, initargs=(barrier,)) as pool:
            pending = pool.map_async(_pool_task, tasks, chunksize=1)
            # The parent keeps using the client meanwhile.
            parent = Tally()
            _planned_calls(POOL_CLIENT, parent_offers, seed, parent)
            results = pending.get(timeout=POOL_TIMEOUT)
        problems = _problems("the parent", parent.as_dict(), 2 * OFFERS_PER_TASK)
        for number, result in enumerate(results):
            problems += _problems(f"task {number} in worker {result['pid']}", result, 2 * OFFERS_PER_TASK)
        assert not problems, "answers to other requests, or failures: " + "; ".join(problems)
        assert len({result["pid"] for result in results}) == POOL_WORKERS, "every worker took part"
        assert POOL_CLIENT.get_payment(seed).id == seed
    finally:
        POOL_CLIENT.close()
        POOL_CLIENT = None
