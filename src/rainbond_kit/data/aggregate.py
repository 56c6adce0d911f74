"""Aggregations that never see deleted or foreign documents.

:meth:`AggregateMixin.aggregate` puts one ``$match`` in front of the caller's pipeline: the
live condition (not soft-deleted) AND the scope (row-level rules, a tenant), so a report's
``$group``/``$count`` only ever sees what a list would return::

    repository.aggregate(
        [{"$group": {"_id": "$status", "total": {"$sum": "$amount"}}}], scope=scope
    )

The rest of the pipeline is server code and runs as written: a ``$lookup`` or ``$unionWith``
reads its other collection **without** these filters (add them to its own pipeline), and
stages that must come first (``$geoNear``, ``$search``) cannot be used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from rainbond_kit.data.documents import to_public
from rainbond_kit.data.filters import live_filter, normalize_filter

__all__ = ["AggregateMixin", "scoped_match"]

Doc = dict[str, Any]


class _Repository(Protocol):
    collection: Collection[Doc]

    def commands(self, session: ClientSession | None = None) -> dict[str, Any]: ...

    def errors(self, operation: str | None = None) -> contextlib.AbstractContextManager[None]: ...


def scoped_match(scope: Mapping[str, Any] | None, *, include_deleted: bool = False) -> Doc:
    """The ``$match`` stage put first: live documents (unless ``include_deleted``) in ``scope``."""
    query = normalize_filter(scope)
    return {"$match": query if include_deleted else live_filter(query)}


class AggregateMixin:
    """``aggregate`` of :class:`MongoRepository`."""

    def aggregate(
        self,
        pipeline: Sequence[Mapping[str, Any]],
        *,
        scope: Mapping[str, Any] | None = None,
        include_deleted: bool = False,
        raw: bool = False,
        session: ClientSession | None = None,
    ) -> list[Doc]:
        """Run ``pipeline`` over the live documents within ``scope`` (see the module docstring).

        :param raw: return the documents as BSON decoded them (``Decimal128``, ``datetime``);
            default: the public form (``_id`` as ``id``, dates as epoch milliseconds,
            ``Decimal128`` as its exact text).
        :raises TypeError: ``pipeline`` is not a list of stages.
        """
        if isinstance(pipeline, str | bytes) or not all(isinstance(s, Mapping) for s in pipeline):
            raise TypeError("pipeline must be a list of stage documents")
        repo: _Repository = self  # type: ignore[assignment]
        stages = [scoped_match(scope, include_deleted=include_deleted), *map(dict, pipeline)]
        with repo.errors("aggregate"):
            docs = list(repo.collection.aggregate(stages, **repo.commands(session)))
        return docs if raw else [to_public(d) for d in docs]
