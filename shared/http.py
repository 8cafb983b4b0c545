"""Internal HTTP: one client factory; calls to internal services are signed.

The client keeps httpx's API but uses the aiohttp-backed transport: on this machine
class httpx's own transport costs 1-2 ms of CPU per call, which capped the submit chain
at ~170 req/s; aiohttp's connection pool costs a fraction of that (README, "Speed").
Given a ``Keyring`` it signs every request (``shared/service_auth.py``); the serving
side checks with ``ServiceAuth``.
"""

from __future__ import annotations

import time
from contextlib import AsyncExitStack

import httpx
from httpx_aiohttp import AiohttpTransport
from opentelemetry.trace import SpanKind

from . import tracing
from .errors import UpstreamUnavailable
from .metrics import UPSTREAM_DURATION
from .runtime import closing
from .service_auth import InternalSigner, Keyring

USER_ID_HEADER = "x-satyamark-user"
# On an answer replayed for a repeated Idempotency-Key (like Stripe's).
IDEMPOTENT_REPLAY_HEADER = "Idempotent-Replayed"
DEFAULT_TIMEOUT_S = 10.0


class _TimedTransport(httpx.AsyncBaseTransport):
    """Times each call (to its response headers, failures included) into
    ``satyamark_upstream_request_duration_seconds`` and, with tracing on, makes it a
    client span whose ``traceparent`` the request carries."""

    def __init__(self, inner: httpx.AsyncBaseTransport, service: str, upstream: str) -> None:
        self._inner = inner
        self._upstream = upstream
        self._attributes = {"peer.service": upstream}  # built once, not per call
        self._timer = UPSTREAM_DURATION.labels(service, upstream)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not tracing.enabled():
            return await self._timed(request)
        # Under an unsampled parent there is no span (shared/tracing.py): the request
        # carries the parent's traceparent, so the next hop drops its spans too.
        name = f"{request.method} {self._upstream}"
        with tracing.span(name, kind=SpanKind.CLIENT, attributes=self._attributes):
            tracing.inject(request.headers)
            return await self._timed(request)

    async def _timed(self, request: httpx.Request) -> httpx.Response:
        start = time.perf_counter()
        try:
            return await self._inner.handle_async_request(request)
        finally:
            self._timer.observe(time.perf_counter() - start)

    async def aclose(self) -> None:
        await self._inner.aclose()


def create_http_client(
    base_url: str = "",
    *,
    keyring: Keyring | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    timed_as: tuple[str, str] | None = None,
) -> httpx.AsyncClient:
    """``keyring``: sign every request for internal endpoints (omit for outside calls).
    ``timed_as``: (this service, the upstream) labels of the call-time histogram."""
    transport: httpx.AsyncBaseTransport = AiohttpTransport(
        limits=httpx.Limits(max_connections=256, max_keepalive_connections=128)
    )
    if timed_as is not None:
        transport = _TimedTransport(transport, *timed_as)
    return httpx.AsyncClient(
        base_url=base_url,
        auth=InternalSigner(keyring) if keyring is not None else None,
        timeout=httpx.Timeout(timeout, connect=3.0),
        transport=transport,
    )


async def call_upstream(
    client: httpx.AsyncClient, method: str, url: str, *, service: str, **kwargs: object
) -> httpx.Response:
    """Send a request; a connection or timeout failure becomes a 503 error of ours."""
    try:
        return await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException as exc:
        raise UpstreamUnavailable(f"{service} did not answer in time", code="SYS-DEP-504") from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(f"{service} is unreachable") from exc


def open_internal(
    opened: AsyncExitStack,
    keyring: Keyring,
    base_url: str,
    timed_as: tuple[str, str],
    timeout: float = DEFAULT_TIMEOUT_S,
) -> httpx.AsyncClient:
    """A signed client for calls to another service (``timed_as``: this service, that
    one), closed when ``opened`` closes (a service's lifespan)."""
    client = create_http_client(base_url, keyring=keyring, timeout=timeout, timed_as=timed_as)
    return closing(opened, client)
