"""``ensure_mongo``: the embedded MongoDB never outlives the app, even on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys, time
from rainbond_kit.embedded import ensure_mongo
server = ensure_mongo({}, data_dir=sys.argv[1])
print(server.port, flush=True)
time.sleep(120)
"""


def test_sigterm_stops_the_embedded_server(tmp_path: Path) -> None:
    """SIGTERM (docker stop, Rainbond's stop) exits 143 and stops SecantusDB with the app."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
