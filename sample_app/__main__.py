"""``python -m sample_app``: serve on ``PORT`` (default 5000), embedded MongoDB when none is set."""

from __future__ import annotations

import sys

from rainbond_kit import ConfigurationError, Settings
from rainbond_kit.embedded import ensure_mongo


def main() -> int:
    try:
        Settings.from_env()  # fail on a malformed variable before starting anything
        ensure_mongo()
        settings = Settings.from_env()
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    from sample_app import create_app

    app = create_app(settings)
    app.run(host="0.0.0.0", port=settings.port)  # noqa: S104 - a container listens on all addresses
    return 0


if __name__ == "__main__":
    sys.exit(main())
