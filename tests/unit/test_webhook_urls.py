"""Where webhooks may be sent: never to this host, the private network or the cloud's
metadata service, except loopback in development (a local receiver)."""

from __future__ import annotations

import pytest

from shared.webhooks import payload_for, url_problem


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",  # not https
        "ftp://93.184.216.34/hook",
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://10.0.0.7/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://[fe80::1]/hook",
        "https://[fd00:ec2::254]/hook",  # AWS metadata over IPv6
        "https://0.0.0.0/hook",
        "https://user:pw@93.184.216.34/hook",
        "https:///no-host",
        "https://93.184.216.34:99999/hook",
        "https://no-such-host.invalid/hook",
    ],
)
async def test_outside_development_only_public_https_is_allowed(url: str) -> None:
    assert await url_problem(url, development=False) is not None


async def test_a_public_https_address_is_allowed() -> None:
    assert await url_problem("https://93.184.216.34/hook", development=False) is None
    assert await url_problem("https://[2606:2800:220:1::1]/hook", development=False) is None


async def test_development_allows_loopback_over_http_but_not_the_private_network() -> None:
    assert await url_problem("http://127.0.0.1:9000/hook", development=True) is None
    assert await url_problem("http://localhost:9000/hook", development=True) is None
    assert await url_problem("http://10.0.0.7/hook", development=True) is not None
    assert await url_problem("http://169.254.169.254/", development=True) is not None


def test_only_final_events_become_webhooks() -> None:
    assert payload_for({"type": "progress", "taskId": "t", "stage": "started"}) is None
    failed = payload_for({"type": "failed", "taskId": "t", "errorCode": "X", "message": "m"})
    assert failed is not None
    kind, body = failed
    assert kind == "task.failed" and body["type"] == "task.failed"
    assert body["data"] == {
        "taskId": "t",
        "status": "failed",
        "error": {"errorCode": "X", "message": "m"},
    }
    assert body["timestamp"].endswith("Z")


async def test_a_host_that_is_no_host_name_is_refused_not_crashed_on() -> None:
    assert await url_problem("https://\u0087bad/hook", development=False) is not None
