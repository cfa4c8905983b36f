"""No event, log line or span holds a key or a payment token: a sandbox of
the tests' own with keys made up for this run, calls that succeed, are
retried, fail, and a server that echoes the secrets in its error message;
everything the hook, the logger and (when installed) OpenTelemetry got is
searched for them."""

from __future__ import annotations

import json
import logging
from typing import Any, List

import pytest

from conftest import PrivateSandbox, _random_key

import kasko

pytestmark = pytest.mark.skipif(
    not kasko._lib.library().has_events, reason="the library is older than 1.2: no event hook"
)

try:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import kasko.opentelemetry as kasko_otel

    HAVE_SDK = True
except ImportError:
    HAVE_SDK = False


def test_no_secret_in_events_logs_or_spans(
    private_sandbox: PrivateSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox, faults = private_sandbox.sandbox, private_sandbox.faults
    caplog.set_level(logging.DEBUG, logger="kasko")
    events: List[kasko.Event] = []
    exporter = InMemorySpanExporter() if HAVE_SDK else None
    provider: Any = None
    if HAVE_SDK:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    secrets = [private_sandbox.secret_key, private_sandbox.public_key]
    wrong_secret = _random_key("sk_test_")
    secrets.append(wrong_secret)

    def watched(client: kasko.Client) -> kasko.Client:
        client.set_event_hook(events.append)
        client.set_event_logging(True)
        if HAVE_SDK:
            kasko_otel.instrument(client, tracer_provider=provider)
        return client

    try:
        with watched(private_sandbox.client(max_retries=2, timeout=30)) as client:
            offer = sandbox.offer()
            secrets.append(offer["token"])
            payment = client.create_payment(token=offer["token"], provider="invoice",
                                            method="invoice", policy_id=offer["policy_id"])
            faults.arm(payment.id, {"status": 503}, times=1)
            client.get_payment(payment.id)
            with pytest.raises(kasko.NotFoundError):
                client.get_payment("t" + "0" * 32)
            # A server that echoes the secrets back in its error message.
            echoed = sandbox.offer()
            secrets.append(echoed["token"])
            body = json.dumps({"status": "Bad Request", "message": " ".join(
                [echoed["token"], private_sandbox.secret_key, private_sandbox.public_key])})
            faults.arm(echoed["policy_id"], {"status": 400, "body": body})
            with pytest.raises(kasko.BadRequestError):
                client.create_payment(token=echoed["token"], provider="invoice", method="invoice",
                                      policy_id=echoed["policy_id"])
            # A view knows the keys, not a token it never sent: the keys are echoed.
            keys_only = json.dumps({"status": "Internal Server Error", "message": " ".join(
                [private_sandbox.secret_key, private_sandbox.public_key])})
            faults.arm(payment.id, {"status": 500, "body": keys_only}, times=1)
            with pytest.raises(kasko.ServerError):
                client.get_payment(payment.id)
            dropped = sandbox.offer()
            secrets.append(dropped["token"])
            faults.arm(dropped["policy_id"], {"drop": "after_body"})
            with pytest.raises(kasko.NetworkError):
                client.create_payment(token=dropped["token"], provider="invoice", method="invoice",
                                      policy_id=dropped["policy_id"])
        with watched(kasko.Client(private_sandbox.public_key, wrong_secret,
                                  base_url=private_sandbox.url)) as wrong:
            with pytest.raises((kasko.AuthenticationError, kasko.NotFoundError)):
                wrong.get_payment(payment.id)
        with watched(kasko.Client(private_sandbox.public_key, base_url=private_sandbox.url)) as public:
            restricted = sandbox.offer()
            secrets.append(restricted["token"])
            public.create_payment(token=restricted["token"], provider="invoice", method="invoice",
                                  policy_id=restricted["policy_id"])
    finally:
        if provider is not None:
            provider.shutdown()

    assert len(events) == 17 and sum(1 for e in events if e.message) >= 8
    told: List[str] = [json.dumps(e.to_dict()) + repr(e) for e in events]
    records = [r for r in caplog.records if r.name == "kasko"]
    assert len(records) == len(events)
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    told += [formatter.format(r) for r in records]
    if exporter is not None:
        spans = exporter.get_finished_spans()
        assert len(spans) == 8
        told += [span.to_json() for span in spans]
    everything = "\n".join(told)
    for secret in secrets:
        assert secret not in everything, f"{secret[:8]}… leaked into events, logs or spans"
