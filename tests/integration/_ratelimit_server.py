"""An app process for the Cluster rate-limit test: ``python -m tests.integration._ratelimit_server``.

Reads the Redis variables from its environment, limits ``GET /limited`` to ``RATE`` (scope
``SCOPE``), serves on a free loopback port and prints that port on its first line.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from flask import Flask, jsonify
from werkzeug.serving import make_server

from rainbond_kit import RainbondKit
from rainbond_kit.ratelimit import limit


def build() -> Flask:
    app = Flask("ratelimit-server")
    RainbondKit(app)

    @app.get("/limited")
    @limit(os.environ["RATE"], scope=os.environ["SCOPE"])
    def limited() -> Any:
        return jsonify(pid=os.getpid())

    return app


if __name__ == "__main__":
    server = make_server("127.0.0.1", 0, build(), threaded=True)
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever()
