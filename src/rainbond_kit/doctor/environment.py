"""Checks that need no server: variables, port, auth, trusted proxies, the Procfile."""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from rainbond_kit.auth.settings import AUTH_VARIABLES, auth_from_env
from rainbond_kit.doctor.report import Check
from rainbond_kit.errors import ConfigurationError
from rainbond_kit.platform_env import (
    PORT_VARIABLES,
    TRUSTED_PROXIES,
    port_source,
    resolve_port,
    trusted_proxy_count,
)
from rainbond_kit.settings import redact_url

__all__ = [
    "app_target",
    "check_auth",
    "check_port",
    "check_procfile",
    "check_proxies",
    "check_variables",
    "procfile_command",
]

_PREFIXES = ("MONGODB_", "MONGO_", "REDIS_", "RAINBOND_", "GUNICORN_", "_SERVICE", "_POD")
_NAMES = {*PORT_VARIABLES, *AUTH_VARIABLES, "WEB_CONCURRENCY", "MEMORY_SIZE", "EXPIRATION"}
_SECRET_WORDS = ("PASSWORD", "PASS", "SECRET", "TOKEN", "KEY")
#: port variables people set by mistake: nothing reads them
_WRONG_PORT_NAMES = {
    "APP_PORT", "HTTP_PORT", "LISTEN_PORT", "SERVER_PORT", "WEB_PORT", "FLASK_RUN_PORT",
    "GUNICORN_PORT", "PORT_", "__PORT", "port", "_port",
}  # fmt: skip
_ON_RAINBOND = ("_SERVICE_NAME", "SERVICE_NAME", "_TENANT_ID", "TENANT_ID")


def _shown(name: str, value: str) -> str:
    if any(word in name.upper() for word in _SECRET_WORDS):
        return "***"
    return redact_url(value) if "://" in value else value


def check_variables(env: Mapping[str, str]) -> Check:
    """Every variable rainbond-kit reads that is set, secrets redacted."""
    found = sorted(n for n in env if n.startswith(_PREFIXES) or n in _NAMES)
    shown = ", ".join(f"{n}={_shown(n, env[n])}" for n in found)
    return Check("variables", "ok", shown or "none of rainbond-kit's variables is set")


def check_port(env: Mapping[str, str]) -> Check:
    """The port gunicorn and ``python app.py`` bind, and port variables nothing reads."""
    try:
        port = resolve_port(env)
    except ConfigurationError as exc:
        return Check("port", "fail", str(exc), "set _PORT (or PORT) to a number 1-65535")
    source = port_source(env) or "default"
    wrong = sorted(n for n in env if n in _WRONG_PORT_NAMES and env[n].strip())
    if wrong:
        return Check(
            "port",
            "fail",
            f"{', '.join(wrong)} set but never read; binds 0.0.0.0:{port} ({source})",
            f"the port comes from _PORT (Rainbond 6) or PORT: rename {wrong[0]} to _PORT",
        )
    old, new = env.get("PORT", "").strip(), env.get("_PORT", "").strip()
    if old and new and old != new:
        return Check(
            "port",
            "fail",
            f"_PORT={new} and PORT={old} disagree; binds 0.0.0.0:{port} (_PORT wins)",
            "unset PORT (Rainbond 6 sets _PORT) or make both the component's port",
        )
    return Check("port", "ok", f"binds 0.0.0.0:{port} ({source})")


def check_auth(env: Mapping[str, str]) -> Check:
    """The auth-center configuration is complete, or auth is explicitly off."""
    try:
        auth = auth_from_env(env)
    except ConfigurationError as exc:
        return Check(
            "auth",
            "fail",
            str(exc),
            "set every auth-center variable (docs/auth.md) or RAINBOND_AUTH=off",
        )
    if auth is not None:
        return Check(
            "auth", "ok", f"on: permissions in {auth.mongo_db_name}.{auth.permission_collection}"
        )
    if env.get("RAINBOND_AUTH", "").strip().lower() == "off":
        return Check("auth", "ok", "off (RAINBOND_AUTH=off)")
    return Check(
        "auth",
        "warn",
        "off: no auth-center variable is set",
        "set RAINBOND_AUTH=off to make it explicit, or the auth-center variables",
    )


def check_proxies(env: Mapping[str, str]) -> Check:
    """``RAINBOND_TRUSTED_PROXIES`` is valid, and 1+ when Rainbond's gateway is in front."""
    try:
        hops = trusted_proxy_count(env)
    except ConfigurationError as exc:
        return Check(
            "trusted proxies",
            "fail",
            str(exc),
            f"set {TRUSTED_PROXIES}=1 behind Rainbond's gateway",
        )
    on_rainbond = any(env.get(n, "").strip() for n in _ON_RAINBOND)
    if hops == 0 and on_rainbond:
        return Check(
            "trusted proxies",
            "fail",
            "0 behind Rainbond's gateway: links say http:// and every caller shares the gateway's address",
            f"set {TRUSTED_PROXIES}=1 (the gateway is one proxy)",
        )
    detail = (
        f"{hops}: X-Forwarded-* honoured from {hops} hop(s)" if hops else "0: X-Forwarded-* ignored"
    )
    return Check("trusted proxies", "ok", detail)


def procfile_command(folder: Path) -> list[str] | None:
    """The ``web:`` command of ``folder/Procfile`` as words, ``None`` without one."""
    procfile = folder / "Procfile"
    if not procfile.is_file():
        return None
    for line in procfile.read_text(encoding="utf-8").splitlines():
        if line.startswith("web:"):
            return shlex.split(line.removeprefix("web:"))
    return []


def app_target(words: list[str]) -> tuple[str | None, str | None]:
    """``(module:attr, config file)`` of a gunicorn command line."""
    target = config = None
    args = iter(words[1:])
    for word in args:
        if word in ("-c", "--config"):
            config = next(args, None)
        elif word.startswith("--config="):
            config = word.split("=", 1)[1]
        elif word.startswith("-"):
            continue
        elif ":" in word or target is None:
            target = word
    return target, config


def check_procfile(folder: Path) -> Check:
    """The Procfile's ``web:`` command: its program on PATH, its app module and config found."""
    words = procfile_command(folder)
    example = "web: gunicorn app:app --config gunicorn.conf.py"
    if words is None:
        return Check("procfile", "fail", f"no Procfile in {folder}", f"add one with `{example}`")
    if not words:
        return Check("procfile", "fail", "the Procfile has no `web:` line", f"add `{example}`")
    program = words[0]
    bindir = Path(sys.executable).parent
    if shutil.which(program) is None and not (bindir / program).exists():
        return Check(
            "procfile", "fail", f"{program!r} is not on PATH", f"add {program} to requirements.txt"
        )
    if program != "gunicorn":
        return Check("procfile", "ok", f"web: {shlex.join(words)}")
    target, config = app_target(words)
    if config and not (folder / config).is_file():
        return Check(
            "procfile",
            "fail",
            f"config file {config} not found",
            f"add {config} or fix the Procfile",
        )
    module = (target or "").split(":", 1)[0]
    found = bool(module) and (
        (folder / f"{module.replace('.', os.sep)}.py").is_file() or _importable(module)
    )
    if not found:
        return Check(
            "procfile",
            "fail",
            f"app module {module!r} not found",
            "name an importable module:attribute",
        )
    return Check("procfile", "ok", f"web: {shlex.join(words)}")


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False
