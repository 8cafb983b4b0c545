"""ws_service against real Redis and a real auth_service, over real sockets."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection

from auth_service.app import create_app as create_auth_app
from auth_service.config import AuthSettings
from shared import keys
from shared.notify import UserNotifier
from ws_service.server import WsServer

from .conftest import WsFactory
from .servers import register_user, running
from .wsclient import authed, closed_with, event_body, open_socket, recv_json

RESULT = {
    "type": "result",
    "taskId": "t1",
    "mark": "Correct",
    "reason": "r",
    "confidence": 90,
    "cached": False,
}


async def _hash_becomes(redis: aioredis.Redis, key: str, expected: dict[str, str]) -> None:
    async with asyncio.timeout(5):
        # Polling on purpose: the change happens in another process's view of Redis.
        while await redis.hgetall(key) != expected:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_header_auth_registers_and_answers_pings(
    ws_instance: WsFactory, auth_url: str, redis: aioredis.Redis
) -> None:
    inst = await ws_instance(instance_id="inst-1")
    token, user_id = await register_user(auth_url, "a@example.com")
    ws = await open_socket(inst.ws_url, token)
    ready = await recv_json(ws)
    assert ready["type"] == "ready" and ready["userId"] == user_id
    assert await redis.hgetall(keys.ws_user(user_id)) == {ready["socketId"]: "inst-1"}
    assert await redis.ttl(keys.ws_user(user_id)) > 0

    await ws.send(json.dumps({"type": "ping"}))
    assert await recv_json(ws) == {"type": "pong"}
    await ws.send(json.dumps({"type": "subscribe"}))
    assert (await recv_json(ws))["errorCode"] == "WS-MSG-400"
    await ws.send("not json")
    assert (await recv_json(ws))["errorCode"] == "WS-MSG-400"

    await ws.close()
    await _hash_becomes(redis, keys.ws_user(user_id), {})


async def test_first_message_auth(ws_instance: WsFactory, auth_url: str) -> None:
    inst = await ws_instance()
    token, user_id = await register_user(auth_url, "b@example.com")
    ws = await open_socket(inst.ws_url)
    await ws.send(json.dumps({"type": "ping"}))  # allowed before auth
    assert await recv_json(ws) == {"type": "pong"}
    await ws.send(json.dumps({"type": "auth", "token": token, "lastEventId": None}))
    ready = await recv_json(ws)
    assert ready["type"] == "ready" and ready["userId"] == user_id
    await ws.close()


async def test_bad_tokens_close_4401(ws_instance: WsFactory) -> None:
    inst = await ws_instance()
    for ws in (
        await open_socket(inst.ws_url, "not-a-jwt"),
        await _first_message(inst.ws_url, {"type": "auth", "token": "not-a-jwt"}),
        await _first_message(inst.ws_url, {"type": "hello"}),
    ):
        error = await recv_json(ws)
        assert error["type"] == "error" and error["errorCode"] == "WS-AUTH-401"
        code, _ = await closed_with(ws)
        assert code == 4401


async def test_malformed_authorization_header_closes_4401(ws_instance: WsFactory) -> None:
    inst = await ws_instance()
    ws = await open_socket(inst.ws_url, headers={"Authorization": "Basic abc"})
    assert (await recv_json(ws))["errorCode"] == "WS-AUTH-401"
    assert (await closed_with(ws))[0] == 4401


async def test_no_auth_within_timeout_closes_4408(ws_instance: WsFactory) -> None:
    inst = await ws_instance(auth_timeout_s=0.3)
    ws = await open_socket(inst.ws_url)
    error = await recv_json(ws)
    assert error["errorCode"] == "WS-AUTH-408"
    assert (await closed_with(ws))[0] == 4408


async def test_oversize_message_closes_1009(ws_instance: WsFactory, auth_url: str) -> None:
    inst = await ws_instance(max_message_bytes=1024)
    token, _ = await register_user(auth_url, "big@example.com")
    ws, _ = await authed(inst.ws_url, token)
    await ws.send(json.dumps({"type": "ping", "pad": "x" * 2000}))
    assert (await closed_with(ws))[0] == 1009


async def test_events_reach_exactly_the_users_sockets_across_instances(
    ws_instance: WsFactory, auth_url: str, redis: aioredis.Redis
) -> None:
    one = await ws_instance(instance_id="inst-1")
    two = await ws_instance(instance_id="inst-2")
    token_a, user_a = await register_user(auth_url, "alice@example.com")
    token_b, user_b = await register_user(auth_url, "bob@example.com")
    a1, sid_a1 = await authed(one.ws_url, token_a)
    a1b, sid_a1b = await authed(one.ws_url, token_a, via_header=False)
    a2, sid_a2 = await authed(two.ws_url, token_a)
    b1, _ = await authed(one.ws_url, token_b)
    assert await redis.hgetall(keys.ws_user(user_a)) == {
        sid_a1: "inst-1",
        sid_a1b: "inst-1",
        sid_a2: "inst-2",
    }

    notifier = UserNotifier(redis)
    assert await notifier.publish(user_a, RESULT) == 2  # once per instance, not per socket
    for ws in (a1, a1b, a2):
        assert event_body(await recv_json(ws)) == RESULT
    # B's next frame is B's own event: A's never reached B.
    event_b = {**RESULT, "taskId": "t-b"}
    assert await notifier.publish(user_b, event_b) == 1
    assert event_body(await recv_json(b1)) == event_b
    for ws in (a1, a1b, a2):
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv_json(ws) == {"type": "pong"}

    await a2.close()
    await _hash_becomes(redis, keys.ws_user(user_a), {sid_a1: "inst-1", sid_a1b: "inst-1"})
    assert await notifier.publish(user_a, {**RESULT, "taskId": "t2"}) == 1
    for ws in (a1, b1, a1b):
        await ws.close()
    await _hash_becomes(redis, keys.ws_user(user_a), {})
    await _hash_becomes(redis, keys.ws_user(user_b), {})


async def test_shutdown_closes_1001_and_unregisters(
    ws_instance: WsFactory, auth_url: str, redis: aioredis.Redis
) -> None:
    inst = await ws_instance(instance_id="inst-1", server_class=WsServer)
    token, user_id = await register_user(auth_url, "c@example.com")
    ws, _ = await authed(inst.ws_url, token)
    inst.server.should_exit = True
    assert await closed_with(ws) == (1001, "server shutting down")
    await _hash_becomes(redis, keys.ws_user(user_id), {})


async def test_socket_closes_when_token_expires(
    ws_instance: WsFactory, database_url: str, redis_url: str
) -> None:
    settings = AuthSettings(
        database_url=database_url, redis_url=redis_url, jwt_ttl_s=2, db_pool_min=1
    )
    async with running(create_auth_app(settings)) as short_auth:
        inst = await ws_instance(auth_url=short_auth.http_url)
        token, _ = await register_user(short_auth.http_url, "exp@example.com")
        ws, _ = await authed(inst.ws_url, token)
        await ws.send(json.dumps({"type": "ping"}))
        assert await recv_json(ws) == {"type": "pong"}
        assert await closed_with(ws, within=5) == (4401, "token expired")


async def _first_message(url: str, message: dict[str, object]) -> ClientConnection:
    ws = await open_socket(url)
    await ws.send(json.dumps(message))
    return ws
