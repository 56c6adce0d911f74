"""The server-side time limit of a repository's queries (``MONGODB_QUERY_TIMEOUT_MS``).

Every read, count and ``findAndModify`` of :class:`~rainbond_kit.data.repository.MongoRepository`
carries ``maxTimeMS``: MongoDB stops the query itself and the driver raises ``ExecutionTimeout``
(code 50), which :mod:`rainbond_kit.data.store_errors` turns into a 503. An explicit
server-side option, not pymongo's client-side ``pymongo.timeout()`` (which closes the
connection when time runs out); administrative commands (index builds) carry none.
"""

from __future__ import annotations

from typing import Any

from pymongo.client_session import ClientSession

__all__ = ["TimeLimitMixin"]


class TimeLimitMixin:
    """Options with the time limit ``max_time_ms`` (``None``: no limit) for each kind of call."""

    max_time_ms: int | None = None

    @property
    def time_limit(self) -> dict[str, Any]:
        """``maxTimeMS`` as a command option (counts, ``distinct``, ``findAndModify``)."""
        return {} if self.max_time_ms is None else {"maxTimeMS": self.max_time_ms}

    def reads(self, session: ClientSession | None = None) -> dict[str, Any]:
        """``find``/``find_one`` options: ``session`` and ``max_time_ms``."""
        return {"session": session, "max_time_ms": self.max_time_ms}

    def commands(self, session: ClientSession | None = None) -> dict[str, Any]:
        """Command options (``findAndModify``, counts): ``session`` and ``maxTimeMS``."""
        return {"session": session, **self.time_limit}
