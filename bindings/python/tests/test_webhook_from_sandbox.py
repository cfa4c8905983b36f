"""A webhook the sandbox delivers, verified by the receiver example
(examples/webhook_receiver.py): a payment makes the sandbox create the
policy, which sends policy.created, signed with the webhook secret, to the
receiver over real HTTP on 127.0.0.1. With the wrong secret the receiver
refuses it (401) and the sandbox redelivers the same delivery, then gives
up; its delivery record says so."""

from __future__ import annotations

import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import kasko
from conftest import BINDING_DIR, REPO_ROOT

EXAMPLE = BINDING_DIR / "examples" / "webhook_receiver.py"


def sandbox_binary() -> Path:
    named = os.environ.get("KASKO_SANDBOX_BIN")
    path = Path(named) if named else REPO_ROOT / ".build" / "release" / "kasko-sandbox"
    assert path.is_file(), f"no kasko-sandbox at {path}: build it (make) or set KASKO_SANDBOX_BIN"
    return path


class Lines:
    """A process's stdout lines, read on a thread so that waiting for one
    can have a deadline."""

    def __init__(self, process: "subprocess.Popen[str]") -> None:
        self.queue: "queue.Queue[str]" = queue.Queue()
        self.seen: List[str] = []
        assert process.stdout is not None
        stream = process.stdout
        threading.Thread(target=lambda: [self.queue.put(line) for line in stream], daemon=True).start()

    def wait_for(self, predicate: Any, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no such line within {seconds} s; got {self.seen}"
            try:
                line = self.queue.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line.rstrip("\n"))
            if predicate(line):
                return line


def start_receiver(secret: str) -> Tuple["subprocess.Popen[str]", Lines, str]:
    env = dict(os.environ, KASKO_WEBHOOK_SECRET=secret, PYTHONPATH=str(BINDING_DIR))
    process = subprocess.Popen([sys.executable, str(EXAMPLE), "0"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    lines = Lines(process)
    first = lines.wait_for(lambda line: True, 30)
    assert first.startswith("listening on http://127.0.0.1:"), first
    return process, lines, first.split()[-1]


def start_sandbox(webhook_url: str, webhook_secret: str, public_key: str, secret_key: str,
                  attempts: int) -> Tuple["subprocess.Popen[str]", str]:
    process = subprocess.Popen(
        [str(sandbox_binary()), "--port", "0", "--public-key", public_key, "--secret-key", secret_key,
         "--webhook-url", webhook_url, "--webhook-secret", webhook_secret, "--policy-delay-ms", "20",
         "--webhook-backoff-ms", "50", "--webhook-attempts", str(attempts)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith("http://"), url
    return process, url


def json_request(url: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def deliveries_of(sandbox: str, policy_id: str) -> List[Dict[str, Any]]:
    listed = json_request(sandbox + "/__sandbox/webhooks/deliveries")["deliveries"]
    return [d for d in listed if d["policy_id"] == policy_id]


def wait_for_delivery(sandbox: str, policy_id: str, state: str, seconds: float) -> Dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        found = deliveries_of(sandbox, policy_id)
        if found and found[0]["state"] == state:
            return found[0]
        assert time.monotonic() < deadline, f"delivery for {policy_id} not {state}: {found}"
        time.sleep(0.02)  # between polls of the condition above


@pytest.fixture
def keys() -> Tuple[str, str]:
    return "pk_test_" + secrets.token_hex(16), "sk_test_" + secrets.token_hex(16)


@pytest.fixture
def processes() -> Iterator[List["subprocess.Popen[str]"]]:
    started: List["subprocess.Popen[str]"] = []
    yield started
    for process in started:
        process.terminate()
        process.wait(timeout=30)


def pay_an_offer(sandbox: str, keys: Tuple[str, str]) -> str:
    offer = json_request(sandbox + "/__sandbox/offers", {})
    with kasko.Client(public_key=keys[0], secret_key=keys[1], base_url=sandbox) as client:
        client.create_payment(token=offer["token"], provider="invoice", method="invoice",
                              policy_id=offer["policy_id"])
    return str(offer["policy_id"])


def test_a_delivery_from_the_sandbox_is_verified_by_the_example(
    keys: Tuple[str, str], processes: List["subprocess.Popen[str]"]
) -> None:
    secret = "whsec_" + secrets.token_hex(16)
    receiver, lines, receiver_url = start_receiver(secret)
    processes.append(receiver)
    sandbox, sandbox_url = start_sandbox(receiver_url, secret, *keys, attempts=3)
    processes.append(sandbox)

    policy_id = pay_an_offer(sandbox_url, keys)
    line = lines.wait_for(lambda text: f"policy {policy_id}" in text, 30)
    assert line.startswith("policy.created delivery "), line
    delivery = wait_for_delivery(sandbox_url, policy_id, "delivered", 30)
    assert delivery["event"] == "policy.created"
    assert line.split()[2] == delivery["delivery"]
    assert [attempt["http_status"] for attempt in delivery["attempts"]] == [204]
    assert secret not in "".join(lines.seen)


def test_with_another_secret_the_example_refuses_and_the_sandbox_redelivers(
    keys: Tuple[str, str], processes: List["subprocess.Popen[str]"]
) -> None:
    receiver, lines, receiver_url = start_receiver("whsec_" + secrets.token_hex(16))
    processes.append(receiver)
    sandbox, sandbox_url = start_sandbox(receiver_url, "whsec_" + secrets.token_hex(16), *keys, attempts=3)
    processes.append(sandbox)

    policy_id = pay_an_offer(sandbox_url, keys)
    delivery = wait_for_delivery(sandbox_url, policy_id, "failed", 30)
    assert [attempt["http_status"] for attempt in delivery["attempts"]] == [401, 401, 401]
    refusals = [text for text in lines.seen if text.startswith("401:")]
    while len(refusals) < 3:
        refusals.append(lines.wait_for(lambda text: text.startswith("401:"), 10))
    assert all("signature does not match" in text for text in refusals)
