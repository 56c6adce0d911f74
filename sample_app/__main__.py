"""``python -m sample_app``: serve on ``_PORT``/``PORT`` (default 5000); embedded MongoDB when none is set."""

from __future__ import annotations

import sys

from rainbond_kit.entrypoints import run_development


def main() -> int:
    from sample_app import create_app

    return run_development(create_app)


if __name__ == "__main__":
    sys.exit(main())
