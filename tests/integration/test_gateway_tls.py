"""The gateway serves HTTPS directly when given a certificate, and then sends HSTS."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.config import GatewaySettings
from satyamark.tls import ensure_self_signed
from tests.utils.servers import running
from tests.utils.settings import common


async def test_https_with_hsts_and_security_headers(tmp_path: Path) -> None:
    cert, key = ensure_self_signed(tmp_path)
    assert ensure_self_signed(tmp_path) == (cert, key)  # kept, not remade
    settings = GatewaySettings(**common(), tls_cert_file=str(cert), tls_key_file=str(key))
    trust = ssl.create_default_context(cafile=str(cert))
    async with running(create_app(settings), ssl_certfile=str(cert), ssl_keyfile=str(key)) as url:
        assert url.startswith("https://")
        async with httpx.AsyncClient(base_url=url, verify=trust) as client:
            answer = await client.get("/healthz")
    assert answer.status_code == 200
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"


async def test_plain_http_sends_no_hsts() -> None:
    async with (
        running(create_app(GatewaySettings(**common()))) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        answer = await client.get("/healthz")
    assert "strict-transport-security" not in answer.headers
    assert answer.headers["x-frame-options"] == "DENY"
