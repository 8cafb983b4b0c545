"""Server spans: one per HTTP request or WebSocket connection, continuing the caller's
trace (W3C ``traceparent``), named by route template (``POST /v1/verify``).

Light on purpose: it is on every hop. Under an unsampled parent the sampler drops the
span, so none is made: the parent's context is only made current, and the calls the
request makes carry its ``traceparent`` on (``shared/tracing.py``). Attributes are
built only for a span that records. Health probes are not traced at all.
"""

from __future__ import annotations

from collections.abc import Collection

from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode
from starlette.types import ASGIApp, Receive, Scope, Send

from . import tracing
from .asgi import StatusNoting

# Probes every few seconds would bury the traces worth reading.
PROBES = frozenset({"/livez", "/readyz", "/healthz"})


class ServerSpans:
    def __init__(self, app: ASGIApp, *, untraced: Collection[str] = PROBES) -> None:
        self.app = app
        self._untraced = untraced
        # The headers the propagator reads (traceparent, tracestate, baggage by default).
        self._fields = {f.encode("latin-1") for f in propagate.get_global_textmap().fields}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if (
            not tracing.enabled()
            or kind not in ("http", "websocket")
            or scope["path"] in self._untraced
        ):
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in self._fields
        }
        # No trace context: a root, whatever the task's context holds.
        parent = propagate.extract(carrier) if carrier else Context()
        method = scope["method"] if kind == "http" else "WS"
        with tracing.span(method, parent=parent, kind=SpanKind.SERVER) as span:
            if span is None or not span.is_recording():
                await self.app(scope, receive, send)
            else:
                await self._recorded(span, method, scope, receive, send)

    async def _recorded(
        self, span: Span, method: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        noting = StatusNoting(send, None)
        try:
            await self.app(scope, receive, noting if scope["type"] == "http" else send)
        finally:
            status = noting.status
            attributes: dict[str, str | int] = {
                "url.path": scope["path"],
                "url.scheme": scope["scheme"],
            }
            if method != "WS":
                attributes["http.request.method"] = method
            route = getattr(scope.get("route"), "path", None)
            if route is not None:  # known once routing matched (the metrics' label too)
                span.update_name(f"{method} {route}")
                attributes["http.route"] = route
            if status is not None:
                attributes["http.response.status_code"] = status
                if status >= 500:
                    span.set_status(StatusCode.ERROR)
            span.set_attributes(attributes)
