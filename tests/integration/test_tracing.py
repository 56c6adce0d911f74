"""OpenTelemetry traces: a request span with MongoDB child spans, its trace id in the log line.

Also: with no OTel variable set, the kit loads no OpenTelemetry module beyond what its
dependencies load themselves (redis-py imports the OTel API when the SDK is installed).
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from rainbond_kit import Settings, get_container
from rainbond_kit.observability.tracing import service_name, tracing_requested
from tests.conftest import KitAppFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def traced(
    make_kit_app: KitAppFactory, rainbond_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Flask, InMemorySpanExporter]]:
    """A kit app traced into an in-memory exporter (pymongo/redis uninstrumented afterwards)."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "books-traced")
    exporter = InMemorySpanExporter()
    app = make_kit_app(rainbond_settings, RAINBOND_OTEL_EXPORTER=exporter)

    @app.get("/shelves/<name>")
    def shelf(name: str) -> Any:
        db = get_container().mongo_db()
        db["shelves"].insert_one({"name": name})
        found = db["shelves"].count_documents({"name": name})
        app.logger.info("shelf counted")
        return jsonify(count=found)

    try:
        yield app, exporter
    finally:
        PymongoInstrumentor().uninstrument()
        RedisInstrumentor().uninstrument()


def test_request_span_with_mongo_children_and_trace_id_in_log(
    traced: tuple[Flask, InMemorySpanExporter],
) -> None:
    """One request: a server span, its insert and count Mongo spans, the same trace in the log."""
    app, exporter = traced
    stream = io.StringIO()
    handler = next(h for h in app.logger.handlers if isinstance(h, logging.StreamHandler))
    old = handler.setStream(stream)
    try:
        response = app.test_client().get("/shelves/a")
    finally:
        handler.setStream(old)
    assert response.status_code == 200

    spans = exporter.get_finished_spans()
    servers = [span for span in spans if span.kind == SpanKind.SERVER]
    assert len(servers) == 1
    request_span = servers[0]
    assert request_span.attributes is not None
    assert request_span.attributes["http.route"] == "/shelves/<name>"
    assert request_span.resource.attributes["service.name"] == "books-traced"
    children = [span for span in spans if span.parent is not None
                and span.parent.span_id == request_span.context.span_id]  # fmt: skip
    mongo = sorted(
        str((span.attributes or {}).get("db.operation", span.name)) for span in children
        if (span.attributes or {}).get("db.system") == "mongodb"
    )  # fmt: skip
    assert len(mongo) == 2, [span.name for span in spans]
    assert all(span.context.trace_id == request_span.context.trace_id for span in children)

    line = next(
        json.loads(text) for text in stream.getvalue().splitlines() if "shelf counted" in text
    )
    assert line["trace_id"] == format(request_span.context.trace_id, "032x")
    assert line["request_id"] == response.headers["X-Request-ID"]


def test_tracing_switch_and_service_name() -> None:
    """Traces only with an OTLP endpoint or an exporter other than none; the name's fallbacks."""
    assert not tracing_requested({})
    assert not tracing_requested(
        {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "x"}
    )
    assert tracing_requested({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"})
    assert tracing_requested({"OTEL_TRACES_EXPORTER": "console"})
    app = Flask("fallback")
    assert service_name(app, {}) == "fallback"
    assert service_name(app, {"SERVICE_NAME": "c"}) == "c"
    assert service_name(app, {"SERVICE_NAME": "c", "_SERVICE_NAME": "b"}) == "b"
    assert (
        service_name(app, {"SERVICE_NAME": "c", "_SERVICE_NAME": "b", "OTEL_SERVICE_NAME": "a"})
        == "a"
    )


_PROBE = """
import json, sys
import flask, pymongo, redis  # the dependencies, and whatever they load themselves
baseline = {m for m in sys.modules if m.startswith("opentelemetry")}
from flask import Flask
from rainbond_kit import RainbondKit, Settings
from rainbond_kit.settings import MongoSettings, RedisSettings
settings = Settings(
    mongo=MongoSettings(uri="mongodb://127.0.0.1:1/", database="u", embedded=False),
    redis=RedisSettings(url="redis://127.0.0.1:1/0", configured=True, socket_timeout=0.2),
)
app = Flask("probe")
RainbondKit(app, settings=settings)
app.logger.info("a line")
with app.test_client() as client:
    client.get("/healthz")
    client.get("/metrics")
added = sorted({m for m in sys.modules if m.startswith("opentelemetry")} - baseline)
print("PROBE", json.dumps({"added": added, "wrapped": type(app.wsgi_app).__name__}))
"""


def _probe(**env: str) -> dict[str, Any]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    line = next(text for text in done.stdout.splitlines() if text.startswith("PROBE "))
    result: dict[str, Any] = json.loads(line.removeprefix("PROBE "))
    return result


def test_no_opentelemetry_loaded_when_unset() -> None:
    """OTEL unset: the kit adds no opentelemetry module and leaves wsgi_app unwrapped."""
    unset = _probe()
    assert unset["added"] == []
    assert unset["wrapped"] == "method"
    # the control: asking for traces does load the SDK and the instrumentations
    asked = _probe(OTEL_TRACES_EXPORTER="console")
    assert "opentelemetry.instrumentation.flask" in asked["added"]
    assert "opentelemetry.instrumentation.pymongo" in asked["added"]
