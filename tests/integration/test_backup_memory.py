"""Memory stays flat: dumping ten times the documents does not raise the allocation peak."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path
from typing import Any

import pymongo

from rainbond_kit.backup.dump import dump_database
from rainbond_kit.backup.progress import Progress


def _peak(db: pymongo.database.Database[dict[str, Any]], out: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        totals = dump_database(db, out, batch_size=500, progress=Progress(stream=io.StringIO()))
        return totals.documents, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_database(
    mongo_client: pymongo.MongoClient[dict[str, Any]], mongo_db_name: str, tmp_path: Path
) -> None:
    """1,000 vs 10,000 documents (3 vs 30 MB of BSON): the tracemalloc peak grows by under 25 %."""
    db = mongo_client[mongo_db_name]
    row = {"text": "备份" * 300, "pad": "x" * 1200}
    db.small.insert_many([{"i": i, **row} for i in range(1000)])
    small_docs, small_peak = _peak(db, tmp_path / "small")
    db.small.insert_many([{"i": i, **row} for i in range(1000, 10000)])
    large_docs, large_peak = _peak(db, tmp_path / "large")
    assert (small_docs, large_docs) == (1000, 10000)
    assert (tmp_path / "large" / "small.bson").stat().st_size > 25_000_000
    assert large_peak < small_peak * 1.25, (small_peak, large_peak)
