"""The list query language as OpenAPI: one query parameter per filter and operator, the
control parameters, and ``/search``'s request body, all read from the resource's ``QuerySpec``.

The same spec parses the requests (:func:`rainbond_kit.query.parse_list_query`), so what the
document offers is what the server accepts: ``year``, ``year[gte]``, ``tags[in]`` ... each
typed, so Swagger UI can fill them in and generated clients get typed arguments.
"""

from __future__ import annotations

from typing import Any

from rainbond_kit.data.counting import COUNT_MODES
from rainbond_kit.data.fields import UPDATE_TIME
from rainbond_kit.i18n import DocText
from rainbond_kit.query import FieldSpec, Kind, QuerySpec
from rainbond_kit.query.values import MAX_LIST_LENGTH, MAX_VALUE_LENGTH

__all__ = [
    "LIST_HELP",
    "control_parameters",
    "expand_parameters",
    "filter_operators",
    "list_parameters",
    "search_body",
]

_DATE_HELP = DocText("a date (`2020-10-1`, `2020-10-01 08:30:00`) or a 10/13-digit Unix timestamp")
_VALUE_SCHEMAS: dict[Kind, dict[str, Any]] = {
    Kind.STRING: {"type": "string", "maxLength": MAX_VALUE_LENGTH},
    Kind.INTEGER: {"type": "integer", "format": "int64"},
    Kind.NUMBER: {"type": "number"},
    Kind.DECIMAL: {"type": "number", "description": DocText("compared exactly (Decimal128)")},
    Kind.BOOLEAN: {"type": "boolean"},
    Kind.DATETIME: {"type": "string", "description": _DATE_HELP},
    Kind.OBJECTID: {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"},
}
_RANGE = ("gt", "gte", "lt", "lte")
#: operators documented per kind (the parser accepts these; text matching needs a string)
_OPERATORS: dict[Kind, tuple[str, ...]] = {
    Kind.STRING: ("eq", "ne", "in", "nin", "contains", "icontains", "startswith"),
    Kind.INTEGER: ("ne", *_RANGE, "in", "nin"),
    Kind.NUMBER: ("ne", *_RANGE, "in", "nin"),
    Kind.DECIMAL: ("ne", *_RANGE, "in", "nin"),
    Kind.DATETIME: ("ne", *_RANGE, "in", "nin"),
    Kind.BOOLEAN: ("ne",),
    Kind.OBJECTID: ("ne", "in", "nin"),
}
_OPERATOR_HELP = {
    None: DocText("equals"),
    "eq": DocText("equals"),
    "ne": DocText("does not equal"),
    "gt": DocText("greater than"),
    "gte": DocText("at least"),
    "lt": DocText("less than"),
    "lte": DocText("at most"),
    "in": DocText("any of (comma-separated or repeated)"),
    "nin": DocText("none of (comma-separated or repeated)"),
    "contains": DocText("contains the text (literal, case-sensitive)"),
    "icontains": DocText("contains the text, ignoring case"),
    "startswith": DocText("starts with the text"),
}

LIST_HELP = DocText("""Filters: `field=value` (text fields: literal *contains*, case-sensitive; other
fields: equals) and `field[op]=value`, each documented below with its type. List fields match
any element. Paging: `$limit`, then either `$offset` or `$after` with the `next` cursor of the
previous page (constant cost however deep). `$orderby=field desc,other asc`;
`$start_date`/`$end_date` (together) over `$date_type` (calendar days in the server's time
zone); `$count=exact|estimated|bounded|none`; `$fields=a,b` projection. Headers:
`X-Total-Count` (unless `$count=none`), `X-Total-Count-Strategy`, `Link` (rel next/prev).""")


def filter_operators(kind: Kind, *, choices: bool = False) -> tuple[str | None, ...]:
    """The filter forms documented for a field of ``kind``: ``None`` is the bare ``field=``;
    a field with ``choices`` (an ``Enum``) is matched by value only."""
    if choices:
        return (None, "ne", "in", "nin")
    return (None, *_OPERATORS.get(kind, ()))


def _param_name(field: str, op: str | None) -> str:
    return field if op is None else f"{field}[{op}]"


def _value_schema(fspec: FieldSpec, op: str | None, *, query: bool) -> dict[str, Any]:
    value = dict(_VALUE_SCHEMAS[fspec.kind])
    if fspec.choices is not None:
        value["enum"] = list(fspec.choices)
    if op in ("contains", "icontains", "startswith"):
        value = dict(_VALUE_SCHEMAS[Kind.STRING])
    if op in ("in", "nin"):
        return {"type": "array", "items": value, "maxItems": MAX_LIST_LENGTH}
    if not query and op is None:  # a JSON list for a bare field means "any of"
        return {"anyOf": [value, {"type": "array", "items": value, "maxItems": MAX_LIST_LENGTH}]}
    return value


def _help(field: str, fspec: FieldSpec, op: str | None) -> DocText:
    text = op is None and fspec.kind is Kind.STRING and fspec.choices is None
    what = _OPERATOR_HELP["contains" if text else op]
    if fspec.many:
        return DocText("filter: an element of `{field}` {what}", field=field, what=what)
    return DocText("filter: `{field}` {what}", field=field, what=what)


_COUNT_HELP = (
    "how to count `total` (the header `X-Total-Count-Strategy` says which answered): `exact`; "
    "`bounded` stops at {limit} (`total` {limit} with strategy `bounded` means at least {limit}); "
    "`estimated` reads the collection's metadata when there is no filter (soft-deleted "
    "documents included, `dummy_remove` null), else counts `bounded`; `none` (`total` null)"
)


def control_parameters(spec: QuerySpec) -> list[dict[str, Any]]:
    """``$limit``, ``$offset``, ``$after``, ``$orderby``, date range, ``$count``, ``$fields``."""
    orders = [
        f"{name}{suffix}" for name in sorted(spec.sortable) for suffix in ("", " asc", " desc")
    ]
    dates = sorted(n for n, s in spec.fields.items() if s.kind is Kind.DATETIME)
    return [
        _query("$limit", {"type": "integer", "minimum": 1, "maximum": spec.max_limit,
                          "default": spec.default_limit}, DocText("page size (at most {limit})", limit=spec.max_limit)),
        _query("$offset", {"type": "integer", "minimum": 0, "maximum": spec.max_offset,
                           "default": 0},
               DocText("documents to skip (not with `$after`; at most {limit}: deeper pages "
                       "follow `next` with `$after`)", limit=spec.max_offset)),
        _query("$after", {"type": "string"},
               DocText("the `next` cursor of the previous page (keyset paging; not with `$offset`)")),
        _query("$orderby", {"type": "string", "enum": orders} if orders else {"type": "string"},
               DocText("sort key; several as `field desc,other asc`")),
        _query("$start_date", {"type": "string"}, DocText("range start, with `$end_date`: {date}", date=_DATE_HELP)),
        _query("$end_date", {"type": "string"},
               DocText("range end, with `$start_date`; a date includes its whole day")),
        _query("$date_type", {"type": "string", "enum": dates, "default": UPDATE_TIME},
               DocText("the date field of the range")),
        _query("$count", {"type": "string", "enum": list(COUNT_MODES),
                          "default": spec.count_mode}, DocText(_COUNT_HELP, limit=spec.count_limit)),
        _query("$fields", {"type": "string"},
               DocText("comma-separated projection; allowed: {fields}",
                       fields=", ".join(sorted(spec.projectable)))),
        *expand_parameters(spec),
    ]  # fmt: skip


def expand_parameters(spec: QuerySpec) -> list[dict[str, Any]]:
    """``$expand``, documented only on a resource with reference fields."""
    if not spec.expandable:
        return []
    names = ", ".join(sorted(spec.expandable))
    return [
        _query(
            "$expand",
            {"type": "string"},
            DocText(
                "comma-separated reference fields to replace by the referenced document: {names}. "
                "A reference that is deleted or outside your scope stays its id (a string).",
                names=names,
            ),
        )
    ]


def filter_parameters(spec: QuerySpec) -> list[dict[str, Any]]:
    """One typed query parameter per allowed field and operator."""
    params: list[dict[str, Any]] = []
    for field, fspec in sorted(spec.fields.items()):
        if field in spec.hidden or fspec.kind not in _VALUE_SCHEMAS:
            continue
        for op in filter_operators(fspec.kind, choices=fspec.choices is not None):
            param = _query(
                _param_name(field, op),
                _value_schema(fspec, op, query=True),
                _help(field, fspec, op),
            )
            if op in ("in", "nin"):
                param.update(style="form", explode=False)
            params.append(param)
    return params


def list_parameters(spec: QuerySpec) -> list[dict[str, Any]]:
    """Every query parameter of a list operation: control parameters, then the filters."""
    return [*control_parameters(spec), *filter_parameters(spec)]


def search_body(spec: QuerySpec) -> dict[str, Any]:
    """The JSON schema of ``POST /search``: the GET parameters as one typed object."""
    properties: dict[str, Any] = {}
    for param in control_parameters(spec):
        schema = dict(param["schema"])
        schema["description"] = param["description"]
        properties[param["name"]] = schema
    for field, fspec in sorted(spec.fields.items()):
        if field in spec.hidden or fspec.kind not in _VALUE_SCHEMAS:
            continue
        for op in filter_operators(fspec.kind, choices=fspec.choices is not None):
            schema = _value_schema(fspec, op, query=False)
            properties[_param_name(field, op)] = {
                **schema,
                "description": _help(field, fspec, op),
            }
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "description": DocText(
            "The list query language as one JSON object: the GET parameters' names; "
            "JSON lists for `in`/`nin` (or a bare field: any of)."
        ),
    }


def _query(name: str, schema: dict[str, Any], description: DocText) -> dict[str, Any]:
    return {
        "in": "query",
        "name": name,
        "required": False,
        "schema": schema,
        "description": description,
    }
