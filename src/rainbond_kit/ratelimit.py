"""Redis-backed rate limiting: per client and HTTP method, fixed or sliding window.

State lives only in Redis, so several processes (gunicorn workers, replicas) share each
client's budget. Both strategies run as one Lua script (atomic) on Redis' own clock.

* ``@limit("100/minute")`` on a view (or in ``MethodView.decorators``);
* an app-wide default: ``RAINBOND_RATELIMIT = "300/minute"`` then :func:`init_ratelimit`.

The client is the authenticated user's uid when the request is already authenticated,
else the remote address. ``X-Forwarded-For`` counts only when ``RAINBOND_TRUSTED_PROXIES``
says how many proxies to trust (werkzeug ``ProxyFix(x_for=N)`` semantics), with
``X-Real-IP`` as the fallback. Every limited response carries ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix seconds); a refused one is a 429
envelope with ``Retry-After``. Redis down: 503 (fail closed). Redis disabled: no limiting.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, cast

import redis
import redis.exceptions
from flask import Flask, Response, current_app, g, request
from werkzeug.http import parse_list_header

from rainbond_kit.caller import caller_key
from rainbond_kit.data.store_errors import http_error_for
from rainbond_kit.errors import ConfigurationError, TooManyRequestsError
from rainbond_kit.extension_state import get_state
from rainbond_kit.platform_env import TRUSTED_PROXIES, trusted_proxy_count

__all__ = ["Rate", "RateLimiter", "client_key", "exempt", "init_ratelimit", "limit", "parse_rate"]

log = logging.getLogger("rainbond_kit.ratelimit")

F = TypeVar("F", bound=Callable[..., Any])
Strategy = Literal["fixed", "sliding"]

KEY_PREFIX = "rainbond:ratelimit"
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d*)\s*(second|minute|hour|day)s?\s*$", re.I)
_G_HEADERS = "_rainbond_ratelimit_headers"
_EXEMPT_ATTR = "_rainbond_ratelimit_exempt"

# Fixed window: INCR, expiry set by the first hit. Returns {count, ttl_ms, now_ms}.
_FIXED = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
local t = redis.call('TIME')
return {count, ttl, t[1] * 1000 + math.floor(t[2] / 1000)}
"""

# Sliding window log: one sorted-set member per accepted hit, scored by Redis' clock (ms).
# Returns {allowed, count_after, reset_ms, now_ms}.
_SLIDING = """
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  count = count + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], window)
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reset = now + window
if oldest[2] then reset = tonumber(oldest[2]) + window end
return {allowed, count, reset, now}
"""


@dataclass(frozen=True)
class Rate:
    """``amount`` requests per ``seconds``."""

    amount: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.amount}/{self.seconds}s"


def parse_rate(text: str) -> Rate:
    """Parse ``"100/minute"``, ``"5 per second"``, ``"1000/10 minutes"``.

    :raises ConfigurationError: the text is not a rate.
    """
    match = _RATE.match(text)
    if not match or int(match.group(1)) < 1:
        raise ConfigurationError(
            f"rate limit must look like '100/minute' (second, minute, hour, day), got {text!r}"
        )
    multiplier = int(match.group(2) or 1)
    return Rate(int(match.group(1)), multiplier * _UNITS[match.group(3).lower()])


@dataclass(frozen=True)
class Verdict:
    """One check's outcome and the headers it implies."""

    allowed: bool
    limit: int
    remaining: int
    reset_ms: int
    now_ms: int

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(-(-self.reset_ms // 1000)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, -(-(self.reset_ms - self.now_ms) // 1000)))
        return headers


class RateLimiter:
    """Checks hits against Redis with one atomic script call."""

    def __init__(self, client: redis.Redis, strategy: Strategy = "sliding") -> None:
        if strategy not in ("fixed", "sliding"):
            raise ConfigurationError(
                f"RAINBOND_RATELIMIT_STRATEGY must be fixed or sliding, got {strategy!r}"
            )
        self.strategy = strategy
        self.client = client
        self._script = client.register_script(_SLIDING if strategy == "sliding" else _FIXED)

    def hit(self, key: str, rate: Rate) -> Verdict:
        """Count one hit on ``key``; raises redis errors as they come."""
        window_ms = rate.seconds * 1000
        full_key = f"{KEY_PREFIX}:{self.strategy}:{rate.amount}:{rate.seconds}:{key}"
        if self.strategy == "sliding":
            allowed, count, reset, now = self._script(
                keys=[full_key], args=[window_ms, rate.amount, uuid.uuid4().hex]
            )
            return Verdict(
                bool(allowed), rate.amount, rate.amount - int(count), int(reset), int(now)
            )
        count, ttl, now = self._script(keys=[full_key], args=[window_ms])
        return Verdict(
            int(count) <= rate.amount,
            rate.amount,
            max(0, rate.amount - int(count)),
            int(now) + int(ttl),
            int(now),
        )


def _setting(app: Flask, name: str) -> str:
    """``app.config[name]`` if set, else the environment variable (``""`` when neither)."""
    value = app.config.get(name)
    if value is None or value == "":
        value = os.environ.get(name, "")
    return str(value).strip()


@dataclass(frozen=True)
class _RateConfig:
    """The ``RAINBOND_RATELIMIT*`` and ``RAINBOND_TRUSTED_PROXIES`` keys, validated once."""

    default: Rate | None
    strategy: Strategy
    trusted_proxies: int

    @classmethod
    def from_app(cls, app: Flask) -> _RateConfig:
        """Read the keys (``app.config`` beats the environment).

        :raises ConfigurationError: a value is malformed (named in the message).
        """
        default = _setting(app, "RAINBOND_RATELIMIT")
        strategy = _setting(app, "RAINBOND_RATELIMIT_STRATEGY") or "sliding"
        if strategy not in ("fixed", "sliding"):
            raise ConfigurationError(
                f"RAINBOND_RATELIMIT_STRATEGY must be fixed or sliding, got {strategy!r}"
            )
        trusted = trusted_proxy_count({TRUSTED_PROXIES: _setting(app, TRUSTED_PROXIES)})
        try:
            rate = parse_rate(default) if default else None
        except ConfigurationError as exc:
            raise ConfigurationError(f"RAINBOND_RATELIMIT: {exc}") from None
        return cls(rate, cast(Strategy, strategy), trusted)


def _config(app: Flask) -> _RateConfig:
    config: _RateConfig = app.extensions[_INSTALLED]
    return config


def trusted_proxies(app: Flask) -> int:
    """``RAINBOND_TRUSTED_PROXIES`` as validated by :func:`init_ratelimit` (rate limits, ProxyFix)."""
    return _config(app).trusted_proxies


def client_key() -> str:
    """The caller: ``user:<uid>`` when authenticated, else ``ip:<address>``."""
    caller = caller_key()  # set by auth once the request is authenticated
    if caller is not None:
        return caller
    trusted = _config(current_app).trusted_proxies
    address = request.remote_addr or "unknown"
    if trusted > 0:
        forwarded = parse_list_header(request.headers.get("X-Forwarded-For", ""))
        real_ip = request.headers.get("X-Real-IP", "").strip()
        if len(forwarded) >= trusted:  # ProxyFix(x_for=trusted)
            address = forwarded[-trusted]
        elif not forwarded and real_ip:
            address = real_ip
    return f"ip:{address}"


def _limiter() -> RateLimiter | None:
    state = get_state()
    if not state.redis_enabled:
        return None
    client = state.container.redis_client()
    limiter: RateLimiter | None = current_app.extensions.get("rainbond_ratelimit")
    if limiter is None or limiter.client is not client:  # built over an overridden client
        limiter = RateLimiter(client, _config(current_app).strategy)
        current_app.extensions["rainbond_ratelimit"] = limiter
    return limiter


def _check(scope: str, rate: Rate) -> dict[str, str]:
    limiter = _limiter()
    if limiter is None:
        return {}
    key = f"{scope}:{request.method}:{client_key()}"
    try:
        verdict = limiter.hit(key, rate)
    except redis.exceptions.RedisError as exc:
        raise http_error_for(exc, store="rate limiting store") or exc from None
    headers = verdict.headers()
    if not verdict.allowed:
        raise TooManyRequestsError(
            f"rate limit exceeded: {rate.amount} per {rate.seconds}s", headers=headers
        )
    g.setdefault(_G_HEADERS, {}).update(headers)
    return headers


def limit(rate: str, *, scope: str | None = None) -> Callable[[F], F]:
    """Limit a view to ``rate`` per client and method (``"100/minute"``).

    ``scope`` (default: the view's module and name) names the shared budget; views with the
    same scope share it, across processes.
    """
    parsed = parse_rate(rate)

    def decorator(view: F) -> F:
        name = scope or f"{view.__module__}.{view.__qualname__}"

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            headers = _check(name, parsed)
            response = current_app.make_response(view(*args, **kwargs))
            response.headers.update(headers)
            return response

        setattr(wrapper, _EXEMPT_ATTR, True)  # its own limit replaces the app default
        return cast(F, wrapper)

    return decorator


def exempt(view: F) -> F:
    """Exclude a view from the app-wide default limit."""
    setattr(view, _EXEMPT_ATTR, True)
    return view


_INSTALLED = "rainbond_kit_ratelimit"


def init_ratelimit(app: Flask) -> None:
    """Install the after-request headers and, if ``RAINBOND_RATELIMIT`` is set, the default limit.

    ``RainbondKit(app)`` calls it; calling it again is a no-op.

    :raises ConfigurationError: ``RAINBOND_RATELIMIT``, ``RAINBOND_RATELIMIT_STRATEGY`` or
        ``RAINBOND_TRUSTED_PROXIES`` is malformed (checked here, once, not per request).
    """
    if app.extensions.get(_INSTALLED):
        return  # RainbondKit already called it; installing twice would count twice
    config = _RateConfig.from_app(app)
    app.extensions[_INSTALLED] = config
    rate = config.default
    if rate is not None and not get_state(app).redis_enabled:
        log.warning(
            "rate limiting is DISABLED: RAINBOND_RATELIMIT=%s needs Redis, which is disabled",
            rate,
        )

    if rate is not None:

        @app.before_request
        def rainbond_default_ratelimit() -> None:
            view = app.view_functions.get(request.endpoint or "")
            if view is None or getattr(view, _EXEMPT_ATTR, False) or request.method == "OPTIONS":
                return
            if request.blueprint == "rainbond_kit_health":
                return
            _check("default", rate)

    @app.after_request
    def rainbond_ratelimit_headers(response: Response) -> Response:
        for name, value in g.get(_G_HEADERS, {}).items():
            response.headers.setdefault(name, value)
        return response
