"""The whole system on one machine: ``satyamark run`` (and the end-to-end tests).

Finds or starts Redis and PostgreSQL, runs migrations, starts every component as its
own process, waits until each is healthy and, in ``run`` mode, restarts any that dies.
``run`` is patient: it waits out Redis and PostgreSQL outages and components that die
during start-up, with no deadline; the tests are not, so a failure shows at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import ssl
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis
from redis.exceptions import RedisClusterException

from auth_service.keyring import new_private_pem
from shared import keys
from shared.db import UNAVAILABLE, create_database_if_missing, migrate_dsn
from shared.redis_client import create_sync_redis

from .components import FIRST_BACKOFF_S, Component
from .infra import PostgresServer, RedisServer, free_port, port_answers
from .kb_cli import load_starter
from .local import record_stack
from .tls import ensure_self_signed
from .waiting import REPORT_EVERY_S, Waiting, never, pause, pg_problem, reason, redis_problem

DEFAULT_PORTS = {
    "gateway": 8000,
    "auth_service": 8001,
    "ratelimit_service": 8002,
    "backend_service": 8003,
    "ai_service": 8004,
    "result_receiver": 8005,
    "ws_service": 8006,
}
# Metrics ports (Prometheus' 9090 and node exporter's 9100 stay free): one per service,
# ws_service instances from 9476 and workers from 9490 upwards.
DEFAULT_METRICS_PORTS = {
    "gateway": 9470,
    "auth_service": 9471,
    "ratelimit_service": 9472,
    "backend_service": 9473,
    "ai_service": 9474,
    "result_receiver": 9475,
    "ws_service": 9476,
    "worker": 9490,
}
PORT_PREFIX = {
    "gateway": "GATEWAY",
    "auth_service": "AUTH",
    "ratelimit_service": "RATELIMIT",
    "backend_service": "BACKEND",
    "ai_service": "AI",
    "result_receiver": "RECEIVER",
    "ws_service": "WS",
    "worker": "WORKER",
}
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/satyamark"
POLL_S = 0.5
OBSERVABILITY = Path(__file__).resolve().parents[1] / "deploy" / "observability"


def _secrets(path: Path) -> dict[str, str]:
    """Random secrets and an Ed25519 token-signing key, made on first run and kept, so
    tokens survive a restart. Values missing from an older file are added to it."""
    values: dict[str, str] = dict(json.loads(path.read_text())) if path.exists() else {}
    for name in ("SATYAMARK_INTERNAL_TOKEN", "CALLBACK_SECRET"):
        values.setdefault(name, secrets.token_urlsafe(32))
    if "AUTH_JWT_KEYS" not in values:
        kid = f"dev-{time.strftime('%Y%m%d')}-{secrets.token_hex(3)}"
        values["AUTH_JWT_KEYS"] = json.dumps({kid: new_private_pem()})
        values["AUTH_JWT_ACTIVE_KID"] = kid
    values.pop("AUTH_JWT_SECRET", None)  # the HS256 secret of earlier versions
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


@dataclass
class StackOptions:
    data_dir: Path
    redis_url: str | None = None
    database_url: str | None = None
    workers: int = 1
    ws_instances: int = 1
    default_ports: bool = True
    worker_model: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    durable_pg: bool = True
    # Gateway on HTTPS with a local self-signed certificate (satyamark/tls.py).
    gateway_tls: bool = False
    # ``run``: wait out outages and dying components during start-up (no deadline) and
    # restart a component that keeps dying with a backoff. Tests want failures at once.
    patient: bool = False
    # Metrics ports (and request metrics) in every process; off only to measure their cost.
    metrics: bool = True


class Stack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.components: dict[str, Component] = {}
        self._servers: list[RedisServer | PostgresServer] = []
        self.redis_url = ""
        self.database_url = ""
        self.env: dict[str, str] = {}
        self.logs = options.data_dir / "logs"
        self._assigned: set[int] = set()

    # -- infrastructure -------------------------------------------------------------
    def _ensure_redis(self) -> str:
        if self.options.redis_url:
            return self.options.redis_url
        if port_answers("127.0.0.1", 6379) and redis_problem(LOCAL_REDIS) is None:
            return LOCAL_REDIS
        server = RedisServer(self.options.data_dir / "redis").start()
        self._servers.append(server)
        return server.url

    def _ensure_postgres(self) -> str:
        if self.options.database_url:
            return self.options.database_url
        if port_answers("127.0.0.1", 5432) and asyncio.run(pg_problem(LOCAL_PG)) is None:
            return LOCAL_PG
        server = PostgresServer(
            self.options.data_dir / "postgres", durable=self.options.durable_pg
        ).start()
        self._servers.append(server)
        return server.url

    def _load_knowledge_base(self) -> None:
        """The starter fact-check knowledge base, so verdicts have evidence offline.
        Idempotent: an unchanged file writes nothing."""
        report = asyncio.run(load_starter(self.database_url))
        if report is None:
            print("knowledge base: no bundled files; not loaded", flush=True)
            return
        rejected = f", {len(report.rejected)} rejected" if report.rejected else ""
        print(f"knowledge base: {report.count} claims (+{report.inserted}){rejected}", flush=True)

    def _prepare_database(self, waiting: Waiting, should_stop: Callable[[], bool]) -> bool:
        """Create, migrate and load the database; False if stopped meanwhile."""
        steps: list[Callable[[], object]] = [
            lambda: asyncio.run(create_database_if_missing(self.database_url)),
            lambda: asyncio.run(migrate_dsn(self.database_url)),
            self._load_knowledge_base,
        ]
        return all(self._with_retries(step, waiting, should_stop) for step in steps)

    def _with_retries(
        self, step: Callable[[], object], waiting: Waiting, should_stop: Callable[[], bool]
    ) -> bool:
        """Run a step that needs PostgreSQL. Patient: retry it with backoff while the
        server is unavailable (a wrong migration still fails); False if stopped."""
        delay = FIRST_BACKOFF_S
        while True:
            try:
                step()
                return True
            except UNAVAILABLE as exc:
                if not self.options.patient:
                    raise
                waiting.report([f"PostgreSQL ({reason(exc)})"])
            if not pause(delay, should_stop):
                return False
            # no longer than a report interval, so each report is a fresh attempt
            delay = min(2 * delay, REPORT_EVERY_S)

    # -- components -----------------------------------------------------------------
    def _port(self, service: str, index: int = 0) -> int:
        if self.options.default_ports:
            port = DEFAULT_PORTS[service] + (index if service == "ws_service" else 0)
            if not port_answers("127.0.0.1", port):
                return port
        return self._unused_port()

    def _unused_port(self) -> int:
        """A free port no other component of this stack was given: ports are all chosen
        before any process binds one, and two asks of the OS may return the same."""
        while (port := free_port()) in self._assigned:
            pass
        self._assigned.add(port)
        return port

    def _metrics_port(self, module: str, index: int) -> int:
        if self.options.default_ports:
            port = DEFAULT_METRICS_PORTS[module] + index
            if not port_answers("127.0.0.1", port):
                return port
        return self._unused_port()

    def _component(
        self,
        name: str,
        module: str,
        port: int | None,
        extra: dict[str, str] | None = None,
        index: int = 0,
    ) -> Component:
        env = {**os.environ, **self.env, **(extra or {})}
        if port is not None:
            env[f"{PORT_PREFIX[module]}_PORT"] = str(port)
        metrics_port = self._metrics_port(module, index) if self.options.metrics else None
        env[f"{PORT_PREFIX[module]}_METRICS_PORT"] = str(metrics_port or 0)
        component = Component(name, module, env, port, self.logs / f"{name}.log", metrics_port)
        self.components[name] = component
        return component

    def write_scrape_config(self) -> Path:
        """``prometheus.yml`` listing every component's metrics port, so
        ``prometheus --config.file=<data dir>/prometheus.yml`` scrapes this stack."""
        jobs: dict[str, list[str]] = {}
        for component in self.components.values():
            if component.metrics_port is not None:
                target = f"127.0.0.1:{component.metrics_port}"
                jobs.setdefault(component.module, []).append(target)
        rules = OBSERVABILITY / "alerts.yml"  # absent from a non-editable install
        config = {
            "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
            "rule_files": [str(rules)] if rules.exists() else [],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": targets}]}
                for job, targets in jobs.items()
            ],
        }
        path = self.options.data_dir / "prometheus.yml"
        # JSON is YAML: no YAML writer needed at run time.
        path.write_text(json.dumps(config, indent=2) + "\n")
        return path

    def start(self, should_stop: Callable[[], bool] = never) -> Stack:
        """Start everything and wait until it is up. Patient, it returns early once
        ``should_stop`` says so (then ``stop`` what was started)."""
        self.options.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        self.redis_url = self._ensure_redis()
        self.database_url = self._ensure_postgres()
        waiting = Waiting()
        if not self._prepare_database(waiting, should_stop):
            return self

        ports = {s: self._port(s) for s in DEFAULT_PORTS if s != "ws_service"}
        ws_ports = [self._port("ws_service", i) for i in range(self.options.ws_instances)]
        url = "http://127.0.0.1:{}".format
        self.env = {
            "SATYAMARK_ENV": "development",
            **_secrets(self.options.data_dir / "secrets.json"),
            "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database_url,
            "RUN_MIGRATIONS": "false",  # done once above
            "AUTH_URL": url(ports["auth_service"]),
            "RATELIMIT_URL": url(ports["ratelimit_service"]),
            "BACKEND_URL": url(ports["backend_service"]),
            "AI_URL": url(ports["ai_service"]),
            "RECEIVER_URL": url(ports["result_receiver"]),
            "WS_URLS": ",".join(url(p) for p in ws_ports),
            **({"WORKER_MODEL": self.options.worker_model} if self.options.worker_model else {}),
            **self.options.extra_env,
        }
        for service, port in ports.items():
            self._component(
                service, service, port, self._tls_env() if service == "gateway" else None
            )
        for i, port in enumerate(ws_ports, start=1):
            self._component(f"ws_service-{i}", "ws_service", port, index=i - 1)
        for i in range(1, self.options.workers + 1):
            consumer = {"WORKER_CONSUMER": f"worker-{i}-{os.getpid()}"}
            self._component(f"worker-{i}", "worker", None, consumer, index=i - 1)
        self.write_scrape_config()
        record_stack(
            self.options.data_dir,
            database_url=self.database_url,
            redis_url=self.redis_url,
            gateway_url=self.gateway_url,
        )
        for component in self.components.values():
            component.start()
        if self.options.patient:
            self._wait_up(waiting, should_stop)
        else:
            self.wait_healthy()
            self.wait_workers()
        return self

    def _wait_up(self, waiting: Waiting, should_stop: Callable[[], bool]) -> None:
        """Restart what dies and wait, with no deadline, until ``waiting_for`` is empty."""
        while not should_stop():
            for name in self.supervise_once():
                print(self.restart_note(name), flush=True)
            pending = self.waiting_for()
            if not pending:
                return
            waiting.report(pending)
            pause(POLL_S, should_stop)

    def waiting_for(self) -> list[str]:
        """What is not up yet, each with why, e.g. ``["Redis (connection refused)",
        "worker-1 (not joined yet)"]``; empty once everything is."""
        pending = []
        if problem := redis_problem(self.redis_url):
            pending.append(f"Redis ({problem})")
        if problem := asyncio.run(pg_problem(self.database_url)):
            pending.append(f"PostgreSQL ({problem})")
        joined, _ = self._consumers()  # Redis down: reported just above
        now = time.monotonic()
        for component in self.components.values():
            if status := self._not_up(component, joined, now):
                pending.append(f"{component.name} ({status})")
        return pending

    def _not_up(self, component: Component, joined: set[str], now: float) -> str | None:
        if not component.alive:
            if component.restart_at is None:
                return "exited"
            return f"exited; restarting in {max(0.0, component.restart_at - now):.0f}s"
        if not self._healthy(component):
            return "not healthy"
        if component.module == "worker" and component.env["WORKER_CONSUMER"] not in joined:
            return "not joined yet"
        return None

    def wait_workers(self, timeout: float = 300.0) -> None:
        """Workers join the group only after loading and warming their model."""
        end = time.monotonic() + timeout
        while True:
            joined, problem = self._consumers()
            if self._worker_consumers() <= joined:
                return
            workers = [c for c in self.components.values() if c.module == "worker"]
            dead = [c.name for c in workers if not c.alive]
            if dead:
                raise RuntimeError(f"{dead} exited; see {self.logs}")
            if time.monotonic() > end:
                why = f" (Redis: {problem})" if problem else ""
                raise RuntimeError(f"workers did not join within {timeout:.0f}s{why}")
            time.sleep(0.2)

    def add_gateway(self) -> str:
        """Start one more gateway instance (as behind a load balancer); its URL."""
        index = sum(1 for c in self.components.values() if c.module == "gateway")
        name = f"gateway-{index + 1}"
        self._component(name, "gateway", self._unused_port(), self._tls_env(), index=index)
        self.components[name].start()
        self.wait_healthy(names=[name])
        return self.gateway_url.rsplit(":", 1)[0] + f":{self.components[name].port}"

    def remove(self, name: str) -> None:
        """Stop a component and forget it (one that ``add_gateway`` started)."""
        self.components.pop(name).stop()

    def _tls_env(self) -> dict[str, str]:
        if not self.options.gateway_tls:
            return {}
        cert, key = ensure_self_signed(self.options.data_dir)
        return {"GATEWAY_TLS_CERT_FILE": str(cert), "GATEWAY_TLS_KEY_FILE": str(key)}

    @property
    def gateway_url(self) -> str:
        scheme = "https" if self.options.gateway_tls else "http"
        return f"{scheme}://127.0.0.1:{self.components['gateway'].port}"

    def _healthy(self, component: Component) -> bool:
        if component.port is None:
            return component.alive
        url = f"http://127.0.0.1:{component.port}/healthz"
        context = None
        if component.module == "gateway" and self.options.gateway_tls:
            url = url.replace("http://", "https://", 1)
            context = ssl.create_default_context(cafile=str(self.options.data_dir / "tls-cert.pem"))
        try:
            with urllib.request.urlopen(url, timeout=1, context=context) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _worker_consumers(self) -> set[str]:
        return {c.env["WORKER_CONSUMER"] for c in self.components.values() if c.module == "worker"}

    def _consumers(self) -> tuple[set[str], str | None]:
        """The consumer names in the worker group, and why none could be read."""
        try:
            with create_sync_redis(self.redis_url, timeout_s=1) as client:
                consumers = client.xinfo_consumers(keys.JOB_STREAM, keys.WORKER_GROUP)
        except redis.ResponseError:
            return set(), None  # no group yet: no worker joined
        except (redis.RedisError, RedisClusterException) as exc:
            return set(), reason(exc)
        return {c["name"] for c in consumers}, None

    def workers_joined(self) -> int:
        """How many of this stack's workers are in the group: consumers left by an
        earlier run do not count; none while Redis does not answer."""
        joined, _ = self._consumers()
        return len(joined & self._worker_consumers())

    def wait_healthy(self, timeout: float = 180.0, names: list[str] | None = None) -> None:
        end = time.monotonic() + timeout
        pending = [self.components[n] for n in (names or list(self.components))]
        while pending and time.monotonic() < end:
            for component in list(pending):
                if not component.alive:
                    raise RuntimeError(f"{component.name} exited; see {component.log_path}")
                if self._healthy(component):
                    pending.remove(component)
            time.sleep(0.1)
        if pending:
            raise RuntimeError(f"not healthy in {timeout:.0f}s: {[c.name for c in pending]}")

    def restart(self, name: str, sig: int = signal.SIGKILL) -> None:
        component = self.components[name]
        component.signal(sig)
        if component.proc is not None:
            component.proc.wait(15)
        component.restarts += 1
        component.start()
        self.wait_healthy(names=[name])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Signal a component and wait until it exited, without starting it again."""
        component = self.components[name]
        component.signal(sig)
        if component.proc is not None:
            component.proc.wait(15)

    def revive(self, name: str, *, wait: bool = True) -> None:
        """Start a component that exited (after ``kill``); optionally wait until healthy."""
        component = self.components[name]
        if component.alive:
            raise RuntimeError(f"{name} is still running")
        component.restarts += 1
        component.start()
        if wait:
            self.wait_healthy(names=[name])

    def supervise_once(self) -> list[str]:
        """Restart components that died; return their names. Patient, one that keeps
        dying soon after its start waits its backoff first (not patient, every death
        shows in the call that finds it)."""
        restarted = []
        now = time.monotonic()
        for component in self.components.values():
            if component.proc is None or component.alive:
                continue
            if self.options.patient and component.restart_time(now) > now:
                continue
            component.restarts += 1
            component.start()
            restarted.append(component.name)
        return restarted

    def restart_note(self, name: str) -> str:
        """The line that reports a restart by ``supervise_once``."""
        backoff = self.components[name].backoff_s
        if not backoff:
            return f"{name} died; restarted"
        return f"{name} died; restarted after a {backoff:g}s backoff (it exited soon after start)"

    def stop(self) -> None:
        for component in self.components.values():
            component.signal(signal.SIGTERM)
        for component in self.components.values():
            component.stop()
        for server in reversed(self._servers):
            server.stop()
        self._servers.clear()
