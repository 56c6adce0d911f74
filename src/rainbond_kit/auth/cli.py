"""``rainbond-kit token``: mint an auth-center token for development and tests."""

from __future__ import annotations

import os

import click
import redis.exceptions

from rainbond_kit.auth.settings import TokenSettings
from rainbond_kit.auth.stores import redis_settings_for_db
from rainbond_kit.auth.tokens import mint_token, session_id
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.redis_client import connect_redis, key_prefix_for_db
from rainbond_kit.settings import RedisSettings

__all__ = ["token"]


@click.command()
@click.option("--uid", required=True, help="User id (the auth center's user _id, 24 hex digits).")
@click.option("--user", "user_name", required=True, help="User name (e.g. 'alice').")
@click.option("--real-name", required=True, help="Display name.")
@click.option(
    "--expires",
    type=click.IntRange(min=1),
    default=None,
    help="Lifetime in seconds [default: EXPIRATION or 3600].",
)
@click.option(
    "--write-redis",
    is_flag=True,
    help="Also log the user in: SET <uid> in REDIS_DB_PERMISSION (expires with the token).",
)
def token(uid: str, user_name: str, real_name: str, expires: int | None, write_redis: bool) -> None:
    """Mint a token signed with SECRET_KEY, exactly as the auth center does, and print it."""
    try:
        settings = TokenSettings.from_env()
        lifetime = expires or settings.expiration
        minted = mint_token(settings.secret_key, uid, user_name, real_name, expires_in=lifetime)
        if write_redis:
            core = RedisSettings.from_env(os.environ)
            target = redis_settings_for_db(core, settings.redis_db)
            key = key_prefix_for_db(core, settings.redis_db, settings.redis_key_prefix) + uid
            client = connect_redis(target)
            try:
                client.set(key, session_id(uid, user_name, real_name), ex=lifetime)
            finally:
                client.close()
            click.echo(f"logged in {user_name!r} at {target.redacted_url} key {key!r}", err=True)
    except (ConfigurationError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    except redis.exceptions.RedisError as exc:
        raise click.ClickException(f"Redis is unavailable: {type(exc).__name__}") from None
    click.echo(minted)
