"""One page of a collection: filter, sort, offset or keyset position, count mode, projection.

Knows MongoDB only: the caller (the resource layer) parses the client's query and encodes
the wire cursor from :attr:`Page.last_sort_values`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bson import Decimal128, ObjectId, Regex, Timestamp
from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from rainbond_kit.data.counting import CountMode, CountStrategy, count_matches
from rainbond_kit.data.documents import to_public
from rainbond_kit.data.fields import STORED_ID

__all__ = ["CountMode", "Page", "PagingMixin", "keyset_filter"]

Doc = dict[str, Any]
Sort = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Page:
    """One page of a list query.

    ``last_sort_values`` (the last item's values of the sort fields, by stored name) is
    set only when more documents follow: the position a keyset cursor continues from.
    """

    items: list[Doc]
    total: int | None
    dummy_remove: int | None
    last_sort_values: dict[str, Any] | None
    has_more: bool
    #: what answered ``total`` (:mod:`rainbond_kit.data.counting`; ``bounded``: at least)
    count_strategy: CountStrategy = "exact"


#: MongoDB's cross-type sort order, as ``$type`` names, lowest first
_BRACKETS: tuple[tuple[str, ...], ...] = (
    ("minKey",), ("null",), ("int", "long", "double", "decimal"), ("string", "symbol"),
    ("object",), ("array",), ("binData",), ("objectId",), ("bool",), ("date",),
    ("timestamp",), ("regex",), ("maxKey",),
)  # fmt: skip
_BRACKET_OF: tuple[tuple[type, int], ...] = (
    (bool, 8), (int, 2), (float, 2), (Decimal128, 2), (str, 3), (Mapping, 4), (list, 5),
    (bytes, 6), (ObjectId, 7), (dt.datetime, 9), (Timestamp, 10), (Regex, 11),
)  # fmt: skip


def _bracket(value: Any) -> int:
    """The position of ``value``'s type in MongoDB's cross-type sort order."""
    for kind, rank in _BRACKET_OF:
        if isinstance(value, kind):
            return rank
    raise TypeError(f"no sort position for {type(value).__name__}")


#: NaN in both numeric types that hold it (equal to each other in MongoDB's order)
_NANS = (math.nan, Decimal128("NaN"))


def _is_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, Decimal128) and value.to_decimal().is_nan()


def _after(name: str, direction: int, value: Any) -> dict[str, Any] | None:
    """The condition 'field ``name`` sorts strictly after ``value``' (``None``: nothing does).

    A comparison operator only matches values of its own type bracket (``$gt: 5`` never
    matches a string), so the values of the brackets that sort after ``value``'s come in
    with ``$type``: a walk over a field holding several BSON types sees every document.
    Missing and null values sort first ascending and last descending. NaN sorts below every
    other number but no comparison matches it (``$gt: NaN`` matches no number, ``$lt: 1``
    no NaN): after a NaN come the numbers ``>= -Infinity``; after another number, descending,
    the NaNs too.
    """
    if value is None:
        return {name: {"$ne": None}} if direction == 1 else None
    rank = _bracket(value)
    nan = _is_nan(value)
    if direction == 1:
        later = [t for bracket in _BRACKETS[rank + 1 :] for t in bracket]
        after = {"$gte": -math.inf} if nan else {"$gt": value}
        return {"$or": [{name: after}, {name: {"$type": later}}]}
    earlier = [t for bracket in _BRACKETS[2:rank] for t in bracket]
    branches: list[dict[str, Any]] = [{name: {"$lt": value}}, {name: None}]
    if earlier:
        branches.insert(1, {name: {"$type": earlier}})
    if rank == 2 and not nan:
        branches.insert(1, {name: {"$in": list(_NANS)}})
    return {"$or": branches}


def keyset_filter(sort: Sort, values: Sequence[Any]) -> dict[str, Any]:
    """The filter selecting documents strictly after ``values`` in ``sort`` order.

    Follows MongoDB's sort order across BSON types (numbers of every type compare by value).
    """
    branches: list[dict[str, Any]] = []
    for i, (name, direction) in enumerate(sort):
        prefix = {f: values[j] for j, (f, _) in enumerate(sort[:i])}
        after = _after(name, direction, values[i])
        if after is not None:
            branches.append({**prefix, **after})
    return {"$or": branches} if branches else {STORED_ID: {"$exists": False}}


class _Pageable(Protocol):
    """What :class:`PagingMixin` needs of the repository it is mixed into."""

    @property
    def collection(self) -> Collection[Doc]: ...

    @property
    def uses_soft_delete(self) -> bool: ...

    @property
    def max_time_ms(self) -> int | None: ...

    def normalize(self, filter: Mapping[str, Any] | None) -> Doc: ...

    def live(self, filter: Mapping[str, Any] | None, include_deleted: bool = False) -> Doc: ...

    def errors(self, operation: str | None = None) -> contextlib.AbstractContextManager[None]: ...


class PagingMixin:
    """``page()`` for :class:`~rainbond_kit.data.repository.MongoRepository`."""

    def page(
        self: _Pageable,
        filter: Mapping[str, Any] | None = None,
        *,
        sort: Sequence[tuple[str, int]] = ((STORED_ID, 1),),
        limit: int = 10,
        offset: int = 0,
        after: Sequence[Any] | None = None,
        count: CountMode = "exact",
        projection: Sequence[str] | None = None,
        scope: Mapping[str, Any] | None = None,
        count_limit: int = 1000,
        session: ClientSession | None = None,
    ) -> Page:
        """One page of live documents matching ``filter`` (and ``scope``, ANDed in).

        :param sort: stored field names and directions; end with a unique field (``_id``)
            for a stable order.
        :param after: the previous page's :attr:`Page.last_sort_values` (in ``sort`` order):
            a keyset position, constant cost however deep; else ``offset`` skips.
        :param count: ``exact``, ``estimated``, ``bounded`` or ``none``
            (:mod:`rainbond_kit.data.counting`); ``count_limit`` bounds ``bounded``.
        :param projection: stored fields to return (``_id`` always comes back).
        :param session: read inside that session's transaction (its own writes included);
            ``estimated`` then counts ``bounded`` (no metadata count in a transaction).
        """
        return _run_page(
            self, filter or {}, tuple(sort), limit, offset, after, (count, count_limit),
            projection, scope, session,
        )  # fmt: skip


def _run_page(
    repository: _Pageable,
    filter: Mapping[str, Any],
    sort: Sort,
    limit: int,
    offset: int,
    after: Sequence[Any] | None,
    count: tuple[CountMode, int],
    projection: Sequence[str] | None,
    scope: Mapping[str, Any] | None,
    session: ClientSession | None,
) -> Page:
    base = repository.normalize(filter)
    scoped = repository.normalize(scope) if scope else {}
    if scoped:
        base = {"$and": [base, scoped]} if base else scoped
    live = repository.live(base)
    find_filter = {"$and": [live, keyset_filter(sort, after)]} if after is not None else live
    fetch = None
    if projection is not None:
        fetch = dict.fromkeys([*projection, *(f for f, _ in sort)], 1)
    collection = repository.collection
    with repository.errors("find"):
        cursor = collection.find(
            find_filter, fetch, max_time_ms=repository.max_time_ms, session=session
        )
        docs = list(cursor.sort(list(sort)).skip(offset).limit(limit + 1))
    has_more = len(docs) > limit
    docs = docs[:limit]
    # an offset page that is not full and not past the end has seen the last match
    seen_all = after is None and not has_more and (docs or not offset)
    with repository.errors("count"):
        counts = count_matches(
            collection, count[0], live=live, scope=scoped, filtered=bool(base),
            soft_delete=repository.uses_soft_delete, limit=count[1],
            max_time_ms=repository.max_time_ms, session=session,
            known_total=offset + len(docs) if seen_all else None,
        )  # fmt: skip
    last = {f: docs[-1].get(f) for f, _ in sort} if has_more and docs else None
    if projection is not None:
        keep = {STORED_ID, *projection}
        if any(f not in keep for f, _ in sort):  # drop sort keys fetched for the cursor
            docs = [{k: v for k, v in d.items() if k in keep} for d in docs]
    return Page(
        [to_public(d) for d in docs], counts.total, counts.dummy_remove, last, has_more,
        counts.strategy,
    )  # fmt: skip
