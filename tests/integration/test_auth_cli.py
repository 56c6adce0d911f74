"""``rainbond-kit token``: mint a legacy token and log the user in, for development."""

from __future__ import annotations

import redis
from click.testing import CliRunner

from rainbond_kit.auth.stores import redis_settings_for_db
from rainbond_kit.auth.tokens import decode_token
from rainbond_kit.cli import main
from rainbond_kit.settings import RedisSettings

SECRET = "cli-secret"


def test_token_command_writes_redis(redis_url: str) -> None:
    """The printed token verifies with SECRET_KEY and the Redis key holds the session id."""
    uid = "65f0a1b2c3d4e5f601234567"
    env = {
        "SECRET_KEY": SECRET,
        "REDIS_DB_PERMISSION": "5",
        "REDIS_URL": redis_url,
        "EXPIRATION": "600",
    }
    result = CliRunner().invoke(
        main, ["token", "--uid", uid, "--user", "alice", "--real-name", "爱丽丝", "--write-redis"], env=env
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    claims = decode_token(token, SECRET)
    assert (claims.uid, claims.user_name, claims.real_name) == (uid, "alice", "爱丽丝")
    assert claims.expires_at - claims.issued_at == 600
    client = redis.Redis.from_url(
        redis_settings_for_db(RedisSettings(url=redis_url), 5).url, decode_responses=True
    )
    try:
        assert client.get(uid) == f"{uid}--alice--爱丽丝"
        assert 0 < client.ttl(uid) <= 600
        client.delete(uid)
    finally:
        client.close()


def test_token_command_needs_secret() -> None:
    """Without SECRET_KEY the command fails with a usage error naming it."""
    result = CliRunner().invoke(
        main, ["token", "--uid", "u", "--user", "a", "--real-name", "A"], env={"SECRET_KEY": ""}
    )
    assert result.exit_code == 2
    assert "SECRET_KEY" in result.output
