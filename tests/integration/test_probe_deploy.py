"""Probe: a component deployed as Rainbond 6 starts it, with the variables Rainbond injects.

Credentials with special characters, a non-default port, the platform's underscore
variables, malformed values: each either works end to end or stops start-up with one line
naming the variable.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from rainbond_kit.embedded import free_port
from rainbond_kit.redis_client import connect_redis
from rainbond_kit.settings import Settings

#: a password using every character a URL treats specially, a space and a plus among them
SPECIAL_PASSWORD = "p@ss w:rd/%2B+?#&="


@pytest.fixture(scope="module")
def redis_with_password() -> Iterator[int]:
    """A ``redis-server`` requiring :data:`SPECIAL_PASSWORD`; yields its port."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not on PATH")
    port = free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--requirepass", SPECIAL_PASSWORD],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port, password=SPECIAL_PASSWORD)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    try:
        yield port
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("variable", ["REDIS_PASSWORD", "REDIS_PASS"])
def test_redis_password_with_special_characters_authenticates(
    redis_with_password: int, variable: str
) -> None:
    """``REDIS_PASSWORD="p@ss w:rd/%2B+?#&="``: the client sends exactly that password.

    The settings used to write the password into the URL with ``quote_plus`` (a space
    becomes ``+``) while redis-py reads a URL's password with ``unquote`` (``+`` stays
    ``+``): a password holding a space failed with "invalid username-password pair"."""
    settings = Settings.from_env(
        {
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis_with_password),
            variable: SPECIAL_PASSWORD,
        }
    )
    client = connect_redis(settings.redis)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_a_wrong_redis_password_is_refused(redis_with_password: int) -> None:
    """Control: the server does check the password (a near miss is refused)."""
    settings = Settings.from_env(
        {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_with_password),
         "REDIS_PASSWORD": SPECIAL_PASSWORD.replace(" ", "+")}
    )  # fmt: skip
    client = connect_redis(settings.redis)
    try:
        with pytest.raises(redis.AuthenticationError):
            client.ping()
    finally:
        client.close()
