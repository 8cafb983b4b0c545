"""Internal HTTP: one small client for service-to-service calls, each call signed.

``InternalClient`` sits directly on an aiohttp session: httpx (even on its aiohttp
transport) spent ~300 us of CPU per call building and normalising its request and
response models, aiohttp alone ~75 us (bench/README.md, "Cost per task"), and a submitted
task makes three such calls. It is ours because it is the product's hot path; it does
only what the services use: a method, a path (with ``params``), a body (``content`` or
``json``), headers, and an answer read whole. Given a ``Keyring`` it signs every request
(``shared/service_auth.py``); the serving side checks with ``ServiceAuth``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack
from urllib.parse import urlencode

import aiohttp
import orjson
from multidict import CIMultiDictProxy
from opentelemetry.trace import SpanKind
from yarl import URL

from . import tracing
from .errors import UpstreamUnavailable
from .metrics import UPSTREAM_DURATION
from .runtime import closing
from .service_auth import Keyring, sign_headers

USER_ID_HEADER = "x-satyamark-user"
# On an answer replayed for a repeated Idempotency-Key (like Stripe's).
IDEMPOTENT_REPLAY_HEADER = "Idempotent-Replayed"
DEFAULT_TIMEOUT_S = 10.0
_JSON = "application/json"


class InternalCallError(Exception):
    """The call got no answer: refused, reset, unreachable (``InternalTimeout``: late)."""


class InternalTimeout(InternalCallError):
    pass


class InternalStatusError(InternalCallError):
    """``raise_for_status`` on an error answer."""


@dataclass(frozen=True, slots=True)
class InternalResponse:
    """An answer, read whole (internal answers are small JSON documents)."""

    status_code: int
    headers: CIMultiDictProxy[str]
    content: bytes

    def json(self) -> Any:
        return orjson.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise InternalStatusError(f"answered {self.status_code}")


Params = Mapping[str, str | int]


class RequestParts(TypedDict, total=False):
    """What a call may carry besides its method and path."""

    content: bytes | str | None  # the body as it is
    json: Any  # or a value sent as JSON
    params: Params | None  # the query
    headers: Mapping[str, str] | None


class InternalClient:
    """Calls to one service at ``base_url``. ``keyring``: sign every request (omit for
    a plain client); ``timed_as``: (this service, the upstream) labels of the call-time
    histogram, and the peer of the client span when tracing is on."""

    def __init__(
        self,
        base_url: str,
        *,
        keyring: Keyring | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        timed_as: tuple[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timed_as = timed_as
        self._keyring = keyring
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(3.0, timeout))
        self._timer = UPSTREAM_DURATION.labels(*timed_as) if timed_as else None
        self._upstream = timed_as[1] if timed_as else "upstream"
        self._session: aiohttp.ClientSession | None = None  # opened by the first call

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=60),
                timeout=self._timeout,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def request(
        self, method: str, path: str, **parts: Unpack[RequestParts]
    ) -> InternalResponse:
        """Send and read the answer; ``InternalCallError`` when none comes."""
        json, content = parts.get("json"), parts.get("content")
        params, headers = parts.get("params"), parts.get("headers")
        body = orjson.dumps(json) if json is not None else content
        if isinstance(body, str):
            body = body.encode()
        sent = dict(headers) if headers else {}
        if json is not None:
            sent.setdefault("content-type", _JSON)
        target = f"{path}?{urlencode(params)}" if params else path
        if self._keyring is not None:
            sent.update(sign_headers(self._keyring, method, target, body or b""))
        if not tracing.enabled():
            return await self._send(method, target, body, sent)
        # Under an unsampled parent there is no span (shared/tracing.py): the request
        # carries the parent's traceparent, so the next hop drops its spans too.
        name = f"{method} {self._upstream}"
        with tracing.span(name, kind=SpanKind.CLIENT, attributes={"peer.service": self._upstream}):
            tracing.inject(sent)
            return await self._send(method, target, body, sent)

    async def _send(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> InternalResponse:
        start = time.perf_counter()
        try:
            # encoded: the path and query go out exactly as they were signed
            url = URL(self.base_url + target, encoded=True)
            async with self._open().request(method, url, data=body, headers=headers) as answer:
                content = await answer.read()
                return InternalResponse(answer.status, answer.headers, content)
        except TimeoutError as exc:
            raise InternalTimeout(f"{method} {target}: no answer in time") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise InternalCallError(f"{method} {target}: {exc or type(exc).__name__}") from exc
        finally:
            if self._timer is not None:
                self._timer.observe(time.perf_counter() - start)

    async def get(self, path: str, **parts: Unpack[RequestParts]) -> InternalResponse:
        return await self.request("GET", path, **parts)

    async def post(self, path: str, **parts: Unpack[RequestParts]) -> InternalResponse:
        return await self.request("POST", path, **parts)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector close its sockets


async def call_upstream(
    client: InternalClient, method: str, url: str, *, service: str, **parts: Unpack[RequestParts]
) -> InternalResponse:
    """Send a request; a connection or timeout failure becomes a 503 error of ours."""
    try:
        return await client.request(method, url, **parts)
    except InternalTimeout as exc:
        raise UpstreamUnavailable(f"{service} did not answer in time", code="SYS-DEP-504") from exc
    except InternalCallError as exc:
        raise UpstreamUnavailable(f"{service} is unreachable") from exc


def open_internal(
    opened: AsyncExitStack,
    keyring: Keyring,
    base_url: str,
    timed_as: tuple[str, str],
    timeout: float = DEFAULT_TIMEOUT_S,
) -> InternalClient:
    """A signed client for calls to another service (``timed_as``: this service, that
    one), closed when ``opened`` closes (a service's lifespan)."""
    client = InternalClient(base_url, keyring=keyring, timeout=timeout, timed_as=timed_as)
    return closing(opened, client)
