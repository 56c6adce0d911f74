"""rainbond-kit: Flask plugin for cloud-native components on Rainbond.

This module is the public contract (with ``rainbond_kit.testing``, ``.auth``, ``.compat`` and
``.files``): docs, the sample app and scaffolded projects import from here; the modules
behind it may move.
"""

from __future__ import annotations

from rainbond_kit.containers import Container
from rainbond_kit.data.documents import object_id, to_public, to_public_list
from rainbond_kit.data.repository import MongoRepository, Page
from rainbond_kit.embedded import ensure_mongo
from rainbond_kit.errors import (
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    HTTPError,
    NotFoundError,
    PreconditionFailedError,
    RainbondError,
    ServiceUnavailableError,
    TooManyRequestsError,
    UnauthorizedError,
    abort,
)
from rainbond_kit.extension import RainbondKit
from rainbond_kit.extension_state import get_api, get_container
from rainbond_kit.filestore import FileResource
from rainbond_kit.idempotency import idempotent
from rainbond_kit.query import ListQuery, QuerySpec
from rainbond_kit.ratelimit import exempt, limit
from rainbond_kit.resource import ResourceView, action, error_responses
from rainbond_kit.settings import Settings
from rainbond_kit.timeparse import parse_date, seconds_between

__all__ = [
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "Container",
    "FileResource",
    "ForbiddenError",
    "HTTPError",
    "ListQuery",
    "MongoRepository",
    "NotFoundError",
    "Page",
    "PreconditionFailedError",
    "QuerySpec",
    "RainbondError",
    "RainbondKit",
    "ResourceView",
    "ServiceUnavailableError",
    "Settings",
    "TooManyRequestsError",
    "UnauthorizedError",
    "abort",
    "action",
    "ensure_mongo",
    "error_responses",
    "exempt",
    "get_api",
    "get_container",
    "idempotent",
    "limit",
    "object_id",
    "parse_date",
    "seconds_between",
    "to_public",
    "to_public_list",
]

__version__ = "0.1.0"
