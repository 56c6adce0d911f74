"""The baseline: a hand-written Flask + pymongo books list endpoint doing the same work.

``GET /api/v1/books?author=<text>&$limit=20&$offset=5&$orderby=title asc`` returns the seed's
body ``{"total", "items", "dummy_remove"}``: an escaped *contains* regex on ``author``,
soft-deleted documents excluded, sorted (with ``_id`` as tie-breaker, as rainbond-kit does),
skipped, limited, counted, and the soft-deleted documents counted (without the filter) for ``dummy_remove``; ``_id``
becomes ``id`` and datetimes become epoch milliseconds. Bad numbers are a 400. Nothing else:
no schema, no OpenAPI, no cursor, no Link header; this is the floor a framework is measured
against.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pymongo
from flask import Flask, abort, jsonify, request

__all__ = ["create_app"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_SORTABLE = {"title", "author", "year", "creation_time", "update_time", "id"}


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(doc.pop("_id"))}
    for key, value in doc.items():
        if isinstance(value, dt.datetime):
            value = (value - _EPOCH) // dt.timedelta(milliseconds=1)
        out[key] = value
    return out


def _int(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        abort(400)
    if value < 0:
        abort(400)
    return value


def _sort() -> list[tuple[str, int]]:
    keys = []
    for part in request.args.get("$orderby", "").split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in _SORTABLE:
            abort(400)
        name = "_id" if words[0] == "id" else words[0]
        keys.append((name, -1 if len(words) > 1 and words[1].lower() == "desc" else 1))
    if all(k != "_id" for k, _ in keys):
        keys.append(("_id", keys[-1][1] if keys else 1))
    return keys


def create_app(uri: str, database: str) -> Flask:
    """The baseline app; its client is closed by ``app.extensions["bench_client"].close()``."""
    app = Flask("handwritten")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # as rainbond-kit
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(uri, tz_aware=True)
    app.extensions["bench_client"] = client
    books = client[database]["books"]

    @app.get("/api/v1/books")
    def list_books() -> Any:
        limit = min(_int("$limit", 10), 100) or 10
        offset = _int("$offset", 0)
        base: dict[str, Any] = {}
        author = request.args.get("author")
        if author:
            base["author"] = {"$regex": re.escape(author)}
        live = {**base, "remove_time": {"$exists": False}}
        cursor = books.find(live).sort(_sort()).skip(offset).limit(limit)
        items = [_public(d) for d in cursor]
        total = books.count_documents(live)
        dummy = books.count_documents({"remove_time": {"$exists": True}})  # filter not applied
        return jsonify(total=total, items=items, dummy_remove=dummy)

    return app
