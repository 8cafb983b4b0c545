from __future__ import annotations

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
from shared.notify import UserNotifier
from shared.redis_client import create_redis
from shared.result_cache import ResultCache
from shared.schemas import CALLBACK_BODY, CallbackFailure, CallbackResult, Verdict
from shared.service import new_app
from shared.signing import SignatureError, verify

from .config import ReceiverSettings
from .followers import Followers
from .store import Outcome, ResultStore, StoredTask


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


async def _announce_result(request: Request, task: StoredTask, result: CallbackResult) -> None:
    """Cache the verdict for both hashes and push it to the user's sockets."""
    verdict = Verdict(mark=result.mark, reason=result.reason, confidence=result.confidence)
    event = {
        "type": "result",
        "taskId": result.taskId,
        "cached": False,
        **verdict.model_dump(mode="json"),
    }
    await request.app.state.cache.store(task.text_hash, task.summary_hash, verdict)
    await request.app.state.notifier.publish(task.user_id, event)


async def _announce_failure(request: Request, task: StoredTask, failure: CallbackFailure) -> None:
    """Tell the user; a failure is never cached (the next submission may succeed)."""
    event = {
        "type": "failed",
        "taskId": failure.taskId,
        "errorCode": failure.errorCode,
        "message": failure.message,
    }
    await request.app.state.notifier.publish(task.user_id, event)


def create_app(settings: ReceiverSettings) -> FastAPI:
    secret = settings.callback_secret.get_secret_value().encode()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_database(settings)
        client = create_redis(settings.redis_url, "result_receiver", socket_timeout=3.0)
        app.state.redis = client
        app.state.store = ResultStore(pool)
        app.state.cache = ResultCache(client, settings.cache_ttl_s)
        app.state.notifier = UserNotifier(client)
        app.state.followers = Followers(pool, client, app.state.notifier)
        try:
            yield
        finally:
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
            if isinstance(result, CallbackFailure):
                outcome, task = await store.record_failure(result)
            else:
                outcome, task = await store.record(result)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise UpstreamUnavailable("database unavailable", code="RR-DEP-503") from exc
        try:
            if outcome is Outcome.STORED:
                if isinstance(result, CallbackFailure):
                    await _announce_failure(request, task, result)
                else:
                    await _announce_result(request, task, result)
            # On a repeat too: a follower that joined late still gets its outcome.
            await request.app.state.followers.complete(result.taskId, task.text_hash, result)
        except RedisError as exc:
            raise UpstreamUnavailable("cache unavailable", code="RR-DEP-503") from exc
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise UpstreamUnavailable("database unavailable", code="RR-DEP-503") from exc
        return {"accepted": True, "duplicate": outcome is Outcome.DUPLICATE}

    return app
