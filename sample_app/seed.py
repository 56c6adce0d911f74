"""``python -m sample_app.seed``: fill a running books service with demo books through its API.

Going through HTTP means the data is validated like any client's and lands wherever the
service stores it (the embedded development MongoDB or a real one).
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

AUTHORS = ("刘慈欣", "李杰", "余华", "Ursula K. Le Guin", "Italo Calvino")
TAGS = ("科幻", "小说", "classic", "essay")


def demo_books(count: int) -> list[dict[str, object]]:
    """``count`` deterministic demo books."""
    return [
        {
            "title": f"Book {i:03d} · 第{i}卷",
            "author": AUTHORS[i % len(AUTHORS)],
            "year": 1950 + (i * 7) % 75,
            "tags": [TAGS[i % len(TAGS)], TAGS[(i + 1) % len(TAGS)]],
        }
        for i in range(count)
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000", help="service base URL")
    parser.add_argument("--count", type=int, default=50, help="how many books (default 50)")
    parser.add_argument("--token", default=None, help="auth-center token, when auth is on")
    args = parser.parse_args(argv)
    headers = {"Content-Type": "application/json"}
    if args.token:
        headers["token"] = args.token
    for book in demo_books(args.count):
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own service
            f"{args.url.rstrip('/')}/api/v1/books",
            data=json.dumps(book).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            print(f"seed: cannot create books at {args.url}: {exc}", file=sys.stderr)
            return 1
    print(f"seed: created {args.count} books at {args.url}/api/v1/books")
    return 0


if __name__ == "__main__":
    sys.exit(main())
