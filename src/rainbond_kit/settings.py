"""Connection settings read once from the environment Rainbond injects.

Rainbond gives a component one ``<ALIAS>_HOST`` / ``<ALIAS>_PORT`` pair per dependency port
(alias ``MONGODB`` and ``REDIS`` by convention) plus whatever the dependency's owner adds.
Naming is not standardised, so the usual aliases are accepted. A URI variable wins over
the parts. Every value is checked here, at start-up, so a typo fails fast with a message
that names the variable (and never echoes a password).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlsplit

from pymongo.errors import ConfigurationError as _PyMongoConfigurationError
from pymongo.errors import InvalidURI
from pymongo.uri_parser import parse_uri

from rainbond_kit.env import first as _first
from rainbond_kit.env import integer as _int
from rainbond_kit.env import port as _port
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.platform_env import DEFAULT_PORT, resolve_port

__all__ = ["MongoSettings", "RedisSettings", "Settings", "redact_url"]

DEFAULT_DATABASE = "rainbond"
#: Variables naming the whole MongoDB URI / Redis URL (the first set wins over the parts).
MONGO_URI_VARIABLES = ("MONGODB_URI", "MONGO_URI", "MONGO_URL")
REDIS_URL_VARIABLES = ("REDIS_URL", "REDIS_URI")
#: Variables naming the default database (else the URI's, else ``DEFAULT_DATABASE``).
MONGO_DATABASE_VARIABLES = ("MONGODB_DB", "MONGODB_DATABASE")


def named_database(env: Mapping[str, str], uri: str | None = None) -> tuple[str, str] | None:
    """``(source, name)`` of the database the configuration names, or ``None``.

    ``MONGODB_DB``/``MONGODB_DATABASE`` first, else the path of ``uri``.
    """
    found = _first(env, *MONGO_DATABASE_VARIABLES)
    if found is not None:
        return found
    name = parse_uri(uri, validate=False, warn=False).get("database") if uri else None
    return ("the database in MONGODB_URI", name) if name else None


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


def redact_url(url: str) -> str:
    """Return ``url`` with the password in its authority replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostinfo = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{hostinfo}").geturl()


@dataclass(frozen=True)
class MongoSettings:
    """Where the MongoDB server is and which database is the default.

    ``embedded`` is true when nothing was configured: the development launcher may then
    start an embedded server and replace ``uri``.
    """

    uri: str = "mongodb://127.0.0.1:27017/"
    database: str = DEFAULT_DATABASE
    embedded: bool = True
    server_selection_timeout_ms: int = 5000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MongoSettings:
        """Build the settings from ``MONGODB_*`` variables (see the README's table)."""
        timeout = _int(env, "MONGODB_TIMEOUT_MS", 5000, minimum=1)
        uri_var = _first(env, *MONGO_URI_VARIABLES)
        if uri_var is not None:
            name, uri = uri_var
            password = urlsplit(uri).password if "://" in uri else None
            try:
                parse_uri(uri, validate=True, warn=False, connect_timeout=timeout / 1000)
            except (InvalidURI, _PyMongoConfigurationError, ValueError) as exc:
                raise ConfigurationError(
                    f"{name} is not a valid MongoDB URI: {_redact(str(exc), password)}"
                ) from None
            named = named_database(env, uri)
            database = named[1] if named else DEFAULT_DATABASE
            return cls(uri, database, embedded=False, server_selection_timeout_ms=timeout)

        host_var = _first(env, "MONGODB_HOST")
        port = _port(env, "MONGODB_PORT", 27017)
        # Auth-center deployments use MONGODB_USER for the *users collection* (rainbond_kit.auth);
        # there it is never read as the login name.
        auth_center = bool(env.get("MONGODB_PERMISSION", "").strip())
        user_names = ("MONGODB_USERNAME", "MONGODB_NAME") + (
            () if auth_center else ("MONGODB_USER",)
        )
        user_var = _first(env, *user_names)
        password_var = _first(env, "MONGODB_PASSWORD", "MONGODB_PASS")
        auth_source = _first(env, "MONGODB_AUTH_SOURCE", "MONGODB_AUTHSOURCE")
        named = named_database(env)
        database = named[1] if named else DEFAULT_DATABASE
        if host_var is None:
            return cls(embedded=True, database=database, server_selection_timeout_ms=timeout)
        host = host_var[1]
        if any(c in host for c in "/@?#"):
            raise ConfigurationError(f"MONGODB_HOST must be a host name or address, got {host!r}")
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # a bare IPv6 address
        credentials = ""
        if user_var is not None:
            if password_var is None:
                raise ConfigurationError(
                    f"{user_var[0]} is set but no password is: set MONGODB_PASSWORD"
                    f" (or MONGODB_PASS), or unset {user_var[0]}"
                )
            credentials = f"{quote_plus(user_var[1])}:{quote_plus(password_var[1])}@"
        elif password_var is not None:
            raise ConfigurationError(
                f"{password_var[0]} is set but no user name is: set MONGODB_USER (or MONGODB_NAME)"
            )
        query = f"?authSource={quote_plus(auth_source[1])}" if auth_source else ""
        uri = f"mongodb://{credentials}{host}:{port}/{query}"
        return cls(uri, database, embedded=False, server_selection_timeout_ms=timeout)

    @property
    def redacted_uri(self) -> str:
        """The URI with its password replaced by ``***`` (safe to log)."""
        return redact_url(self.uri)


@dataclass(frozen=True)
class RedisSettings:
    """Where the Redis server is; ``configured`` is false when no variable named one."""

    url: str = "redis://127.0.0.1:6379/0"
    configured: bool = False
    socket_timeout: float = 2.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RedisSettings:
        """Build the settings from ``REDIS_*`` variables (see the README's table)."""
        url_var = _first(env, *REDIS_URL_VARIABLES)
        if url_var is not None:
            name, url = url_var
            parts = urlsplit(url)
            if parts.scheme not in {"redis", "rediss", "unix"} or "://" not in url:
                raise ConfigurationError(
                    f"{name} must be a URL starting with redis://, rediss:// or unix://"
                    f" (e.g. redis://host:6379/0), got {redact_url(url)!r}"
                )
            try:
                parts.port  # noqa: B018 - raises ValueError on a bad port
            except ValueError:
                raise ConfigurationError(f"{name} has an invalid port") from None
            return cls(url, configured=True)
        host_var = _first(env, "REDIS_HOST")
        host = host_var[1] if host_var else "127.0.0.1"
        if any(c in host for c in "/@?#"):
            raise ConfigurationError(f"REDIS_HOST must be a host name or address, got {host!r}")
        port = _port(env, "REDIS_PORT", 6379)
        db = _int(env, "REDIS_DB", 0)
        password_var = _first(env, "REDIS_PASSWORD", "REDIS_PASS")
        auth = f":{quote_plus(password_var[1])}@" if password_var else ""
        configured = any(
            env.get(n, "").strip()
            for n in ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_PASS")
        )
        return cls(f"redis://{auth}{host}:{port}/{db}", configured=configured)

    @property
    def redacted_url(self) -> str:
        """The URL with its password replaced by ``***`` (safe to log)."""
        return redact_url(self.url)


@dataclass(frozen=True)
class Settings:
    """Everything rainbond-kit reads from the environment, read once, immutable."""

    mongo: MongoSettings = field(default_factory=MongoSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    port: int = DEFAULT_PORT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from ``env`` (default: ``os.environ``).

        :raises ConfigurationError: a variable is malformed; the message names it.
        """
        env = os.environ if env is None else env
        return cls(
            mongo=MongoSettings.from_env(env),
            redis=RedisSettings.from_env(env),
            port=resolve_port(env),  # _PORT (Rainbond 6), then PORT
        )
