"""Shared fixtures: the sandbox (KASKO_SANDBOX_URL, from scripts/with-sandbox),
clients on it, and sandbox-only calls through urllib: offers, settling, and
fault injection (429, 5xx, garbage, slow answers, dropped connections), which
needs the sandbox started with --faults (KASKO_SANDBOX_ARGS=--faults).

Also: the C header that goes with the library under test (for the tests that
check the binding against it), a scripted loopback HTTP server that records
the headers it is sent, and a reader of a ``kasko_result`` through the C
accessors, for tests that compare the binding with the library's own view."""

from __future__ import annotations

import ctypes
import http.server
import json
import os
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

import kasko

BINDING_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = BINDING_DIR.parents[1]
#: The API reference's payment member lists, kept once for every language
#: (and the sandbox): "full" and "restricted", each in the reference's order.
PAYMENT_FIELDS = REPO_ROOT / "Tests" / "reference" / "payment-fields.json"


@pytest.fixture(scope="session")
def payment_fields() -> Dict[str, List[str]]:
    """The reference's payment member lists from Tests/reference/payment-fields.json;
    the test is skipped when the file is absent (the package tested outside the
    repository)."""
    if not PAYMENT_FIELDS.is_file():
        pytest.skip(f"no {PAYMENT_FIELDS}: the reference's payment field lists live in the "
                    "libkasko repository (Tests/reference/payment-fields.json); run the tests "
                    "from a checkout of it to compare Payment with them")
    with open(PAYMENT_FIELDS, encoding="utf-8") as handle:
        document = json.load(handle)
    lists = {name: document[name] for name in ("full", "restricted")}
    for name, fields in lists.items():
        assert isinstance(fields, list) and fields and all(isinstance(f, str) for f in fields), name
        assert len(set(fields)) == len(fields), f"{name}: a field twice"
    assert set(lists["restricted"]) <= set(lists["full"]), "restricted is a part of full"
    return lists


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


@pytest.fixture(scope="session")
def header_file(library_file: Path) -> Path:
    """include/kasko.h of the library under test: KASKO_HEADER, else
    include/kasko.h beside the library or one directory up (a build tree or
    a copy of one), else the source tree's. It must name the library's
    version, so that the two come from one build."""
    named = os.environ.get("KASKO_HEADER")
    candidates = [Path(named)] if named else [
        library_file.parent / "include" / "kasko.h",
        library_file.parent.parent / "include" / "kasko.h",
        REPO_ROOT / "include" / "kasko.h",
    ]
    for path in candidates:
        if path.is_file():
            version = re.search(r'#define KASKO_VERSION "([^"]*)"', path.read_text())
            if version is None or version.group(1) != kasko.library_version():
                pytest.fail(
                    f"{path} is the header of version {version and version.group(1)!r}, but the "
                    f"library {library_file} is {kasko.library_version()!r}: set KASKO_HEADER "
                    "to the header of the library's build",
                    pytrace=False,
                )
            return path
    pytest.fail(f"no kasko.h at {', '.join(map(str, candidates))}: set KASKO_HEADER", pytrace=False)


def header_enum(header: Path, name: str) -> Dict[str, int]:
    """The members of `typedef enum NAME { ... } NAME;` in the header."""
    text = header.read_text()
    body = re.search(r"typedef\s+enum\s+%s\s*\{(.*?)\}\s*%s\s*;" % (name, name), text, re.S)
    assert body is not None, f"no enum {name} in {header}"
    code = re.sub(r"/\*.*?\*/", "", body.group(1), flags=re.S)
    code = re.sub(r"//[^\n]*", "", code)
    members = dict((m, int(v)) for m, v in re.findall(r"\b(KASKO_\w+)\s*=\s*(-?\d+)", code))
    assert members, f"no members found in enum {name} of {header}"
    return members


def header_define(header: Path, name: str) -> Optional[str]:
    found = re.search(r"^#define\s+%s\s+(\S+)" % name, header.read_text(), re.M)
    return found.group(1) if found else None


# -- a kasko_result read by the test itself, through the C accessors -------------

def read_result(result: Any) -> Dict[str, Any]:
    """Everything the typed accessors say about a ``kasko_result *``."""
    lib = kasko._lib.library()

    def text(raw: Optional[bytes]) -> Optional[str]:
        return raw.decode() if raw is not None else None

    def member(function: Callable[..., int], name: str) -> Optional[bytes]:
        pointer, length = ctypes.c_void_p(), ctypes.c_size_t()
        if function(result, name.encode(), ctypes.byref(pointer), ctypes.byref(length)) != lib.OK:
            return None
        assert pointer.value
        return ctypes.string_at(pointer.value, length.value)

    status = lib.kasko_result_status(result)
    return {
        "status": status,
        "code": lib.status_name(status),
        "http_status": lib.kasko_result_http_status(result),
        "outcome": text(lib.kasko_outcome_name(lib.kasko_result_outcome(result))),
        "retryable": lib.kasko_result_retryable(result),
        "attempts": lib.kasko_result_attempts(result),
        "message": text(lib.kasko_result_message(result)),
        "request_id": text(lib.kasko_result_request_id(result)),
        "pending_payment_id": text(lib.kasko_result_pending_payment_id(result)),
        "json": json.loads(lib.kasko_result_json(result)),
        "member_status": text(member(lib.kasko_result_member_string, "status")),
        "member_errors": member(lib.kasko_result_member_json, "errors"),
        "member_string": lambda name: text(member(lib.kasko_result_member_string, name)),
        "member_json": lambda name: member(lib.kasko_result_member_json, name),
    }


def direct_get(client: kasko.Client, payment_id: str, options: Optional[int] = None,
               keep: Optional[Callable[[Any], Any]] = None) -> Dict[str, Any]:
    """kasko_payment_get_v2 on the client's handle, called by the test; the
    result read with read_result (and `keep(result)` too, before the free)."""
    lib = kasko._lib.library()
    result = ctypes.c_void_p()
    status = lib.kasko_payment_get_v2(client._handle, payment_id.encode(), options, ctypes.byref(result))
    try:
        seen = read_result(result)
        assert seen["status"] == status
        if keep is not None:
            seen["kept"] = keep(result)
        seen.pop("member_string"), seen.pop("member_json")
        return seen
    finally:
        lib.kasko_result_free(result)


def library_message_for_options(client: kasko.Client, payment_id: str, **setters: Any) -> str:
    """The message of a view made with call options set by the test itself
    (e.g. traceparent=b"bogus"): what the library says about those options."""
    lib = kasko._lib.library()
    options = lib.kasko_call_options_new()
    assert options
    try:
        for name, value in setters.items():
            getattr(lib, f"kasko_call_options_set_{name}")(options, value)
        seen = direct_get(client, payment_id, options)
    finally:
        lib.kasko_call_options_free(options)
    assert seen["code"] == "KASKO_ERR_INVALID_ARGUMENT" and seen["attempts"] == 0
    message = seen["message"]
    assert isinstance(message, str) and message
    return message


def library_refusal_of_config(config: Dict[str, Any]) -> Dict[str, Any]:
    """What kasko_client_new_v2, called by the test, says about a
    configuration it refuses: the result read with read_result."""
    lib = kasko._lib.library()
    client, result = ctypes.c_void_p(), ctypes.c_void_p()
    status = lib.kasko_client_new_v2(json.dumps(config).encode(), ctypes.byref(client), ctypes.byref(result))
    try:
        assert status != lib.OK and client.value is None and result.value, (status, client, result)
        seen = read_result(result)
        assert seen["status"] == status
        seen.pop("member_string"), seen.pop("member_json")
        return seen
    finally:
        lib.kasko_result_free(result)


def library_error_object(code: str, message: str) -> Dict[str, Any]:
    """The error object kasko_result_new_error makes, called by the test."""
    lib = kasko._lib.library()
    result = ctypes.c_void_p()
    lib.kasko_result_new_error(lib.statuses[code], message.encode(), ctypes.byref(result))
    try:
        decoded: Dict[str, Any] = json.loads(lib.kasko_result_json(result))
        return decoded
    finally:
        lib.kasko_result_free(result)


# -- a scripted HTTP server on loopback -----------------------------------------

class ScriptedServer:
    """Answers each request with the next scripted answer (then a payment:
    the one asked for, or one of the created policy), and records every
    request's method, path and headers (names in lower case)."""

    def __init__(self) -> None:
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []
        self.answers: List[Tuple[int, Dict[str, Any], Dict[str, str]]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def answer(self, default: Dict[str, Any]) -> None:
                with server.lock:
                    server.requests.append(
                        (self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
                    )
                    status, body, headers = server.answers.pop(0) if server.answers else (200, default, {})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Request-Id", f"req_scripted{len(server.requests)}")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                payment_id = urllib.parse.urlsplit(self.path).path.rsplit("/", 1)[-1]
                self.answer(payment_json(payment_id))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length) or b"{}")
                payment = payment_json("t" + "c" * 32)
                payment["policy_id"] = request.get("policy_id")
                self.answer(payment)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def script(self, status: int, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> None:
        with self.lock:
            self.answers.append((status, body, headers or {}))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    try:
        yield server
    finally:
        server.close()


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

    def approve(self, policy_id: str) -> Dict[str, Any]:
        """Approves an offer awaiting manual underwriting (it becomes "ready")."""
        return _post(f"{self.url}/__sandbox/offers/{urllib.parse.quote(policy_id, safe='')}/approve")

    def payments_of(self, policy_id: str) -> List[str]:
        """Every payment ever created on the policy, in order (the sandbox's
        counter: what proves that nothing paid twice)."""
        listed = _call("GET", f"{self.url}/__sandbox/policies/{urllib.parse.quote(policy_id, safe='')}/payments")
        assert listed["policy_id"] == policy_id, listed
        payments = listed["payments"]
        assert isinstance(payments, list) and all(isinstance(p, str) for p in payments), listed
        return payments


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

    def arm(self, key: str, fault: Dict[str, Any], times: Optional[int] = 1,
            route: Optional[str] = None) -> None:
        """Applies `fault` to the next `times` requests with this key (None:
        all), on one route only when `route` is given ("payment_create",
        "payment_view", "quote_create", "offer_create", "offer_view",
        "policy_view"), else on every route with that key."""
        refused: Optional[Tuple[int, bytes]] = None
        rule: Dict[str, Any] = {"key": key, "fault": fault, "times": times}
        if route is not None:
            rule["route"] = route
        try:
            armed = _post(self.url + "/__sandbox/faults", rule)
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



# -- a sandbox of the test's own, with keys made up for this run -------------------

class PrivateSandbox:
    """A kasko-sandbox started by the tests with random keys (so that a test
    can look for them in what the library and the binding hand out, and
    find only what leaked there), on a free loopback port, with faults."""

    def __init__(self, url: str, public_key: str, secret_key: str) -> None:
        self.url = url
        self.public_key = public_key
        self.secret_key = secret_key
        self.sandbox = Sandbox(url)
        self.faults = Faults(url)

    def client(self, **options: Any) -> kasko.Client:
        return kasko.Client(self.public_key, self.secret_key, base_url=self.url, **options)


def _random_key(prefix: str) -> str:
    import secrets
    import string

    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(32))


def sandbox_binary() -> Path:
    """KASKO_SANDBOX_BIN, else the build tree's .build/release/kasko-sandbox."""
    named = os.environ.get("KASKO_SANDBOX_BIN")
    return Path(named) if named else REPO_ROOT / ".build" / "release" / "kasko-sandbox"


@pytest.fixture(scope="module")
def private_sandbox() -> Iterator[PrivateSandbox]:
    import select
    import subprocess

    binary = sandbox_binary()
    if not binary.is_file():
        pytest.fail(f"no kasko-sandbox at {binary}: build it (make) or set KASKO_SANDBOX_BIN",
                    pytrace=False)
    public_key, secret_key = _random_key("pk_test_"), _random_key("sk_test_")
    process = subprocess.Popen(
        [str(binary), "--port", "0", "--faults", "--public-key", public_key, "--secret-key", secret_key],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "the private sandbox printed no URL within 30 s"
        url = process.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:"), url
        # Keep draining its stdout so that it never blocks on a full pipe.
        stdout = process.stdout
        threading.Thread(target=lambda: stdout.read(), daemon=True).start()
        yield PrivateSandbox(url.rstrip("/"), public_key, secret_key)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
