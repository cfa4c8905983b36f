"""Proxies: the environment's proxy variables are not used for a plain-http
loopback base_url; an explicit plain-http proxy must itself be loopback;
https base_urls still go through the environment's proxy (CONNECT)."""

import json

import pytest

import hostile_server as hs
import kasko_support as ks

PROXY_VARIABLES = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                   "no_proxy", "NO_PROXY"]


@pytest.fixture
def clean_proxy_environment(monkeypatch):
    """No proxy variable set; monkeypatch restores them afterwards."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def proxy_listener(servers):
    """A listener standing in for a proxy: whatever it is asked, it answers
    502 and closes, so any use of it is visible and fails the call."""
    return servers(hs.respond(502, b"proxy was used", headers=["Via: 1.1 test-proxy"], close=True), name="proxy")


@pytest.mark.parametrize("operation", ["create", "view"])
@pytest.mark.parametrize("variable", ["http_proxy", "HTTP_PROXY", "ALL_PROXY", "all_proxy"])
def test_environment_proxy_is_not_used_for_plain_http_loopback(lib, servers, clients, keys, call,
                                                               clean_proxy_environment, operation, variable):
    proxy = proxy_listener(servers)
    payment_id = ks.new_payment_id()
    request = ks.create_request()
    origin = servers(hs.respond(200, ks.full_payment(payment_id, request["policy_id"])), name="origin")
    clean_proxy_environment.setenv(variable, proxy.url)
    client = clients(ks.client_config(keys, origin.url))
    status, text = call.make(operation, client, request=request, payment_id=payment_id)
    assert proxy.connection_count == 0, "the call went through the %s proxy: %r" % (variable, proxy.requests)
    ks.assert_ok(status, text)
    assert origin.request_count == 1
    seen = origin.requests[0]
    assert seen.target.startswith("/payments"), seen.target  # origin-form: not a proxy request


@pytest.mark.parametrize("variable", ["https_proxy", "HTTPS_PROXY", "ALL_PROXY"])
@pytest.mark.parametrize("operation", ["create", "view"])
def test_environment_proxy_still_used_for_https_and_its_refusal_is_not_sent(lib, servers, clients, keys, call,
                                                                            clean_proxy_environment, variable,
                                                                            operation):
    """The proxy refuses the CONNECT: nothing reached the API, so the call is
    NETWORK not_sent and retried (a create too)."""
    proxy = servers(hs.respond(403, b"", reason="Forbidden", close=True), name="proxy")
    clean_proxy_environment.setenv(variable, proxy.url)
    client = clients(ks.client_config(keys, "https://api.kasko.invalid"))
    status, text = call.make(operation, client)
    assert proxy.request_count >= 1, "the https call did not use the %s proxy" % variable
    assert all(seen.method == "CONNECT" and seen.target == "api.kasko.invalid:443" for seen in proxy.requests), \
        proxy.requests
    ks.assert_error(lib, status, text, code="KASKO_ERR_NETWORK", outcome="not_sent", retryable=True, attempts=3)
    assert proxy.request_count == 3


@pytest.mark.parametrize("operation", ["create", "view"])
def test_environment_proxy_refusing_connections_for_https_is_not_sent(lib, clients, keys, call,
                                                                      clean_proxy_environment, operation):
    clean_proxy_environment.setenv("https_proxy", "http://127.0.0.1:%d" % hs.free_port())
    client = clients(ks.client_config(keys, "https://api.kasko.invalid"))
    status, text = call.make(operation, client)
    ks.assert_error(lib, status, text, code="KASKO_ERR_NETWORK", outcome="not_sent", retryable=True, attempts=3,
                    http_status=None)


def test_explicit_empty_proxy_with_environment_proxy_goes_direct(lib, servers, clients, keys, call,
                                                                 clean_proxy_environment):
    proxy = proxy_listener(servers)
    payment_id = ks.new_payment_id()
    origin = servers(hs.respond(200, ks.full_payment(payment_id, ks.new_policy_id())), name="origin")
    clean_proxy_environment.setenv("http_proxy", proxy.url)
    client = clients(ks.client_config(keys, origin.url, proxy=""))
    status, text = call.view(client, payment_id)
    ks.assert_ok(status, text)
    assert proxy.connection_count == 0
    assert origin.request_count == 1


# -- an explicit proxy with a plain-http base_url ---------------------------------------

def client_new(lib, config):
    (status, client, error), elapsed = ks.run_bounded(lib.client_new, config, timeout=10)
    if client:
        lib.client_free(client)
    return status, client, error, elapsed


NON_LOOPBACK_PROXIES = [
    "http://10.1.2.3:3128",
    "http://10.1.2.3",
    "https://10.1.2.3:3128",
    "socks5://10.1.2.3:1080",
    "socks5h://proxy.example.com:1080",
    "http://proxy.example.com:3128",
    "http://user:password@10.1.2.3:3128",
    "http://127.0.0.1.example.com:3128",
    "http://127.0.0.1@10.1.2.3:3128",
    "http://[2001:db8::1]:3128",
    "http://0.0.0.0:3128",
]


@pytest.mark.parametrize("proxy", NON_LOOPBACK_PROXIES)
def test_explicit_non_loopback_proxy_with_plain_http_base_url_is_refused(lib, clean_proxy_environment, keys, proxy):
    port = hs.free_port()
    status, client, error, elapsed = client_new(lib, ks.client_config(keys, "http://127.0.0.1:%d" % port,
                                                                      proxy=proxy))
    ks.assert_error(lib, status, error, code="KASKO_ERR_INVALID_ARGUMENT")
    assert client is None
    assert b"password" not in error


@pytest.mark.parametrize("proxy_host", ["127.0.0.1", "localhost", "127.1.2.3"])
def test_explicit_loopback_proxy_with_plain_http_base_url_is_allowed(lib, servers, clean_proxy_environment, keys,
                                                                     proxy_host):
    proxy = servers(hs.respond(502, b""), name="proxy")
    status, client, error, elapsed = client_new(
        lib, ks.client_config(keys, "http://127.0.0.1:%d" % hs.free_port(),
                              proxy="http://%s:%d" % (proxy_host, proxy.port)))
    assert ks.NAME.get(status) == "KASKO_OK", error
    assert client


def test_explicit_loopback_forward_proxy_is_used(lib, servers, clients, keys, call, clean_proxy_environment):
    """A tiny forward proxy that answers the absolute-form request itself."""
    payment_id = ks.new_payment_id()
    origin = servers(hs.respond(500, b""), name="origin")
    proxy = servers(hs.respond(200, ks.full_payment(payment_id, ks.new_policy_id())), name="proxy")
    client = clients(ks.client_config(keys, origin.url, proxy=proxy.url))
    status, text = call.view(client, payment_id)
    ks.assert_ok(status, text)
    assert proxy.request_count == 1
    assert proxy.requests[0].target == "%s/payments/%s" % (origin.url, payment_id)
    assert origin.connection_count == 0


def test_explicit_non_loopback_proxy_with_https_base_url_is_allowed(lib, clean_proxy_environment, keys):
    status, client, error, elapsed = client_new(
        lib, ks.client_config(keys, "https://api.kasko.invalid", proxy="http://10.1.2.3:3128"))
    assert ks.NAME.get(status) == "KASKO_OK", error


@pytest.mark.parametrize("operation", ["create", "view"])
def test_explicit_loopback_proxy_refusing_connections_is_not_sent_and_retried(lib, servers, clients, keys, call,
                                                                             clean_proxy_environment, operation):
    origin = servers(hs.respond(500, b""), name="origin")
    client = clients(ks.client_config(keys, origin.url, proxy="http://127.0.0.1:%d" % hs.free_port()))
    status, text = call.make(operation, client)
    ks.assert_error(lib, status, text, code="KASKO_ERR_NETWORK", outcome="not_sent", retryable=True, attempts=3,
                    http_status=None)
    assert origin.connection_count == 0
