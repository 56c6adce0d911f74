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
from typing import Literal
from urllib.parse import quote, quote_plus, urlsplit

import redis
from pymongo.errors import ConfigurationError as _PyMongoConfigurationError
from pymongo.errors import InvalidURI
from pymongo.uri_parser import parse_uri
from redis.connection import parse_url as redis_parse_url

from rainbond_kit.env import addresses as _addresses
from rainbond_kit.env import first as _first
from rainbond_kit.env import integer as _int
from rainbond_kit.env import port as _port
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.platform_env import DEFAULT_PORT, resolve_port

__all__ = [
    "MongoSettings",
    "RedisMode",
    "RedisSettings",
    "Settings",
    "check_database_name",
    "redact_url",
]

DEFAULT_DATABASE = "rainbond"
#: ``MONGODB_QUERY_TIMEOUT_MS``'s default: a few seconds below gunicorn's 30 s worker timeout
DEFAULT_QUERY_TIMEOUT_MS = 25_000
#: Variables naming the whole MongoDB URI / Redis URL (the first set wins over the parts).
MONGO_URI_VARIABLES = ("MONGODB_URI", "MONGO_URI", "MONGO_URL")
REDIS_URL_VARIABLES = ("REDIS_URL", "REDIS_URI")
#: Variables naming the default database (else the URI's, else ``DEFAULT_DATABASE``).
MONGO_DATABASE_VARIABLES = ("MONGODB_DB", "MONGODB_DATABASE")


#: Characters MongoDB refuses in a database name (any platform: it may become a directory).
_FORBIDDEN_DB_CHARS = frozenset('/\\. "$*<>:|?\x00')


def check_database_name(name: str, source: str) -> str:
    """Return ``name`` if MongoDB accepts it as a database name.

    :raises ConfigurationError: naming ``source`` (the variable or flag it came from).
    """
    bad = sorted(_FORBIDDEN_DB_CHARS.intersection(name))
    if not name or bad or len(name.encode()) > 63:
        why = f"contains {''.join(bad)!r}" if bad else "must be 1 to 63 bytes"
        raise ConfigurationError(f"{source} is not a valid database name ({why}): {name!r}")
    return name


def named_database(env: Mapping[str, str], uri: str | None = None) -> tuple[str, str] | None:
    """``(source, name)`` of the database the configuration names, or ``None``.

    ``MONGODB_DB``/``MONGODB_DATABASE`` first, else the path of ``uri``.

    :raises ConfigurationError: the name is not one MongoDB accepts; the message names its
        variable (else every request would fail on it, while ``/readyz`` said ready).
    """
    found = _first(env, *MONGO_DATABASE_VARIABLES)
    if found is None:
        name = parse_uri(uri, validate=False, warn=False).get("database") if uri else None
        found = ("the database in MONGODB_URI", name) if name else None
    if found is not None:
        check_database_name(found[1], found[0])
    return found


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
    #: ``maxTimeMS`` of every kit query (``MONGODB_QUERY_TIMEOUT_MS``): below gunicorn's
    #: default 30 s worker timeout, so a slow query is a 503, not a killed worker
    query_timeout_ms: int = DEFAULT_QUERY_TIMEOUT_MS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MongoSettings:
        """Build the settings from ``MONGODB_*`` variables (see the README's table)."""
        timeout = _int(env, "MONGODB_TIMEOUT_MS", 5000, minimum=1)
        query_timeout = _int(env, "MONGODB_QUERY_TIMEOUT_MS", DEFAULT_QUERY_TIMEOUT_MS, minimum=1)
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
            return cls(
                uri,
                database,
                embedded=False,
                server_selection_timeout_ms=timeout,
                query_timeout_ms=query_timeout,
            )

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
            return cls(
                embedded=True,
                database=database,
                server_selection_timeout_ms=timeout,
                query_timeout_ms=query_timeout,
            )
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
        return cls(
            uri,
            database,
            embedded=False,
            server_selection_timeout_ms=timeout,
            query_timeout_ms=query_timeout,
        )

    @property
    def redacted_uri(self) -> str:
        """The URI with its password replaced by ``***`` (safe to log)."""
        return redact_url(self.uri)


#: How the Redis servers are reached.
RedisMode = Literal["standalone", "sentinel", "cluster"]


@dataclass(frozen=True)
class RedisSettings:
    """Where Redis is; ``configured`` is false when no variable named one.

    One server (``url``), a Sentinel-managed master (``sentinels`` + ``sentinel_master``) or a
    Cluster (``cluster_nodes``). In the last two modes ``url`` still carries the data servers'
    password and the database number (its host is the first address given, never dialled).
    """

    url: str = "redis://127.0.0.1:6379/0"
    configured: bool = False
    socket_timeout: float = 2.0
    sentinels: tuple[tuple[str, int], ...] = ()
    sentinel_master: str = "mymaster"
    sentinel_password: str | None = field(default=None, repr=False)
    cluster_nodes: tuple[tuple[str, int], ...] = ()

    @property
    def mode(self) -> RedisMode:
        """``"cluster"``, ``"sentinel"`` or ``"standalone"``."""
        if self.cluster_nodes:
            return "cluster"
        return "sentinel" if self.sentinels else "standalone"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> RedisSettings:
        """Build the settings from ``REDIS_*`` variables (see the README's table)."""
        topology = cls._topology_from_env(env)
        if topology is not None:
            return topology
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
            _check_redis_url(name, url, parts.scheme, parts.path)
            return cls(url, configured=True)
        host_var = _first(env, "REDIS_HOST")
        host = host_var[1] if host_var else "127.0.0.1"
        if any(c in host for c in "/@?#"):
            raise ConfigurationError(f"REDIS_HOST must be a host name or address, got {host!r}")
        port = _port(env, "REDIS_PORT", 6379)
        configured = any(
            env.get(n, "").strip()
            for n in ("REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_PASS")
        )
        return cls(_data_url(env, host, port), configured=configured)

    @classmethod
    def _topology_from_env(cls, env: Mapping[str, str]) -> RedisSettings | None:
        """Sentinel (``REDIS_SENTINELS``) or Cluster (``REDIS_CLUSTER_NODES``) settings, if set.

        Either wins over ``REDIS_HOST``/``REDIS_PORT`` (which Rainbond may inject anyway); a
        ``REDIS_URL`` beside them is ambiguous and refused.
        """
        sentinels = _addresses(env, "REDIS_SENTINELS", 26379)
        nodes = _addresses(env, "REDIS_CLUSTER_NODES", 6379)
        master = _first(env, "REDIS_SENTINEL_MASTER")
        sentinel_password = _first(env, "REDIS_SENTINEL_PASSWORD")
        if not sentinels:
            stray = master or sentinel_password
            if stray is not None:
                raise ConfigurationError(f"{stray[0]} is set but REDIS_SENTINELS is not")
            if not nodes:
                return None
        if sentinels and nodes:
            raise ConfigurationError("set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both")
        name = "REDIS_SENTINELS" if sentinels else "REDIS_CLUSTER_NODES"
        url_var = _first(env, *REDIS_URL_VARIABLES)
        if url_var is not None:
            raise ConfigurationError(
                f"{url_var[0]} and {name} are both set: keep one (password and database"
                " come from REDIS_PASSWORD and REDIS_DB)"
            )
        if nodes and _int(env, "REDIS_DB", 0) != 0:
            raise ConfigurationError(
                "REDIS_DB must be 0 (or unset) with REDIS_CLUSTER_NODES: a Redis Cluster has"
                " only database 0"
            )
        if master is not None and any(c.isspace() for c in master[1]):
            raise ConfigurationError(f"REDIS_SENTINEL_MASTER must be a name, got {master[1]!r}")
        host, port = (sentinels or nodes)[0]
        return cls(
            _data_url(env, f"[{host}]" if ":" in host else host, port),
            configured=True,
            sentinels=sentinels,
            sentinel_master=master[1] if master else "mymaster",
            sentinel_password=sentinel_password[1] if sentinel_password else None,
            cluster_nodes=nodes,
        )

    @property
    def redacted_url(self) -> str:
        """Where Redis is, its password replaced by ``***`` (safe to log)."""
        if self.mode == "standalone":
            return redact_url(self.url)
        db = urlsplit(self.url).path.lstrip("/") or "0"
        if self.mode == "cluster":
            return "cluster " + _joined(self.cluster_nodes)
        via = _joined(self.sentinels)
        return f"sentinel master {self.sentinel_master!r} via {via}, database {db}"


def _check_redis_url(name: str, url: str, scheme: str, path: str) -> None:
    """Build (never connect) the connection redis-py would make from ``url``, now.

    redis-py reads the URL only when the client is built, on the first request touching
    Redis: a bad query value or an option it does not know would be a 500 there, and it
    takes a non-numeric database path for database 0.

    :raises ConfigurationError: naming ``name``; redis-py's messages carry no password.
    """
    database = path.strip("/")
    if scheme != "unix" and database and not database.isdigit():
        raise ConfigurationError(
            f"{name}'s database must be a number (e.g. redis://host:6379/0), got {database!r}"
        )
    try:
        redis.ConnectionPool(**redis_parse_url(url)).make_connection()  # type: ignore[no-untyped-call]  # unannotated in redis-py
    except TypeError as exc:
        raise ConfigurationError(
            f"{name} has an option the Redis client does not accept: {exc}"
        ) from None
    except (ValueError, redis.RedisError) as exc:
        raise ConfigurationError(f"{name} is not a valid Redis URL: {exc}") from None


def _joined(addresses: tuple[tuple[str, int], ...]) -> str:
    return ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in addresses)


def _data_url(env: Mapping[str, str], host: str, port: int) -> str:
    """``redis://[:password@]host:port/db`` from ``REDIS_PASSWORD``/``REDIS_PASS`` and ``REDIS_DB``."""
    db = _int(env, "REDIS_DB", 0)
    password_var = _first(env, "REDIS_PASSWORD", "REDIS_PASS")
    # redis-py reads a URL's password with ``unquote`` (a ``+`` stays a ``+``), so every
    # special character, a space included, is percent-escaped (pymongo's ``unquote_plus``
    # is why the MongoDB credentials use ``quote_plus``).
    auth = f":{quote(password_var[1], safe='')}@" if password_var else ""
    return f"redis://{auth}{host}:{port}/{db}"


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
