"""What the sandbox suite needs besides pytest: a kasko-sandbox process, a
small HTTP/1.1 client over a plain socket, and the checks every response
must pass.

The client is our own (not http.client) because the cases need what curl
gave the old smoke script: duplicate request headers, Expect: 100-continue
done the way curl does it, a body sent while the answer is read, and a
precise account of how an exchange ended when a fault breaks it ("empty"
reply, "reset", "partial" body, "timeout") instead of an exception.
"""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.parse

PK = "pk_test_sandbox"
SK = "sk_test_sandbox"
AUTH = ("Authorization", "Bearer " + SK)
JSON_CT = ("Content-Type", "application/json")

FULL = ["object", "id", "livemode", "provider", "method", "status", "policy_id", "charge_id", "fee",
        "reference", "token", "reason", "processed_at", "error_code", "metadata", "transaction_metadata",
        "customer_id", "refunds", "_links"]
RESTRICTED = ["object", "id", "livemode", "provider", "method", "status", "transaction_metadata", "_links"]
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
UNKNOWN_ID = "t00000000000000000000000000000000"


def wait_until(condition, timeout, what, interval=0.02):
    """Polls condition() until it is true; fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------- the process

class Sandbox:
    """A kasko-sandbox on a free port (--port 0). Its stdout and stderr go to
    files in workdir; url is the first stdout line."""

    def __init__(self, binary, args, workdir, name, start_timeout=30.0):
        self.name = name
        self.args = list(args)
        self.out_path = os.path.join(str(workdir), name + ".out")
        self.err_path = os.path.join(str(workdir), name + ".err")
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([binary, "--port", "0"] + self.args,
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.returncode = None
        try:
            line = wait_until(self._first_line, start_timeout, "%s sandbox to print its URL" % name)
        except AssertionError:
            self.kill()
            raise AssertionError("%s sandbox printed no URL; exit %r; stderr: %s"
                                 % (name, self.proc.returncode, self.stderr()[:2000]))
        self.url = line
        parsed = urllib.parse.urlsplit(line)
        self.host, self.port = parsed.hostname, parsed.port

    def _first_line(self):
        data = self.stdout()
        if "\n" in data:
            return data.split("\n", 1)[0]
        if self.proc.poll() is not None:
            raise AssertionError("%s sandbox exited %r before printing its URL; stderr: %s"
                                 % (self.name, self.proc.returncode, self.stderr()[:2000]))
        return None

    def stdout(self):
        with open(self.out_path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def stderr(self):
        with open(self.err_path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def running(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig and waits for the exit; returns the exit status (None if
        it did not exit in time, after which it is killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                return None
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    # Convenience: requests to this sandbox.
    def request(self, method, path, headers=(), body=None, **kwargs):
        return request(self.url, method, path, headers, body, **kwargs)

    def get(self, path, headers=(), **kwargs):
        return self.request("GET", path, headers, **kwargs)

    def post(self, path, headers=(), body=None, **kwargs):
        return self.request("POST", path, headers, body, **kwargs)

    def delete(self, path, headers=(), **kwargs):
        return self.request("DELETE", path, headers, **kwargs)

    def exchange(self, data, **kwargs):
        return exchange(self.host, self.port, data, **kwargs)


# ---------------------------------------------------------------- HTTP

class Response:
    """How one exchange ended. outcome is one of
       response  a complete response (status, headers, raw body)
       empty     the connection closed before any byte of a response (curl 52)
       reset     the connection was reset (curl 56)
       partial   fewer body bytes than Content-Length, then EOF (curl 18)
       timeout   no complete response within the time limit (curl 28)
       malformed the bytes received are not an HTTP response
       refused   no connection could be made
    status, headers and raw are filled in as far as they were received."""

    def __init__(self):
        self.outcome = None
        self.status = None
        self.version = None
        self.headers = []
        self.interim = []
        self.raw = b""
        self.elapsed_ms = None
        self.error = None

    def header(self, name):
        """The last value of a header (case-insensitive), or None."""
        found = None
        for key, value in self.headers:
            if key.lower() == name.lower():
                found = value
        return found

    def has_header(self, name):
        return self.header(name) is not None

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace")

    @property
    def json(self):
        return json.loads(self.text)

    def is_json(self):
        try:
            json.loads(self.raw.decode("utf-8"))
            return True
        except ValueError:
            return False

    def __repr__(self):
        return "<Response %s status=%r %d bytes %r ms: %r>" % (
            self.outcome, self.status, len(self.raw), self.elapsed_ms, self.text[:300])


def _split_url(url):
    parsed = urllib.parse.urlsplit(url)
    return parsed.hostname, parsed.port, parsed.netloc


def header_pairs(headers):
    """(name, value) pairs from a list of pairs, one pair, or a dict."""
    if isinstance(headers, dict):
        return list(headers.items())
    if isinstance(headers, tuple) and len(headers) == 2 and isinstance(headers[0], str):
        return [headers]
    return list(headers)


def build_request(method, target, netloc, headers=(), body=None):
    """Request bytes (head, body). headers: (name, value) pairs, repeatable;
    Host and Content-Length are added unless given. A Transfer-Encoding:
    chunked header makes the body be sent in chunks."""
    headers = header_pairs(headers)
    names = {name.lower() for name, _ in headers}
    if isinstance(body, str):
        body = body.encode("utf-8")
    chunked = any(name.lower() == "transfer-encoding" and "chunked" in value.lower() for name, value in headers)
    lines = ["%s %s HTTP/1.1" % (method, target)]
    if "host" not in names:
        lines.append("Host: " + netloc)
    lines.extend("%s: %s" % (name, value) for name, value in headers)
    if body is not None and not chunked and "content-length" not in names:
        lines.append("Content-Length: %d" % len(body))
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if body is not None and chunked:
        pieces = [b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536]) for i in range(0, len(body), 65536)]
        body = b"".join(pieces) + b"0\r\n\r\n"
    return head, body


class _Reader:
    """Reads from a socket against a deadline, keeping what it has seen."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.buf = b""
        self.eof = False

    def fill(self, until=None):
        """Reads one chunk; raises socket.timeout at the deadline (or at
        `until` if earlier), ConnectionResetError on a reset."""
        limit = self.deadline if until is None else min(self.deadline, until)
        remaining = limit - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("deadline")
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(262144)
        if not chunk:
            self.eof = True
        self.buf += chunk
        return chunk


def _read_head(reader, until=None):
    """One response head from the reader: (version, status, headers) or None
    at EOF; raises ValueError when the bytes are not a response head."""
    while b"\r\n\r\n" not in reader.buf:
        if reader.eof:
            if reader.buf:
                raise ValueError("EOF inside a response head")
            return None
        if reader.buf and not b"HTTP/".startswith(reader.buf[:5]):
            raise ValueError("not an HTTP response: %r" % reader.buf[:40])
        reader.fill(until)
    head, reader.buf = reader.buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    match = re.fullmatch(r"(HTTP/\d\.\d) (\d{3})(?: .*)?", lines[0])
    if not match:
        raise ValueError("bad status line %r" % lines[0])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return match.group(1), int(match.group(2)), headers


def _read_body(reader, response, method):
    length = response.header("Content-Length")
    if method == "HEAD" or response.status in (204, 304):
        return
    if length is not None:
        n = int(length)
        while len(reader.buf) < n:
            if reader.eof:
                response.raw = reader.buf
                reader.buf = b""
                response.outcome = "partial"
                return
            reader.fill()
        response.raw, reader.buf = reader.buf[:n], reader.buf[n:]
    else:
        while not reader.eof:
            reader.fill()
        response.raw, reader.buf = reader.buf, b""
    response.outcome = "response"


def _send_all(sock, parts, errors):
    for part in parts:
        if callable(part):
            part = part()
            if part is None:
                return
        try:
            sock.sendall(part)
        except OSError as error:
            errors.append(error)
            return


def request(url, method, path, headers=(), body=None, timeout=10.0, continue_wait=1.0):
    """One request on a fresh connection, read to its end like curl: a
    Response whose outcome says how it ended (never raises for a network
    failure). With an "Expect: 100-continue" header the body is held back
    until a 100 arrives (or a final answer, which it then is not sent for,
    or continue_wait seconds pass). The body is sent by a thread while the
    answer is read, so an early answer to a large body is seen."""
    host, port, netloc = _split_url(url)
    head, payload = build_request(method, path, netloc, headers, body)
    expecting = any(name.lower() == "expect" and value.lower() == "100-continue"
                    for name, value in header_pairs(headers))
    response = Response()
    start = time.monotonic()
    deadline = start + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as error:
        response.outcome, response.error = "refused", error
        return response
    gate = threading.Event()
    decision = []  # [True] send the body, [False] do not
    errors = []

    def body_part():
        gate.wait(timeout)
        return payload if decision and decision[0] else None

    parts = [head]
    if payload:
        parts.append(body_part if expecting else payload)
    sender = threading.Thread(target=_send_all, args=(sock, parts, errors), daemon=True)
    sender.start()
    reader = _Reader(sock, deadline)
    try:
        try:
            hold_until = time.monotonic() + continue_wait if expecting and payload else None
            while True:
                try:
                    got = _read_head(reader, hold_until)
                except socket.timeout:
                    if hold_until is not None and time.monotonic() < deadline:
                        # No 100 in time: send the body anyway, as curl does.
                        decision.append(True)
                        gate.set()
                        hold_until = None
                        continue
                    raise
                if got is None:
                    response.outcome = "empty" if not response.interim else "malformed"
                    break
                response.version, response.status, response.headers = got
                if 100 <= response.status < 200:
                    response.interim.append((response.status, round((time.monotonic() - start) * 1000)))
                    if response.status == 100 and hold_until is not None:
                        decision.append(True)
                        gate.set()
                        hold_until = None
                    continue
                if hold_until is not None:
                    decision.append(False)
                    gate.set()
                _read_body(reader, response, method)
                break
        except socket.timeout:
            response.outcome = "timeout"
            if response.status is not None and not response.raw:
                response.raw = reader.buf
        except ConnectionResetError as error:
            response.outcome, response.error = "reset", error
        except ValueError as error:
            response.outcome, response.error = "malformed", error
            response.raw = reader.buf
    finally:
        response.elapsed_ms = round((time.monotonic() - start) * 1000)
        gate.set()
        try:
            sock.close()
        except OSError:
            pass
        sender.join(5)
    return response


class Connection:
    """One kept-alive connection for several requests in turn (no
    pipelining, no 100-continue)."""

    def __init__(self, url, timeout=10.0):
        self.host, self.port, self.netloc = _split_url(url)
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""

    def request(self, method, path, headers=(), body=None):
        head, payload = build_request(method, path, self.netloc, headers, body)
        self.sock.sendall(head + (payload or b""))
        response = Response()
        start = time.monotonic()
        reader = _Reader(self.sock, start + self.timeout)
        reader.buf = self.buf
        got = _read_head(reader)
        if got is None:
            raise ConnectionError("the connection was closed before a response")
        response.version, response.status, response.headers = got
        _read_body(reader, response, method)
        self.buf = reader.buf
        response.elapsed_ms = round((time.monotonic() - start) * 1000)
        return response

    def closed_by_peer(self, wait=1.0):
        """True if the server closes the connection within `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def exchange(host, port, data, read_all=True, half_close=False, timeout=5.0, require_eof=False):
    """Raw bytes in, every byte the server sends until EOF out (the old
    smoke script's socket helper). With require_eof, the server must close
    the connection within the timeout."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        out = b""
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
                if not read_all and b"\r\n\r\n" in out and b"Content-Length" in out:
                    break
        except socket.timeout:
            if require_eof:
                raise AssertionError("the server did not close the connection within %s s; got %r"
                                     % (timeout, out[:200]))
        except OSError:
            pass
        return out
    finally:
        sock.close()


def concurrently(n, call):
    """Runs call(i) for i in range(n) on n threads released together;
    returns the results in order."""
    results = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        results[i] = call(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a concurrent request did not finish"
    return results


# ---------------------------------------------------------------- checks

def common_problems(response):
    """What the old smoke script required of every checked response."""
    problems = []
    if response.header("content-type") != "application/json":
        problems.append("content-type %r" % response.header("content-type"))
    if response.header("content-length") != str(len(response.raw)):
        problems.append("content-length %r for %d bytes" % (response.header("content-length"), len(response.raw)))
    if not re.fullmatch(r"req_[0-9a-f]{24}", response.header("x-request-id") or ""):
        problems.append("x-request-id %r" % response.header("x-request-id"))
    if not response.is_json():
        problems.append("body is not JSON")
    return problems


def expect(response, status):
    """The response is complete, has `status` and the common headers, and
    is JSON; returns the parsed body (key order kept)."""
    assert response.outcome == "response", "no complete response: %r" % response
    assert response.status == status, "status %r, want %r -- body: %s" % (response.status, status, response.text[:300])
    problems = common_problems(response)
    assert not problems, "; ".join(problems) + " -- body: " + response.text[:300]
    return response.json


def expect_error(response, status, name, message=None):
    """An error answer: exactly {"status": name} or {"status", "message"}, in that order."""
    d = expect(response, status)
    want = {"status": name} if message is None else {"status": name, "message": message}
    assert d == want
    assert list(d) == list(want)
    return d


def expect_bad_request(response, *words):
    """400 {"status":"Bad Request","message":...} whose message holds every word."""
    d = expect(response, 400)
    assert isinstance(d, dict) and list(d) == ["status", "message"], d
    assert d["status"] == "Bad Request"
    for word in words:
        assert word in d["message"]
    return d


def assert_links(p, base_url):
    assert p["_links"] == {"_self": {"href": base_url + "/payments/" + p["id"]}}


def assert_payment_id(p, live=False):
    assert re.fullmatch((r"l" if live else r"t") + r"[0-9a-f]{32}", p["id"]), p["id"]


def assert_full(p, base_url, live=False):
    """The whole payment object, as a secret-key caller sees it."""
    assert isinstance(p, dict) and list(p) == FULL, list(p)
    assert p["object"] == "payment"
    assert_payment_id(p, live)
    assert p["livemode"] is live
    assert p["charge_id"] is None
    assert p["fee"] == 0 and type(p["fee"]) is int
    assert p["reference"] is None and p["reason"] is None
    assert p["metadata"] == [] and p["transaction_metadata"] == [] and p["refunds"] == []
    assert isinstance(p["customer_id"], str) and re.fullmatch(r"[A-Za-z0-9+/_-]{40,}", p["customer_id"])
    if p["status"] == "pending":
        assert p["processed_at"] is None
    else:
        assert re.fullmatch(ISO, p["processed_at"] or ""), p["processed_at"]
    assert_links(p, base_url)


def assert_restricted(p, base_url, live=False):
    """The restricted payment object, as a public-key-only caller sees it."""
    assert isinstance(p, dict) and list(p) == RESTRICTED, list(p)
    assert p["object"] == "payment"
    assert_payment_id(p, live)
    assert p["livemode"] is live
    assert p["transaction_metadata"] == []
    assert_links(p, base_url)


def expect_full(response, base_url, live=False):
    d = expect(response, 200)
    assert_full(d, base_url, live)
    return d


def expect_restricted(response, base_url, live=False):
    d = expect(response, 200)
    assert_restricted(d, base_url, live)
    return d


# ---------------------------------------------------------------- API data

class Offer:
    def __init__(self, policy_id, token):
        self.policy_id = policy_id
        self.token = token

    def body(self, provider="invoice", method=None, token=None, policy_id=None):
        """A create body in the reference's field order."""
        return json.dumps({"token": self.token if token is None else token, "provider": provider,
                           "method": provider if method is None else method,
                           "policy_id": self.policy_id if policy_id is None else policy_id},
                          separators=(",", ":"))

    def __repr__(self):
        return "<Offer %s>" % self.policy_id


def new_offer(sandbox):
    d = expect(sandbox.post("/__sandbox/offers"), 201)
    return Offer(d["policy_id"], d["token"])


def create(sandbox, offer, provider="invoice", headers=(), key=PK, **kwargs):
    """POST /payments?key=KEY for the offer, with a JSON content type."""
    return sandbox.post("/payments?key=" + key, [JSON_CT] + list(headers), offer.body(provider), **kwargs)


def view(sandbox, payment_id, headers=(AUTH,), **kwargs):
    return sandbox.get("/payments/" + payment_id, list(headers), **kwargs)


def new_payment(sandbox):
    """A settled invoice payment made with both keys; returns its id."""
    offer = new_offer(sandbox)
    return expect_full(create(sandbox, offer, headers=[AUTH]), sandbox.url)["id"]


def already_paid(policy_id):
    return "Policy - %s is already paid." % policy_id


def pending_message(policy_id, payment_id):
    return "Policy - %s already has pending payment - %s." % (policy_id, payment_id)


# ---------------------------------------------------------------- --faults

def fault(spec):
    """The X-Sandbox-Fault header for a fault given as JSON text."""
    return ("X-Sandbox-Fault", spec)


def arm(sandbox, key, spec, times=None):
    """Arms a rule (fault given as JSON text); checks the 201 {"id"}."""
    body = '{"key":%s,"fault":%s%s}' % (json.dumps(key), spec, "" if times is None else ',"times":%d' % times)
    d = expect(sandbox.post("/__sandbox/faults", [JSON_CT], body), 201)
    assert list(d) == ["id"] and re.fullmatch(r"flt_[0-9a-f]{24}", d["id"]), d
    return d["id"]


def attempts(sandbox, key):
    """The sandbox's attempt count for a key (checking the answer's shape)."""
    d = expect(sandbox.get("/__sandbox/attempts/" + urllib.parse.quote(key, safe="")), 200)
    assert list(d) == ["key", "attempts"] and d["key"] == key, d
    return d["attempts"]
