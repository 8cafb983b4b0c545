"""The admin audit trail (``admin_audit``, append-only: a trigger refuses any change).
Every admin action, from the API or the CLI, writes one row here, in the statement's own
transaction or the caller's."""

from __future__ import annotations

from typing import Any, TypeAlias

import asyncpg
import orjson

Db: TypeAlias = asyncpg.Pool | asyncpg.Connection


def _json(value: object) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


async def record(
    db: Db,
    *,
    actor: str,
    action: str,
    target: str,
    before: object = None,
    after: object = None,
    reason: str | None = None,
) -> int:
    return int(
        await db.fetchval(
            "INSERT INTO admin_audit (actor, action, target, before, after, reason)"
            " VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6) RETURNING id",
            actor,
            action,
            target,
            _json(before),
            _json(after),
            reason,
        )
    )


async def page(db: Db, before_id: int | None, limit: int) -> list[dict[str, Any]]:
    """Newest first; ``before_id`` is the cursor (the last id of the previous page)."""
    rows = await db.fetch(
        "SELECT id, at, actor, action, target, before, after, reason FROM admin_audit"
        " WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
        before_id,
        limit,
    )
    return [
        {
            "id": row["id"],
            "at": row["at"].isoformat(),
            "actor": row["actor"],
            "action": row["action"],
            "target": row["target"],
            "before": orjson.loads(row["before"]) if row["before"] else None,
            "after": orjson.loads(row["after"]) if row["after"] else None,
            "reason": row["reason"],
        }
        for row in rows
    ]


async def set_role(
    conn: asyncpg.Connection, email: str, role: str, actor: str
) -> tuple[str, str] | None:
    """Give the user with ``email`` the ``role``, audited, in one transaction; (user id,
    role before) or None when there is no such user."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT id, role FROM users WHERE lower(email) = lower($1) FOR UPDATE", email
        )
        if row is None:
            return None
        await conn.execute("UPDATE users SET role = $2 WHERE id = $1", row["id"], role)
        await record(
            conn,
            actor=actor,
            action="role.grant" if role == "admin" else "role.revoke",
            target=f"user:{row['id']}",
            before={"role": row["role"]},
            after={"role": role},
        )
        return str(row["id"]), str(row["role"])
