"""User accounts in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from ulid import ULID

from shared.errors import Conflict, store_unavailable_as


class EmailTaken(
    Conflict, code="AUTH-CONF-409", message="an account with this e-mail already exists"
): ...


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str
    password_hash: str
    role: str = "user"


class UserRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create(self, email: str, password_hash: str) -> User:
        user_id = str(ULID())
        with store_unavailable_as("AUTH-DEP-503", "user store"):
            try:
                await self._pool.execute(
                    "INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)",
                    user_id,
                    email,
                    password_hash,
                )
            except asyncpg.UniqueViolationError as exc:
                raise EmailTaken() from exc
        return User(user_id, email, password_hash)

    async def by_email(self, email: str) -> User | None:
        with store_unavailable_as("AUTH-DEP-503", "user store"):
            row = await self._pool.fetchrow(
                "SELECT id, email, password_hash, role FROM users WHERE lower(email) = lower($1)",
                email,
            )
        return User(row["id"], row["email"], row["password_hash"], row["role"]) if row else None

    async def role_of(self, user_id: str) -> str:
        """The user's role now ("user" for one deleted meanwhile: it grants nothing)."""
        with store_unavailable_as("AUTH-DEP-503", "user store"):
            role = await self._pool.fetchval("SELECT role FROM users WHERE id = $1", user_id)
        return str(role or "user")
