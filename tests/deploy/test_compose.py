"""The deployment files: docker-compose.yml, the edge proxy's config, the Dockerfiles, the
Hugging Face Space.

The compose file is checked twice: by a real compose implementation (Debian's
``docker-compose`` 1.29, which parses, validates and interpolates without a Docker
daemon) and structurally with PyYAML, on the raw file and on compose's resolved output.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from gateway.config import GatewaySettings
from tests.deploy.tools import COMPOSE, ROOT, load_yaml, run_tool, services
from ws_service.routes import router as ws_router

PROD_OVERRIDE = ROOT / "deploy" / "compose.production.yml"
HF_SPACE = ROOT / "deploy" / "hf-space"
EDGE_TEMPLATE = ROOT / "deploy" / "edge" / "nginx.conf.template"

# service -> (python package it runs, env prefix, port)
HTTP_SERVICES: dict[str, tuple[str, str, int]] = {
    "gateway": ("gateway", "GATEWAY", 8000),
    "auth_service": ("auth_service", "AUTH", 8001),
    "ratelimit_service": ("ratelimit_service", "RATELIMIT", 8002),
    "backend_service": ("backend_service", "BACKEND", 8003),
    "ai_service": ("ai_service", "AI", 8004),
    "result_receiver": ("result_receiver", "RECEIVER", 8005),
    "ws_service_1": ("ws_service", "WS", 8006),
    "ws_service_2": ("ws_service", "WS", 8006),
}
WORKERS = ("worker", "worker-gpu")
STATE = ("redis", "postgres")
ONE_SHOT = ("migrate",)
# The public entry point: nginx (a third-party image) with deploy/edge/nginx.conf.template.
EDGE = ("edge",)
# Third-party images, only with `--profile observability` (tests/deploy/test_observability.py).
OBSERVABILITY = ("prometheus", "grafana", "jaeger", "otel-collector")
ALL_SERVICES = (
    set(HTTP_SERVICES) | set(WORKERS) | set(STATE) | set(ONE_SHOT) | set(OBSERVABILITY) | set(EDGE)
)
# The collector's image is FROM scratch: nothing in it can run a health probe.
LONG_RUNNING = ALL_SERVICES - set(ONE_SHOT) - {"otel-collector"}
DB_SERVICES = ("auth_service", "backend_service", "result_receiver")
CONDITIONS = {"service_healthy", "service_completed_successfully", "service_started"}

PROD_SECRETS = {
    "SATYAMARK_INTERNAL_TOKEN": "prod-internal-token-0123456789abcdef",
    "CALLBACK_SECRET": "prod-callback-secret-0123456789abcdef",
    "AUTH_JWT_KEYS": '{"prod-1": "-----BEGIN PRIVATE KEY-----\\nMC4CAQA=\\n-----END..."}',
    "REDIS_PASSWORD": "prodredispassword0123456789abcdef",
    "POSTGRES_PASSWORD": "prodpostgrespassword0123456789abcd",
}


# ------------------------------------------------------------------ helpers


def _clean_env(**extra: str) -> dict[str, str]:
    """Only what compose needs, so the caller's shell cannot change the outcome."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(ROOT)}
    env.update(extra)
    return env


def run_compose(
    compose_bin: str,
    *args: str,
    files: tuple[Path, ...] = (COMPOSE,),
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    cmd = [compose_bin, "--project-directory", str(ROOT), "--project-name", "satyamark"]
    for f in files:
        cmd += ["-f", str(f)]
    return run_tool(*cmd, *args, env=env if env is not None else _clean_env())


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data = load_yaml(COMPOSE)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def resolved(compose_bin: str) -> dict[str, Any]:
    proc = run_compose(compose_bin, "config")
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load(proc.stdout)
    assert isinstance(data, dict)
    return data


def env_of(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def command_of(svc: dict[str, Any]) -> list[str]:
    cmd = svc.get("command")
    assert isinstance(cmd, list), f"use the exec form for commands, got {cmd!r}"
    return [str(c) for c in cmd]


def healthcheck_text(svc: dict[str, Any]) -> str:
    test = svc["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def torch_pin() -> str:
    for req in pyproject()["project"]["optional-dependencies"]["worker"]:
        m = re.fullmatch(r"torch==([\w.]+)", req.replace(" ", ""))
        if m:
            return m.group(1)
    raise AssertionError("pyproject.toml's worker extra does not pin torch")


def dockerfile_arg(text: str, name: str) -> str:
    m = re.search(rf"^ARG {name}=(\S+)$", text, re.M)
    assert m, f"ARG {name}=… missing"
    return m.group(1)


# ------------------------------------------------------- real compose parser


def test_compose_config_is_valid(compose_bin: str) -> None:
    proc = run_compose(compose_bin, "config", "-q")
    assert proc.returncode == 0, proc.stderr


def test_compose_resolves_every_service_and_variable(resolved: dict[str, Any]) -> None:
    assert set(services(resolved)) == ALL_SERVICES
    text = yaml.safe_dump(resolved)
    assert "${" not in text, "an interpolation was left unresolved"
    assert set(resolved["volumes"]) >= {"redis-data", "postgres-data"}
    for name in WORKERS:
        replicas = services(resolved)[name]["deploy"]["replicas"]
        assert isinstance(replicas, int) and replicas >= 1


def test_compose_lists_services_and_volumes(compose_bin: str) -> None:
    proc = run_compose(compose_bin, "--profile", "gpu", "config", "--services")
    assert proc.returncode == 0, proc.stderr
    assert set(proc.stdout.split()) == ALL_SERVICES
    proc = run_compose(compose_bin, "config", "--volumes")
    assert proc.returncode == 0, proc.stderr
    assert {"redis-data", "postgres-data"} <= set(proc.stdout.split())


def test_secrets_come_from_the_environment(compose_bin: str) -> None:
    # what every service is given, and what auth_service alone is
    everyone = {
        "SATYAMARK_ENV": "test",
        "SATYAMARK_INTERNAL_TOKEN": "from-env-token",
        "CALLBACK_SECRET": "from-env-cb",
    }
    auth = {"AUTH_JWT_KEYS": '{"from-env": "pem"}', "AUTH_JWT_ACTIVE_KID": "from-env"}
    env = _clean_env(**everyone, **auth, WORKER_REPLICAS="3")
    proc = run_compose(compose_bin, "config", env=env)
    assert proc.returncode == 0, proc.stderr
    svcs = services(yaml.safe_load(proc.stdout))
    for name in set(HTTP_SERVICES) | set(WORKERS) | {"migrate"}:
        assert env_of(svcs[name]).items() >= everyone.items(), name
    assert env_of(svcs["auth_service"]).items() >= auth.items()
    assert svcs["worker"]["deploy"]["replicas"] == 3


def test_dev_defaults_are_development_placeholders(resolved: dict[str, Any]) -> None:
    # Defaults are for local use only; the services refuse "change-me" in production.
    for name in set(HTTP_SERVICES) | set(WORKERS) | {"migrate"}:
        e = env_of(services(resolved)[name])
        assert e["SATYAMARK_ENV"] == "development", name
        assert "change-me" in e["SATYAMARK_INTERNAL_TOKEN"], name
        assert "change-me" in e["CALLBACK_SECRET"], name


def test_production_override_requires_every_secret(compose_bin: str) -> None:
    files = (COMPOSE, PROD_OVERRIDE)
    proc = run_compose(compose_bin, "config", "-q", files=files)
    assert proc.returncode != 0
    assert "set " in proc.stderr, proc.stderr
    for missing in PROD_SECRETS:
        partial = {k: v for k, v in PROD_SECRETS.items() if k != missing}
        proc = run_compose(compose_bin, "config", "-q", files=files, env=_clean_env(**partial))
        assert proc.returncode != 0, f"production config accepted without {missing}"
        assert missing in proc.stderr, proc.stderr

    proc = run_compose(compose_bin, "config", files=files, env=_clean_env(**PROD_SECRETS))
    assert proc.returncode == 0, proc.stderr
    assert "change-me" not in proc.stdout
    svcs = services(yaml.safe_load(proc.stdout))
    assert set(svcs) == ALL_SERVICES
    for name in set(HTTP_SERVICES) | set(WORKERS) | {"migrate"}:
        e = env_of(svcs[name])
        assert e["SATYAMARK_ENV"] == "production", name
        assert e["SATYAMARK_INTERNAL_TOKEN"] == PROD_SECRETS["SATYAMARK_INTERNAL_TOKEN"], name
        assert PROD_SECRETS["REDIS_PASSWORD"] in e["REDIS_URL"], name
    for name in (*DB_SERVICES, "migrate"):
        assert PROD_SECRETS["POSTGRES_PASSWORD"] in env_of(svcs[name])["DATABASE_URL"], name
    assert env_of(svcs["auth_service"])["AUTH_JWT_KEYS"] == PROD_SECRETS["AUTH_JWT_KEYS"]
    redis_cmd = command_of(svcs["redis"])
    assert redis_cmd[redis_cmd.index("--requirepass") + 1] == PROD_SECRETS["REDIS_PASSWORD"]


# ------------------------------------------------------------------ structure


def test_every_service_exists(raw: dict[str, Any]) -> None:
    assert set(services(raw)) == ALL_SERVICES


def test_long_running_services_have_health_checks(raw: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        svc = services(raw)[name]
        hc = svc.get("healthcheck")
        assert hc and hc.get("test") and not hc.get("disable"), f"{name} has no health check"
        assert svc.get("restart") in ("unless-stopped", "always", "on-failure"), name


def test_http_services_check_their_own_readiness(raw: dict[str, Any]) -> None:
    include = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    for name, (package, prefix, port) in HTTP_SERVICES.items():
        svc = services(raw)[name]
        assert command_of(svc) == ["python", "-m", package], name
        assert f"{package}*" in include and (ROOT / package / "__init__.py").is_file(), name
        env = env_of(svc)
        assert env[f"{prefix}_HOST"] == "0.0.0.0", name
        assert int(env[f"{prefix}_PORT"]) == port, name
        assert env["METRICS_HOST"] == "0.0.0.0", f"{name}: metrics port unreachable for Prometheus"
        test = svc["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], f"{name}: python one-liner expected"
        assert f"http://127.0.0.1:{port}/readyz" in test[3], name
        # The one-liner must be valid Python.
        compile(test[3], f"<{name} healthcheck>", "exec")


def test_worker_health_check_asks_its_readiness(raw: dict[str, Any]) -> None:
    """Not a Redis ping: a worker whose loop is stuck still reaches Redis."""
    for name in WORKERS:
        svc = services(raw)[name]
        assert command_of(svc) == ["python", "-m", "worker"]
        assert env_of(svc)["METRICS_HOST"] == "0.0.0.0", name
        assert "http://127.0.0.1:9490/readyz" in healthcheck_text(svc), name
        compile(svc["healthcheck"]["test"][3], f"<{name} healthcheck>", "exec")


def test_depends_on_uses_conditions_and_has_no_cycles(raw: dict[str, Any]) -> None:
    svcs = services(raw)
    graph: dict[str, set[str]] = {}
    for name, svc in svcs.items():
        deps = svc.get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on must use the long form"
        for dep, spec in deps.items():
            assert dep in svcs, f"{name} depends on unknown {dep}"
            assert spec["condition"] in CONDITIONS, f"{name} -> {dep}"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in svcs[dep], f"{name} waits for {dep}'s health check"
            if spec["condition"] == "service_completed_successfully":
                assert dep in ONE_SHOT, f"{name} waits for {dep} to exit"
        graph[name] = set(deps)
    # Kahn: everything must be startable.
    pending = dict(graph)
    while pending:
        ready = [n for n, deps in pending.items() if not deps & set(pending)]
        assert ready, f"depends_on cycle among {sorted(pending)}"
        for n in ready:
            del pending[n]


def test_startup_order(raw: dict[str, Any]) -> None:
    svcs = services(raw)

    def cond(name: str, dep: str) -> str | None:
        spec = (svcs[name].get("depends_on") or {}).get(dep)
        return None if spec is None else str(spec["condition"])

    assert cond("migrate", "postgres") == "service_healthy"
    assert command_of(svcs["migrate"]) == ["python", "-m", "shared.db", "migrate"]
    assert svcs["migrate"].get("restart") == "no"
    for name in DB_SERVICES:
        assert cond(name, "migrate") == "service_completed_successfully", name
    ws = ("ws_service_1", "ws_service_2")
    apis = ("ratelimit_service", "backend_service")
    redis_users = (*apis, "ai_service", "result_receiver", *ws)
    waits_for_healthy = [
        *[(name, "redis") for name in (*redis_users, *WORKERS)],
        *[("gateway", dep) for dep in ("auth_service", *apis, *ws)],
        *[("edge", dep) for dep in ("gateway", *ws)],
        *[(name, "result_receiver") for name in WORKERS],
    ]
    for name, dep in waits_for_healthy:
        assert cond(name, dep) == "service_healthy", (name, dep)


def test_redis_keeps_the_queue(raw: dict[str, Any]) -> None:
    redis = services(raw)["redis"]
    assert str(redis["image"]).startswith("redis:7")
    cmd = command_of(redis)
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert cmd[cmd.index("--maxmemory-policy") + 1] == "noeviction"
    assert any(
        str(v).split(":")[0] in raw["volumes"] and str(v).split(":")[1] == "/data"
        for v in redis["volumes"]
    )
    text = healthcheck_text(redis)
    assert "redis-cli" in text and "ping" in text
    # redis-cli exits 0 on NOAUTH; the check must look for the PONG.
    assert "PONG" in text


def test_postgres_has_a_volume_and_pg_isready(raw: dict[str, Any]) -> None:
    pg = services(raw)["postgres"]
    assert str(pg["image"]).startswith("postgres:16")
    assert any(
        str(v).split(":")[0] in raw["volumes"]
        and str(v).split(":")[1] == "/var/lib/postgresql/data"
        for v in pg["volumes"]
    )
    assert "pg_isready" in healthcheck_text(pg)


def test_only_the_edge_publishes_a_port(raw: dict[str, Any], resolved: dict[str, Any]) -> None:
    for cfg in (raw, resolved):
        with_ports = {
            n for n, s in services(cfg).items() if s.get("ports") and n not in OBSERVABILITY
        }
        assert with_ports == {"edge"}
    ports = services(resolved)["edge"]["ports"]
    assert len(ports) == 1
    port = ports[0]
    if isinstance(port, dict):
        host_ip, published, target = port.get("host_ip"), port["published"], port["target"]
    else:  # "127.0.0.1:8000:8080/tcp"
        host_ip, published, target = str(port).split("/", 1)[0].split(":")
    assert int(target) == int(env_of(services(resolved)["edge"])["EDGE_LISTEN"])
    # the public port stays 8000, on localhost unless EDGE_BIND says otherwise
    assert int(published) == 8000 and host_ip == "127.0.0.1"


# ----------------------------------------------------------------------- edge


def _edge_servers(value: str) -> list[str]:
    """ "server a:1; server b:2;" -> ["a:1", "b:2"]"""
    servers = re.findall(r"server\s+(\S+?)\s*;", value)
    assert servers and re.sub(r"server\s+\S+?\s*;", "", value).strip() == "", value
    return servers


def test_edge_is_debian_nginx_with_the_repository_template(resolved: dict[str, Any]) -> None:
    edge = services(resolved)["edge"]
    assert re.fullmatch(r"nginx:1\.\d+(\.\d+)?-bookworm", str(edge["image"])), edge["image"]
    assert "build" not in edge
    mounts = [
        str(v) if not isinstance(v, dict) else f"{v['source']}:{v['target']}"
        for v in edge["volumes"]
    ]
    assert any(
        m.split(":")[0] == str(EDGE_TEMPLATE)
        and m.split(":")[1] == "/etc/nginx/templates/nginx.conf.template"
        for m in mounts
    ), mounts
    env = env_of(edge)
    # the image renders the template to the main config, substituting only EDGE_*
    # (nginx's own $variables stay)
    assert env["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"
    assert env["NGINX_ENVSUBST_FILTER"] == "EDGE_"
    placeholders = set(re.findall(r"\$\{(EDGE_\w+)\}", EDGE_TEMPLATE.read_text()))
    assert placeholders and placeholders <= set(env), placeholders - set(env)
    assert "curl" in healthcheck_text(edge)
    assert f"http://127.0.0.1:{env['EDGE_LISTEN']}/edge-health" in healthcheck_text(edge)


def test_edge_routes_sockets_to_ws_service_and_the_rest_to_the_gateway(
    resolved: dict[str, Any],
) -> None:
    svcs = services(resolved)
    env = env_of(svcs["edge"])
    ws = sorted(n for n in HTTP_SERVICES if n.startswith("ws_service"))
    assert sorted(_edge_servers(env["EDGE_WS_SERVERS"])) == [f"{n}:8006" for n in ws]
    # the same instances the gateway's own (development) proxy knows
    gw_ws = sorted(
        f"{urlsplit(u).hostname}:{urlsplit(u).port}"
        for u in env_of(svcs["gateway"])["WS_URLS"].split(",")
    )
    assert gw_ws == [f"{n}:8006" for n in ws]
    assert _edge_servers(env["EDGE_GATEWAY_SERVERS"]) == ["gateway:8000"]
    assert int(svcs["gateway"]["deploy"]["replicas"]) >= 1
    for name in ("gateway", *ws):
        assert not svcs[name].get("ports"), f"{name} is reached through the edge only"


def test_edge_template_matches_the_services() -> None:
    text = EDGE_TEMPLATE.read_text()
    # /v1/ws straight to ws_service, which serves the socket at /ws
    assert "location = /v1/ws {\n            proxy_pass http://satyamark_ws/ws;" in text
    assert {getattr(r, "path", None) for r in ws_router.routes} >= {"/ws"}
    assert "proxy_set_header Upgrade $http_upgrade;" in text
    assert "proxy_set_header Connection $connection_upgrade;" in text
    read_timeout = re.search(r"location = /v1/ws \{[^}]*proxy_read_timeout (\d+)s;", text)
    assert read_timeout and int(read_timeout.group(1)) >= 3600
    assert re.search(r"upstream satyamark_ws \{[^}]*least_conn;", text)
    assert "location / {\n            proxy_pass http://satyamark_gateway;" in text
    for header in ("X-Real-IP $remote_addr;", "X-Forwarded-For $remote_addr;"):
        assert text.count(f"proxy_set_header {header}") == 2, header
    assert "$proxy_add_x_forwarded_for" not in text  # a client's own header is not passed on
    # nginx refuses what the gateway would refuse, with the gateway's error body
    size = re.search(r"client_max_body_size (\d+)k;", text)
    limit = GatewaySettings.model_fields["max_body_bytes"].default
    assert size and int(size.group(1)) * 1024 == limit
    assert f'"message":"request body over {limit} bytes"' in text
    # pid, error_log and daemon come from the command line (the test passes its own)
    for directive in ("pid", "error_log", "daemon", "user"):
        assert not re.search(rf"^{directive}\s", text, re.M), directive


def test_service_urls_point_at_compose_services(resolved: dict[str, Any]) -> None:
    svcs = services(resolved)
    ports = {n: p for n, (_, _, p) in HTTP_SERVICES.items()}
    seen_url_vars: set[str] = set()
    for name, svc in svcs.items():
        for key, value in env_of(svc).items():
            if not (key.endswith("_URL") or key == "WS_URLS") or key in (
                "REDIS_URL",
                "DATABASE_URL",
            ):
                continue
            seen_url_vars.add(key)
            for url in value.split(","):
                parts = urlsplit(url)
                assert parts.scheme == "http", f"{name}: {key}={url}"
                assert parts.hostname in ports, f"{name}: {key} names unknown {parts.hostname}"
                assert parts.port == ports[parts.hostname], f"{name}: {key}={url}"
    assert {
        "AUTH_URL",
        "RATELIMIT_URL",
        "BACKEND_URL",
        "AI_URL",
        "RECEIVER_URL",
        "WS_URLS",
    } <= seen_url_vars
    gw = env_of(svcs["gateway"])
    ws_hosts = sorted(urlsplit(u).hostname or "" for u in gw["WS_URLS"].split(","))
    assert ws_hosts == ["ws_service_1", "ws_service_2"]
    assert urlsplit(env_of(svcs["backend_service"])["RECEIVER_URL"]).hostname == "result_receiver"
    for name in set(HTTP_SERVICES) | set(WORKERS) | {"migrate"}:
        e = env_of(svcs[name])
        assert urlsplit(e["REDIS_URL"]).hostname == "redis", name
    for name in (*DB_SERVICES, "migrate"):
        assert urlsplit(env_of(svcs[name])["DATABASE_URL"]).hostname == "postgres", name


def test_workers_cpu_by_default_gpu_in_profile(raw: dict[str, Any]) -> None:
    svcs = services(raw)
    cpu, gpu = svcs["worker"], svcs["worker-gpu"]
    assert not cpu.get("profiles"), "the CPU worker must start without a profile"
    assert env_of(cpu)["WORKER_DEVICE"] == "cpu"
    assert "replicas" in cpu["deploy"]
    assert "reservations" not in (cpu["deploy"].get("resources") or {})
    assert gpu.get("profiles") == ["gpu"]
    assert env_of(gpu)["WORKER_DEVICE"] == "cuda"
    assert "replicas" in gpu["deploy"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert any(
        d.get("driver") == "nvidia"
        and "gpu" in d.get("capabilities", [])
        and (d.get("count") == "all" or d.get("device_ids"))
        for d in devices
    )
    # Workers read the knowledge base from PostgreSQL, which migrate loads first.
    for svc in (cpu, gpu):
        assert "DATABASE_URL" in env_of(svc)
        assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "WORKER_MODEL" in env_of(svc)
    assert "cu" in str(gpu["build"]["args"]["TORCH_INDEX_URL"])
    assert str(cpu["build"]["args"]["TORCH_INDEX_URL"]).endswith("/whl/cpu")


def test_every_referenced_dockerfile_exists(resolved: dict[str, Any]) -> None:
    built = set()
    for name, svc in services(resolved).items():
        if name in STATE or name in OBSERVABILITY or name in EDGE:
            assert "build" not in svc and svc.get("image"), name
            continue
        build = svc.get("build")
        assert build, f"{name} has no build section"
        context = Path(build["context"]) if isinstance(build, dict) else Path(build)
        context = context if context.is_absolute() else ROOT / context
        dockerfile = context / (
            build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        )
        assert dockerfile.is_file(), f"{name}: {dockerfile} missing"
        built.add(dockerfile.resolve())
        expected = "Dockerfile.worker" if name in WORKERS else "Dockerfile"
        assert dockerfile.name == expected, name
    assert len(built) == 2


# ---------------------------------------------------------------- Dockerfiles


def _user_is_unprivileged(text: str) -> None:
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users, "no USER instruction"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_service_dockerfile() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    code = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
    assert dockerfile_arg(text, "PYTHON_IMAGE").startswith("python:3.11")
    assert re.search(r"^RUN pip install \. ", code, re.M)
    assert "[worker]" not in code and "torch" not in code
    # The web app is built in its own Node stage; only its dist/ is served.
    assert dockerfile_arg(text, "NODE_IMAGE").startswith("node:20")
    assert re.search(r"^RUN npm ci ", code, re.M)
    assert "COPY --from=web /src/frontend/dist /app/frontend" in code
    _user_is_unprivileged(text)


def test_worker_dockerfile_installs_pinned_cuda_torch_first() -> None:
    text = (ROOT / "deploy" / "Dockerfile.worker").read_text()
    assert dockerfile_arg(text, "TORCH_VERSION") == torch_pin()
    assert re.fullmatch(
        r"https://download\.pytorch\.org/whl/cu\d+", dockerfile_arg(text, "TORCH_INDEX_URL")
    )
    torch_at = text.index('--index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"')
    extra_at = text.index('pip install ".[worker]"')
    assert torch_at < extra_at
    _user_is_unprivileged(text)
    assert re.search(r"^HEALTHCHECK ", text, re.M)


def test_dockerignore_keeps_the_context_small_and_secret_free() -> None:
    lines = {ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", ".env", "tests"} <= lines


# ------------------------------------------------------- Hugging Face Space


def _front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text()
    m = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert m, "README.md has no YAML front-matter"
    data = yaml.safe_load(m.group(1))
    assert isinstance(data, dict)
    return data


def test_hf_space_files_agree() -> None:
    meta = _front_matter(HF_SPACE / "README.md")
    assert meta["sdk"] == "docker"
    port = int(meta["app_port"])
    text = (HF_SPACE / "Dockerfile").read_text()
    assert re.search(rf"^EXPOSE {port}$", text, re.M)
    assert f"PORT={port}" in text
    assert dockerfile_arg(text, "TORCH_VERSION") == torch_pin()
    assert text.index("torch==${TORCH_VERSION}") < text.index('pip install ".[worker]"')
    assert re.search(r"^USER user$", text, re.M)
    assert "space_entry.py" in text
    assert (ROOT / "deploy" / "worker-remote.md").is_file()


def test_build_space_assembles_a_space_repo(tmp_path: Path) -> None:
    dest = tmp_path / "space"
    proc = run_tool("bash", str(HF_SPACE / "build_space.sh"), str(dest), timeout=60)
    assert proc.returncode == 0, proc.stderr
    for name in (
        "Dockerfile",
        "README.md",
        "space_entry.py",
        "pyproject.toml",
        "worker/__init__.py",
        "shared/__init__.py",
    ):
        assert (dest / name).is_file(), name
    assert not list(dest.rglob("__pycache__"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            body = err.read()
            return err.code, json.loads(body) if body.startswith(b"{") else {}


@pytest.fixture
def space_entry() -> Iterator[Any]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(worker_cmd: str) -> tuple[subprocess.Popen[bytes], str]:
        port = _free_port()
        env = dict(os.environ, PORT=str(port), SPACE_WORKER_CMD=worker_cmd)
        proc = subprocess.Popen(
            [sys.executable, str(HF_SPACE / "space_entry.py")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return proc, base
            except OSError:
                time.sleep(0.05)
        raise AssertionError("space_entry.py did not open its port")

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_space_entry_health_while_worker_runs(space_entry: Any) -> None:
    sleeper = f"{sys.executable} -c 'import time; time.sleep(60)'"
    proc, base = space_entry(sleeper)
    deadline = time.monotonic() + 5
    status, body = _get(base + "/healthz")
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.05)
        status, body = _get(base + "/healthz")
    assert status == 200 and body["status"] == "ok"
    assert _get(base + "/")[0] == 200
    assert _get(base + "/env")[0] == 404
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) in (0, -signal.SIGTERM)


def test_space_entry_reports_a_crashed_worker(space_entry: Any) -> None:
    _, base = space_entry(f"{sys.executable} -c 'raise SystemExit(3)'")
    deadline = time.monotonic() + 5
    status, body = _get(base + "/healthz")
    while (status != 503 or body.get("restarts", 0) < 1) and time.monotonic() < deadline:
        time.sleep(0.1)
        status, body = _get(base + "/healthz")
    assert status == 503 and body["status"] == "down" and body["restarts"] >= 1
