"""The MongoDB metrics: the kit's operations (default), pymongo's commands and pool (opt-in).

:class:`OperationMetrics` is the container's store observer
(:mod:`rainbond_kit.data.observe`): every repository operation, timed by the repository,
for about a microsecond each. The pymongo listeners (``RAINBOND_METRICS_MONGO_COMMANDS``,
``RAINBOND_METRICS_MONGO_POOL``) see every command any code sends through the app's client,
at the price of pymongo's event machinery; they are passed to each ``MongoClient`` the app's
container builds (``event_listeners=``), never registered globally, so apps in one process
(tests) do not observe each other's clients.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Gauge, Histogram
from pymongo import monitoring

from rainbond_kit.observability.metrics import (
    MONGO_COMMANDS,
    MONGO_FAILURES,
    MONGO_OPERATION_FAILURES,
    MONGO_OPERATIONS,
    MONGO_POOL_CHECKED_OUT,
    MONGO_POOL_CONNECTIONS,
    MONGO_POOL_WAITING,
    child,
)

__all__ = ["CommandMetrics", "OperationMetrics", "PoolMetrics", "mongo_listeners"]

#: commands whose first value is not a collection name but that name one in another field
_COLLECTION_FIELD = {"getMore": "collection"}


def _collection(command_name: str, command: Any) -> str:
    value = command.get(_COLLECTION_FIELD.get(command_name, command_name))
    return value if isinstance(value, str) else ""


class OperationMetrics:
    """The kit's MongoDB operations: counts and durations per operation and collection.

    A :class:`~rainbond_kit.data.observe.StoreObserver`; the histogram child of each
    (operation, collection) pair is bound once, so an operation costs one dict lookup and one
    ``observe``.
    """

    def __init__(self) -> None:
        self._children: dict[tuple[str, str], Histogram] = {}

    def __call__(self, operation: str, collection: str, seconds: float, failed: bool) -> None:
        labels = (operation, collection)
        histogram = self._children.get(labels)
        if histogram is None:
            histogram = self._children[labels] = MONGO_OPERATIONS.labels(*labels)
        histogram.observe(seconds)
        if failed:
            child(MONGO_OPERATION_FAILURES, operation, collection).inc()


class CommandMetrics(monitoring.CommandListener):
    """Command counts and durations per command and collection (opt-in).

    pymongo calls the listener twice per command, on the thread running it, so the work is
    kept to dictionary operations: ``started`` finds the histogram child of the command's
    (command, collection) pair, once per pair for the listener's life, and parks it under
    the command's (connection, request id); ``succeeded`` pops it and observes.
    """

    def __init__(self) -> None:
        # (command, collection) -> bound histogram child; bounded like the metric's labels
        self._children: dict[tuple[str, str], Histogram] = {}
        # (connection, request id) -> (command, collection, child) of the commands running;
        # single dict operations are atomic, so threads share it without a lock
        self._running: dict[tuple[Any, int], tuple[str, str, Histogram]] = {}

    def _child(self, labels: tuple[str, str]) -> Histogram:
        found = self._children.get(labels)
        if found is None:
            found = self._children[labels] = MONGO_COMMANDS.labels(*labels)
        return found

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        labels = (name, _collection(name, event.command))
        self._running[(event.connection_id, event.request_id)] = (*labels, self._child(labels))

    def _finish(
        self, event: monitoring.CommandSucceededEvent | monitoring.CommandFailedEvent
    ) -> tuple[str, str]:
        running = self._running.pop((event.connection_id, event.request_id), None)
        if running is None:  # a listener added while the command ran
            name, collection = event.command_name, ""
            histogram = self._child((name, collection))
        else:
            name, collection, histogram = running
        histogram.observe(event.duration_micros / 1e6)
        return name, collection

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finish(event)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        name, collection = self._finish(event)
        child(MONGO_FAILURES, name, collection).inc()


def _pool(metric: Gauge, event: Any) -> Gauge:
    host, port = event.address
    gauge: Gauge = child(metric, f"{host}:{port}")
    return gauge


class PoolMetrics(monitoring.ConnectionPoolListener):
    """Open connections, checked-out connections and waiting checkouts per server."""

    def pool_created(self, event: monitoring.PoolCreatedEvent) -> None:
        pass

    def pool_ready(self, event: monitoring.PoolReadyEvent) -> None:
        pass

    def pool_cleared(self, event: monitoring.PoolClearedEvent) -> None:
        pass

    def pool_closed(self, event: monitoring.PoolClosedEvent) -> None:
        pass

    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        _pool(MONGO_POOL_CONNECTIONS, event).inc()

    def connection_ready(self, event: monitoring.ConnectionReadyEvent) -> None:
        pass

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        _pool(MONGO_POOL_CONNECTIONS, event).dec()

    def connection_check_out_started(
        self, event: monitoring.ConnectionCheckOutStartedEvent
    ) -> None:
        _pool(MONGO_POOL_WAITING, event).inc()

    def connection_check_out_failed(self, event: monitoring.ConnectionCheckOutFailedEvent) -> None:
        _pool(MONGO_POOL_WAITING, event).dec()

    def connection_checked_out(self, event: monitoring.ConnectionCheckedOutEvent) -> None:
        _pool(MONGO_POOL_WAITING, event).dec()
        _pool(MONGO_POOL_CHECKED_OUT, event).inc()

    def connection_checked_in(self, event: monitoring.ConnectionCheckedInEvent) -> None:
        _pool(MONGO_POOL_CHECKED_OUT, event).dec()


def mongo_listeners(*, commands: bool, pool: bool) -> list[monitoring._EventListener]:
    """Fresh listeners for one app's clients: the command listener with ``commands``, the
    pool listener with ``pool``."""
    found: list[monitoring._EventListener] = []
    if commands:
        found.append(CommandMetrics())
    if pool:
        found.append(PoolMetrics())
    return found
