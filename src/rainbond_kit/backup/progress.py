"""Progress and summary output: a live line on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TextIO

import click

__all__ = ["Progress", "Totals"]


@dataclass
class Totals:
    """What a backup or restore moved."""

    collections: int = 0
    documents: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def add(self, documents: int, nbytes: int) -> None:
        """Count one finished collection."""
        self.collections += 1
        self.documents += documents
        self.bytes += nbytes

    def describe(self) -> str:
        """One line: ``3 collections, 1200 documents, 51234 bytes in 0.42 s``."""
        return (
            f"{self.collections} collections, {self.documents} documents, "
            f"{self.bytes} bytes in {self.seconds:.2f} s"
        )


class Progress:
    """Reports documents per collection.

    On a terminal one line per collection is rewritten in place (at most every
    ``interval`` seconds); otherwise each event is a timestamped line (and a long
    collection reports every ``log_every`` seconds), which is what Rainbond's log
    collector wants. Everything goes to ``stream`` (default stderr).
    """

    def __init__(
        self,
        *,
        stream: TextIO | None = None,
        interactive: bool | None = None,
        interval: float = 0.2,
        log_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._interactive = self._stream.isatty() if interactive is None else interactive
        self._interval = interval
        self._log_every = log_every
        self._clock = clock
        self._last = 0.0
        self._total: int | None = None

    @property
    def interactive(self) -> bool:
        """Whether output is a live terminal display."""
        return self._interactive

    def info(self, message: str) -> None:
        """Write one line (timestamped when not on a terminal)."""
        if not self._interactive:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            message = f"{stamp} {message}"
        click.echo(message, file=self._stream)

    def start(self, collection: str, total: int | None = None) -> None:
        """A collection begins; ``total`` is the expected document count, if known."""
        self._total = total
        self._last = self._clock()
        if self._interactive:
            self._draw(collection, 0)

    def advance(self, collection: str, documents: int) -> None:
        """``documents`` (cumulative) are done in ``collection``."""
        now = self._clock()
        if now - self._last < (self._interval if self._interactive else self._log_every):
            return
        self._last = now
        if self._interactive:
            self._draw(collection, documents)
        else:
            self.info(f"{collection}: {documents} documents so far")

    def finish(self, collection: str, documents: int, nbytes: int) -> None:
        """``collection`` is done."""
        line = f"{collection}: {documents} documents, {nbytes} bytes"
        if self._interactive:
            click.echo(f"\r\x1b[K  {line}", file=self._stream, color=True)
        else:
            self.info(line)

    def _draw(self, collection: str, documents: int) -> None:
        of = f" / {self._total}" if self._total is not None else ""
        click.echo(
            f"\r\x1b[K  {collection}: {documents}{of} documents",
            file=self._stream,
            nl=False,
            color=True,
        )
