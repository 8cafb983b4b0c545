"""The metrics port: ``/metrics`` (Prometheus text format), ``/livez`` and ``/readyz``.

Served from a thread, apart from the service's event loop and never on its public
port. Being off the loop is the point for the worker: a stalled loop cannot answer,
but this thread can still say so (its readiness reads the loop's heartbeat).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson
from prometheus_client import make_wsgi_app

# (ready, why not): called by the thread on each /readyz
ReadinessCheck = Callable[[], tuple[bool, str]]

_StartResponse = Callable[..., Any]
_Environ = dict[str, Any]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds are not worth a log line."""


def _json(start_response: _StartResponse, status: str, body: dict[str, object]) -> list[bytes]:
    data = orjson.dumps(body)
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


class MetricsApp:
    def __init__(self, readiness: ReadinessCheck | None) -> None:
        self._metrics = make_wsgi_app()
        self._readiness = readiness

    def __call__(self, environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self._metrics(environ, start_response)  # type: ignore[no-any-return]
        if path == "/livez":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/readyz":
            ready, why = self._readiness() if self._readiness else (True, "")
            if ready:
                return _json(start_response, "200 OK", {"status": "ready"})
            return _json(
                start_response,
                "503 Service Unavailable",
                {"status": "unavailable", "errorCode": "SYS-NOT-READY", "message": why},
            )
        return _json(
            start_response, "404 Not Found", {"errorCode": "SYS-404", "message": "not found"}
        )


class MetricsServer:
    def __init__(self, host: str, port: int, readiness: ReadinessCheck | None = None) -> None:
        self._server = make_server(
            host, port, MetricsApp(readiness), _ThreadingServer, handler_class=_QuietHandler
        )
        self.port: int = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-server", daemon=True
        )

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
