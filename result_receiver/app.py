from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request
from pydantic import ValidationError
from redis.exceptions import RedisError

from shared import keys
from shared.db import open_database
from shared.errors import (
    Conflict,
    PayloadTooLarge,
    Unauthorized,
    UpstreamUnavailable,
    ValidationFailed,
)
from shared.redis_client import create_redis
from shared.schemas import CALLBACK_BODY
from shared.service import new_app
from shared.signing import SignatureError, verify

from .config import ReceiverSettings
from .followers import InflightLead
from .outbox import OutboxRelay
from .store import Accepted, Outcome, ResultStore

log = logging.getLogger(__name__)


class BadSignature(Unauthorized):
    code = "RR-SIG-401"


class ReplayedDelivery(Conflict):
    code = "RR-REPLAY-409"
    default_message = "this delivery id was already used"


async def _read_body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"callback body over {limit} bytes", code="RR-VAL-413")
        chunks.append(chunk)
    return b"".join(chunks)


async def _relay_now(request: Request, accepted: Accepted) -> None:
    """Tell Redis about a committed outcome now. Nothing here fails the request: the
    outcome is stored, and what does not reach Redis stays in the outbox for the relay."""
    state = request.app.state
    try:
        await state.relay.deliver(accepted.outbox_ids)
    except (RedisError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning(
            "task %s stored; outbox relay deferred (%s)", accepted.task_id, exc.__class__.__name__
        )
    try:
        await state.inflight.release(accepted.task.text_hash, accepted.task_id)
    except (RedisError, OSError) as exc:
        log.warning("inflight lead of task %s not released (%s)", accepted.task_id, exc)


def create_app(settings: ReceiverSettings) -> FastAPI:
    secret = settings.callback_secret.get_secret_value().encode()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_database(settings)
        client = create_redis(settings.redis_url, "result_receiver", socket_timeout=3.0)
        app.state.redis = client
        app.state.pool = pool
        app.state.store = ResultStore(pool)
        app.state.inflight = InflightLead(client)
        relay = OutboxRelay(
            pool,
            client,
            settings.cache_ttl_s,
            settings.cache_insufficient_ttl_s,
            batch=settings.outbox_batch,
        )
        app.state.relay = relay
        relay.start(settings.outbox_interval_s)
        try:
            yield
        finally:
            await relay.stop()
            await client.aclose()
            await pool.close()

    app = new_app(title="SatyaMark result_receiver", error_prefix="RR", lifespan=lifespan)

    @app.post("/ai-callback")
    async def ai_callback(request: Request) -> dict[str, object]:
        body = await _read_body(request, settings.max_body_bytes)
        try:
            delivery = verify(
                secret, dict(request.headers), body, tolerance_s=settings.timestamp_tolerance_s
            )
        except SignatureError as exc:
            code = "RR-SIG-STALE" if exc.stale else "RR-SIG-401"
            raise BadSignature(exc.reason, code=code) from exc
        try:
            result = CALLBACK_BODY.validate_json(body)
        except ValidationError as exc:
            raise ValidationFailed(
                f"callback body invalid: {exc.errors()[0]['msg']}", code="RR-VAL-422"
            ) from exc
        client = request.app.state.redis
        try:
            # Delivery ids are single-use for longer than the timestamp window, so a
            # captured request can never be replayed.
            first = await client.set(
                keys.callback_seen(delivery.message_id),
                "1",
                nx=True,
                ex=2 * settings.timestamp_tolerance_s + 60,
            )
        except RedisError as exc:
            raise UpstreamUnavailable("replay store unavailable", code="RR-DEP-503") from exc
        if not first:
            raise ReplayedDelivery()
        store: ResultStore = request.app.state.store
        try:
            accepted = await store.accept(result)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise UpstreamUnavailable("database unavailable", code="RR-DEP-503") from exc
        await _relay_now(request, accepted)
        return {"accepted": True, "duplicate": accepted.outcome is Outcome.DUPLICATE}

    return app
