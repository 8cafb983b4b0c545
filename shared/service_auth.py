"""Signed service-to-service requests: every internal call carries an HMAC-SHA256
signature over what it asks for, and each signature is good for one use only.

Headers (all four required)::

    x-sm-key-id     which shared key signed (rotation: several accepted, one signs)
    x-sm-timestamp  unix seconds; refused outside ±window (default 60 s)
    x-sm-nonce      random, single use: remembered for the window (in the receiving
                    process, or in Redis with SATYAMARK_INTERNAL_REPLAY_STORE=redis)
    x-sm-signature  v1=<hex HMAC-SHA256(key, canonical)>

The signed (canonical) string::

    v1\\n<key id>\\n<METHOD>\\n<raw path[?query]>\\n<timestamp>\\n<nonce>\\n<hex SHA-256(body)>

The client side is ``shared.http.InternalClient`` given a keyring (``sign_headers``);
``InternalSigner`` does the same for an httpx client (tests, tools). The server side is
a FastAPI dependency (``ServiceAuth``) reading the raw body (Starlette caches it for the
route) and refusing with 403 ``SYS-AUTH-403`` and a message saying why.

Keys come from ``SATYAMARK_INTERNAL_KEYS`` (JSON ``{"kid": "secret", ...}``) and
``SATYAMARK_INTERNAL_ACTIVE_KID``; without them the single key ``default`` is
``SATYAMARK_INTERNAL_TOKEN``, so an existing deployment keeps working unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import httpx
import redis.asyncio as aioredis
from fastapi import Request
from redis.exceptions import RedisError

from . import keys
from .errors import Forbidden, UpstreamUnavailable
from .runtime import runtime_of

if TYPE_CHECKING:
    from .config import CommonSettings

KEY_ID_HEADER = "x-sm-key-id"
TIMESTAMP_HEADER = "x-sm-timestamp"
NONCE_HEADER = "x-sm-nonce"
SIGNATURE_HEADER = "x-sm-signature"
SIGNED_HEADERS = (KEY_ID_HEADER, TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER)

DEFAULT_KID = "default"
DEFAULT_WINDOW_S = 60
_VERSION = "v1"
_SIG_PREFIX = "v1="
_NONCE_MAX = 64
_NONCE_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_")


class ServiceAuthError(Exception):
    """The request is not an authentic, fresh, first-use internal call."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Keyring:
    """Keys by id (all accepted) and the id of the one used to sign."""

    keys: Mapping[str, bytes]
    active_kid: str

    def __post_init__(self) -> None:
        if self.active_kid not in self.keys:
            raise ValueError(f"active internal key id {self.active_kid!r} is not configured")

    @classmethod
    def single(cls, secret: str, kid: str = DEFAULT_KID) -> Keyring:
        return cls({kid: secret.encode()}, kid)

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> Keyring:
        if not settings.internal_keys:
            return cls.single(settings.internal_token.get_secret_value())
        keys = {kid: v.get_secret_value().encode() for kid, v in settings.internal_keys.items()}
        active = settings.internal_active_kid
        if active is None:
            if len(keys) != 1:
                raise ValueError("several internal keys: set SATYAMARK_INTERNAL_ACTIVE_KID")
            active = next(iter(keys))
        return cls(keys, active)


def canonical(kid: str, method: str, target: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes that are signed; ``target`` is the raw path plus ``?query`` if any."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{_VERSION}\n{kid}\n{method.upper()}\n{target}\n{timestamp}\n{nonce}\n{digest}".encode()


def signature(key: bytes, message: bytes) -> str:
    return _SIG_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_headers(
    keyring: Keyring,
    method: str,
    target: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers that authenticate one request (``target`` = path[?query])."""
    kid = keyring.active_kid
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_urlsafe(18) if nonce is None else nonce
    message = canonical(kid, method, target, ts, nonce, body)
    return {
        KEY_ID_HEADER: kid,
        TIMESTAMP_HEADER: ts,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(keyring.keys[kid], message),
    }


class InternalSigner(httpx.Auth):
    """Signs every request an ``httpx`` client sends (fresh timestamp and nonce each)."""

    requires_request_body = True

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        target = request.url.raw_path.decode("ascii")
        request.headers.update(sign_headers(self.keyring, request.method, target, request.content))
        yield request


@dataclass(frozen=True, slots=True)
class Verified:
    kid: str
    timestamp: int
    nonce: str


def verify_signature(
    keyring: Keyring,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    window_s: int = DEFAULT_WINDOW_S,
    now: float | None = None,
) -> Verified:
    """Check the signature and the time window (the nonce is ``ServiceAuth``'s job)."""
    kid = headers.get(KEY_ID_HEADER)
    raw_ts = headers.get(TIMESTAMP_HEADER)
    nonce = headers.get(NONCE_HEADER)
    presented = headers.get(SIGNATURE_HEADER)
    if not kid or not raw_ts or not nonce or not presented:
        raise ServiceAuthError(
            "missing signature: internal endpoints need x-sm-key-id, x-sm-timestamp, "
            "x-sm-nonce and x-sm-signature"
        )
    key = keyring.keys.get(kid)
    if key is None:
        raise ServiceAuthError(f"unknown key id {kid[:64]!r}")
    if not raw_ts.isascii() or not raw_ts.isdigit() or len(raw_ts) > 12:
        raise ServiceAuthError("x-sm-timestamp is not a unix time")
    if len(nonce) > _NONCE_MAX or not _NONCE_CHARS.issuperset(nonce):
        raise ServiceAuthError(f"x-sm-nonce must be 1-{_NONCE_MAX} URL-safe base64 characters")
    ts = int(raw_ts)
    current = time.time() if now is None else now
    if abs(current - ts) > window_s:
        raise ServiceAuthError(f"stale request: timestamp outside the ±{window_s}s window")
    expected = signature(key, canonical(kid, method, target, raw_ts, nonce, body))
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise ServiceAuthError("bad signature")
    return Verified(kid=kid, timestamp=ts, nonce=nonce)


def request_target(request: Request) -> str:
    """Raw path plus ``?query`` as the client sent it (what the client signed)."""
    scope = request.scope
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


class _HasRedis(Protocol):
    @property
    def redis(self) -> aioredis.Redis: ...


def nonces_in(kind: type[_HasRedis]) -> Callable[[Request], aioredis.Redis]:
    """A nonce store: the Redis client of the service's typed state (``deps.State``)."""

    def store(request: Request) -> aioredis.Redis:
        return runtime_of(request, kind).redis

    return store


class ReplayCheck(Protocol):
    async def first_use(self, request: Request, verified: Verified) -> bool:
        """Remember the nonce; False when it was seen before."""
        ...


@dataclass(slots=True)
class MemoryReplayWindow:
    """The nonces this process accepted, one set per signed timestamp second.

    A replay carries the timestamp it was signed with, so it can only meet its first
    use in that second's set; whole seconds older than the window are dropped at once.
    No round trip per call (the Redis window cost one ``SET NX`` per internal hop). A
    replay sent to another instance of the same service is not caught here: where that
    matters, ``SATYAMARK_INTERNAL_REPLAY_STORE=redis`` shares one window.
    """

    window_s: int
    _seen: dict[int, set[tuple[str, str]]] = field(default_factory=dict)
    _purged_below: int = 0

    async def first_use(self, request: Request, verified: Verified) -> bool:
        return self.remember(verified, time.time())

    def remember(self, verified: Verified, now: float) -> bool:
        horizon = int(now) - self.window_s - 1  # no timestamp this old is accepted
        if horizon > self._purged_below:
            for second in [s for s in self._seen if s < horizon]:
                del self._seen[second]
            self._purged_below = horizon
        seen = self._seen.setdefault(verified.timestamp, set())
        key = (verified.kid, verified.nonce)
        if key in seen:
            return False
        seen.add(key)
        return True

    def __len__(self) -> int:
        return sum(map(len, self._seen.values()))


@dataclass(frozen=True, slots=True)
class RedisReplayWindow:
    """One window for every instance: ``SET NX EX`` in the service's Redis."""

    window_s: int
    store: Callable[[Request], aioredis.Redis]

    async def first_use(self, request: Request, verified: Verified) -> bool:
        # Keep the nonce as long as its timestamp could still be accepted.
        ttl = max(1, verified.timestamp + self.window_s - int(time.time()) + 1)
        try:
            first = await self.store(request).set(
                keys.internal_nonce(verified.kid, verified.nonce), "1", nx=True, ex=ttl
            )
        except RedisError as exc:
            raise UpstreamUnavailable("replay check unavailable (Redis)") from exc
        return bool(first)


class ServiceAuth:
    """Verifies signed internal requests and refuses a nonce's second use.

    ``store`` returns the Redis client a ``redis`` replay window keeps nonces in (the
    serving app's, which its lifespan opens after the guard is built: ``nonces_in``).
    """

    def __init__(
        self,
        keyring: Keyring,
        replay: ReplayCheck,
        *,
        window_s: int = DEFAULT_WINDOW_S,
    ) -> None:
        self.keyring = keyring
        self.window_s = window_s
        self._replay = replay

    @classmethod
    def from_settings(
        cls,
        settings: CommonSettings,
        store: Callable[[Request], aioredis.Redis],
    ) -> ServiceAuth:
        window_s = settings.internal_auth_window_s
        replay: ReplayCheck = (
            RedisReplayWindow(window_s, store)
            if settings.internal_replay_store == "redis"
            else MemoryReplayWindow(window_s)
        )
        return cls(Keyring.from_settings(settings), replay, window_s=window_s)

    async def verify(self, request: Request) -> Verified:
        """Raise ``ServiceAuthError`` unless authentic, fresh and first use."""
        body = await request.body()
        verified = verify_signature(
            self.keyring,
            request.method,
            request_target(request),
            request.headers,
            body,
            window_s=self.window_s,
        )
        if not await self._replay.first_use(request, verified):
            raise ServiceAuthError("replayed request: this nonce was already used")
        return verified

    async def __call__(self, request: Request) -> None:
        """The FastAPI dependency guarding internal endpoints."""
        try:
            await self.verify(request)
        except ServiceAuthError as exc:
            raise Forbidden(f"internal endpoint: {exc.reason}", code="SYS-AUTH-403") from None

    async def is_authentic(self, request: Request) -> bool:
        """True for a valid signed internal request (a public route trusting a header)."""
        if SIGNATURE_HEADER not in request.headers:
            return False
        try:
            await self.verify(request)
        except ServiceAuthError:
            return False
        return True
