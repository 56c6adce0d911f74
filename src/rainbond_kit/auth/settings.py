"""Auth-center settings, read once from the environment the auth center's dependency injects.

The component shares three things with the auth center: the token signing secret
(``SECRET_KEY``), the Redis database holding active logins (``REDIS_DB_PERMISSION``, on the
``REDIS_*`` server) and the MongoDB database with users, roles and permissions
(``MONGODB_DB_NAME`` and the four collection variables).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass

from rainbond_kit.env import integer, number
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.settings import check_database_name

__all__ = [
    "AUTH_VARIABLES",
    "REQUIRED_AUTH_VARIABLES",
    "AuthSettings",
    "DebugUser",
    "TokenSettings",
    "auth_from_env",
    "near_miss_auth_variables",
]

DEFAULT_EXPIRATION = 3600
DEFAULT_LEEWAY = 5
DEFAULT_CACHE_SECONDS = 5.0


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"{name} is required for auth-center integration but is not set")
    return value


@dataclass(frozen=True)
class TokenSettings:
    """What verifying and minting a token needs.

    ``secret_key`` is used as is (no key derivation), as itsdangerous' JWS serializer did.
    """

    secret_key: str
    redis_db: int
    expiration: int = DEFAULT_EXPIRATION
    leeway: int = DEFAULT_LEEWAY
    #: ``REDIS_PERMISSION_KEY_PREFIX``: put before a uid to make its session key; unset means
    #: none on one server or Sentinel and ``db<REDIS_DB_PERMISSION>:`` on a Cluster.
    redis_key_prefix: str | None = None

    def __repr__(self) -> str:  # never print the secret
        return (
            f"TokenSettings(secret_key='***', redis_db={self.redis_db},"
            f" expiration={self.expiration}, leeway={self.leeway},"
            f" redis_key_prefix={self.redis_key_prefix!r})"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TokenSettings:
        """Read ``SECRET_KEY``, ``REDIS_DB_PERMISSION``, ``EXPIRATION``, ``RAINBOND_AUTH_LEEWAY``,
        ``REDIS_PERMISSION_KEY_PREFIX``.

        :raises ConfigurationError: a variable is missing or malformed; the message names it.
        """
        env = os.environ if env is None else env
        secret = env.get("SECRET_KEY", "")
        if not secret:
            raise ConfigurationError(
                "SECRET_KEY is required for auth-center integration but is not set"
            )
        redis_db = integer(env, "REDIS_DB_PERMISSION", -1)
        if redis_db < 0:
            raise ConfigurationError(
                "REDIS_DB_PERMISSION is required for auth-center integration but is not set"
            )
        return cls(
            secret_key=secret,
            redis_db=redis_db,
            expiration=integer(env, "EXPIRATION", DEFAULT_EXPIRATION),
            leeway=integer(env, "RAINBOND_AUTH_LEEWAY", DEFAULT_LEEWAY),
            redis_key_prefix=env.get("REDIS_PERMISSION_KEY_PREFIX") or None,
        )


@dataclass(frozen=True)
class DebugUser:
    """The fixed identity of the explicit debug bypass (``RAINBOND_AUTH_DEBUG_USER``)."""

    uid: str
    user_name: str
    real_name: str


@dataclass(frozen=True)
class AuthSettings:
    """Everything the auth integration reads, read once, immutable."""

    tokens: TokenSettings
    mongo_db_name: str
    permission_collection: str
    permissionset_collection: str
    role_collection: str
    user_collection: str
    admin_users: frozenset[str] = frozenset()
    cache_seconds: float = DEFAULT_CACHE_SECONDS
    debug_user: DebugUser | None = None
    flask_secret: str = ""

    def __repr__(self) -> str:  # never print a secret
        return (
            f"AuthSettings(tokens={self.tokens!r}, mongo_db_name={self.mongo_db_name!r}, "
            f"admin_users={sorted(self.admin_users)!r}, cache_seconds={self.cache_seconds}, "
            f"debug_user={self.debug_user!r})"
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuthSettings:
        """Read the auth-center variables (see ``docs/auth.md``).

        :raises ConfigurationError: a variable is missing or malformed; the message names it.
        """
        env = os.environ if env is None else env
        admins = frozenset(
            name.strip() for name in env.get("ADMIN_USER", "").split(",") if name.strip()
        )
        return cls(
            tokens=TokenSettings.from_env(env),
            mongo_db_name=check_database_name(_required(env, "MONGODB_DB_NAME"), "MONGODB_DB_NAME"),
            permission_collection=_required(env, "MONGODB_PERMISSION"),
            permissionset_collection=_required(env, "MONGODB_PERMISSIONSET"),
            role_collection=_required(env, "MONGODB_ROLE"),
            user_collection=_required(env, "MONGODB_USER"),
            admin_users=admins,
            cache_seconds=number(env, "RAINBOND_AUTH_CACHE_SECONDS", DEFAULT_CACHE_SECONDS),
            debug_user=_debug_user(env),
            flask_secret=env.get("FLASK_SECRET_KEY", "") or env.get("SECRET_KEY", ""),
        )


def _debug_user(env: Mapping[str, str]) -> DebugUser | None:
    raw = env.get("RAINBOND_AUTH_DEBUG_USER", "").strip()
    if not raw:
        return None
    parts = raw.split("--", 2)
    if len(parts) != 3 or not all(parts):
        raise ConfigurationError(
            f"RAINBOND_AUTH_DEBUG_USER must be 'uid--user_name--real_name', got {raw!r}"
        )
    return DebugUser(*parts)


#: what a complete auth configuration sets
REQUIRED_AUTH_VARIABLES = (
    "SECRET_KEY",
    "REDIS_DB_PERMISSION",
    "MONGODB_DB_NAME",
    "MONGODB_PERMISSION",
    "MONGODB_PERMISSIONSET",
    "MONGODB_ROLE",
    "MONGODB_USER",
)
#: setting any of these turns the auth-center integration on (``MONGODB_USER`` is left out:
#: without auth it is the MongoDB login name)
AUTH_VARIABLES = (*(n for n in REQUIRED_AUTH_VARIABLES if n != "MONGODB_USER"), "ADMIN_USER")
_SWITCH = "RAINBOND_AUTH"
#: other variables rainbond-kit reads, never mistaken for a misspelt auth variable
_KNOWN = frozenset(
    {
        *REQUIRED_AUTH_VARIABLES,
        *AUTH_VARIABLES,
        _SWITCH,
        "MONGODB_USERNAME",
        "MONGODB_URI",
        "MONGODB_HOST",
        "MONGODB_PORT",
        "MONGODB_PASSWORD",
        "MONGODB_PASS",
        "MONGODB_NAME",
        "MONGODB_DB",
        "MONGODB_DATABASE",
        "MONGODB_TIMEOUT_MS",
        "MONGODB_AUTH_SOURCE",
        "MONGODB_AUTHSOURCE",
        "REDIS_DB",
        "REDIS_PERMISSION_KEY_PREFIX",
        "RAINBOND_AUTH_DEBUG_USER",
        "RAINBOND_AUTH_CACHE_SECONDS",
        "RAINBOND_AUTH_LEEWAY",
    }
)


def near_miss_auth_variables(env: Mapping[str, str]) -> dict[str, str]:
    """Set variables whose names look like a misspelt auth variable -> the name meant."""
    found: dict[str, str] = {}
    for name in env:
        upper = name.upper()
        if name in _KNOWN or not env[name].strip():
            continue
        candidates = (*AUTH_VARIABLES, "MONGODB_USER")
        if upper in candidates:  # wrong case: the variable is never read
            found[name] = upper
            continue
        match = difflib.get_close_matches(upper, candidates, 1, 0.88)
        if match:
            found[name] = match[0]
    return found


def auth_from_env(
    env: Mapping[str, str] | None = None, *, explicit_off: bool = False
) -> AuthSettings | None:
    """The auth settings, or ``None`` when auth is off; fails closed.

    ``RAINBOND_AUTH=off`` turns auth off, ``on`` requires the full set. Unset, any auth
    variable (or a near-miss name such as ``MONGODB_PERMISSIONS``) requires the full set;
    none at all means off, unless ``explicit_off`` demands ``RAINBOND_AUTH=off``.

    :raises ConfigurationError: the set is incomplete, a name is misspelt, or auth is off
        without ``RAINBOND_AUTH=off`` where that is demanded; the message names what to set.
    """
    env = os.environ if env is None else env
    switch = env.get(_SWITCH, "").strip().lower()
    if switch not in {"", "on", "off"}:
        raise ConfigurationError(f"{_SWITCH} must be 'on' or 'off', got {env[_SWITCH]!r}")
    if switch == "off":
        return None
    misspelt = near_miss_auth_variables(env)
    if misspelt:
        name, meant = sorted(misspelt.items())[0]
        raise ConfigurationError(
            f"{name} is not an auth variable: did you mean {meant}? (auth stays closed"
            f" until it is fixed; {_SWITCH}=off turns auth off)"
        )
    present = [name for name in AUTH_VARIABLES if env.get(name, "").strip()]
    if not present and switch != "on":
        if explicit_off:
            raise ConfigurationError(
                f"auth is not configured: set the auth-center variables"
                f" ({', '.join(REQUIRED_AUTH_VARIABLES)}) or {_SWITCH}=off"
            )
        return None
    missing = [name for name in REQUIRED_AUTH_VARIABLES if not env.get(name, "").strip()]
    if missing:
        given = ", ".join(present) if present else f"{_SWITCH}=on"
        raise ConfigurationError(
            f"auth is incomplete: {given} set but {', '.join(missing)} not"
            f" (set them, or {_SWITCH}=off to run without auth)"
        )
    return AuthSettings.from_env(env)
