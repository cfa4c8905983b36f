"""Shared fixtures: the sandbox (KASKO_SANDBOX_URL, from scripts/with-sandbox),
clients on it, sandbox-only calls through urllib, and a small stub HTTP
server for the answers the sandbox is not asked for (429, 5xx, garbage,
slow answers)."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

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


def _post(url: str) -> Dict[str, Any]:
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body.strip() else {}


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
        "token": "ptok_stub",
        "reason": None,
        "processed_at": None,
        "error_code": None,
        "metadata": [],
        "transaction_metadata": [],
        "customer_id": "cus_stub",
        "refunds": [],
        "_links": {"_self": {"href": f"http://127.0.0.1/payments/{payment_id}"}},
    }


class _StubHandler(http.server.BaseHTTPRequestHandler):
    """GET /payments/{id}: answers chosen by the id's prefix
    ("ratelimited", "boom", "garbage", "slow"; else a payment)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, body: bytes, content_type: str = "application/json",
              extra: Optional[Dict[str, str]] = None) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Request-Id", "req_stub")
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    def do_GET(self) -> None:
        payment_id = self.path.rsplit("/", 1)[-1]
        if payment_id.startswith("ratelimited"):
            body = json.dumps({"status": "Too Many Requests", "message": "Slow down."}).encode()
            self._send(429, body, extra={"Retry-After": "0"})
        elif payment_id.startswith("boom"):
            body = json.dumps({"status": "Internal Server Error", "message": "Boom."}).encode()
            self._send(500, body)
        elif payment_id.startswith("garbage"):
            self._send(200, b"<html>not json</html>", "text/html")
        else:
            if payment_id.startswith("slow"):
                time.sleep(0.5)
            self._send(200, json.dumps(payment_json(payment_id)).encode())

    def do_POST(self) -> None:
        """POST /payments: a payment for any request, after 0.5 s when the
        policy id starts with "tpol_slow"."""
        length = int(self.headers.get("Content-Length") or 0)
        request = json.loads(self.rfile.read(length) or b"{}")
        if str(request.get("policy_id", "")).startswith("tpol_slow"):
            time.sleep(0.5)
        self._send(200, json.dumps(payment_json("tstubcreated")).encode())


@pytest.fixture
def stub_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StubHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))

