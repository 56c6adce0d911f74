"""The list query language: client parameters -> a safe MongoDB query, and wire cursors.

``spec`` (what a resource allows), ``parse`` (``parse_list_query`` -> ``ListQuery``),
``cursor`` (the opaque ``$after`` values).
"""

from rainbond_kit.query.cursor import decode_cursor, encode_cursor
from rainbond_kit.query.parse import CONTROL_PARAMETERS, ListQuery, parse_list_query
from rainbond_kit.query.spec import FieldSpec, Kind, QuerySpec

__all__ = [
    "CONTROL_PARAMETERS",
    "FieldSpec",
    "Kind",
    "ListQuery",
    "QuerySpec",
    "decode_cursor",
    "encode_cursor",
    "parse_list_query",
]
