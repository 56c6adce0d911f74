"""The list query language: client parameters -> a safe MongoDB query.

Control parameters keep the seed's names (``$limit``, ``$offset``, ``$orderby``,
``$start_date``, ``$end_date``, ``$date_type``) and add ``$count``, ``$after`` (keyset
cursor) and ``$fields``. Every other key is a filter on an allowed field, optionally with a
typed operator: ``age[gte]=18``, ``tags[in]=a,b``, ``title[eq]=exact``.

Safety: field names come from an allow-list; values are coerced to the field's type and are
always *values*, never operators (a dict value is a 400); string matching escapes the text,
so ``.`` or ``(`` match themselves. The output filter only ever contains operators chosen here.

Calendar dates (``2024-03-01``) are days in the caller's time zone (``zone``): a range bound
takes the day's first or last millisecond, and ``[eq]``/``[in]`` (or ``[ne]``/``[nin]``) on
a date field match (or exclude) the whole day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rainbond_kit.data.counting import COUNT_MODES, CountMode
from rainbond_kit.data.fields import UPDATE_TIME
from rainbond_kit.errors import BadRequestError
from rainbond_kit.query.cursor import decode_cursor
from rainbond_kit.query.spec import FieldSpec, Kind, QuerySpec
from rainbond_kit.query.spec import parameter_error as _bad
from rainbond_kit.query.values import INTEGER_TEXT, as_list, coerce, parse_date_param, values_of
from rainbond_kit.timeparse import day_range

__all__ = ["CONTROL_PARAMETERS", "ListQuery", "parse_expand", "parse_list_query"]

CONTROL_PARAMETERS = (
    "$limit", "$offset", "$orderby", "$start_date", "$end_date", "$date_type",
    "$count", "$after", "$fields", "$expand",
)  # fmt: skip
_SCALAR_OPS = {"eq": "$eq", "ne": "$ne", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
_LIST_OPS = {"in": "$in", "nin": "$nin"}
_TEXT_OPS = ("contains", "icontains", "startswith")


@dataclass(frozen=True)
class ListQuery:
    """A parsed, validated list request."""

    filter: dict[str, Any]
    sort: tuple[tuple[str, int], ...]
    limit: int
    offset: int = 0
    after: tuple[Any, ...] | None = None
    count: CountMode = "exact"
    fields: tuple[str, ...] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    #: reference fields to expand (documented names, allowed by ``QuerySpec.expandable``)
    expand: tuple[str, ...] = ()
    #: the bound of ``bounded`` counts (the resource's ``COUNT_LIMIT``)
    count_limit: int = 1000


def _default_op(spec: FieldSpec, value: Any) -> str:
    if spec.choices is not None:  # an Enum: the value itself, not a text search
        return "eq"
    if spec.kind is Kind.STRING or (spec.kind is Kind.ANY and isinstance(value, str)):
        return "contains"
    return "eq"


def _text(op: str, value: Any, name: str) -> dict[str, Any] | None:
    text = coerce(value, FieldSpec(Kind.STRING), name)
    if not text.strip():
        return None  # the seed ignores blank text filters
    pattern = ("^" if op == "startswith" else "") + re.escape(text)
    return {"$regex": pattern, "$options": "i"} if op == "icontains" else {"$regex": pattern}


def _whole_days(items: list[Any], name: str, zone: dt.tzinfo) -> list[dict[str, Any]] | None:
    """Equality with calendar dates as whole days in ``zone`` (one condition per value);
    ``None`` when no value is a calendar date."""
    try:
        days = [day_range(v, zone) if isinstance(v, str) else None for v in items]
    except BadRequestError as exc:
        raise _bad(f"{name}: {exc.description}", name) from None
    if all(d is None for d in days):
        return None
    return [
        {"$gte": d[0], "$lte": d[1]}
        if d is not None
        else {"$eq": coerce(v, FieldSpec(Kind.DATETIME), name, zone=zone)}
        for v, d in zip(items, days, strict=True)
    ]


def _condition(
    name: str, op: str | None, value: Any, spec: FieldSpec, zone: dt.tzinfo = dt.timezone.utc
) -> list[dict[str, Any]]:
    """One parameter as field conditions ``{"$op": typed value}``, *any* of which matches.

    Repeated values mean "any of" (``eq`` -> ``$in``, text and range operators -> one
    alternative each); ``ne`` and ``nin`` exclude every value ("none of"); an empty list
    means "no condition".
    """
    values = values_of(value, name)
    if not values:
        return []
    if op is None:  # each value with its field's default operator
        by_op: dict[str, list[Any]] = {}
        for v in values:
            by_op.setdefault(_default_op(spec, v), []).append(v)
        return [c for o, vs in by_op.items() for c in _condition(name, o, vs, spec, zone)]
    if spec.kind is Kind.DATETIME and op in ("eq", "ne", "in", "nin"):
        days = _whole_days(as_list(value, name) if op in _LIST_OPS else values, name, zone)
        if days is not None and op in ("eq", "in"):
            return days
        if days is not None:
            if len(days) > 1:
                raise _bad(f"{name}[{op}]: exclude one calendar date at a time", name)
            return [{"$not": days[0]}]
    if op in _LIST_OPS:
        items = as_list(value, name)
        return [{_LIST_OPS[op]: [coerce(v, spec, name, zone=zone) for v in items]}]
    if op in _SCALAR_OPS:
        end = op in ("lte", "gt")
        typed = [coerce(v, spec, name, end=end, zone=zone) for v in values]
        if len(typed) > 1 and op in ("eq", "ne"):
            return [{"$in" if op == "eq" else "$nin": typed}]
        if op == "ne":
            return [{"$ne": typed[0]}]
        return [{_SCALAR_OPS[op]: v} for v in typed]
    if op in _TEXT_OPS:
        if spec.kind not in (Kind.STRING, Kind.ANY):
            raise _bad(f"{name}[{op}]: text matching needs a string field", name)
        found = [_text(op, v, name) for v in values]
        return [c for c in found if c is not None]
    raise _bad(f"{name}: unknown operator {op!r}", name)


def _int_param(params: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool) or not (
        isinstance(raw, int) or (isinstance(raw, str) and INTEGER_TEXT.match(raw.strip()))
    ):
        raise _bad(f"{name} must be an integer", name)
    value = int(raw)
    if value < minimum:
        raise _bad(f"{name} must be >= {minimum}", name)
    return value


def _text_param(params: Mapping[str, Any], name: str) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise _bad(f"{name} must be a string", name)
    return str(raw)


def _parse_sort(text: str | None, spec: QuerySpec) -> tuple[tuple[str, int], ...]:
    if text is None:
        return spec.default_sort
    keys: list[tuple[str, int]] = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise _bad(
                f"$orderby: expected 'field asc|desc', got {part.strip()[:40]!r}", "$orderby"
            )
        name = words[0]
        if not spec.can_sort(name):
            raise _bad(
                f"$orderby: cannot sort by {name[:40]!r}; allowed: {', '.join(sorted(spec.sortable))}",
                "$orderby",
            )
        if any(key == spec.stored_name(name) for key, _ in keys):
            raise _bad(f"$orderby: {name[:40]!r} is repeated", "$orderby")
        keys.append(
            (spec.stored_name(name), -1 if len(words) == 2 and words[1].lower() == "desc" else 1)
        )
    if not keys:
        return spec.default_sort
    if all(key != "_id" for key, _ in keys):
        keys.append(("_id", keys[-1][1]))  # a unique tie-breaker keeps pages stable
    return tuple(keys)


def _add(
    conditions: dict[str, Any], extra: list[dict[str, Any]], name: str, cond: dict[str, Any]
) -> None:
    current = conditions.setdefault(name, {})
    if current.keys() & cond.keys():
        extra.append({name: cond})
    else:
        current.update(cond)


def parse_list_query(
    params: Mapping[str, Any], spec: QuerySpec, *, zone: dt.tzinfo = dt.timezone.utc
) -> ListQuery:
    """Validate ``params`` (query-string values or a JSON body) against ``spec``.

    :param zone: the time zone of calendar dates (:func:`rainbond_kit.zones.current_zone`).
    :raises BadRequestError: with the offending parameter named in ``errors``.
    """
    if not isinstance(params, Mapping):
        raise _bad("the query must be a JSON object", "query")
    limit = _int_param(params, "$limit", spec.default_limit, 1)
    if limit > spec.max_limit:
        raise _bad(f"$limit must be <= {spec.max_limit}", "$limit")
    offset = _int_param(params, "$offset", 0, 0)
    if offset > spec.max_offset:
        raise _bad(
            f"$offset must be <= {spec.max_offset}; page deeper with $after "
            "(the next cursor of the previous page)",
            "$offset",
        )
    sort = _parse_sort(_text_param(params, "$orderby"), spec)
    count_text = _text_param(params, "$count") or spec.count_mode
    if count_text not in COUNT_MODES:
        raise _bad("$count must be one of exact, estimated, bounded, none", "$count")
    count: CountMode = count_text
    after_text = _text_param(params, "$after")
    if after_text is not None and offset:
        raise _bad("$after and $offset cannot be combined", "$after")
    after = decode_cursor(after_text, sort) if after_text is not None else None

    conditions: dict[str, Any] = {}
    extra: list[dict[str, Any]] = []
    start, end = _text_param(params, "$start_date"), _text_param(params, "$end_date")
    if (start is None) != (end is None):
        missing = "$end_date" if end is None else "$start_date"
        raise _bad(f"$start_date and $end_date go together: {missing} is missing", missing)
    if start is not None and end is not None:
        date_field = _text_param(params, "$date_type") or UPDATE_TIME
        date_spec = spec.field(date_field)
        if date_spec is None or date_spec.kind not in (Kind.DATETIME, Kind.ANY):
            raise _bad(f"$date_type: {date_field[:40]!r} is not a date field", "$date_type")
        low = parse_date_param(start, "$start_date", zone=zone)
        high = parse_date_param(end, "$end_date", end=True, zone=zone)
        if low > high:
            raise _bad("$start_date is after $end_date", "$start_date")
        _add(conditions, extra, spec.stored_name(date_field), {"$gte": low, "$lte": high})

    for key, value in params.items():
        if not isinstance(key, str):
            raise _bad("parameter names must be strings", "query")
        if key.startswith("$"):
            if key not in CONTROL_PARAMETERS:
                raise _bad(f"unknown parameter {key[:40]!r}", key[:40])
            continue
        name, op = spec.filter_key(key)
        field_spec = spec.field(name)
        if field_spec is None:
            allowed = ", ".join(sorted(spec.fields)) or "none"
            raise _bad(f"cannot filter by {name[:40]!r}; allowed: {allowed}", name[:40])
        if value is None and op is None:
            continue
        stored = spec.stored_name(name)
        alternatives = _condition(name, op, value, field_spec, zone)
        if len(alternatives) == 1:
            _add(conditions, extra, stored, alternatives[0])
        elif alternatives:
            extra.append({"$or": [{stored: c} for c in alternatives]})

    mongo_filter: dict[str, Any] = dict(conditions)
    if extra:
        mongo_filter = {"$and": [mongo_filter, *extra]}
    fields = _parse_fields(_text_param(params, "$fields"), spec)
    expand = parse_expand(_text_param(params, "$expand"), spec)
    return ListQuery(
        mongo_filter, sort, limit, offset, after, count, fields, params,
        expand=expand, count_limit=spec.count_limit,
    )  # fmt: skip


def parse_expand(text: str | None, spec: QuerySpec) -> tuple[str, ...]:
    """``$expand=a,b``: reference fields to expand; a name not in ``spec.expandable`` is a 400."""
    if text is None:
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in spec.expandable]
    if unknown:
        allowed = ", ".join(sorted(spec.expandable)) or "none"
        raise _bad(f"$expand: cannot expand {unknown[0][:40]!r}; allowed: {allowed}", "$expand")
    return names


def _parse_fields(text: str | None, spec: QuerySpec) -> tuple[str, ...] | None:
    if text is None:
        return None
    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if not spec.can_project(n)]
    if unknown:
        raise _bad(f"$fields: unknown field {unknown[0][:40]!r}", "$fields")
    return tuple(spec.stored_name(n) for n in names)
