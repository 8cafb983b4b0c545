"""Recording a worker's verdict: PostgreSQL first (the truth), then cache and push.

The first accepted outcome of a task wins. The ``ai_results`` UPDATE and the outbox rows
for its cache entry and pushes (``shared.events``) are one transaction, so they happen
together or not at all; a repeat of the same outcome (mark, reason, confidence,
per-claim verdicts and method) is a DUPLICATE and writes nothing, a different one is
logged and refused (409).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import asyncpg

from shared import events, tasks, tracing
from shared.claims import claims_value
from shared.errors import Conflict, Forbidden, NotFound
from shared.schemas import CallbackFailure, CallbackResult
from shared.tasks import StoredTask, TaskState

from .followers import follower_entries

log = logging.getLogger(__name__)


class Outcome(Enum):
    STORED = "stored"  # first delivery: cache and notify (via the outbox)
    DUPLICATE = "duplicate"  # same result again: nothing changes


class UnknownTask(NotFound, code="RR-TASK-404", message="no such task"): ...


class WrongJobToken(
    Forbidden, code="RR-TOKEN-403", message="job_token does not match the task"
): ...


class ConflictingResult(
    Conflict, code="RR-CONF-409", message="the task already has a different result"
): ...


class ConflictingFailure(
    Conflict, code="RR-CONF-409", message="the task already has a result or a different failure"
): ...


# An outcome its task does not take.
REFUSED = (UnknownTask, WrongJobToken, ConflictingResult, ConflictingFailure)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _state_for(conn: asyncpg.Connection, task_id: str, token_hash: str) -> TaskState:
    """The task a refused callback names; raises unless it exists and the token is its."""
    state = await tasks.get_state(conn, task_id)
    if state is None:
        raise UnknownTask()
    if not state.job_token_hash or not hmac.compare_digest(token_hash, state.job_token_hash):
        raise WrongJobToken()
    return state


@dataclass(frozen=True, slots=True)
class Accepted:
    task_id: str
    outcome: Outcome
    task: StoredTask
    outbox: list[events.Written]  # rows this acceptance wrote, for the request to relay now


@dataclass(frozen=True, slots=True)
class _Recorded:
    task_id: str
    outcome: Outcome
    task: StoredTask
    entries: list[events.Entry]

    def accepted(self, written: list[events.Written]) -> Accepted:
        return Accepted(self.task_id, self.outcome, self.task, written)


async def _finish_verdicts(
    conn: asyncpg.Connection, outcomes: Sequence[CallbackResult | CallbackFailure]
) -> dict[int, tasks.Finished]:
    """The verdicts of a worker's batch recorded in one statement (by index), where each
    used to pay a round trip; failures, and a batch naming a task twice, go one by one."""
    verdicts = [(i, o) for i, o in enumerate(outcomes) if isinstance(o, CallbackResult)]
    if len(verdicts) < 2 or len({o.taskId for _, o in verdicts}) < len(verdicts):
        return {}
    results = [o for _, o in verdicts]
    hashes = [_token_hash(o.job_token) for o in results]
    finished = await tasks.finish_results(conn, results, hashes)
    return {i: f for (i, _), f in zip(verdicts, finished, strict=True)}


class ResultStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def accept(self, outcome: CallbackResult | CallbackFailure) -> Accepted:
        """Record ``outcome`` for its task and the task's queued followers, with the
        outbox rows for every cache entry and push, all in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            recorded = await self._record(conn, outcome)
            written = await events.write(conn, recorded.entries)
        return recorded.accepted(written)

    async def accept_together(
        self, outcomes: Sequence[CallbackResult | CallbackFailure]
    ) -> list[Accepted] | None:
        """Record a worker's batch in one transaction: one commit and one outbox insert
        for all, where ``accept`` pays both per outcome. None when any outcome is
        refused (a conflict, an unknown task, a wrong token): then nothing is recorded,
        and the caller records them one by one, so that one refused outcome never undoes
        another. Outcomes go in taskId order, the order any other batch locks them in."""
        order = sorted(range(len(outcomes)), key=lambda i: outcomes[i].taskId)
        async with self._pool.acquire() as conn:
            try:
                async with conn.transaction():
                    finished = await _finish_verdicts(conn, outcomes)
                    recorded = {
                        i: await self._record(conn, outcomes[i], finished.get(i)) for i in order
                    }
                    entries = [e for i in order for e in recorded[i].entries]
                    written = iter(await events.write(conn, entries))
            except REFUSED:
                return None
        accepted = {
            i: recorded[i].accepted([next(written) for _ in recorded[i].entries]) for i in order
        }
        return [accepted[i] for i in range(len(outcomes))]

    async def _record(
        self,
        conn: asyncpg.Connection,
        outcome: CallbackResult | CallbackFailure,
        finished: tasks.Finished | None = None,
    ) -> _Recorded:
        """The task's (and its followers') row updated inside the caller's transaction
        (unless ``finished`` says how it already was), and the outbox rows that go with
        it, not written yet."""
        traceparent = outcome.traceparent if isinstance(outcome, CallbackResult) else None
        # The outbox rows are made inside the span: they carry it on to the push.
        with tracing.span(
            "record outcome", parent=traceparent, attributes={"taskId": outcome.taskId}
        ):
            return await self._record_traced(conn, outcome, finished)

    async def _record_traced(
        self,
        conn: asyncpg.Connection,
        outcome: CallbackResult | CallbackFailure,
        finished: tasks.Finished | None,
    ) -> _Recorded:
        token_hash = _token_hash(outcome.job_token)
        if finished is None:
            # The common case in one statement: a queued task, the right token.
            finished = await tasks.finish(conn, outcome, token_hash)
        entries: list[events.Entry] = []
        if finished.task is None:
            stored = Outcome.DUPLICATE  # unless the refusal raises, rolling back
            task = await self._explain_refusal(conn, outcome, token_hash)
        else:
            stored, task = Outcome.STORED, finished.task
            if isinstance(outcome, CallbackResult):
                entries.append(
                    events.cache_entry(outcome.taskId, task.text_hash, task.summary_hash, outcome)
                )
            event = events.outcome_event(outcome.taskId, outcome)
            entries.append(events.notify_entry(outcome.taskId, task.user_id, event))
        # On a repeat too: a follower that joined late still gets its outcome.
        entries += follower_entries(finished.followers, outcome)
        return _Recorded(outcome.taskId, stored, task, entries)

    async def _explain_refusal(
        self,
        conn: asyncpg.Connection,
        outcome: CallbackResult | CallbackFailure,
        token_hash: str,
    ) -> StoredTask:
        """Why the update matched nothing: raise, unless it is the same outcome again."""
        state = await _state_for(conn, outcome.taskId, token_hash)
        if isinstance(outcome, CallbackFailure):
            # Another worker (or a retried callback) reporting the same failure.
            if state.status == "failed" and state.error_code == outcome.errorCode:
                return state.task
            log.warning(
                "conflicting failure for task %s refused (stored: %s %s, got: %s)",
                outcome.taskId,
                state.status,
                state.error_code,
                outcome.errorCode,
            )
            raise ConflictingFailure()
        # The same outcome means the same verdict on every claim and the same method
        # too; claims compared as JSON values (key order and number spelling are
        # jsonb's, not the worker's).
        same = (state.mark, state.reason, state.confidence, state.claims, state.method) == (
            outcome.mark.value,
            outcome.reason,
            outcome.confidence,
            claims_value(outcome),
            outcome.method,
        )
        if state.status == "done" and same:
            return state.task
        log.warning(
            "conflicting result for task %s refused (stored: %s %s/%s, got: %s/%s)",
            outcome.taskId,
            state.status,
            state.mark or state.error_code,
            state.confidence,
            outcome.mark.value,
            outcome.confidence,
        )
        raise ConflictingResult()
