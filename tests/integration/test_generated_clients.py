"""The document is precise enough for machines: clients generated from it work and type-check.

- Python: ``openapi-python-client`` (test extra) generates a client from a live sample app's
  ``/openapi.json``; a CRUD round trip with it runs against that app, served in a subprocess.
- TypeScript: ``openapi-typescript`` turns the document into types and ``tsc --strict``
  compiles a small typed call, including ``@ts-expect-error`` lines that only compile if the
  types are precise (a sort by a list field, a string for a number filter). The npm packages
  are installed once into ``build/npm-cache/`` (ignored); skipped without ``node``/``npm``.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sample_app import create_app

from rainbond_kit import RainbondKit, Settings
from rainbond_kit.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]
NPM_CACHE = ROOT / "build" / "npm-cache" / "openapi-typescript"
NPM_PACKAGES = ("openapi-typescript@7", "typescript@5")


def _env(**extra: str) -> dict[str, str]:
    """The environment minus any store or auth-center variable, plus ``extra``."""
    drop = ("MONGODB_", "MONGO_", "REDIS_", "SECRET_KEY", "RAINBOND_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def live_sample(mongo_uri: str, redis_url: str) -> Iterator[str]:
    """``python -m sample_app`` on a free port, its own database; yields the base URL."""
    port = free_port()
    env = _env(
        PORT=str(port),
        MONGODB_URI=mongo_uri,
        MONGODB_DB=f"clients_{uuid.uuid4().hex[:8]}",
        REDIS_URL=redis_url,
        PYTHONPATH=str(ROOT),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "sample_app"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{url}/readyz", timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("the sample app did not start")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def python_client(live_sample: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The package ``openapi-python-client`` generates from the live app's document."""
    pytest.importorskip(
        "openapi_python_client", reason="openapi-python-client (test extra) is not installed"
    )
    work = tmp_path_factory.mktemp("pyclient")
    with urllib.request.urlopen(f"{live_sample}/openapi.json", timeout=10) as response:
        (work / "openapi.json").write_bytes(response.read())
    (work / "config.yaml").write_text("post_hooks: []\n")
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--meta", "none",
         "--path", str(work / "openapi.json"), "--config", str(work / "config.yaml"),
         "--output-path", str(work / "books_client")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout  # every operation was understood
    sys.path.insert(0, str(work))
    try:
        yield importlib.import_module("books_client")
    finally:
        sys.path.remove(str(work))
        for name in [
            m for m in sys.modules if m == "books_client" or m.startswith("books_client.")
        ]:
            del sys.modules[name]


class _Operations:
    """``api.create_book`` -> the generated module ``<package>.create_book``."""

    def __init__(self, package: str) -> None:
        self._package = package

    def __getattr__(self, name: str) -> Any:
        return importlib.import_module(f"{self._package}.{name}")


def test_generated_python_client_round_trip(python_client: Any, live_sample: str) -> None:
    """Create, read, list with a filter and a cursor, patch, delete, and a decoded error."""
    from http import HTTPStatus

    api = _Operations("books_client.api.books")
    models = importlib.import_module("books_client.models")
    client = python_client.Client(base_url=live_sample, raise_on_unexpected_status=True)
    author = f"Author {uuid.uuid4().hex[:8]}"

    created = []
    for year in (1969, 1974, 2000):
        response = api.create_book.sync_detailed(
            client=client,
            body=models.Book(title=f"Book {year}", author=author, year=year, tags=["sf"]),
        )
        assert response.status_code == HTTPStatus.CREATED
        assert response.headers["Location"].endswith(f"/api/v1/books/{response.parsed.id}")
        created.append(response.parsed)
    first = created[0]
    assert isinstance(first, models.BooksItem)
    assert (first.title, first.year, first.tags) == ("Book 1969", 1969, ["sf"])

    read = api.get_book.sync(client=client, item_id=first.id)
    assert isinstance(read, models.BooksItem)
    assert (read.id, read.author, read.creation_time) == (first.id, author, first.creation_time)

    page = api.list_books.sync(
        client=client, authoreq=author, yeargte=1970, limit=1,
        orderby=models.ListBooksOrderby.YEAR_DESC,
    )  # fmt: skip
    assert isinstance(page, models.BooksList)
    assert (page.total, [b.year for b in page.items]) == (2, [2000])
    assert isinstance(page.next_, str)
    rest = api.list_books.sync(
        client=client, authoreq=author, yeargte=1970, limit=1,
        orderby=models.ListBooksOrderby.YEAR_DESC, after=page.next_,
    )  # fmt: skip
    assert [b.year for b in rest.items] == [1974]
    assert rest.next_ is None

    searched = api.search_books.sync(
        client=client,
        body=models.SearchBooksBody.from_dict({"author[eq]": author, "year[in]": [1969, 2000]}),
    )
    assert sorted(b.year for b in searched.items) == [1969, 2000]

    patched = api.update_book.sync(
        client=client, item_id=first.id, body=models.BooksPatch(year=1970)
    )
    assert (patched.year, patched.title) == (1970, "Book 1969")

    deleted = api.delete_book.sync_detailed(client=client, item_id=first.id)
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    gone = api.get_book.sync_detailed(client=client, item_id=first.id)
    assert gone.status_code == HTTPStatus.NOT_FOUND
    assert isinstance(gone.parsed, models.Envelope)
    assert (gone.parsed.code, gone.parsed.status) == (404, "Not Found")

    invalid = api.create_book.sync_detailed(
        client=client, body=models.Book(title="", author=author)
    )
    assert invalid.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert isinstance(invalid.parsed, models.Envelope)
    assert invalid.parsed.errors.to_dict() == {
        "json": {"title": ["Length must be between 1 and 200."]}
    }


def _npm_tools() -> Path:
    """``node_modules/.bin`` with openapi-typescript and tsc, installed once into build/."""
    bin_dir = NPM_CACHE / "node_modules" / ".bin"
    if not (bin_dir / "tsc").exists() or not (bin_dir / "openapi-typescript").exists():
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix",
             str(NPM_CACHE), *NPM_PACKAGES],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    return bin_dir


TYPED_CALL = """\
import type { components, paths } from "./api";

type ListBooks = paths["/api/v1/books"]["get"];
type ListQuery = NonNullable<ListBooks["parameters"]["query"]>;
type BooksList = ListBooks["responses"][200]["content"]["application/json"];
type NewBook = components["schemas"]["Book"];
type Envelope = components["schemas"]["Envelope"];

export const query: ListQuery = { "year[gte]": 1950, "tags[in]": ["sf"], $orderby: "year desc", $limit: 20 };
export const book: NewBook = { title: "The Dispossessed", author: "Ursula K. Le Guin", year: 1974 };
export const titles = (page: BooksList): string[] => page.items.map((b) => b.title);
export const nextCursor = (page: BooksList): string | null => page.next;
export const describe = (e: Envelope): string => `${e.code} ${e.status}: ${e.message}`;
// @ts-expect-error list fields cannot be sorted by
export const badSort: ListQuery = { $orderby: "tags" };
// @ts-expect-error year filters are numbers
export const badYear: ListQuery = { "year[gte]": "1950" };
// @ts-expect-error title is required
export const badBook: NewBook = { author: "x" };
"""


@pytest.fixture
def openapi_document(rainbond_settings: Settings) -> Iterator[dict[str, Any]]:
    app = create_app(rainbond_settings, {"TESTING": True})
    yield app.test_client().get("/openapi.json").get_json()
    RainbondKit.shutdown(app)


@pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("node") is None,
    reason="node and npm are needed for the openapi-typescript check (install Node.js to run it)",
)
def test_typescript_types_compile_a_typed_call(
    openapi_document: dict[str, Any], tmp_path: Path
) -> None:
    """openapi-typescript's types accept a correct call and reject wrong types (tsc --strict)."""
    bin_dir = _npm_tools()
    (tmp_path / "openapi.json").write_text(json.dumps(openapi_document))
    generated = subprocess.run(
        [str(bin_dir / "openapi-typescript"), "openapi.json", "-o", "api.d.ts"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    (tmp_path / "call.ts").write_text(TYPED_CALL)
    compiled = subprocess.run(
        [str(bin_dir / "tsc"), "--noEmit", "--strict", "--target", "es2020", "call.ts"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    # the check can fail: an unguarded wrong type is a compile error
    (tmp_path / "call.ts").write_text(
        TYPED_CALL.replace("// @ts-expect-error year filters are numbers\n", "")
    )
    broken = subprocess.run(
        [str(bin_dir / "tsc"), "--noEmit", "--strict", "--target", "es2020", "call.ts"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert broken.returncode != 0
    assert "Type 'string' is not assignable to type 'number'" in broken.stdout
