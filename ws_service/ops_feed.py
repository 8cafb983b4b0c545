"""The ops page's live gauges: every ``WS_OPS_PUSH_INTERVAL_S`` (2 s) the queue view of
the admin API (``GET /internal/admin/queue`` on backend_service, which checks the admin
role against the users table) is pushed to this instance's admin sockets as
``{type: "queue", …}``. Nothing is read while no admin is connected; the view is not an
event of the user's log (never replayed: the next one comes within seconds)."""

from __future__ import annotations

import asyncio
import logging

import orjson

from shared.http import USER_ID_HEADER, InternalCallError, InternalClient

from .hub import Hub

log = logging.getLogger(__name__)


async def push_queue_view(hub: Hub, backend: InternalClient, interval_s: float) -> None:
    """Run until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        admins = hub.admins()
        if not admins:
            continue
        text = await _queue_view(backend, sorted({conn.user_id for conn in admins}))
        if text is None:
            continue
        for conn in admins:
            conn.push(text)


async def _queue_view(backend: InternalClient, admin_ids: list[str]) -> str | None:
    """The view as one admin may see it (the first whose role still holds)."""
    for user_id in admin_ids:
        try:
            response = await backend.get("/internal/admin/queue", headers={USER_ID_HEADER: user_id})
        except InternalCallError as exc:
            log.warning("queue view unavailable: %s", exc)
            return None
        if response.status_code == 200:
            view = response.json()
            return orjson.dumps({"type": "queue", **view}).decode()
        if response.status_code != 403:  # 403: this one is no longer an admin
            log.warning("queue view refused: %s", response.status_code)
            return None
    return None
