"""The system behind its edge proxy: Debian's nginx with deploy/edge/nginx.conf.template
(the file docker-compose.yml runs) in front of 2 gateways, 3 ws_service instances and
3 workers. Clients know only the edge's URL: the two-user pipeline tests (imported from
test_pipeline, so they cannot drift apart) run through it, and nginx's access log shows
that sockets went straight to ws_service and API calls to both gateways."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from ulid import ULID

from gateway.config import GatewaySettings
from satyamark.devstack import Stack
from satyamark.infra import free_port
from shared import keys
from shared.redis_client import create_sync_redis
from tests.e2e import test_pipeline as plain
from tests.e2e.conftest import VERIFY_BURST
from tests.e2e.stack import stack_options
from tests.fixtures.infra import own_key_prefix

pytestmark = pytest.mark.e2e

# The same tests as on the plain stack, run here on this module's `stack`.
_register = plain._register
_socket = plain._socket
test_each_user_gets_exactly_their_results = plain.test_each_user_gets_exactly_their_results
test_result_missed_while_offline_is_replayed_on_reconnect = (
    plain.test_result_missed_while_offline_is_replayed_on_reconnect
)

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "edge" / "nginx.conf.template"
NGINX = "/usr/sbin/nginx"
PLACEHOLDER = re.compile(r"\$\{(EDGE_\w+)\}")
# '... "GET /v1/ws HTTP/1.1" 101 0 upstream=127.0.0.1:4711 rt=...'
LOG_LINE = re.compile(
    r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) .*? upstream=(?P<upstream>.*?) rt='
)


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill in ``${EDGE_*}`` as the nginx image's entrypoint does (a missing value fails)."""
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


class EdgeStack(Stack):
    """A stack whose public URL is the edge's, once it runs: the imported tests and the
    ``api`` fixture then talk to nginx only."""

    edge_url = ""

    @property
    def gateway_url(self) -> str:
        return self.edge_url or super().gateway_url

    def ports(self, module: str) -> set[int]:
        return {c.port for c in self.components.values() if c.module == module and c.port}


@dataclasses.dataclass
class Edge:
    url: str
    access_log: Path
    error_log: Path

    def requests(self) -> list[tuple[str, str, int, list[int]]]:
        """(method, path, status, upstream ports) per logged request."""
        found = []
        for line in self.access_log.read_text().splitlines():
            m = LOG_LINE.search(line)
            assert m, f"unexpected access log line: {line}"
            # "-" when nothing was asked; "a, b" when nginx tried a second server
            addresses = [a for a in re.split(r"\s*[,:]\s+", m["upstream"]) if a != "-"]
            upstreams = [int(a.rsplit(":", 1)[1]) for a in addresses]
            found.append((m["method"], m["path"], int(m["status"]), upstreams))
        return found


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def edge_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("edge")


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, redis_server: Any, pg_server_url: str
) -> Iterator[EdgeStack]:
    root = tmp_path_factory.mktemp("stack")
    database = pg_server_url.rsplit("/", 1)[0] + f"/satyamark_e2e_{ULID().hex[-10:].lower()}"
    rules = {
        "verify": {"capacity": VERIFY_BURST, "refill_per_s": 0.2},
        # every client is 127.0.0.1, and behind the edge the gateway sees only the edge
        "auth": {"capacity": 10_000, "refill_per_s": 100},
    }
    # the gateways believe X-Forwarded-For from the edge (and only from it)
    env = {"RATELIMIT_RULES": json.dumps(rules), "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with own_key_prefix(redis_server.url) as prefix:
        env["REDIS_KEY_PREFIX"] = prefix
        options = stack_options(root, redis_server.url, database, env)
        running = EdgeStack(dataclasses.replace(options, workers=3, ws_instances=3))
        try:
            running.start()
            running.add_gateway()
            yield running
        finally:
            running.stop()


@pytest.fixture(scope="module")
def edge(stack: EdgeStack, edge_dir: Path) -> Iterator[Edge]:
    if not shutil.which(NGINX):
        pytest.fail(
            f"{NGINX} is missing: Debian's nginx runs the edge config here. Install it with "
            "`apt-get install -y nginx` (scripts/bootstrap --test does this)."
        )
    port = free_port()
    gateways, sockets = sorted(stack.ports("gateway")), sorted(stack.ports("ws_service"))
    assert len(gateways) == 2 and len(sockets) == 3
    # Run as root, nginx's workers are `nobody`: they spool bodies under a directory they
    # can reach, not under pytest's private (0700) one.
    temp = Path(tempfile.mkdtemp(prefix="satyamark-edge-"))
    temp.chmod(0o755)
    conf = edge_dir / "nginx.conf"
    conf.write_text(
        render(
            TEMPLATE.read_text(),
            {
                "EDGE_LISTEN": f"127.0.0.1:{port}",
                "EDGE_GATEWAY_SERVERS": " ".join(f"server 127.0.0.1:{p};" for p in gateways),
                "EDGE_WS_SERVERS": " ".join(f"server 127.0.0.1:{p};" for p in sockets),
                "EDGE_ACCESS_LOG": str(edge_dir / "access.log"),
                "EDGE_TEMP_DIR": str(temp),
            },
        )
    )
    error_log = edge_dir / "error.log"
    main = f"daemon off; pid {edge_dir / 'nginx.pid'}; error_log {error_log} notice;"
    command = [NGINX, "-p", str(edge_dir), "-c", str(conf), "-g", main]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr + error_log.read_text()
    log = (edge_dir / "nginx.out").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while not _answers(url + "/edge-health"):
            assert proc.poll() is None, f"nginx exited: {error_log.read_text()}"
            assert time.monotonic() < deadline, "nginx did not answer /edge-health"
            time.sleep(0.1)
        stack.edge_url = url
        yield Edge(url, edge_dir / "access.log", error_log)
    finally:
        stack.edge_url = ""
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(autouse=True)
def _through_the_edge(edge: Edge) -> None:
    """Every test here (the imported ones too) runs with the edge up."""


async def test_the_edge_answers_and_holds_the_gateways_body_limit(
    stack: EdgeStack, edge: Edge, api: httpx.AsyncClient
) -> None:
    assert str(api.base_url).rstrip("/") == edge.url
    assert (await api.get("/edge-health")).text == "ok\n"
    health = await api.get("/healthz")  # a gateway's
    assert health.status_code == 200, health.text

    limit = GatewaySettings().max_body_bytes
    assert "client_max_body_size 64k;" in TEMPLATE.read_text() and limit == 64 * 1024
    headers = {"content-type": "application/json"}
    body = b'{"text": "Sharks are mammals."}'
    # At the limit nginx passes the body on (and the gateway wants a token) ...
    at_limit = await api.post("/v1/verify", content=body.ljust(limit), headers=headers)
    assert at_limit.status_code == 401, at_limit.text
    # ... one byte over, the edge refuses it with the gateway's own error body.
    over = await api.post("/v1/verify", content=body.ljust(limit + 1), headers=headers)
    assert over.status_code == 413
    assert over.json() == {
        "errorCode": "GW-VAL-413",
        "message": f"request body over {limit} bytes",
    }
    # nginx logs a refused request once it has discarded the rest of its body
    deadline = time.monotonic() + 10
    while (logged := {(p, s): ports for _, p, s, ports in edge.requests()}).get(
        ("/v1/verify", 413)
    ) is None:
        assert time.monotonic() < deadline, "the 413 was never logged"
        await asyncio.sleep(0.1)
    assert logged[("/v1/verify", 413)] == [], "the 413 must not reach a gateway"


async def test_sockets_go_straight_to_ws_service_and_requests_to_both_gateways(
    stack: EdgeStack, edge: Edge, api: httpx.AsyncClient
) -> None:
    user = await _register(api, "erin")
    sockets = [await _socket(stack, user["access_token"]) for _ in range(3)]
    with create_sync_redis(stack.redis_url, timeout_s=5) as client:
        instances = set(client.hvals(keys.ws_user(user["userId"])))
    # least_conn: with no other socket open, three sockets land on three instances
    assert len(instances) == 3, instances
    for ws in sockets:
        await ws.close()

    gateways, ws_ports = stack.ports("gateway"), stack.ports("ws_service")
    deadline = time.monotonic() + 10
    while True:  # a socket's line is written when it closes
        logged = edge.requests()
        socket_ports = [p for _, path, _, ports in logged if path == "/v1/ws" for p in ports]
        if len(socket_ports) >= 3 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    for method, path, status, ports in logged:
        if path == "/v1/ws":
            assert status == 101 and ports and set(ports) <= ws_ports, (path, ports)
        elif path != "/edge-health" and status != 413:
            assert ports and set(ports) <= gateways, (method, path, ports)
    # every ws_service instance served sockets; the gateways served none of them
    assert set(socket_ports) == ws_ports
    api_ports = [p for _, path, _, ports in logged if path != "/v1/ws" for p in ports]
    assert set(api_ports) == gateways, "both gateways should have served API requests"


async def test_the_gateway_counts_the_client_address_the_edge_saw(
    stack: EdgeStack, edge: Edge
) -> None:
    """Per-IP limits behind the edge: the gateway believes X-Forwarded-For from the edge
    (FORWARDED_ALLOW_IPS), and the edge sets it from the peer, dropping a client's own."""
    client_ip, spoofed = "127.0.0.3", "203.0.113.9"
    transport = httpx.AsyncHTTPTransport(local_address=client_ip)
    async with httpx.AsyncClient(base_url=edge.url, transport=transport, timeout=30) as api:
        creds = {"email": f"ip-{ULID().hex[-8:]}@example.com", "password": "password-123"}
        answer = await api.post(
            "/v1/auth/register", json=creds, headers={"X-Forwarded-For": spoofed}
        )
    assert answer.status_code == 201, answer.text
    with create_sync_redis(stack.redis_url, timeout_s=5) as client:
        assert client.exists(keys.ratelimit_bucket("auth", f"ip:{client_ip}"))
        assert not client.exists(keys.ratelimit_bucket("auth", f"ip:{spoofed}"))
