"""Eve serving the same ``books`` collection, configured like the sample app (for comparison).

Defaults kept (HATEOAS links, ETags, pagination with ``_meta.total``); the differences from
Eve's defaults are only what the same data and query need: the collection's own timestamp
fields, the soft-delete filter (``remove_time`` absent) as the datasource filter, and
``$regex`` allowed in ``where`` so the *contains* filter on ``author`` is the same query.
Eve has no ``dummy_remove``, so it sends one query fewer per request than the other two.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["create_app", "eve_query"]


def create_app(uri: str, database: str) -> Any:
    """An Eve app over ``database.books`` (Eve is the optional ``bench`` extra)."""
    from eve import Eve

    settings: dict[str, Any] = {
        "MONGO_URI": f"{uri.rstrip('/')}/{database}",
        "MONGO_QUERY_BLACKLIST": ["$where"],  # default also blocks $regex
        "DATE_CREATED": "creation_time",
        "LAST_UPDATED": "update_time",
        "PAGINATION_LIMIT": 100,
        "URL_PREFIX": "api/v1",
        "DOMAIN": {
            "books": {
                "datasource": {"source": "books", "filter": {"remove_time": {"$exists": False}}},
                "pagination": True,
                "schema": {
                    "title": {"type": "string", "minlength": 1, "maxlength": 200, "required": True},
                    "author": {
                        "type": "string",
                        "minlength": 1,
                        "maxlength": 100,
                        "required": True,
                    },
                    "year": {"type": "integer", "min": 0, "max": 3000},
                    "tags": {"type": "list", "schema": {"type": "string", "maxlength": 50}},
                },
            }
        },
    }
    return Eve(settings=settings)


def eve_query(author: str, *, limit: int, page: int) -> str:
    """The Eve query string equivalent to ``author=..&$limit=..&$offset=..&$orderby=title asc``."""
    from urllib.parse import urlencode

    where = json.dumps({"author": {"$regex": re.escape(author)}})
    return urlencode(
        {"where": where, "sort": "title,_id", "max_results": str(limit), "page": str(page)}
    )
