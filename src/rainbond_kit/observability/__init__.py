"""Observability: Prometheus ``/metrics``, OpenTelemetry traces, request ids.

Importing this package loads neither prometheus-client nor OpenTelemetry: both are loaded by
:func:`init_observability` when they are switched on.
"""

from __future__ import annotations

from rainbond_kit.observability.request_id import current_request_id as current_request_id
from rainbond_kit.observability.setup import (
    OBSERVABILITY_DEFAULTS as OBSERVABILITY_DEFAULTS,
)
from rainbond_kit.observability.setup import init_observability as init_observability

__all__ = ["OBSERVABILITY_DEFAULTS", "current_request_id", "init_observability"]
