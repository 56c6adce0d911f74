"""rainbond-kit: Flask plugin for cloud-native components on Rainbond."""

from __future__ import annotations

from rainbond_kit.containers import Container
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
from rainbond_kit.query import ListQuery, QuerySpec
from rainbond_kit.repository import MongoRepository, Page
from rainbond_kit.resource import ResourceView
from rainbond_kit.settings import Settings

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
    "get_api",
    "get_container",
]

__version__ = "0.1.0"
