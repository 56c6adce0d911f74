"""``rainbond_python.db_connect`` compatibility: ``DBConnect`` over :class:`MongoRepository`.

Each call delegates to the repository; ``find_paging`` runs the same query-language parser as
``ResourceView`` (in its open-field mode: any plain field name can be filtered, never the
soft-delete marker, never with client operators). All instances in a process share one pooled
client per server (the original opened a client per instance).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import pymongo
from flask import current_app, has_app_context

from rainbond_kit.compat.clients import renamed_env, shared_mongo_client
from rainbond_kit.data.observe import StoreObserver
from rainbond_kit.data.repository import MongoRepository
from rainbond_kit.errors import BadRequestError, NotFoundError
from rainbond_kit.extension_state import EXTENSION_KEY, get_state
from rainbond_kit.query import QuerySpec, parse_list_query
from rainbond_kit.resource.listing import fetch_page, list_body
from rainbond_kit.settings import MongoSettings
from rainbond_kit.zones import current_zone

__all__ = ["DBConnect"]

Doc = dict[str, Any]

#: The compat mode of the query language: any plain field, untyped values, the seed's page size.
COMPAT_QUERY_SPEC = QuerySpec(fields={}, open_fields=True, max_limit=100)


class _ParameterLike(Protocol):
    method: str
    param_url: Mapping[str, Any]
    param_json: Any


def _shared_client(settings: MongoSettings | None) -> pymongo.MongoClient[Doc]:
    """The app's client inside a RainbondKit app, else one client per server per process.

    ``settings`` is ``None`` when the default variable names are used: then the app's own
    settings (read from the same variables at start-up) are authoritative.
    """
    if settings is None and has_app_context() and EXTENSION_KEY in current_app.extensions:
        client: pymongo.MongoClient[Doc] = get_state().container.mongo_client()
        return client
    return shared_mongo_client(settings or MongoSettings.from_env(os.environ))


def _query_timeout(settings: MongoSettings | None) -> int:
    """``MONGODB_QUERY_TIMEOUT_MS`` as the app (or, outside one, the environment) sets it."""
    if settings is None and has_app_context() and EXTENSION_KEY in current_app.extensions:
        return get_state().settings.mongo.query_timeout_ms
    return (settings or MongoSettings.from_env(os.environ)).query_timeout_ms


def _observer() -> StoreObserver | None:
    """The app's store observer (its MongoDB metrics) inside a RainbondKit app, else none."""
    if has_app_context() and EXTENSION_KEY in current_app.extensions:
        observer: StoreObserver | None = get_state().container.store_observer()
        return observer
    return None


class DBConnect:
    """MongoDB access for one collection, as in rainbond-python (see the README's migration notes)."""

    def __init__(
        self,
        db: str,
        collection: str,
        home_key: str = "MONGODB_HOST",
        port_key: str = "MONGODB_PORT",
        name_key: str = "MONGODB_NAME",
        password_key: str = "MONGODB_PASSWORD",  # noqa: S107 - a variable name, not a secret
    ) -> None:
        env = renamed_env(
            [("MONGODB_HOST", home_key), ("MONGODB_PORT", port_key),
             ("MONGODB_NAME", name_key), ("MONGODB_PASSWORD", password_key)]
        )  # fmt: skip
        settings = None if env is None else MongoSettings.from_env(env)
        self.mongo_client = _shared_client(settings)
        self.mongo_db = self.mongo_client[db]
        self.mongo_collection = self.mongo_db[collection]
        self.repository = MongoRepository(
            self.mongo_db,
            collection,
            soft_delete=True,
            max_time_ms=_query_timeout(settings),
            observer=_observer(),
        )

    # --- writes -----------------------------------------------------------------------------

    def write_one_docu(self, docu: Mapping[str, Any]) -> str:
        """Insert one document (``id`` may choose the ObjectId); return the new id.

        ``redundant_dict`` (extras collected by ``Parameter.verification(allow_extra=True)``)
        is never stored.
        """
        return str(self.repository.insert_one(_document(docu))["id"])

    def write_many_docu(self, docu_list: Iterable[Mapping[str, Any]]) -> list[str]:
        """Insert several documents (the caller's dicts are left untouched); return their ids."""
        return self.repository.insert_many([_document(d) for d in docu_list])

    def update_docu(
        self, find_docu: Mapping[str, Any], modify_docu: Mapping[str, Any], many: bool = False
    ) -> dict[str, int]:
        """``$set`` ``modify_docu`` on matching live documents."""
        counts = self.repository.update(_mapping(find_docu), _mapping(modify_docu), many=many)
        return {"matched_count": counts.matched_count, "modified_count": counts.modified_count}

    def update_docu_inc(
        self, find_docu: Mapping[str, Any], modify_docu: Mapping[str, Any], many: bool = False
    ) -> dict[str, int]:
        """Atomically ``$inc`` the fields of ``modify_docu`` on matching live documents."""
        counts = self.repository.increment(_mapping(find_docu), _mapping(modify_docu), many=many)
        return {"matched_count": counts.matched_count, "modified_count": counts.modified_count}

    def delete_docu(
        self, find_docu: Mapping[str, Any], many: bool = False, false_delete: bool = False
    ) -> dict[str, Any]:
        """Soft (``false_delete=True``: sets ``remove_time``) or hard delete."""
        query = _mapping(find_docu)
        if false_delete:
            count = self.repository.soft_delete(query, many=many)
        else:
            count = self.repository.delete(query, many=many)
        return {"deleted_count": count, "false_delete": false_delete}

    # --- reads ------------------------------------------------------------------------------

    def does_it_exist(self, docu: Mapping[str, Any]) -> bool:
        """Whether a live document matches."""
        return self.repository.exists(_mapping(docu))

    def find_docu(self, find_dict: Mapping[str, Any], many: bool = True) -> list[Doc]:
        """Matching live documents, always as a list (``[]`` / ``[doc]`` when ``many=False``)."""
        if many:
            return self.repository.find(_mapping(find_dict))
        doc = self.repository.find_one(_mapping(find_dict))
        return [doc] if doc is not None else []

    def find_docu_by_id(self, id: str, raise_err: bool = True) -> Doc | None:
        """The document with ``id``; a 404 envelope (or ``None`` with ``raise_err=False``) if absent.

        :raises BadRequestError: ``id`` is not 24 hex digits (whatever ``raise_err`` says).
        """
        if not isinstance(id, str):
            raise BadRequestError("id must be a string")
        try:
            return self.repository.get(id)
        except NotFoundError:
            if raise_err:
                raise NotFoundError(f"找不到 id={id} 的记录") from None
            return None

    def find_docu_by_id_list(self, id_list: list[str]) -> list[Doc]:
        """Documents with these ids, in the order given; missing ones skipped; ``[]`` for ``[]``."""
        return self.repository.get_many(list(id_list))

    def find_docu_distinct(self, find_str: str) -> int:
        """How many distinct values ``find_str`` takes among live documents (a count, as documented)."""
        return len(self.repository.distinct(find_str))

    def find_paging(self, parameter: _ParameterLike) -> dict[str, Any]:
        """A page of live documents from the request's query (GET) or JSON body (other methods)."""
        params = parameter.param_url if parameter.method == "GET" else parameter.param_json
        query = parse_list_query(
            params if params is not None else {}, COMPAT_QUERY_SPEC, zone=current_zone()
        )
        return list_body(query, fetch_page(self.repository, query), with_next=False)


def _document(value: Any) -> Mapping[str, Any]:
    return {k: v for k, v in _mapping(value).items() if k != "redundant_dict"}


def _mapping(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadRequestError("请求格式不规范: a document must be a JSON object")
    return value
