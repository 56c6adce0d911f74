"""WSGI entry points for gunicorn: ``gunicorn "bench.wsgi:create('kit')"`` (or handwritten, eve).

The database comes from ``BENCH_MONGODB_URI`` and ``BENCH_DATABASE`` (set by
:mod:`bench.side_by_side`).
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["create"]


def create(kind: str) -> Any:
    """The app named ``kind``: ``kit`` (the sample app), ``handwritten`` or ``eve``."""
    uri = os.environ["BENCH_MONGODB_URI"]
    database = os.environ["BENCH_DATABASE"]
    if kind == "kit":
        from sample_app import create_app

        from bench._common import kit_settings

        return create_app(kit_settings(uri, database), {"RAINBOND_JSON_LOGS": False})
    if kind == "handwritten":
        from bench import handwritten

        return handwritten.create_app(uri, database)
    if kind == "eve":
        from bench import eve_app

        return eve_app.create_app(uri, database)
    raise ValueError(f"unknown app {kind!r}")
