"""Liveness and readiness: ``/livez`` says the process runs, ``/readyz`` that what it
depends on answers (Kubernetes' probe split; compose health checks use them too).

A service's typed state lists its dependencies as probes; readiness runs them side by
side, each within ``PROBE_TIMEOUT_S``, and names every one that failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import asyncpg
import redis.asyncio as aioredis

if TYPE_CHECKING:  # shared.http needs shared.runtime, which needs this module
    from .http import InternalClient

PROBE_TIMEOUT_S = 2.0

Probe = Callable[[], Awaitable[object]]


@runtime_checkable
class HasProbes(Protocol):
    """A service state that can say what it depends on."""

    def probes(self) -> Mapping[str, Probe]: ...


@dataclass(frozen=True, slots=True)
class Readiness:
    failing: dict[str, str]  # dependency -> why

    @property
    def ready(self) -> bool:
        return not self.failing

    def message(self) -> str:
        return "; ".join(f"{name}: {why}" for name, why in self.failing.items())


async def _run(probe: Probe, timeout_s: float) -> str | None:
    try:
        await asyncio.wait_for(probe(), timeout_s)
    except TimeoutError:
        return f"no answer within {timeout_s:g}s"
    except Exception as exc:  # a probe reports any failure, whatever its kind
        return type(exc).__name__
    return None


async def check(probes: Mapping[str, Probe], timeout_s: float = PROBE_TIMEOUT_S) -> Readiness:
    names = list(probes)
    outcomes = await asyncio.gather(*(_run(probes[name], timeout_s) for name in names))
    return Readiness(
        {name: why for name, why in zip(names, outcomes, strict=True) if why is not None}
    )


def redis_probe(client: aioredis.Redis) -> Probe:
    async def ping() -> object:
        return await client.ping()

    return ping


def postgres_probe(pool: asyncpg.Pool) -> Probe:
    async def select_one() -> object:
        return await pool.fetchval("SELECT 1")

    return select_one


def service_probe(client: InternalClient) -> Probe:
    """Another service is alive (its ``/livez``): readiness does not chain, or one slow
    dependency would take every service upstream of it out of rotation."""

    async def livez() -> object:
        response = await client.get("/livez")
        response.raise_for_status()
        return None

    return livez
