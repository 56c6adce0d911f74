"""Auth-center settings, read once from the environment the auth center's dependency injects.

The component shares three things with the auth center: the token signing secret
(``SECRET_KEY``), the Redis database holding active logins (``REDIS_DB_PERMISSION``, on the
``REDIS_*`` server) and the MongoDB database with users, roles and permissions
(``MONGODB_DB_NAME`` and the four collection variables).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from rainbond_kit.env import integer, number
from rainbond_kit.errors import ConfigurationError

__all__ = ["AuthSettings", "DebugUser", "TokenSettings"]

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

    def __repr__(self) -> str:  # never print the secret
        return f"TokenSettings(secret_key='***', redis_db={self.redis_db}, expiration={self.expiration}, leeway={self.leeway})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TokenSettings:
        """Read ``SECRET_KEY``, ``REDIS_DB_PERMISSION``, ``EXPIRATION``, ``RAINBOND_AUTH_LEEWAY``.

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
            mongo_db_name=_required(env, "MONGODB_DB_NAME"),
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
