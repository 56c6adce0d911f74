"""How a generated resource describes itself in the OpenAPI document.

``document_operations`` runs once in ``ResourceView.register`` on the freshly generated verbs
and writes flask-smorest's doc attribute directly (no wrapper, nothing per request):

- a summary and description per operation, from the resource's docstring and schema;
- a stable, unique ``operationId`` (``listBooks``, ``createBook``, ``getBook``,
  ``replaceBook``, ``updateBook``, ``deleteBook``, ``searchBooks``, ``batchBooks``);
- the list language as typed query parameters, ``/search``'s typed body (``querydocs``);
- the response headers each operation sends (``X-Total-Count``, ``Link``, ``Location``,
  ``ETag``, ``X-RateLimit-*``) and ``If-Match`` on ETag resources.

``ResourceView.DOCS`` overrides any of it per operation, e.g.
``DOCS = {"list": {"summary": "Browse the catalogue"}}``.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import marshmallow as ma

from rainbond_kit.data.counting import COUNT_MODES
from rainbond_kit.i18n import DocText
from rainbond_kit.idempotency import METHODS as IDEMPOTENT_METHODS
from rainbond_kit.query import QuerySpec
from rainbond_kit.resource.querydocs import (
    LIST_HELP,
    expand_parameters,
    list_parameters,
    search_body,
)

if TYPE_CHECKING:
    from rainbond_kit.resource.view import ResourceView

__all__ = ["document_action", "document_operations", "resource_nouns"]

_HEADER_INT = {"type": "integer", "minimum": 0}
_RATE_HEADERS = {
    "X-RateLimit-Limit": (DocText("requests allowed per window"), _HEADER_INT),
    "X-RateLimit-Remaining": (DocText("requests left in the current window"), _HEADER_INT),
    "X-RateLimit-Reset": (DocText("when the window resets (Unix seconds)"), _HEADER_INT),
}
_ETAG = (DocText("the document's version; send it back in `If-Match`"), {"type": "string"})
_IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": DocText(
        "Write only if the document is still at this version (an `ETag` from a read "
        "or a write; `*` matches any); otherwise 412 and nothing is written."
    ),
}

_IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": DocText(
        "The `ETag` of a copy you hold: when it is still current the answer is 304 without a body."
    ),
}

_IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": DocText(
        "Make retries safe: the first response to this key (per caller) is kept and "
        "replayed to a retry (`Idempotent-Replayed: true`) without running the write again; the "
        "same key with another request is 422, a retry while the first still runs waits, then 409."
    ),
}
_CREATE_IF_ABSENT = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string", "enum": ["*"]},
    "description": DocText(
        "`*`: create the document at this id if there is none (201; 404 when the "
        "resource does not create); 412 if there is one, and nothing is replaced."
    ),
}


def resource_nouns(cls: type[ResourceView], name: str) -> tuple[str, str]:
    """``(singular, plural)`` of a resource in CamelCase: ``ITEM_NAME`` or ``name`` minus its s."""
    if cls.ITEM_NAME:
        return cls.ITEM_NAME, name
    if name.endswith("ies"):
        return name[:-3] + "y", name
    if name.endswith("s") and not name.endswith("ss"):
        return name[:-1], name
    return name, name


def _words(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", camel).lower()


def _intro(cls: type[ResourceView]) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.split("\n\n", 1)[0].strip()


def _fields_help(schema: type[ma.Schema], then: DocText | str = "") -> DocText | str:
    """``Required: `a`. Optional: `b`.``, then ``then`` (the rest of the description)."""
    loaded = [(n, f) for n, f in schema().fields.items() if not f.dump_only]
    required = ", ".join(f"`{f.data_key or n}`" for n, f in loaded if f.required)
    optional = ", ".join(f"`{f.data_key or n}`" for n, f in loaded if not f.required)
    if required and optional:
        return DocText(
            "Required: {required}. Optional: {optional}.{then}",
            required=required, optional=optional, then=then,
        )  # fmt: skip
    if required:
        return DocText("Required: {required}.{then}", required=required, then=then)
    if optional:
        return DocText("Optional: {optional}.{then}", optional=optional, then=then)
    return then


def _operation_texts(
    cls: type[ResourceView], name: str, spec: QuerySpec
) -> dict[str, dict[str, str]]:
    one, many = resource_nouns(cls, name)
    noun = _words(one)
    a = DocText("an {noun}" if noun[:1] in tuple("aeiou") else "a {noun}", noun=noun)
    these = _words(many)
    etag = DocText(" Send `If-Match` with the `ETag` of your read to avoid lost updates.")
    etag_or_not: DocText | str = etag if cls.ETAG else ""
    filters = ", ".join(f"`{n}`" for n in sorted(spec.fields) if n not in spec.hidden)
    created = DocText(" Answers 201 with the stored document and its `Location`.")
    return {
        "list": {"operationId": f"list{many}", "summary": DocText("List {these}", these=these),
                 "description": DocText("{help}\n\nFilterable: {filters}.", help=LIST_HELP,
                                        filters=filters)},
        "search": {"operationId": f"search{many}",
                   "summary": DocText("Search {these} (query as a JSON body)", these=these),
                   "description": DocText("The list query language as one JSON object (the GET "
                   "parameters' names); the same answer as the list. Use it for long filters.")},
        "create": {"operationId": f"create{one}", "summary": DocText("Create {item}", item=a),
                   "description": _fields_help(cls.CREATE_SCHEMA or cls.SCHEMA, created)},
        "upload": {"operationId": f"upload{one}", "summary": DocText("Upload {item}", item=a),
                   "description": DocText("A `multipart/form-data` upload: the file and its "
                   "metadata fields.{created}", created=created)},
        "content": {"operationId": f"download{one}",
                    "summary": DocText("Download {item}", item=a),
                    "description": DocText("The stored bytes of {item}.", item=a)},
        "read": {"operationId": f"get{one}", "summary": DocText("Get {item}", item=a),
                 "description": DocText("One {noun} by its `id` (24 hex digits).", noun=noun)},
        "replace": {"operationId": f"replace{one}", "summary": DocText("Replace {item}", item=a),
                    "description": DocText(
                        "Replace the client's fields of {item}. {fields}", item=a,
                        fields=_fields_help(cls.UPDATE_SCHEMA or cls.SCHEMA, etag_or_not))},
        "update": {"operationId": f"update{one}",
                   "summary": DocText("Update {item} (partial)", item=a),
                   "description": DocText("Change only the fields sent; every field is "
                   "optional.{etag}", etag=etag_or_not)},
        "batch": {"operationId": f"batch{many}",
                  "summary": DocText("Create, update and delete {these} in one request", these=these),
                  "description": DocText("Up to `MAX_BATCH` operations, each checked like its single "
                  "request (schema, permission, scope, `version`), run as one bulk write; 207 with "
                  "one result per operation, in order. `ordered` (default true) stops at the first "
                  "failure (the rest answer 424).")},
        "delete": {"operationId": f"delete{one}", "summary": DocText("Delete {item}", item=a),
                   "description": DocText(
                       "Soft delete: the document is marked removed and disappears from every "
                       "read.{etag}" if cls.SOFT_DELETE else "Removes the document.{etag}",
                       etag=etag_or_not)},
    }  # fmt: skip


def _headers(cls: type[ResourceView], op: str) -> dict[str, dict[str, Any]]:
    """The response headers ``op`` sends on success (only the always-sent ones are required)."""
    found: dict[str, tuple[DocText, dict[str, Any], bool]] = {}
    if op in ("list", "search"):
        found["X-Total-Count"] = (
            DocText(
                "matching documents, as `total` (absent with `$count=none`; a lower bound when "
                "`X-Total-Count-Strategy` is `bounded`)"
            ),
            _HEADER_INT,
            False,
        )
        found["X-Total-Count-Strategy"] = (
            DocText(
                "what answered `total`: `exact`; `bounded` (the count stopped at the resource's "
                "`COUNT_LIMIT`: at least `total`); `estimated` (collection metadata, soft-deleted "
                "documents included); `none` (not counted)"
            ),
            {"type": "string", "enum": list(COUNT_MODES)},
            True,
        )
        found["Link"] = (
            DocText('`<url>; rel="next"`, `<url>; rel="prev"` (RFC 8288)'),
            {"type": "string"},
            False,
        )
    if op in ("create", "upload"):
        found["Location"] = (DocText("the new document's URL"), {"type": "string"}, True)
    if op in ("create", "update", "batch", "idempotent action"):
        found["Idempotent-Replayed"] = (
            DocText(
                "`true`: the stored response to an earlier request with this `Idempotency-Key`"
            ),
            {"type": "string", "enum": ["true"]},
            False,
        )
    if cls.ETAG and op in ("create", "upload", "read", "replace", "update"):
        found["ETag"] = (*_ETAG, True)
    if cls.RATE_LIMIT is not None:
        found.update({k: (d, s, False) for k, (d, s) in _RATE_HEADERS.items()})
    return {
        name: {"description": text, "schema": schema, "required": required}
        for name, (text, schema, required) in found.items()
    }  # fmt: skip


def _merge(into: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def document_operations(
    cls: type[ResourceView], name: str, spec: QuerySpec, verbs: Mapping[str, Callable[..., Any]]
) -> None:
    """Write the documentation of each generated verb (``verbs``: operation name -> function)."""
    texts = _operation_texts(cls, name, spec)
    unknown = set(cls.DOCS) - texts.keys()
    if unknown:
        raise ValueError(f"{cls.__name__}.DOCS names unknown operations: {sorted(unknown)}")
    for op, func in verbs.items():
        doc = copy.deepcopy(func.__dict__.get("_apidoc", {}))
        func.__dict__["_apidoc"] = doc
        manual: dict[str, Any] = doc.setdefault("manual_doc", {})
        manual.update(texts[op])
        if op == "list":
            manual["parameters"] = list_parameters(spec)
        if op == "search":
            manual["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": search_body(spec)}},
            }
        if op == "read":
            manual["parameters"] = [*manual.get("parameters", []), *expand_parameters(spec)]
        if op in ("create", "update", "batch"):
            manual["parameters"] = [*manual.get("parameters", []), dict(_IDEMPOTENCY_KEY)]
        if op == "replace":
            manual["parameters"] = [*manual.get("parameters", []), dict(_CREATE_IF_ABSENT)]
        if cls.ETAG and op in ("replace", "update", "delete"):
            manual["parameters"] = [*manual.get("parameters", []), dict(_IF_MATCH)]
        if cls.ETAG and op == "read":
            manual["parameters"] = [*manual.get("parameters", []), dict(_IF_NONE_MATCH)]
            manual.setdefault("responses", {})["304"] = {
                "description": DocText("Not Modified: `If-None-Match` names the current version."),
                "headers": {"ETag": {"description": _ETAG[0], "schema": _ETAG[1]}},
            }
        headers = _headers(cls, op)
        for code, responses in doc.get("response", {}).get("responses", {}).items():
            if 200 <= int(code) < 300:
                for response in responses:
                    if isinstance(response, dict):
                        response["headers"] = {**headers, **response.get("headers", {})}
        _merge(manual, cls.DOCS.get(op, {}))


def document_action(
    cls: type[ResourceView],
    name: str,
    verb: Callable[..., Any],
    action: str,
    *,
    item: bool,
    method: str = "POST",
) -> None:
    """Document an action's verb: ``operationId`` (``payOrder``, ``reportOrders``), the summary
    and description from its docstring, ``If-Match`` on ``ETAG`` item actions,
    ``Idempotency-Key`` on ``POST``/``PATCH`` actions, rate headers."""
    one, many = resource_nouns(cls, name)
    camel = re.sub(r"[-_]+([a-zA-Z0-9])", lambda m: m.group(1).upper(), action)
    text = (verb.__doc__ or "").strip()
    summary, _, description = text.partition("\n")
    doc = copy.deepcopy(verb.__dict__.get("_apidoc", {}))
    verb.__dict__["_apidoc"] = doc
    manual: dict[str, Any] = doc.setdefault("manual_doc", {})
    manual["operationId"] = f"{camel}{one if item else many}"
    manual["summary"] = summary.strip() or f"{_words(camel).capitalize()} ({_words(one)})"
    if description.strip():
        manual["description"] = inspect.cleandoc(description)
    if cls.ETAG and item:
        manual["parameters"] = [*manual.get("parameters", []), dict(_IF_MATCH)]
    keyed = method in IDEMPOTENT_METHODS
    if keyed:
        manual["parameters"] = [*manual.get("parameters", []), dict(_IDEMPOTENCY_KEY)]
    headers = _headers(cls, "idempotent action" if keyed else "action")
    for code, responses in doc.get("response", {}).get("responses", {}).items():
        if 200 <= int(code) < 300:
            for response in responses:
                if isinstance(response, dict) and headers:
                    response["headers"] = {**headers, **response.get("headers", {})}
