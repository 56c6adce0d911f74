"""Peak memory of a backup for N and 10*N documents (numbers for docs/backup.md).

Run: ``python bench/backup_memory.py [N]`` (default 5000 documents of ~1 KiB). Each dump runs
in a fresh child process that reports its tracemalloc peak and its peak RSS growth.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import pymongo

from rainbond_kit.backup.dump import dump_database
from rainbond_kit.backup.progress import Progress
from rainbond_kit.embedded import MongoProcess


def child(uri: str, db: str, out: str) -> None:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(uri)
    client.admin.command("ping")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    with open("/dev/null", "w") as sink:
        totals = dump_database(client[db], Path(out) / db, progress=Progress(stream=sink))
    _, peak = tracemalloc.get_traced_memory()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    client.close()
    print(
        json.dumps(
            {
                "documents": totals.documents,
                "bytes": totals.bytes,
                "seconds": totals.seconds,
                "tracemalloc_peak_kib": peak // 1024,
                "rss_growth_kib": rss_after - rss_before,
                "rss_peak_kib": rss_after,
            }
        )
    )


def main(n: int) -> None:
    server = MongoProcess()
    server.start()
    try:
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(server.uri)
        for count in (n, 10 * n):
            db = f"bench{count}"
            for start in range(0, count, 5000):
                client[db].docs.insert_many(
                    [
                        {"i": i, "text": "备份" * 200, "pad": "x" * 400}
                        for i in range(start, min(count, start + 5000))
                    ]
                )
            with tempfile.TemporaryDirectory() as out:
                result = subprocess.run(
                    [sys.executable, __file__, "--child", server.uri, db, out],
                    capture_output=True,
                    text=True,
                    check=True,
                )
            print(result.stdout.strip())
        client.close()
    finally:
        server.cleanup()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:5])
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
