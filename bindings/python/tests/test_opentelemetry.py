"""kasko.opentelemetry with the SDK's InMemorySpanExporter, over HTTP: the
span of each call (name, kind, parent, attributes, attempt events, times),
the traceparent sent, failures, sampling; and ``import kasko`` without
opentelemetry at all (in a fresh interpreter)."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterator, List, Tuple

import pytest

from conftest import BINDING_DIR, Faults, Sandbox, ScriptedServer

import kasko

try:
    from opentelemetry import context as otel_context
    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
    from opentelemetry.trace import (
        NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags, TraceState,
    )

    import kasko.opentelemetry as kasko_otel

    HAVE_SDK = True
except ImportError:
    HAVE_SDK = False

needs_sdk = pytest.mark.skipif(
    not HAVE_SDK or not kasko._lib.library().has_events,
    reason="opentelemetry-api/-sdk are not installed (make deps installs them, or "
           "pip install opentelemetry-sdk), or the library is older than 1.2: the spans of "
           "kasko.opentelemetry are not checked",
)

Tracing = Tuple["TracerProvider", "InMemorySpanExporter"]


@pytest.fixture
def tracing() -> Iterator[Tracing]:
    provider = TracerProvider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider, exporter
    provider.shutdown()


@pytest.fixture
def traced(tracing: Tracing, sandbox_url: str, public_key: str, secret_key: str) -> Iterator[kasko.Client]:
    with kasko.Client(public_key, secret_key, base_url=sandbox_url, timeout=30, max_retries=2) as c:
        kasko_otel.instrument(c, tracer_provider=tracing[0])
        assert kasko_otel.is_instrumented(c)
        yield c


def invoice(client: kasko.Client, offer: Dict[str, str]) -> kasko.Payment:
    return client.create_payment(token=offer["token"], provider="invoice", method="invoice",
                                 policy_id=offer["policy_id"])


def kasko_spans(exporter: "InMemorySpanExporter") -> List["ReadableSpan"]:
    return [s for s in exporter.get_finished_spans() if s.instrumentation_scope.name == "kasko"]


def header_context(span: "ReadableSpan") -> str:
    context = span.context
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


@needs_sdk
def test_a_retried_view_is_one_client_span_with_an_event_per_attempt(
    traced: kasko.Client, tracing: Tracing, sandbox: Sandbox, faults: Faults, sandbox_url: str,
) -> None:
    provider, exporter = tracing
    payment = invoice(traced, sandbox.offer())
    faults.arm(payment.id, {"status": 503}, times=1)
    exporter.clear()
    with provider.get_tracer("test").start_as_current_span("checkout") as parent:
        viewed = traced.get_payment(payment.id)
    (span,) = kasko_spans(exporter)
    assert span.name == "GET /payments/{id}" and span.kind is SpanKind.CLIENT
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert span.context.trace_id == parent.get_span_context().trace_id
    host, port = sandbox_url.split("//")[1].split(":")
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "url.template": "/payments/{id}",
        "server.address": host,
        "server.port": int(port),
        "url.full": f"{sandbox_url}/payments/{payment.id}",
        "kasko.operation": "payment_get",
        "http.response.status_code": 200,
        "http.request.resend_count": 1,
        "kasko.request_id": viewed.request_id,
        "kasko.attempts": 2,
        "kasko.outcome": "succeeded",
    }
    assert span.status.status_code is StatusCode.UNSET
    first, second = span.events
    assert first.name == second.name == "kasko.attempt"
    a, b = dict(first.attributes or {}), dict(second.attributes or {})
    assert (a["kasko.attempt"], a["http.response.status_code"], a["kasko.retry"]) == (1, 503, True)
    assert a["error.type"] == "503" and a["kasko.code"] == "KASKO_ERR_SERVER"
    assert isinstance(a["kasko.retry_delay_ms"], int) and a["kasko.message"]
    assert (b["kasko.attempt"], b["http.response.status_code"], b["kasko.retry"]) == (2, 200, False)
    assert "error.type" not in b and b["kasko.request_id"] == viewed.request_id
    for attributes in (a, b):
        assert isinstance(attributes["kasko.total_us"], int) and attributes["kasko.total_us"] > 0
    # Started before the library was called, ended when it reported the end:
    # the span covers the call's wall time, and the attempts lie inside it.
    assert span.start_time is not None and span.end_time is not None
    assert viewed.total_time is not None
    assert span.end_time - span.start_time >= round(viewed.total_time * 1e9)
    assert span.start_time <= first.timestamp <= second.timestamp <= span.end_time


@needs_sdk
def test_a_create_span(traced: kasko.Client, tracing: Tracing, sandbox: Sandbox,
                       sandbox_url: str) -> None:
    created = invoice(traced, sandbox.offer())
    (span,) = kasko_spans(tracing[1])
    assert span.name == "POST /payments" and span.parent is None
    attributes = dict(span.attributes or {})
    assert attributes["url.full"] == f"{sandbox_url}/payments?key=REDACTED"
    assert attributes["http.request.method"] == "POST" and attributes["url.template"] == "/payments"
    assert attributes["http.response.status_code"] == created.http_status
    assert "http.request.resend_count" not in attributes and len(span.events) == 1


@needs_sdk
def test_failures(traced: kasko.Client, tracing: Tracing, public_key: str, secret_key: str,
                  closed_port: int) -> None:
    with pytest.raises(kasko.NotFoundError) as info:
        traced.get_payment("t" + "0" * 32)
    with kasko.Client(public_key, secret_key, base_url=f"http://127.0.0.1:{closed_port}",
                      max_retries=0) as unreachable:
        kasko_otel.instrument(unreachable, tracer_provider=tracing[0])
        with pytest.raises(kasko.NetworkError):
            unreachable.get_payment("t" + "1" * 32)
    with pytest.raises(kasko.InvalidArgumentError):  # refused by the library before any I/O
        traced.get_payment("bad id")
    not_found, network, refused = kasko_spans(tracing[1])
    attributes = dict(not_found.attributes or {})
    assert not_found.status.status_code is StatusCode.ERROR
    assert not_found.status.description == f"KASKO_ERR_NOT_FOUND: {info.value.message}"
    assert attributes["error.type"] == "404" and attributes["http.response.status_code"] == 404
    assert attributes["kasko.outcome"] == "rejected"
    assert attributes["kasko.error.code"] == "KASKO_ERR_NOT_FOUND"
    assert attributes["kasko.request_id"] == info.value.request_id
    attributes = dict(network.attributes or {})
    assert network.status.status_code is StatusCode.ERROR
    assert attributes["error.type"] == "kasko.NetworkError"
    assert "http.response.status_code" not in attributes
    assert attributes["kasko.outcome"] == "not_sent" and attributes["server.port"] == closed_port
    (event,) = network.events
    assert dict(event.attributes or {})["error.type"] == "KASKO_ERR_NETWORK"
    attributes = dict(refused.attributes or {})
    assert attributes["error.type"] == "kasko.InvalidArgumentError" and refused.events == ()
    assert attributes["kasko.attempts"] == 0 and attributes["kasko.outcome"] == "not_sent"


@needs_sdk
def test_the_spans_context_is_sent_as_traceparent_and_tracestate(
    tracing: Tracing, scripted_server: ScriptedServer, public_key: str, secret_key: str,
) -> None:
    provider, exporter = tracing
    remote = SpanContext(
        trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736, span_id=0x00F067AA0BA902B7, is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED), trace_state=TraceState([("congo", "t61rcWkgMzE")]),
    )
    with kasko.Client(public_key, secret_key, base_url=scripted_server.url, proxy="") as c:
        kasko_otel.instrument(c, tracer_provider=provider)
        token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(remote)))
        try:
            c.get_payment("t1234")
        finally:
            otel_context.detach(token)
        c.get_payment("t1234", traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        c.get_payment("t1234", tracestate="mine=1")  # given: sent as is, no traceparent
    first, second, third = kasko_spans(exporter)
    (_, _, sent), (_, _, given), (_, _, state_only) = scripted_server.requests
    assert first.context.trace_id == remote.trace_id and first.parent is not None
    assert first.parent.span_id == remote.span_id
    assert sent["traceparent"] == header_context(first) and sent["tracestate"] == "congo=t61rcWkgMzE"
    assert given["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert "tracestate" not in given and second.name == "GET /payments/{id}"
    assert state_only["tracestate"] == "mine=1" and "traceparent" not in state_only


@needs_sdk
def test_an_unsampled_span_is_propagated_and_not_recorded(
    scripted_server: ScriptedServer, public_key: str, secret_key: str,
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with kasko.Client(public_key, secret_key, base_url=scripted_server.url, proxy="") as c:
        kasko_otel.instrument(c, tracer_provider=provider)
        c.get_payment("t1234")
        kasko_otel.instrument(c, tracer_provider=trace.NoOpTracerProvider())  # no SDK at all
        c.get_payment("t1234")
    (_, _, unsampled), (_, _, noop) = scripted_server.requests
    flags = unsampled["traceparent"].split("-")[3]
    assert unsampled["traceparent"].startswith("00-") and int(flags, 16) & 1 == 0  # not sampled
    assert "traceparent" not in noop  # nothing to propagate: no current span, no SDK
    assert exporter.get_finished_spans() == ()


@needs_sdk
def test_uninstrument(traced: kasko.Client, tracing: Tracing, sandbox: Sandbox) -> None:
    kasko_otel.uninstrument(traced)
    assert not kasko_otel.is_instrumented(traced)
    invoice(traced, sandbox.offer())
    kasko_otel.uninstrument(traced)  # again: nothing happens
    assert kasko_spans(tracing[1]) == []
    with pytest.raises(TypeError):
        kasko_otel.instrument("client")  # type: ignore[arg-type]


@needs_sdk
def test_threads_get_their_own_parents_and_calls_in_a_hook_their_own_spans(
    traced: kasko.Client, tracing: Tracing, sandbox: Sandbox,
) -> None:
    provider, exporter = tracing
    tracer = provider.get_tracer("test")
    ids = [invoice(traced, sandbox.offer()).id for _ in range(4)]
    exporter.clear()

    def in_thread(payment_id: str) -> Tuple[int, str]:
        with tracer.start_as_current_span(f"parent {payment_id}") as parent:
            traced.get_payment(payment_id)
            return parent.get_span_context().span_id, payment_id

    with ThreadPoolExecutor(4) as pool:
        parents = dict(pool.map(in_thread, ids * 3))
    spans = kasko_spans(exporter)
    assert len(spans) == 12
    for span in spans:
        assert span.parent is not None
        path = str(dict(span.attributes or {})["url.full"])
        assert path.endswith("/payments/" + parents[span.parent.span_id])
        assert len(span.events) == 1

    # A call made inside an event hook: a span of its own, a child of the
    # call being made (current while it runs), with no attempt events.
    exporter.clear()
    inner: List[str] = []

    def hook(event: kasko.Event) -> None:
        if event.kind == "attempt" and not inner:
            inner.append(traced.get_payment(ids[0]).id)

    traced.set_event_hook(hook)
    traced.get_payment(ids[1])
    inner_span, outer_span = kasko_spans(exporter)
    assert inner == [ids[0]] and inner_span.parent is not None
    assert inner_span.parent.span_id == outer_span.context.span_id
    assert inner_span.events == () and len(outer_span.events) == 1


@needs_sdk
def test_a_hook_logging_and_tracing_together(
    traced: kasko.Client, tracing: Tracing, sandbox: Sandbox, caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="kasko")
    traced.set_event_logging(True)
    current: List[int] = []
    traced.set_event_hook(lambda e: current.append(trace.get_current_span().get_span_context().span_id))
    invoice(traced, sandbox.offer())
    (span,) = kasko_spans(tracing[1])
    # The hook ran with the call's span current (log records correlate).
    assert current == [span.context.span_id] * 2
    assert [r.getMessage().split()[0] for r in caplog.records if r.name == "kasko"] == [
        "attempt", "call_end"]
    assert len(span.events) == 1


def test_kasko_without_opentelemetry() -> None:
    code = """
import sys
class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
sys.meta_path.insert(0, Blocked())
import kasko
print("kasko", kasko.__version__, "opentelemetry" in sys.modules)
try:
    import kasko.opentelemetry
except ImportError as error:
    print("ImportError:", error)
"""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(BINDING_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first == f"kasko {kasko.__version__} False"
    assert second.startswith("ImportError: kasko.opentelemetry needs the opentelemetry-api package")
    assert "pip install opentelemetry-api" in second
