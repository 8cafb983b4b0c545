"""result_receiver forgets finished webhook deliveries after RECEIVER_WEBHOOK_KEEP_S;
pending ones (still to be sent) and recent ones stay."""

from __future__ import annotations

from ulid import ULID

from result_receiver.webhook_dispatch import DispatchSettings, WebhookDispatcher
from tests.integration.test_outbox import Receiver, receiver  # noqa: F401 (fixture)


async def test_old_finished_deliveries_are_forgotten(receiver: Receiver) -> None:  # noqa: F811
    user, hook = str(ULID()), f"wh_{ULID()}"
    db = receiver.db
    await db.execute(
        "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')",
        user,
        f"{user}@example.com",
    )
    await db.execute(
        "INSERT INTO webhooks (id, user_id, url, events, secret)"
        " VALUES ($1, $2, 'https://example.com/hook', '{task.completed}', 'whsec_x')",
        hook,
        user,
    )
    kept: dict[str, str] = {}
    for status, age_days in [
        ("succeeded", 40), ("failed", 40), ("pending", 40), ("succeeded", 1), ("failed", 1),
    ]:  # fmt: skip
        delivery = await db.fetchval(
            "INSERT INTO webhook_deliveries (webhook_id, event_type, task_id, payload, status,"
            " created_at) VALUES ($1, 'task.completed', $2, '{}'::jsonb, $3,"
            " now() - make_interval(days => $4)) RETURNING id",
            hook,
            str(ULID()),
            status,
            age_days,
        )
        kept[delivery] = f"{status} {age_days}d"
    dispatcher = WebhookDispatcher(receiver.app.state.runtime.pool, DispatchSettings())
    try:
        assert await dispatcher.prune() == 2  # 30 days kept by default
        assert await dispatcher.prune() == 0
    finally:
        await dispatcher.stop()
    left = await db.fetch("SELECT id FROM webhook_deliveries WHERE webhook_id = $1", hook)
    assert sorted(kept[r["id"]] for r in left) == ["failed 1d", "pending 40d", "succeeded 1d"]
