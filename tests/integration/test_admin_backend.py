"""backend_service checks the admin role again, against the users table: a signed call
that names a plain user (a gateway bug, a forged header inside the network) is refused."""

from __future__ import annotations

from typing import Any

from shared import keys
from shared.http import USER_ID_HEADER
from tests.fixtures.pipeline import Services, insert_user


async def test_the_backend_checks_the_role_itself(services: Services) -> None:
    plain = await insert_user(services.database_url, "user")
    admin = await insert_user(services.database_url, "admin")
    for user_id, status in ((plain, 403), ("no-such-user", 403), (admin, 200)):
        answer = await services.backend.get(
            "/internal/admin/queue", headers={USER_ID_HEADER: user_id}
        )
        assert answer.status_code == status, answer.text
        if status == 403:
            assert answer.json()["errorCode"] == "BE-ADMIN-403"
    unsigned = await services.backend.get(
        "/internal/admin/queue", headers={USER_ID_HEADER: admin}, auth=None
    )
    assert unsigned.status_code == 403  # internal routes take signed calls only


async def test_a_paused_intake_refuses_misses_on_every_instance(services: Services) -> None:
    admin = await insert_user(services.database_url, "admin")
    answer = await services.backend.post(
        "/internal/admin/intake",
        json={"paused": True, "reason": "drill"},
        headers={USER_ID_HEADER: admin},
    )
    assert answer.status_code == 200 and answer.json()["paused"] is True
    refused = await services.submit("someone", "A brand new claim nobody checked yet.")
    assert refused.status_code == 503 and refused.json()["errorCode"] == "BE-PAUSED-503"
    assert refused.headers["Retry-After"] == "30"
    await services.backend.post(
        "/internal/admin/intake", json={"paused": False}, headers={USER_ID_HEADER: admin}
    )


async def test_the_queue_view_lists_pending_entries_with_their_deliveries(
    services: Services,
) -> None:
    admin = await insert_user(services.database_url, "admin")
    submitted = await services.submit("someone", "A pending claim for the queue view.")
    assert submitted.status_code == 202
    await services.redis.xgroup_create(keys.JOB_STREAM, keys.WORKER_GROUP, "0", mkstream=True)
    # read by one worker, then taken over by another: delivered twice
    await services.redis.xreadgroup(keys.WORKER_GROUP, "w1", {keys.JOB_STREAM: ">"}, count=1)
    entries: Any = await services.redis.xrange(keys.JOB_STREAM)
    entry_id = str(entries[0][0])
    await services.redis.xclaim(keys.JOB_STREAM, keys.WORKER_GROUP, "w2", 0, [entry_id])
    view = (
        await services.backend.get("/internal/admin/queue", headers={USER_ID_HEADER: admin})
    ).json()
    assert view["pending"] == 1
    [entry] = view["pendingEntries"]
    assert entry["entryId"] == entry_id and entry["consumer"] == "w2"
    assert entry["deliveries"] == 2 and entry["idleMs"] >= 0
