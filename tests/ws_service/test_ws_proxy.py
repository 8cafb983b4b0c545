"""gateway.ws_proxy in front of a real ws_service."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI, WebSocket

from gateway.ws_proxy import UpstreamPicker, proxy_websocket
from shared.notify import UserNotifier

from .conftest import WsFactory
from .servers import Running, register_user, running
from .wsclient import authed, closed_with, event_body, open_socket, recv_json


def _gateway(upstream_url: str) -> FastAPI:
    app = FastAPI()

    @app.websocket("/v1/ws")
    async def ws(websocket: WebSocket) -> None:
        await proxy_websocket(websocket, upstream_url, forward_headers={"x-request-id": "r1"})

    return app


def _url(gateway: Running) -> str:
    return f"ws://127.0.0.1:{gateway.port}/v1/ws"


async def test_proxy_relays_both_ways(
    ws_instance: WsFactory, auth_url: str, redis: aioredis.Redis
) -> None:
    upstream = await ws_instance()
    token, user_id = await register_user(auth_url, "p@example.com")
    async with running(_gateway(upstream.ws_url)) as gateway:
        by_header, _ = await authed(_url(gateway), token)
        by_message, _ = await authed(_url(gateway), token, via_header=False)
        await by_header.send(json.dumps({"type": "ping"}))
        assert await recv_json(by_header) == {"type": "pong"}

        event: dict[str, object] = {
            "type": "failed",
            "taskId": "t9",
            "errorCode": "AI-JOB-500",
            "message": "x",
        }
        assert await UserNotifier(redis).publish(user_id, event) == 1
        first, second = await recv_json(by_header), await recv_json(by_message)
        assert event_body(first) == event_body(second) == event
        assert first["eventId"] == second["eventId"]
        await by_header.close()
        await by_message.close()


async def test_a_result_with_the_most_claims_is_relayed_live_and_replayed(
    ws_instance: WsFactory, auth_url: str, redis: aioredis.Redis
) -> None:
    """A result event is as large as the callback that carried it (~300 KB with 32
    claims at their limits): ws_service and the proxy pass it on whole, every field kept."""
    claim = {
        "text": "t" * 2000, "mark": "Incorrect", "reason": "r" * 2000, "confidence": 80,
        "stance": "contradicts",
        "evidence": {"claim": "c" * 1000, "verdict": "false", "explanation": "e" * 2000,
                     "sourceUrl": "https://example.org/" + "u" * 2028, "sourceName": "n" * 200,
                     "similarity": 0.5},
    }  # fmt: skip
    event: dict[str, object] = {
        "type": "result", "taskId": "t1", "mark": "Incorrect", "reason": "r" * 2000,
        "confidence": 80, "claims": [claim] * 32, "method": "m" * 500, "cached": False,
        "futureField": {"a": [1]},
    }  # fmt: skip
    assert len(json.dumps(event)) > 290_000
    upstream = await ws_instance()
    token, user_id = await register_user(auth_url, "big@example.com")
    async with running(_gateway(upstream.ws_url)) as gateway:
        live, _ = await authed(_url(gateway), token)
        assert await UserNotifier(redis).publish(user_id, event) == 1
        pushed = await recv_json(live)
        assert event_body(pushed) == event
        await live.close()
        # a client that missed it gets the same event replayed
        later, _ = await authed(_url(gateway), token, via_header=False, last_event_id="0-0")
        replayed = await recv_json(later)
        assert event_body(replayed) == event and replayed["eventId"] == pushed["eventId"]
        await later.close()


async def test_proxy_passes_close_codes_through(ws_instance: WsFactory) -> None:
    upstream = await ws_instance(auth_timeout_s=0.3)
    async with running(_gateway(upstream.ws_url)) as gateway:
        bad = await open_socket(_url(gateway), "not-a-jwt")
        assert (await recv_json(bad))["errorCode"] == "WS-AUTH-401"
        assert (await closed_with(bad))[0] == 4401

        silent = await open_socket(_url(gateway))
        assert (await recv_json(silent))["errorCode"] == "WS-AUTH-408"
        assert (await closed_with(silent))[0] == 4408


async def test_unreachable_upstream_closes_1013() -> None:
    async with running(_gateway("ws://127.0.0.1:9/ws")) as gateway:
        ws = await open_socket(_url(gateway))
        error = await recv_json(ws)
        assert error["errorCode"] == "GW-WS-503"
        assert (await closed_with(ws))[0] == 1013


def test_upstream_picker_round_robin() -> None:
    picker = UpstreamPicker(["ws://a/ws", "ws://b/ws"])
    assert [picker.next() for _ in range(4)] == ["ws://a/ws", "ws://b/ws"] * 2
    with pytest.raises(ValueError):
        UpstreamPicker([])
