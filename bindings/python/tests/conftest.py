"""Shared fixtures: the sandbox (KASKO_SANDBOX_URL, from scripts/with-sandbox),
clients on it, and sandbox-only calls through urllib: offers, settling, and
fault injection (429, 5xx, garbage, slow answers, dropped connections), which
needs the sandbox started with --faults (KASKO_SANDBOX_ARGS=--faults)."""

from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

import kasko

BINDING_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = BINDING_DIR.parents[1]


def _fail_without_sandbox() -> str:
    url = os.environ.get("KASKO_SANDBOX_URL")
    if not url:
        pytest.fail(
            "KASKO_SANDBOX_URL is not set: run the tests under the sandbox, e.g. "
            "scripts/with-sandbox --sandbox .build/release/kasko-sandbox -- "
            "bindings/python/run-tests build/libkasko.so.1",
            pytrace=False,
        )
    return url.rstrip("/")


@pytest.fixture(scope="session")
def sandbox_url() -> str:
    return _fail_without_sandbox()


@pytest.fixture(scope="session")
def public_key() -> str:
    return os.environ.get("KASKO_SANDBOX_PUBLIC_KEY", "pk_test_sandbox")


@pytest.fixture(scope="session")
def secret_key() -> str:
    return os.environ.get("KASKO_SANDBOX_SECRET_KEY", "sk_test_sandbox")


@pytest.fixture(scope="session")
def library_file() -> Path:
    """The library file the tests run against (KASKO_LIBRARY, or the build dir)."""
    named = os.environ.get("KASKO_LIBRARY")
    path = Path(named) if named else REPO_ROOT / "build" / "libkasko.so.1"
    if not path.is_file():
        pytest.fail(f"no library at {path}: set KASKO_LIBRARY to the built libkasko.so.1", pytrace=False)
    return path.resolve()


def _call(method: str, url: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else b""
    request = urllib.request.Request(url, data=data if method != "GET" else None, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = response.read()
    return json.loads(answer) if answer.strip() else {}


def _post(url: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return _call("POST", url, body)


class Sandbox:
    """The sandbox-only endpoints, called with urllib (never through kasko)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def offer(self) -> Dict[str, str]:
        offer = _post(self.url + "/__sandbox/offers")
        assert offer["policy_id"].startswith("tpol_") and offer["token"]
        return offer

    def settle(self, payment_id: str) -> Dict[str, Any]:
        return _post(f"{self.url}/__sandbox/payments/{payment_id}/settle")


@pytest.fixture(scope="session")
def sandbox(sandbox_url: str) -> Sandbox:
    return Sandbox(sandbox_url)


class Faults:
    """The sandbox's fault injection (docs/sandbox-faults.md), through urllib.

    A rule applies to the requests whose fault key is KEY: a view's payment
    id, a create's policy_id. Each test uses its own keys (a payment it
    created, a fresh offer's policy id), so tests stay independent."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.keys: List[str] = []

    def arm(self, key: str, fault: Dict[str, Any], times: Optional[int] = 1) -> None:
        """Applies `fault` to the next `times` requests with this key (None: all)."""
        refused: Optional[Tuple[int, bytes]] = None
        try:
            armed = _post(self.url + "/__sandbox/faults", {"key": key, "fault": fault, "times": times})
        except urllib.error.HTTPError as error:
            refused = (error.code, error.read())
        if refused is not None and refused[0] == 404:
            pytest.fail(
                "the sandbox has no fault injection: start it with --faults, e.g. "
                "KASKO_SANDBOX_ARGS=--faults scripts/with-sandbox --sandbox "
                ".build/release/kasko-sandbox -- bindings/python/run-tests build/libkasko.so.1",
                pytrace=False,
            )
        assert refused is None, f"arming {fault} for {key} failed: HTTP {refused[0]} {refused[1]!r}"
        assert str(armed.get("id", "")).startswith("flt_"), armed
        self.keys.append(key)

    def attempts(self, key: str) -> int:
        """How many requests with this key reached the sandbox."""
        counted = _call("GET", f"{self.url}/__sandbox/attempts/{urllib.parse.quote(key, safe='')}")
        assert counted["key"] == key
        return int(counted["attempts"])

    def clear(self) -> None:
        """Removes the rules this test armed that were not used up."""
        for key in dict.fromkeys(self.keys):
            _call("DELETE", f"{self.url}/__sandbox/faults/{urllib.parse.quote(key, safe='')}")
        self.keys.clear()


@pytest.fixture
def faults(sandbox_url: str) -> Iterator[Faults]:
    f = Faults(sandbox_url)
    try:
        yield f
    finally:
        f.clear()


@pytest.fixture
def client(sandbox_url: str, public_key: str, secret_key: str) -> Iterator[kasko.Client]:
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, timeout=30) as c:
        yield c


@pytest.fixture
def public_client(sandbox_url: str, public_key: str) -> Iterator[kasko.Client]:
    with kasko.Client(public_key, base_url=sandbox_url, timeout=30) as c:
        yield c


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound, never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def payment_json(payment_id: str) -> Dict[str, Any]:
    return {
        "object": "payment",
        "id": payment_id,
        "livemode": False,
        "provider": "invoice",
        "method": "invoice",
        "status": "ok",
        "policy_id": "tpol_" + "a" * 28,
        "charge_id": None,
        "fee": 0,
        "reference": None,
        "token": "ptok_example",
        "reason": None,
        "processed_at": None,
        "error_code": None,
        "metadata": [],
        "transaction_metadata": [],
        "customer_id": "cus_example",
        "refunds": [],
        "_links": {"_self": {"href": f"http://127.0.0.1/payments/{payment_id}"}},
    }


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))

