"""Fixtures for the hostile-server suite: the library (from $KASKO_LIBRARY),
servers that are stopped and joined after every test, and clients that are
freed after every test (before their servers stop)."""

import os

import pytest

import hostile_server
import kasko_support as ks


def pytest_configure(config):
    path = os.environ.get("KASKO_LIBRARY")
    if not path:
        raise pytest.UsageError(
            "KASKO_LIBRARY is not set: point it at the libkasko.so.1 to test, e.g.\n"
            "  KASKO_LIBRARY=/path/to/libkasko.so.1 python3 -m pytest -q Tests/hostile")
    if not os.path.isfile(path):
        raise pytest.UsageError("KASKO_LIBRARY=%s is not a file" % path)


def pytest_report_header(config):
    return "libkasko under test: %s" % os.environ.get("KASKO_LIBRARY")


@pytest.fixture(scope="session")
def lib():
    return ks.Library(os.environ["KASKO_LIBRARY"])


@pytest.fixture
def keys():
    return ks.Keys()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    log = os.environ.get("KASKO_HOSTILE_LOG")
    if not log or report.when != "call":
        return
    line = "%s\t%s\t%s\n" % (report.outcome.upper(), item.nodeid,
                               ks.describe_observed(getattr(item, "hostile_servers", [])))
    with open(log, "a") as handle:
        handle.write(line)


@pytest.fixture(autouse=True)
def _reset_observations():
    del ks.OBSERVED[:]
    yield


@pytest.fixture
def servers(request):
    """servers(script, name=...) -> a running HostileServer; all are stopped
    and joined at teardown, and a handler exception fails the test."""
    made = []
    request.node.hostile_servers = made

    def make(script, name="server", on_connect=None):
        server = hostile_server.HostileServer(script, name=name, on_connect=on_connect)
        made.append(server)
        return server

    yield make
    problems = []
    for server in made:
        stuck = server.stop()
        if stuck:
            problems.append("%s: threads did not finish: %s" % (server.name, stuck))
        if server.errors:
            problems.append("%s: handler errors: %s" % (server.name, server.errors))
    if problems:
        pytest.fail("; ".join(problems))


@pytest.fixture
def clients(lib, servers):
    """clients(config) -> a client pointer (fails the test if refused);
    every client is freed at teardown."""
    made = []

    def make(config):
        (status, client, error), _ = ks.run_bounded(lib.client_new, config)
        assert status == 0, "kasko_client_new refused the test config: %s %s" % (ks.NAME.get(status), error)
        assert client
        made.append(client)
        return client

    yield make
    for client in made:
        lib.client_free(client)


@pytest.fixture
def server_client(servers, clients, keys):
    """server_client(script, **config) -> (server, client) wired together."""
    def make(script, **extra):
        server = servers(script)
        client = clients(ks.client_config(keys, server.url, **extra))
        return server, client
    return make


@pytest.fixture
def call(lib):
    """call.create(client, request) / call.view(client, id): bounded calls
    returning (status, json bytes); call.make(operation, client, ...) for
    either, with a fresh request or payment id unless one is given."""
    class Call:
        @staticmethod
        def create(client, request):
            result, _ = ks.run_bounded(lib.create, client, request)
            return result

        @staticmethod
        def view(client, payment_id):
            result, _ = ks.run_bounded(lib.get, client, payment_id)
            return result

        @staticmethod
        def make(operation, client, request=None, payment_id=None):
            assert operation in ("create", "view")
            if operation == "create":
                return Call.create(client, request or ks.create_request())
            return Call.view(client, payment_id or ks.new_payment_id())

    return Call()


class Exchange:
    """One call against one scripted server, and what both sides saw."""

    def __init__(self, server, client, operation, status, text, request, payment_id):
        self.server = server
        self.client = client
        self.operation = operation
        self.status = status
        self.text = text
        self.request = request
        self.payment_id = payment_id

    @property
    def requests(self):
        return self.server.request_count

    @property
    def connections(self):
        return self.server.connection_count

    def assert_requests(self, count):
        assert self.server.request_count == count, "server saw %d requests, expected %d: %r" % (
            self.server.request_count, count, self.server.requests)
        for seen in self.server.requests:
            expected_method = "POST" if self.operation == "create" else "GET"
            assert seen.method == expected_method, seen
            assert seen.body_complete, seen


@pytest.fixture
def exchange(server_client, call):
    """exchange(operation, script_or_builder, payment_id=..., request=..., **config).

    `script_or_builder` is a handler, a list of handlers, or a function
    (payment_id, request) -> handler(s), for scripts that need the ids."""
    def run(operation, script, payment_id=None, request=None, **config):
        assert operation in ("create", "view")
        payment_id = payment_id or ks.new_payment_id()
        request = request or ks.create_request()
        if callable(script) and getattr(script, "wants_ids", False):
            script = script(payment_id, request)
        server, client = server_client(script, **config)
        status, text = call.make(operation, client, request=request, payment_id=payment_id)
        return Exchange(server, client, operation, status, text, request, payment_id)
    return run

