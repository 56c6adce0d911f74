"""Checks that talk to the servers: MongoDB and Redis reachable, declared indexes present."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymongo
import pymongo.errors
import redis
import redis.exceptions

from rainbond_kit.data.indexes import supported_sorts
from rainbond_kit.doctor.report import Check
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.redis_client import connect_redis
from rainbond_kit.resource import ResourceView
from rainbond_kit.schemas import query_spec_from_schema
from rainbond_kit.settings import MongoSettings, RedisSettings

__all__ = ["Resource", "check_indexes", "check_mongo", "check_redis", "load_resources"]

_MONGO_FIX = (
    "set MONGODB_URI, or MONGODB_HOST/MONGODB_PORT (add the MongoDB component as a dependency"
    " with the port alias MONGODB)"
)


@dataclass
class Resource:
    """What the doctor needs of one resource: its collection, indexes and sortable fields."""

    collection: str
    indexes: list[list[tuple[str, Any]]] = field(default_factory=list)
    sortable: set[str] = field(default_factory=set)


def _ms(start: float) -> int:
    return round((time.monotonic() - start) * 1000)


def check_mongo(env: Mapping[str, str]) -> tuple[Check, pymongo.MongoClient[dict[str, Any]] | None]:
    """MongoDB configured and answering (version, time taken); the client for later checks."""
    try:
        settings = MongoSettings.from_env(env)
    except ConfigurationError as exc:
        return Check("mongodb", "fail", str(exc), _MONGO_FIX), None
    if settings.embedded:
        return Check("mongodb", "fail", "no MongoDB is configured", _MONGO_FIX), None
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        settings.uri, serverSelectionTimeoutMS=settings.server_selection_timeout_ms
    )
    start = time.monotonic()
    try:
        version = client.server_info().get("version", "?")
    except pymongo.errors.PyMongoError as exc:
        client.close()
        reason = str(exc).split(",")[0].split(" (configured timeouts")[0][:200]
        return (
            Check(
                "mongodb",
                "fail",
                f"{settings.redacted_uri} not reachable after {_ms(start)} ms: {reason}",
                "check the address and credentials, and that MongoDB runs (its component is"
                " started and this component depends on it)",
            ),
            None,
        )
    detail = f"{settings.redacted_uri} answered in {_ms(start)} ms, version {version}, database {settings.database}"
    return Check("mongodb", "ok", detail), client


def check_redis(env: Mapping[str, str]) -> Check:
    """Redis, when configured, answering (version, time taken)."""
    try:
        settings = RedisSettings.from_env(env)
    except ConfigurationError as exc:
        return Check(
            "redis",
            "fail",
            str(exc),
            "set REDIS_URL=redis://host:6379/0 (or REDIS_HOST/REDIS_PORT)",
        )
    if not settings.configured:
        return Check("redis", "ok", "not configured (optional: sessions, rate limits)")
    start = time.monotonic()
    client = connect_redis(settings)
    try:
        info: dict[str, Any] = client.info("server")
        nested = [v for v in info.values() if isinstance(v, dict)]  # a Cluster's per-node answer
        version = (nested[0] if nested else info).get("redis_version", "?")
    except redis.exceptions.RedisError as exc:
        return Check(
            "redis",
            "fail",
            f"{settings.redacted_url} not reachable after {_ms(start)} ms: {str(exc)[:200]}",
            "check REDIS_URL (or REDIS_HOST/REDIS_PORT/REDIS_PASSWORD, REDIS_SENTINELS,"
            " REDIS_CLUSTER_NODES) and that Redis runs",
        )
    finally:
        client.close()
    return Check(
        "redis", "ok", f"{settings.redacted_url} answered in {_ms(start)} ms, version {version}"
    )


def _subclasses(cls: type[ResourceView]) -> Iterator[type[ResourceView]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def load_resources(module: str, folder: Path) -> tuple[dict[str, Resource], str | None]:
    """Import ``module`` (from ``folder``) and collect the resources it defines.

    Returns the resources by collection and, if the import failed, why.
    """
    sys.path.insert(0, str(folder))
    error: str | None = None
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            importlib.import_module(module)
    except SystemExit:
        lines = stderr.getvalue().strip().splitlines()
        error = lines[-1] if lines else "the module exited"
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        sys.path.remove(str(folder))
    resources: dict[str, Resource] = {}
    for cls in _subclasses(ResourceView):
        collection = getattr(cls, "COLLECTION", None)
        schema = getattr(cls, "SCHEMA", None)
        if not collection or schema is None:
            continue
        resource = resources.setdefault(collection, Resource(collection))
        for model in cls.INDEXES:
            keys = list(model.document["key"].items())
            if keys not in resource.indexes:
                resource.indexes.append(keys)
        spec = query_spec_from_schema(
            schema, filter_fields=cls.FILTER_FIELDS, sort_fields=cls.SORT_FIELDS
        )
        resource.sortable |= set(spec.sortable)
    return resources, error


def check_indexes(
    client: pymongo.MongoClient[dict[str, Any]], database: str, resources: Mapping[str, Resource]
) -> list[Check]:
    """Each declared index present; each sortable field led by some index (else a warning)."""
    checks: list[Check] = []
    for name, resource in sorted(resources.items()):
        try:
            existing = [
                list(info["key"]) for info in client[database][name].index_information().values()
            ]
        except pymongo.errors.PyMongoError as exc:
            checks.append(
                Check(f"indexes {name}", "fail", f"cannot list: {str(exc)[:200]}", _MONGO_FIX)
            )
            continue
        missing = [keys for keys in resource.indexes if keys not in existing]
        if missing:
            shown = "; ".join(", ".join(f"{k} {d}" for k, d in keys) for keys in missing)
            checks.append(
                Check(
                    f"indexes {name}",
                    "fail",
                    f"declared but missing: {shown}",
                    "start the app once (it creates declared indexes at start-up) and check its"
                    " MongoDB user may create indexes",
                )
            )
        else:
            checks.append(
                Check(f"indexes {name}", "ok", f"{len(resource.indexes)} declared, all present")
            )
        indexed = supported_sorts(resource.sortable, {}, [*existing, *resource.indexes])
        unsupported = sorted(resource.sortable - indexed)
        if unsupported:
            checks.append(
                Check(
                    f"sort {name}",
                    "warn",
                    f"no index leads with: {', '.join(unsupported)} (sorting them scans the collection)",
                    "add an IndexModel per field to INDEXES, or narrow SORT_FIELDS",
                )
            )
    return checks
