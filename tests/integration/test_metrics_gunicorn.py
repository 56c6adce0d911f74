"""Exact request counts across gunicorn workers, a worker restarted mid-run included.

gunicorn (3 sync workers, the sample app, ``sample_app/gunicorn_conf.py``'s hooks) serves a
fixed list of requests over several routes and statuses; one worker gets SIGTERM halfway and
gunicorn replaces it. ``/metrics`` must then count exactly the requests sent, per route and
status, and no request may be left in flight.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.integration._gunicorn import children
from tests.integration._gunicorn import gunicorn as run_gunicorn

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
BOOKS = "/api/v1/books"
#: (method, path, body) -> the (route label, status) it must be counted under
PLAN: list[tuple[str, str, dict[str, object] | None, str, str]] = [
    ("GET", BOOKS, None, "/api/v1/books", "200"),
    ("POST", BOOKS, {"title": "t", "author": "a", "tags": []}, "/api/v1/books", "201"),
    ("POST", BOOKS, {"title": 5}, "/api/v1/books", "422"),
    ("GET", f"{BOOKS}/not-an-id", None, "/api/v1/books/<item_id>", "400"),
    ("GET", f"{BOOKS}/{'0' * 24}", None, "/api/v1/books/<item_id>", "404"),
    ("GET", "/no/such/path", None, "<unmatched>", "404"),
    ("GET", "/healthz", None, "/healthz", "200"),
]
ROUNDS = 12  # N = ROUNDS * len(PLAN) = 84 requests


def _scrape(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def _counts(
    scraped: dict[str, dict[tuple[tuple[str, str], ...], float]],
) -> Counter[tuple[str, str, str]]:
    counts: Counter[tuple[str, str, str]] = Counter()
    for labels, value in scraped.get("http_requests_total", {}).items():
        label = dict(labels)
        counts[(label["method"], label["route"], label["status"])] += int(value)
    return counts


@pytest.fixture
def gunicorn(
    mongo_uri: str, mongo_db_name: str, redis_url: str, tmp_path: Path
) -> Iterator[tuple[str, int]]:
    """The sample app under gunicorn with the metrics hooks; yields its URL and master pid."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # must be cleaned at start-up
    env = {
        "MONGODB_URI": mongo_uri,
        "MONGODB_DB": mongo_db_name,
        "REDIS_URL": redis_url,
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    options = ["-c", "sample_app/gunicorn_conf.py", "--graceful-timeout", "20"]
    with run_gunicorn(env, workers=WORKERS, options=options) as served:
        yield served


def _wait_for_replacement(master: int, gone: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        workers = children(master)
        if gone not in workers and len(workers) == WORKERS:
            return
        assert time.monotonic() < deadline, f"worker {gone} was not replaced: {workers}"
        time.sleep(0.1)


def test_counts_are_exact_across_workers_and_a_restart(gunicorn: tuple[str, int]) -> None:
    """N requests over 7 route/status pairs, one worker SIGTERMed halfway: /metrics counts N."""
    url, master = gunicorn
    before = _counts(_scrape(url))
    expected: Counter[tuple[str, str, str]] = Counter()
    killed = None
    for round_ in range(ROUNDS):
        if round_ == ROUNDS // 2:
            killed = children(master)[0]
            os.kill(killed, signal.SIGTERM)
        for method, path, body, route, status in PLAN:
            response = requests.request(
                method, f"{url}{path}", json=body, timeout=30, headers={"Connection": "close"}
            )
            assert str(response.status_code) == status, (method, path, response.text)
            expected[(method, route, status)] += 1
    assert killed is not None
    _wait_for_replacement(master, killed)

    scraped = _scrape(url)
    delta = _counts(scraped) - before
    assert sum(delta.values()) == ROUNDS * len(PLAN)
    assert delta == expected
    assert scraped["http_requests_in_flight"][()] == 0
    durations = {dict(k)["route"]: v for k, v in scraped["http_request_duration_seconds_count"].items() if dict(k)["method"] == "GET"}  # fmt: skip
    assert durations["<unmatched>"] == ROUNDS
    assert scraped["rainbond_kit_info"][(("version", "0.1.0"),)] == 1
