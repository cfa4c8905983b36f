"""A scripted, deliberately misbehaving HTTP/1.1 server on raw sockets.

The server listens on 127.0.0.1 (port 0) and serves every accepted
connection in its own thread. Requests are answered by a *script*: a list of
handlers, one per request in the order the requests arrive (across all
connections); when the script runs out, its last handler answers every
further request, so "the same answer to every retry" is a one-item script.

A handler is called as ``handler(conn, request)`` once the request's head and
body have been read, and returns ``KEEP`` (read the next request on this
connection) or ``CLOSE`` (the connection is finished). ``conn`` is a
:class:`Connection`, with ``send``, ``close``, ``reset`` (RST via SO_LINGER 0)
and ``wait_for_peer_close``.

The server counts connections accepted and requests received. A request is
counted when its head is complete; ``Request.body_complete`` says whether the
whole Content-Length body arrived. Nothing here sleeps: every wait is a
blocking socket call with a timeout, a join, or a condition variable, and
``stop()`` unblocks them all (shutdown of every socket) and joins the threads.
"""

import select
import socket
import struct
import threading

KEEP = "keep"
CLOSE = "close"

# How long any one socket operation of the server may block. Far longer than
# any test needs; it only bounds the damage of a client that stops talking.
SOCKET_TIMEOUT = 15.0
MAX_HEAD_BYTES = 256 * 1024


class Request:
    """One request as the server received it."""

    def __init__(self, index, connection_index, head):
        self.index = index
        self.connection_index = connection_index
        self.head = head  # raw bytes, up to and including the blank line
        lines = head.decode("latin-1").split("\r\n")
        self.request_line = lines[0]
        parts = self.request_line.split(" ")
        self.method = parts[0] if parts else ""
        self.target = parts[1] if len(parts) > 1 else ""
        self.version = parts[2] if len(parts) > 2 else ""
        self.header_lines = [line for line in lines[1:] if line]
        self.headers = []
        for line in self.header_lines:
            name, _, value = line.partition(":")
            self.headers.append((name.strip(), value.strip()))
        self.body = b""
        self.body_complete = False

    def header(self, name):
        """The first header called `name` (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def content_length(self):
        value = self.header("Content-Length")
        if value is None:
            return 0
        try:
            return int(value)
        except ValueError:
            return 0

    def __repr__(self):
        return "<Request #%d conn %d %r body %d bytes%s>" % (
            self.index, self.connection_index, self.request_line, len(self.body),
            "" if self.body_complete else " (incomplete)")


class Connection:
    """The server side of one accepted connection."""

    def __init__(self, server, sock, index, peer):
        self.server = server
        self.sock = sock
        self.index = index
        self.peer = peer
        self.closed = threading.Event()
        self._lock = threading.Lock()

    def send(self, data):
        """Send all of `data`; False if the peer went away first."""
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def close(self):
        """An orderly close (FIN)."""
        self._end(lambda: self.sock.shutdown(socket.SHUT_RDWR), close=True)

    def reset(self):
        """An abortive close: SO_LINGER 0 makes close() send a TCP RST."""
        self._end(lambda: self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)),
                  close=True)

    def _end(self, first, close):
        """Once per connection: `first` (errors ignored), then, with `close`,
        the close itself."""
        with self._lock:
            if self.closed.is_set():
                return
            try:
                first()
            except OSError:
                pass
            if close:
                self.sock.close()
                self.closed.set()

    def wait_for_peer_close(self):
        """Block until the client closes (or resets) the connection, or the
        server stops. Bytes the client sends meanwhile are discarded."""
        while not self.closed.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return

    def _abort_from_server(self):
        # Called by stop(): unblocks a recv/send in the connection's thread.
        self._end(lambda: self.sock.shutdown(socket.SHUT_RDWR), close=False)


class HostileServer:
    """See the module docstring. Use as a context manager or call stop()."""

    def __init__(self, script, name="server", on_connect=None):
        if callable(script):
            script = [script]
        if not script:
            raise ValueError("a script needs at least one handler")
        self.script = list(script)
        # on_connect(conn) runs before anything is read; CLOSE ends the connection.
        self.on_connect = on_connect
        self.name = name
        self.requests = []
        self.connections = []
        self.errors = []  # unexpected exceptions in handler threads
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._threads = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        # Accepting is done under this lock, by the accept thread or by
        # settle(), so that settle() can tell when every connection the
        # kernel completed so far has been counted.
        self._accept_lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self.port = self._listener.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._accept_thread = threading.Thread(target=self._accept_loop, name=name + "-accept", daemon=True)
        self._accept_thread.start()

    # -- counters ---------------------------------------------------------

    @property
    def connection_count(self):
        """Connections accepted, counting every one the kernel has completed
        by now (the client may already have given up on it)."""
        self.settle()
        with self._cond:
            return len(self.connections)

    def settle(self):
        """Accept (and count) every connection waiting in the listen queue."""
        with self._accept_lock:
            while not self._stopping.is_set():
                if not self._accept_one():
                    return

    @property
    def request_count(self):
        with self._cond:
            return len(self.requests)

    def wait_for_requests(self, count, timeout=10.0):
        """Block until `count` requests have arrived; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= count, timeout)

    # -- life cycle -------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self, join_timeout=5.0):
        """Close everything and join every thread. Returns the names of
        threads that did not finish (an empty list when all is well)."""
        self.settle()
        self._stopping.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        with self._cond:
            connections = list(self.connections)
        for connection in connections:
            connection._abort_from_server()
        self._accept_thread.join(join_timeout)
        for sock in (self._listener, self._wake_r, self._wake_w):
            try:
                sock.close()
            except OSError:
                pass
        with self._cond:
            threads = list(self._threads)
            connections = list(self.connections)
        for connection in connections:
            connection._abort_from_server()
        stuck = []
        for thread in [self._accept_thread] + threads:
            thread.join(join_timeout)
            if thread.is_alive():
                stuck.append(thread.name)
        for connection in connections:
            connection.close()
        return stuck

    # -- internals --------------------------------------------------------

    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                readable, _, _ = select.select([self._listener, self._wake_r], [], [], SOCKET_TIMEOUT)
            except (OSError, ValueError):
                return
            if self._stopping.is_set() or self._wake_r in readable:
                return
            if self._listener in readable:
                with self._accept_lock:
                    self._accept_one()

    def _accept_one(self):
        """Accept one waiting connection and start its thread; False if none
        was waiting. Called with _accept_lock held."""
        try:
            sock, peer = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return False
        sock.setblocking(True)
        sock.settimeout(SOCKET_TIMEOUT)
        with self._cond:
            connection = Connection(self, sock, len(self.connections), peer)
            self.connections.append(connection)
            thread = threading.Thread(
                target=self._serve, args=(connection,),
                name="%s-conn-%d" % (self.name, connection.index), daemon=True)
            self._threads.append(thread)
            self._cond.notify_all()
        thread.start()
        return True

    def _handler_for(self, index):
        return self.script[min(index, len(self.script) - 1)]

    def _serve(self, connection):
        buffer = b""
        try:
            if self.on_connect is not None and self.on_connect(connection) != KEEP:
                connection.close()
                return
            while not self._stopping.is_set() and not connection.closed.is_set():
                # Read one request head.
                while b"\r\n\r\n" not in buffer:
                    if len(buffer) > MAX_HEAD_BYTES:
                        connection.close()
                        return
                    try:
                        data = connection.sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        connection.close()
                        return
                    buffer += data
                end = buffer.index(b"\r\n\r\n") + 4
                head, buffer = buffer[:end], buffer[end:]
                with self._cond:
                    request = Request(len(self.requests), connection.index, head)
                    self.requests.append(request)
                    self._cond.notify_all()
                # Read its body, if it announced one.
                wanted = request.content_length
                while len(buffer) < wanted:
                    try:
                        data = connection.sock.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        break
                    buffer += data
                request.body, buffer = buffer[:wanted], buffer[wanted:]
                request.body_complete = len(request.body) == wanted
                if not request.body_complete:
                    connection.close()
                    return
                outcome = self._handler_for(request.index)(connection, request)
                if outcome != KEEP:
                    connection.close()
                    return
        except Exception as error:  # a bug in a handler: make the test see it
            with self._cond:
                self.errors.append(repr(error))
            connection.close()


# -- responses and handlers -----------------------------------------------------

REASONS = {
    100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 204: "No Content",
    302: "Found", 303: "See Other", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 418: "I'm a teapot",
    422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
}


def to_bytes(value):
    return value if isinstance(value, bytes) else value.encode("utf-8")


def http_response(status, body=b"", headers=(), reason=None, close=False,
                  content_type="application/json"):
    """A well-formed HTTP/1.1 response with a Content-Length."""
    body = to_bytes(body)
    if reason is None:
        reason = REASONS.get(status, "Whatever")
    lines = ["HTTP/1.1 %d %s" % (status, reason)]
    if content_type is not None:
        lines.append("Content-Type: " + content_type)
    lines.append("Content-Length: %d" % len(body))
    if close:
        lines.append("Connection: close")
    head = "\r\n".join(lines).encode("latin-1")
    for header in headers:
        head += b"\r\n" + to_bytes(header)
    return head + b"\r\n\r\n" + body


def respond(status, body=b"", headers=(), reason=None, close=False, content_type="application/json"):
    """Handler: a well-formed response; the connection stays open unless
    `close` (then the response says Connection: close and the server closes)."""
    data = http_response(status, body, headers, reason, close, content_type)

    def handler(conn, request):
        conn.send(data)
        return CLOSE if close else KEEP
    return handler


def raw(data, then="close"):
    """Handler: send these exact bytes, then close (FIN), reset (RST), or
    keep the connection open until the client closes it ("wait")."""
    data = to_bytes(data)

    def handler(conn, request):
        conn.send(data)
        if then == "reset":
            conn.reset()
        elif then == "wait":
            conn.wait_for_peer_close()
        return CLOSE
    return handler


def close_without_reply():
    """Handler: read the whole request, then close the connection (FIN)."""
    def handler(conn, request):
        return CLOSE
    return handler


def reset_without_reply():
    """Handler: read the whole request, then reset the connection (RST)."""
    def handler(conn, request):
        conn.reset()
        return CLOSE
    return handler


def never_answer():
    """Handler: read the whole request and never answer; the connection
    stays open until the client gives up (or the server stops)."""
    def handler(conn, request):
        conn.wait_for_peer_close()
        return CLOSE
    return handler


def respond_then_close(data):
    """Handler: send a response that looks keep-alive (no Connection:
    close), then close the connection anyway."""
    data = to_bytes(data)

    def handler(conn, request):
        conn.send(data)
        conn.close()
        return CLOSE
    return handler


def echo(builder):
    """Handler whose response is built from the request: builder(request) -> bytes."""
    def handler(conn, request):
        conn.send(to_bytes(builder(request)))
        return KEEP
    return handler


def free_port():
    """A port with nothing listening on it: bound, then closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


TCP_STATES = {"01": "ESTABLISHED", "08": "CLOSE_WAIT", "06": "TIME_WAIT", "07": "CLOSE",
              "04": "FIN_WAIT1", "05": "FIN_WAIT2", "09": "LAST_ACK", "0A": "LISTEN"}


def tcp_state(local_port, remote_port):
    """The state of the IPv4 loopback socket 127.0.0.1:local_port ->
    127.0.0.1:remote_port from /proc/net/tcp, or None if there is none."""
    want_local = "0100007F:%04X" % local_port
    want_remote = "0100007F:%04X" % remote_port
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            if fields[1] == want_local and fields[2] == want_remote:
                return TCP_STATES.get(fields[3], fields[3])
    return None
