"""OpenTelemetry traces (the ``otel`` extra), on only when the OTel environment asks for them.

``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_TRACES_EXPORTER`` (``otlp`` or ``console``; ``none``
switches off) turns tracing on: spans for requests (Flask), MongoDB (pymongo) and Redis. The
service name is ``OTEL_SERVICE_NAME``, else Rainbond's ``_SERVICE_NAME``, else
``SERVICE_NAME``, else the app's name. Unset, nothing here imports OpenTelemetry.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from rainbond_kit.errors import ConfigurationError

__all__ = ["EXPORTER_KEY", "init_tracing", "service_name", "tracing_requested"]

log = logging.getLogger("rainbond_kit.tracing")

#: config key: a ready ``SpanExporter`` to use instead of the one the environment names (tests)
EXPORTER_KEY = "RAINBOND_OTEL_EXPORTER"


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for traces."""
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip())


def service_name(app: Flask, environ: Mapping[str, str] = os.environ) -> str:
    """``OTEL_SERVICE_NAME``, ``_SERVICE_NAME`` (Rainbond), ``SERVICE_NAME``, else the app name."""
    for name in ("OTEL_SERVICE_NAME", "_SERVICE_NAME", "SERVICE_NAME"):
        value = environ.get(name, "").strip()
        if value:
            return value
    return app.name


def _exporter(environ: Mapping[str, str]) -> Any:
    kind = environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if kind != "otlp":
        raise ConfigurationError(
            f"OTEL_TRACES_EXPORTER must be otlp, console or none, got {kind!r}"
        )
    protocol = environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc").strip().lower()
    if protocol.startswith("http"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcSpanExporter,
    )

    return GrpcSpanExporter()


def init_tracing(app: Flask, environ: Mapping[str, str] = os.environ) -> bool:
    """Instrument ``app`` (and pymongo, redis) when the environment asks; return whether it did.

    :raises ConfigurationError: tracing is asked for but the ``otel`` extra is not installed,
        or ``OTEL_TRACES_EXPORTER`` names an exporter rainbond-kit does not set up.
    """
    if not tracing_requested(environ):
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.flask import FlaskInstrumentor
        from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
        from opentelemetry.instrumentation.redis import RedisInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise ConfigurationError(
            "OTEL_EXPORTER_OTLP_ENDPOINT/OTEL_TRACES_EXPORTER is set but OpenTelemetry is not "
            f"installed: install rainbond-kit[otel] ({exc.name} missing)"
        ) from None

    provider = TracerProvider(resource=Resource.create({"service.name": service_name(app)}))
    injected = app.config.get(EXPORTER_KEY)
    if injected is not None:
        provider.add_span_processor(SimpleSpanProcessor(injected))
    else:
        provider.add_span_processor(BatchSpanProcessor(_exporter(environ)))
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            trace.set_tracer_provider(provider)  # user code's tracers join the same traces
    FlaskInstrumentor().instrument_app(  # type: ignore[no-untyped-call]  # untyped upstream
        app, tracer_provider=provider
    )
    # pymongo and redis are instrumented process-wide, once (the first app's provider)
    for instrumentor in (PymongoInstrumentor(), RedisInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=provider)
    log.info("tracing on: service %s", service_name(app))
    return True
