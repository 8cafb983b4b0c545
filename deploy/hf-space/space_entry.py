"""Entry point of the SatyaMark worker on a Hugging Face Docker Space.

A Space must answer HTTP on its ``app_port`` or it never leaves "Starting". The worker
itself has no HTTP port and only makes outbound connections (Redis over TLS, the HTTPS
callback), so this wrapper

* serves a tiny health endpoint on ``$PORT`` (default 7860): ``GET /`` and
  ``GET /healthz`` answer 200 while the worker process runs, 503 while it is down. It
  shows no configuration and no secrets, and accepts nothing else;
* runs ``python -m worker`` as a child process (``SPACE_WORKER_CMD`` overrides it),
  restarts it with a capped backoff when it crashes (e.g. Redis unreachable for a
  while), and forwards SIGTERM/SIGINT so the worker drains its jobs before the Space
  stops.

Standard library only, so it runs before (and regardless of) the worker's own imports.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

STARTED = time.monotonic()


class Supervisor:
    """Keeps one worker child process running until told to stop."""

    def __init__(self, cmd: list[str]) -> None:
        self.cmd = cmd
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self.stopping = threading.Event()
        # Re-entrant: the signal handler runs on the main thread, which may hold it.
        self.lock = threading.RLock()

    def alive(self) -> bool:
        with self.lock:
            return self.proc is not None and self.proc.poll() is None

    def stop(self, signum: int, _frame: FrameType | None = None) -> None:
        self.stopping.set()
        with self.lock:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signum)

    def run(self) -> int:
        backoff = 1.0
        while True:
            with self.lock:
                if self.stopping.is_set():
                    return 0
                self.proc = subprocess.Popen(self.cmd)
            started = time.monotonic()
            code = self.proc.wait()
            if self.stopping.is_set():
                # Stopped on request: a child ended by our own signal stopped cleanly.
                return 0 if code in (0, -signal.SIGTERM, -signal.SIGINT) else _exit_code(code)
            if code == 0:
                return 0
            # A worker that ran a while before failing starts again quickly.
            if time.monotonic() - started > 300:
                backoff = 1.0
            self.restarts += 1
            print(
                f"space_entry: worker exited with {code}; restarting in {backoff:.0f}s",
                file=sys.stderr,
                flush=True,
            )
            if self.stopping.wait(backoff):
                return 0
            backoff = min(backoff * 2, 60.0)


def _exit_code(code: int) -> int:
    """A child's return code as our exit status (killed by signal N: 128 + N)."""
    return 128 - code if code < 0 else code


def make_handler(supervisor: Supervisor) -> type[BaseHTTPRequestHandler]:
    class Health(BaseHTTPRequestHandler):
        server_version = "satyamark-worker"
        sys_version = ""

        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] not in ("/", "/healthz"):
                self.send_error(404)
                return
            ok = supervisor.alive()
            body = json.dumps(
                {
                    "service": "satyamark-worker",
                    "status": "ok" if ok else "down",
                    "restarts": supervisor.restarts,
                    "uptime_s": round(time.monotonic() - STARTED),
                }
            ).encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # the platform pings often; keep the Space log for the worker

    return Health


def main() -> int:
    cmd = shlex.split(os.environ.get("SPACE_WORKER_CMD", "")) or [sys.executable, "-m", "worker"]
    port = int(os.environ.get("PORT", "7860"))
    supervisor = Supervisor(cmd)
    server = ThreadingHTTPServer(("0.0.0.0", port), make_handler(supervisor))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    try:
        return supervisor.run()
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
