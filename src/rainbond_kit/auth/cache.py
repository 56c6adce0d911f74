"""A short-lived, in-process cache of users' roles, groups and permissions.

Entries live ``seconds`` (``RAINBOND_AUTH_CACHE_SECONDS``, default 5; ``0`` disables it): a
role change in the auth center reaches this process at most that late. Token and login
(Redis) checks are never cached, so a logout takes effect on the next request.
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

__all__ = ["RecordCache"]

T = TypeVar("T")

MAX_ENTRIES = 4096


class RecordCache(Generic[T]):
    """Thread-safe ``key -> value`` map whose entries expire after ``seconds``."""

    def __init__(self, seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, T]] = {}

    def get(self, key: str) -> T | None:
        """Return the live value for ``key``, or ``None``."""
        if self.seconds <= 0:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: str, value: T) -> None:
        """Store ``value`` for ``seconds``; the oldest entries go first when full."""
        if self.seconds <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                live = {k: v for k, v in self._entries.items() if v[0] > now}
                while len(live) >= self.max_entries:
                    del live[next(iter(live))]
                self._entries = live
            self._entries[key] = (now + self.seconds, value)

    def clear(self) -> None:
        """Forget everything (tests, or after a known role change)."""
        with self._lock:
            self._entries.clear()
