"""A list request end to end: the repository's page, the wire cursor, the body and headers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from rainbond_kit.data.fields import stored_name
from rainbond_kit.data.repository import MongoRepository, Page
from rainbond_kit.query import ListQuery, encode_cursor

__all__ = ["fetch_page", "list_body", "list_headers", "next_cursor"]


def fetch_page(
    repository: MongoRepository,
    query: ListQuery,
    *,
    scope: Mapping[str, Any] | None = None,
    projection: Sequence[str] | None = None,
) -> Page:
    """Run a parsed list query; ``scope`` (server-side) is ANDed in; ``$fields`` beats
    ``projection``."""
    fields = query.fields if query.fields is not None else projection
    return repository.page(
        query.filter,
        sort=query.sort,
        limit=query.limit,
        offset=query.offset,
        after=query.after,
        count=query.count,
        count_limit=query.count_limit,
        projection=None if fields is None else [stored_name(f) for f in fields],
        scope=scope,
    )


def next_cursor(query: ListQuery, page: Page) -> str | None:
    """The ``$after`` value of the next page, or ``None`` on the last page."""
    if page.last_sort_values is None:
        return None
    return encode_cursor(page.last_sort_values, query.sort)


def list_body(query: ListQuery, page: Page, *, with_next: bool = True) -> dict[str, Any]:
    """The list body ``{total, items, dummy_remove, next}`` (compat: without ``next``)."""
    body: dict[str, Any] = {
        "total": page.total,
        "items": page.items,
        "dummy_remove": page.dummy_remove,
    }
    if with_next:
        body["next"] = next_cursor(query, page)
    return body


def list_headers(query: ListQuery, page: Page, url: str | None) -> dict[str, str]:
    """``X-Total-Count``, ``X-Total-Count-Strategy`` and ``Link`` (rel next/prev) for a list
    response (``bounded``: ``X-Total-Count`` is a lower bound, "at least").

    :param url: the ``GET`` list URL the links point to (every query parameter repeated,
        from a query string or a ``/search`` body); ``None``: no links.
    """
    headers: dict[str, str] = {"X-Total-Count-Strategy": page.count_strategy}
    if page.total is not None:
        headers["X-Total-Count"] = str(page.total)
    links = _links(query, page, url) if url is not None else []
    if links:
        headers["Link"] = ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links)
    return headers


def _query_string_values(value: Any) -> list[str]:
    """A parameter's values as query-string texts (a JSON body's lists repeat the key)."""
    values = value if isinstance(value, list) else [value]
    return [
        ("true" if v else "false") if isinstance(v, bool) else str(v)
        for v in values
        if v is not None
    ]


def _links(query: ListQuery, page: Page, url: str) -> list[tuple[str, str]]:
    cursor = next_cursor(query, page)
    if cursor is None and not query.offset:
        return []
    params = [
        (key, text)
        for key, value in query.params.items()
        if key not in ("$offset", "$after")
        for text in _query_string_values(value)
    ]
    # the parameters every link repeats are encoded once; each link appends its own
    common = f"{url}?{urlencode(params)}{'&' if params else ''}"
    links: list[tuple[str, str]] = []
    if cursor is not None:
        if query.after is not None or not query.offset:
            links.append(("next", common + urlencode({"$after": cursor})))
        else:
            links.append(("next", common + urlencode({"$offset": query.offset + query.limit})))
    if query.offset:
        links.append(("prev", common + urlencode({"$offset": max(0, query.offset - query.limit)})))
    return links
