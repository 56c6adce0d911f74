"""The benchmarks run end to end at tiny sizes and return sane figures (so bench/ cannot rot)."""

from __future__ import annotations

import importlib.util

import pytest
from bench import actions, batch, count_modes, deep_paging, overhead, side_by_side


def test_overhead_benchmark_measures_both_apps_and_the_driver_floor(mongo_uri: str) -> None:
    """overhead.run agrees on the answer of both apps and reports positive CPU and rates."""
    result = overhead.run(
        mongo_uri, docs=60, requests=3, rounds=1, warmup=1, database="smoke_overhead"
    )
    # dummy_remove counts every soft-deleted book (one in nine), not only those matching
    assert result["matching"] == {"total": 2, "dummy_remove": 6}
    assert set(result["results"]) == {"rainbond-kit", "hand-written", "driver only"}
    for figures in result["results"].values():
        assert figures["cpu_us"] > 0
        assert figures["rps"] > 0
        assert len(figures["rounds_cpu_us"]) == 1
    assert result["ratio"] > 0


def test_actions_benchmark_measures_overhead_and_exact_contention(mongo_uri: str) -> None:
    """actions.run times the three contenders; under contention exactly the stock is taken."""
    result = actions.run(
        mongo_uri, requests=3, rounds=1, warmup=1, threads=4, per_thread=3, database="smoke_actions"
    )
    assert set(result["results"]) == {"rainbond-kit action", "hand-written", "driver only"}
    assert all(figures["cpu_us"] > 0 for figures in result["results"].values())
    contention = result["contention"]
    assert contention["statuses"] == {200: 6, 409: 6}
    assert contention["stock_left"] == 0


def test_deep_paging_benchmark_walks_every_page_for_both_sorts(mongo_uri: str) -> None:
    """deep_paging.run walks all 45 books in 3 pages per sort and times first and last pages."""
    result = deep_paging.run(mongo_uri, docs=45, repeat=1, database="smoke_deep_paging")
    assert set(result["results"]) == {"_id", "author,_id"}
    for figures in result["results"].values():
        assert figures["pages"] == 3
        for key in ("after_first_ms", "after_last_ms", "offset_first_ms", "offset_last_ms"):
            assert figures[key] > 0
    assert result["keyset_plan"]


# Eve's validator (cerberus) warns about its own deprecated API at import
@pytest.mark.filterwarnings("ignore:Methods for type testing are deprecated:DeprecationWarning")
def test_side_by_side_benchmark_in_process_and_under_gunicorn(mongo_uri: str) -> None:
    """side_by_side measures each app in-process and under gunicorn with no failed request."""
    database = "smoke_side_by_side"
    in_process = side_by_side.run(
        mongo_uri, docs=60, requests=2, rounds=1, warmup=1, database=database
    )
    served = side_by_side.run_gunicorn(mongo_uri, database=database, duration=0.5, threads=1)
    expected = {"rainbond-kit", "hand-written"}
    if importlib.util.find_spec("eve") is not None:
        expected.add("eve")
    assert set(in_process["results"]) == expected
    assert in_process["matching"] == {"total": 2, "page_items": 0}
    assert all(r["cpu_us"] > 0 for r in in_process["results"].values())
    assert set(served["results"]) == expected
    for figures in served["results"].values():
        assert figures["requests"] > 0
        assert figures["errors"] == 0


def test_metrics_benchmark_measures_on_and_off(mongo_uri: str) -> None:
    """bench.metrics runs both apps on the same request and reports the cost in percent."""
    from bench import metrics

    result = metrics.run(
        mongo_uri, docs=30, requests=3, rounds=1, warmup=1, database="smoke_metrics"
    )
    assert set(result["results"]) == {
        "metrics on",
        "metrics off",
        "metrics on + command monitoring",
        "metrics on + command monitoring + pool",
    }
    assert all(figures["cpu_us"] > 0 for figures in result["results"].values())
    assert result["target_percent"] == 5.0
    http = metrics.run_http_only(requests=5, rounds=1, warmup=1)
    assert set(http["results"]) == {"metrics on", "metrics off"}


def test_count_modes_benchmark_reports_every_mode_and_the_503(mongo_uri: str) -> None:
    """count_modes.run times each mode at each size (strategies as documented) and the slow
    list answers 503 under a 1 ms limit, 200 under the default."""
    result = count_modes.run(
        mongo_uri, sizes=(30, 5000), repeat=1, limit_ms=1, database="smoke_count_modes"
    )
    assert set(result["results"]) == {"30", "5000"}
    for size, figures in result["results"].items():
        lists = figures["list"]
        assert {m: lists[m]["strategy"] for m in count_modes.MODES} == {
            "exact": "exact", "estimated": "estimated", "none": "none",
            "bounded": "exact" if int(size) < 1000 else "bounded",
        }  # fmt: skip
        assert lists["estimated"]["total"] == size  # metadata: soft-deleted books included
        assert lists["exact"]["total"] == str(int(size) - int(size) // 9)
        assert all(lists[m]["ms"] > 0 for m in count_modes.MODES)
    slow = result["slow_query"]
    assert (slow["default"]["status"], slow["tight"]["status"]) == (200, 503)


def test_money_expand_benchmark_measures_both_parts(mongo_uri: str) -> None:
    """bench.money_expand reports the decimal writers and the three page variants."""
    from bench import money_expand

    result = money_expand.run(mongo_uri, requests=2, rounds=1, database="smoke_money_expand")
    assert set(result["serialization_cpu_us"]) == {"provider (strings)", "exact_dumps"}
    assert set(result["page_wall_ms"]) == {"list", "list + $expand", "list + N+1 find_one"}
    assert all(v > 0 for v in result["page_wall_ms"].values())


def test_batch_benchmark_counts_one_insert_per_batch(mongo_uri: str) -> None:
    """bench.batch: N single POSTs are N insert commands, one batch of N is one (round trips
    counted by a CommandListener; no timing asserted)."""
    result = batch.run(mongo_uri, items=20, rounds=1, database="smoke_batch")
    assert result["single"]["round_trips"] == {"insert": 20}
    assert result["batch"]["round_trips"] == {"insert": 1}
    assert result["single"]["seconds"] > 0
    assert result["batch"]["seconds"] > 0
