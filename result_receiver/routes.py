"""``POST /ai-callback``: signed results from workers, one or a batch, recorded once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import asyncpg
import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from redis.exceptions import RedisError

from shared import keys
from shared.errors import (
    Conflict,
    PayloadTooLarge,
    SatyaError,
    Unauthorized,
    UpstreamUnavailable,
    ValidationFailed,
    store_unavailable_as,
)
from shared.logs import log_context
from shared.metrics import RESULTS
from shared.schemas import (
    CALLBACK_BODY,
    PROGRESS_BODY,
    CallbackFailure,
    CallbackProgress,
    CallbackResult,
)
from shared.signing import SignatureError, VerifiedDelivery, verify

from . import progress
from .deps import State, StateDep
from .store import Accepted, Outcome

log = logging.getLogger(__name__)
router = APIRouter()


class BadSignature(Unauthorized, code="RR-SIG-401"): ...


class ReplayedDelivery(
    Conflict, code="RR-REPLAY-409", message="this delivery id was already used"
): ...


async def _read_body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"callback body over {limit} bytes", code="RR-VAL-413")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_result(body: bytes) -> CallbackResult | CallbackFailure:
    try:
        return CALLBACK_BODY.validate_json(body)
    except ValidationError as exc:
        raise ValidationFailed(
            f"callback body invalid: {exc.errors()[0]['msg']}", code="RR-VAL-422"
        ) from exc


class _InvalidItem(ValidationFailed):
    """A batch item that is not a valid result; its taskId is echoed, not trusted."""

    code = "RR-VAL-422"

    def __init__(self, item: object, exc: ValidationError) -> None:
        super().__init__(f"result invalid: {exc.errors()[0]['msg']}")
        task_id = item.get("taskId") if isinstance(item, dict) else None
        self.task_id = task_id if isinstance(task_id, str) else None


def _parse_batch(body: bytes, limit: int) -> list[CallbackResult | CallbackFailure | _InvalidItem]:
    """A batch's items; an item that is not a valid result becomes its own 422."""
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed("callback body is not JSON", code="RR-VAL-422") from exc
    if not 1 <= len(items) <= limit:
        raise ValidationFailed(
            f"a callback batch holds 1 to {limit} results, not {len(items)}", code="RR-VAL-422"
        )
    parsed: list[CallbackResult | CallbackFailure | _InvalidItem] = []
    for item in items:
        try:
            parsed.append(CALLBACK_BODY.validate_python(item))
        except ValidationError as exc:
            parsed.append(_InvalidItem(item, exc))
    return parsed


async def _first_use(state: State, message_id: str) -> None:
    """Delivery ids are single-use for longer than the timestamp window, so a captured
    request can never be replayed."""
    tolerance_s = state.settings.timestamp_tolerance_s
    with store_unavailable_as("RR-DEP-503", "replay store"):
        first = await state.redis.set(
            keys.callback_seen(message_id), "1", nx=True, ex=2 * tolerance_s + 60
        )
    if not first:
        raise ReplayedDelivery()


async def _accept(state: State, result: CallbackResult | CallbackFailure) -> Accepted:
    try:
        with (
            log_context(taskId=result.taskId),
            store_unavailable_as("RR-DEP-503", "database"),
        ):
            accepted = await state.store.accept(result)
    except UpstreamUnavailable:
        raise  # no answer about the result: the worker sends it again
    except Conflict:
        RESULTS.labels("conflict").inc()
        raise
    except SatyaError:
        RESULTS.labels("refused").inc()
        raise
    RESULTS.labels(accepted.outcome.value).inc()
    return accepted


async def _accept_batch(
    state: State, items: list[CallbackResult | CallbackFailure | _InvalidItem]
) -> list[dict[str, object]]:
    """Record the results in one transaction, or, when one is refused, each in its own
    (one refused result never undoes another). A database or Redis failure fails the
    whole request (503): the worker sends the batch again, and what was recorded
    meanwhile comes back a duplicate."""

    async def one(item: CallbackResult | CallbackFailure) -> Accepted | SatyaError:
        try:
            return await _accept(state, item)
        except UpstreamUnavailable:
            raise
        except SatyaError as exc:
            return exc

    valid = [item for item in items if not isinstance(item, _InvalidItem)]
    done: Sequence[Accepted | SatyaError] | None = None
    if len(valid) > 1:
        with store_unavailable_as("RR-DEP-503", "database"):
            done = await state.store.accept_together(valid)
        for together in done or ():
            RESULTS.labels(together.outcome.value).inc()
    if done is None:  # one result, or one of them refused: each in its own transaction
        done = await asyncio.gather(*(one(item) for item in valid))
    outcomes = iter(done)
    answers: list[dict[str, object]] = []
    accepted: list[Accepted] = []
    for item in items:
        outcome = item if isinstance(item, _InvalidItem) else next(outcomes)
        if isinstance(outcome, Accepted):
            accepted.append(outcome)
            duplicate = outcome.outcome is Outcome.DUPLICATE
            answers.append({"taskId": outcome.task_id, "status": 200, "duplicate": duplicate})
        else:
            task_id = item.task_id if isinstance(item, _InvalidItem) else item.taskId
            answers.append({"taskId": task_id, "status": outcome.status_code, **outcome.body()})
    await _relay_now(state, accepted)
    return answers


async def _relay_now(state: State, accepted: list[Accepted]) -> None:
    """Tell Redis about committed outcomes now. Nothing here fails the request: the
    outcomes are stored, and what does not reach Redis stays in the outbox for the relay."""
    try:
        await state.relay.deliver([row for a in accepted for row in a.outbox])
    except (RedisError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning(
            "%d outcomes stored; outbox relay deferred (%s)", len(accepted), type(exc).__name__
        )
    try:
        await state.inflight.release_all([(a.task.text_hash, a.task_id) for a in accepted])
    except (RedisError, OSError) as exc:
        # A lead left behind expires; the backend never joins a finished leader.
        log.warning("inflight leads of %d task(s) not released (%s)", len(accepted), exc)


async def _signed_body(request: Request, state: State) -> tuple[bytes, VerifiedDelivery]:
    """The body of a worker's request, once its signature holds."""
    settings = state.settings
    body = await _read_body(request, settings.max_body_bytes)
    try:
        delivery = verify(
            settings.callback_secret.get_secret_value().encode(),
            dict(request.headers),
            body,
            tolerance_s=settings.timestamp_tolerance_s,
        )
    except SignatureError as exc:
        code = "RR-SIG-STALE" if exc.stale else "RR-SIG-401"
        raise BadSignature(exc.reason, code=code) from exc
    return body, delivery


@router.post("/ai-callback")
async def ai_callback(request: Request, state: StateDep) -> dict[str, object]:
    """One result (the spec's JSON object), or a JSON array of results from one
    worker (``worker/callback.py``), answered item by item in ``{"results": [...]}``."""
    settings = state.settings
    body, delivery = await _signed_body(request, state)
    if body.lstrip()[:1] == b"[":
        items = _parse_batch(body, settings.max_batch_items)
        await _first_use(state, delivery.message_id)
        return {"results": await _accept_batch(state, items)}
    result = _parse_result(body)
    await _first_use(state, delivery.message_id)
    accepted = await _accept(state, result)
    await _relay_now(state, [accepted])
    return {"accepted": True, "duplicate": accepted.outcome is Outcome.DUPLICATE}


@router.post("/ai-progress")
async def ai_progress(request: Request, state: StateDep) -> dict[str, object]:
    """A worker started a job or will retry it: one report or a JSON array of them
    (``worker/progress.py``), signed like results; each becomes a task stage and a
    ``progress`` push (``result_receiver/progress.py``)."""
    body, delivery = await _signed_body(request, state)
    try:
        parsed = PROGRESS_BODY.validate_json(body)
    except ValidationError as exc:
        raise ValidationFailed(
            f"progress body invalid: {exc.errors()[0]['msg']}", code="RR-VAL-422"
        ) from exc
    reports = parsed if isinstance(parsed, list) else [parsed]
    if len(reports) > state.settings.max_batch_items:
        raise PayloadTooLarge(
            f"more than {state.settings.max_batch_items} reports", code="RR-VAL-413"
        )
    await _first_use(state, delivery.message_id)
    recorded = [await _record_progress(state, report) for report in reports]
    if not isinstance(parsed, list):
        return {"recorded": recorded[0]}
    return {
        "results": [
            {"taskId": report.taskId, "status": 200, "recorded": done}
            for report, done in zip(reports, recorded, strict=True)
        ]
    }


async def _record_progress(state: State, report: CallbackProgress) -> bool:
    with log_context(taskId=report.taskId), store_unavailable_as("RR-DEP-503", "database"):
        written = await progress.record(state.pool, report)
    if written is None:
        return False
    try:
        await state.relay.deliver(written)
    except (RedisError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("progress stored; push deferred to the relay (%s)", type(exc).__name__)
    return True
