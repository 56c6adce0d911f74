"""bench/gridfs_stream.py runs end to end at a small size (so it cannot rot); no timing asserted."""

from __future__ import annotations

from bench import gridfs_stream


def test_gridfs_benchmark_round_trips_and_reports(mongo_uri: str) -> None:
    """A 3 MiB run uploads, downloads, verifies the SHA-256 and reports every figure."""
    result = gridfs_stream.run(mongo_uri, 3)
    assert result["size_mib"] == 3
    assert set(result) == {
        "size_mib", "upload_mib_s", "download_mib_s", "server_rss_before_mib",
        "peak_rss_growth_upload_mib", "peak_rss_growth_total_mib",
    }  # fmt: skip
    assert all(isinstance(v, int | float) and v >= 0 for v in result.values())
