"""How a list counts its matches: ``exact``, ``estimated``, ``bounded`` or ``none``.

What each mode reports (``total``, ``dummy_remove`` and the strategy that answered, sent as
``X-Total-Count-Strategy``):

* ``exact``: ``total`` counts the live documents matching the filter and scope;
  ``dummy_remove`` counts the soft-deleted documents within the scope (the client's filter is
  left out: it would make the count an oracle for the contents of deleted documents). Both
  read every match: cost grows with the matches.
* ``bounded``: the same two counts, each stopped after ``limit + 1`` matches. A count above
  ``limit`` is reported as ``limit`` with the strategy ``bounded``, meaning "at least
  ``limit``"; a count that stays within the bound is exact and says ``exact``.
* ``estimated``: without a filter and a scope, ``total`` is the collection's document count
  from its metadata (``estimated_document_count``: no document is read on MongoDB; soft-deleted
  documents are included, so it is an upper bound of the live ones) and ``dummy_remove`` is
  ``None`` (not counted; ``0`` for a resource without soft delete). With a filter or a scope metadata cannot answer: the list counts
  ``bounded`` instead and says so.
* ``none``: nothing is counted; ``total`` and ``dummy_remove`` are ``None``.

In ``exact`` and ``bounded`` a list whose page already holds the last match (an offset page
that is not full and not past the end) knows its ``total`` without a count: ``offset`` plus
the documents on the page. Only ``dummy_remove`` is counted then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from rainbond_kit.data.fields import REMOVE_TIME

__all__ = ["COUNT_MODES", "CountMode", "CountStrategy", "Counts", "count_matches"]

#: What a client or a resource may ask for.
CountMode = Literal["exact", "estimated", "bounded", "none"]
#: What answered (``bounded``: ``total`` is a lower bound).
CountStrategy = Literal["exact", "estimated", "bounded", "none"]
COUNT_MODES: tuple[CountMode, ...] = ("exact", "estimated", "bounded", "none")

Doc = dict[str, Any]


@dataclass(frozen=True)
class Counts:
    """A list's counts and the strategy that produced ``total``."""

    total: int | None
    dummy_remove: int | None
    strategy: CountStrategy


def _bounded(
    collection: Collection[Doc],
    query: Mapping[str, Any],
    limit: int | None,
    timed: Mapping[str, Any],
) -> tuple[int, bool]:
    """``(count, capped)``: at most ``limit`` (``None``: no bound); ``capped`` when more match."""
    if limit is None:
        return collection.count_documents(query, **timed), False
    found = collection.count_documents(query, limit=limit + 1, **timed)
    return min(found, limit), found > limit


def count_matches(
    collection: Collection[Doc],
    mode: CountMode,
    *,
    live: Mapping[str, Any],
    scope: Mapping[str, Any],
    filtered: bool,
    soft_delete: bool,
    limit: int,
    max_time_ms: int | None = None,
    session: ClientSession | None = None,
    known_total: int | None = None,
) -> Counts:
    """Count a list's matches as ``mode`` says (see the module's description).

    :param live: the list's filter with the scope ANDed in, restricted to live documents.
    :param scope: the server-side scope alone (``dummy_remove`` counts within it).
    :param filtered: whether the list has a filter or a scope (``estimated`` then falls back).
    :param limit: the bound of ``bounded`` counts (and of ``estimated``'s fallback).
    :param max_time_ms: the server-side time limit of each count.
    :param session: count inside that session's transaction (``estimated`` then counts
        ``bounded``: a transaction cannot read the collection's metadata).
    :param known_total: the live matches, when the page showed them all (not counted again in
        ``exact`` and ``bounded``).
    """
    if mode == "none":
        return Counts(None, None, "none")
    timed: dict[str, Any] = {} if max_time_ms is None else {"maxTimeMS": max_time_ms}
    if session is not None:
        timed["session"] = session
    if mode == "estimated" and not filtered and session is None:
        total = collection.estimated_document_count(**timed)
        return Counts(total, None if soft_delete else 0, "estimated")
    bound = None if mode == "exact" else limit
    if known_total is not None and (bound is None or known_total <= bound):
        total, capped = known_total, False
    else:
        total, capped = _bounded(collection, live, bound, timed)
    dummy = 0
    if soft_delete:
        dummy, _ = _bounded(collection, {**scope, REMOVE_TIME: {"$exists": True}}, bound, timed)
    return Counts(total, dummy, "bounded" if capped else "exact")
