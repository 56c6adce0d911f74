"""The Prometheus metrics rainbond-kit exports, and the registry ``/metrics`` serves.

Metric objects are process-wide (Prometheus metrics describe a process, not an app) and live
in ``prometheus_client``'s default registry, so a component's own metrics appear on the same
``/metrics``. Under gunicorn, ``PROMETHEUS_MULTIPROC_DIR`` puts every value in per-process
files that the scrape sums across live and dead workers (see :mod:`.gunicorn`).
"""

from __future__ import annotations

import functools
import os
from typing import TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = [
    "AUTH_FAILURES",
    "HTTP_DURATION",
    "HTTP_IN_FLIGHT",
    "HTTP_REQUESTS",
    "INDEXES_READY",
    "KIT_INFO",
    "MONGO_COMMANDS",
    "MONGO_FAILURES",
    "MONGO_OPERATIONS",
    "MONGO_OPERATION_FAILURES",
    "MONGO_POOL_CHECKED_OUT",
    "MONGO_POOL_CONNECTIONS",
    "MONGO_POOL_WAITING",
    "RATELIMIT_REJECTIONS",
    "REDIS_ERRORS",
    "child",
    "multiprocess_dir",
    "scrape_registry",
]

HTTP_REQUESTS = Counter(
    "http_requests", "HTTP requests served, by URL rule", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds", "HTTP request latency, by URL rule", ["method", "route"]
)
HTTP_IN_FLIGHT = Gauge(
    "http_requests_in_flight", "HTTP requests being served", multiprocess_mode="livesum"
)
MONGO_OPERATIONS = Histogram(
    "rainbond_mongodb_operation_duration_seconds",
    "MongoDB operations of the kit (count and duration), by operation and collection",
    ["operation", "collection"],
)
MONGO_OPERATION_FAILURES = Counter(
    "rainbond_mongodb_operation_failures",
    "MongoDB operations of the kit that the driver failed",
    ["operation", "collection"],
)
MONGO_COMMANDS = Histogram(
    "mongodb_command_duration_seconds",
    "MongoDB commands (count and duration), by command and collection",
    ["command", "collection"],
)
MONGO_FAILURES = Counter(
    "mongodb_command_failures", "MongoDB commands that failed", ["command", "collection"]
)
MONGO_POOL_CONNECTIONS = Gauge(
    "mongodb_pool_connections",
    "Open connections in the MongoDB pool, by server",
    ["address"],
    multiprocess_mode="livesum",
)
MONGO_POOL_CHECKED_OUT = Gauge(
    "mongodb_pool_checked_out_connections",
    "MongoDB pool connections in use, by server",
    ["address"],
    multiprocess_mode="livesum",
)
MONGO_POOL_WAITING = Gauge(
    "mongodb_pool_waiting_checkouts",
    "Operations waiting for a MongoDB pool connection, by server",
    ["address"],
    multiprocess_mode="livesum",
)
INDEXES_READY = Gauge(
    "rainbond_mongodb_indexes_ready",
    "1 when every declared index of a collection is built, 0 while one is pending or failed",
    ["collection"],
    multiprocess_mode="mostrecent",
)
REDIS_ERRORS = Counter(
    "redis_command_errors", "Redis errors that failed a request, by error type", ["error"]
)
RATELIMIT_REJECTIONS = Counter(
    "rainbond_ratelimit_rejections", "Requests refused by a rate limit (429)", ["route"]
)
AUTH_FAILURES = Counter(
    "rainbond_auth_failures", "Requests refused by authentication or permissions", ["reason"]
)
KIT_INFO = Gauge(
    "rainbond_kit_info", "rainbond-kit build information", ["version"], multiprocess_mode="max"
)


M = TypeVar("M", Counter, Gauge, Histogram)


@functools.cache
def child(metric: M, *values: str) -> M:
    """``metric.labels(*values)``, cached: label validation and locking once per label set.

    The cache is as bounded as the metric's own children (labels are URL rules, commands,
    collections, server addresses, never raw client input).
    """
    return metric.labels(*values)


def multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR``, if set."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def scrape_registry() -> CollectorRegistry:
    """The registry a scrape renders: all workers' files in multiprocess mode, else this process.

    In multiprocess mode the process collectors are left out: they would describe whichever
    worker answered the scrape, a different one each time.
    """
    if multiprocess_dir() is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped in prometheus-client
    return registry
