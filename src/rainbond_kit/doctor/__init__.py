"""``rainbond-kit doctor``: the deployment checklist, run in the component's folder.

``report`` holds the result type and printers, ``environment`` the checks that need no
server, ``stores`` those that talk to MongoDB and Redis; :func:`run_checks` runs them all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from rainbond_kit.doctor.environment import (
    check_auth,
    check_port,
    check_procfile,
    check_proxies,
    check_variables,
    procfile_command,
)
from rainbond_kit.doctor.report import Check, exit_code, render_json, render_text
from rainbond_kit.doctor.stores import check_indexes, check_mongo, check_redis, load_resources
from rainbond_kit.settings import MongoSettings

__all__ = ["Check", "exit_code", "render_json", "render_text", "run_checks"]


def _app_module(folder: Path) -> str | None:
    words = procfile_command(folder) or []
    for word in words[1:]:
        if ":" in word and not word.startswith("-"):
            return word.split(":", 1)[0]
    return None


def run_checks(
    folder: Path, env: Mapping[str, str] | None = None, *, app_module: str | None = None
) -> list[Check]:
    """Every check, in checklist order, for the component in ``folder``."""
    env = os.environ if env is None else env
    checks = [check_variables(env), check_port(env), check_auth(env), check_proxies(env)]
    checks.append(check_procfile(folder))
    mongo, client = check_mongo(env)
    checks += [mongo, check_redis(env)]
    module = app_module or _app_module(folder)
    if module is None:
        return checks
    resources, error = load_resources(module, folder)
    if error is not None:
        checks.append(
            Check("app", "fail", f"{module} failed to load: {error}", "fix what the message names")
        )
    if client is not None:
        try:
            checks += check_indexes(client, MongoSettings.from_env(env).database, resources)
        finally:
            client.close()
    return checks
