"""``/docs`` as a user sees it: headless Chromium renders Swagger UI from the local assets.

Skipped when no Chromium is installed. To run it: ``apt-get install -y chromium`` (Debian;
or any Chrome/Chromium on PATH), then
``.venv/bin/python -m pytest tests/integration/test_docs_browser.py``. The screenshot of each
run is written next to the test's temporary files (its path is printed with ``-s``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings
from tests.integration._served import served

CHROMIUM = next(
    (p for name in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(name))),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install -y chromium) - see this module's docstring",
)


@pytest.fixture
def docs_url(rainbond_settings: Settings) -> Iterator[str]:
    """The sample app served on a free port; yields its base URL."""
    app: Flask = create_app(rainbond_settings)
    with served(app) as url:
        yield url
    RainbondKit.shutdown(app)


def _chromium(*args: str) -> str:
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--virtual-time-budget=20000", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_docs_show_summaries_and_typed_filter_rows(docs_url: str, tmp_path: Path) -> None:
    """The collapsed list shows each operation's summary; a deep link opens listBooks with a
    fillable row per typed filter (try-it-out on), all from this server's own assets."""
    dom = _chromium("--dump-dom", f"{docs_url}/docs#/books/listBooks")
    summaries = re.findall(r'class="opblock-summary-description">([^<]+)<', dom)
    assert {
        "List books", "Create a book", "Get a book", "Replace a book", "Update a book (partial)",
        "Delete a book", "Search books (query as a JSON body)",
    } <= set(summaries)  # fmt: skip
    rows = dict(re.findall(r'<tr data-param-name="([^"]+)" data-param-in="query">(.*?)</tr>', dom))
    assert {"$limit", "$orderby", "year", "year[gte]", "tags[in]", "title[icontains]"} <= set(rows)
    assert 'class="parameter__type">integer' in rows["year[gte]"]
    assert 'placeholder="year[gte]"' in rows["year[gte]"]  # an input: it can be filled in
    assert "array&lt;string&gt;" in rows["tags[in]"]
    assert "Add string item" in rows["tags[in]"]

    shot = tmp_path / "docs.png"
    _chromium(
        "--window-size=1280,2400", f"--screenshot={shot}", f"{docs_url}/docs#/books/listBooks"
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")
