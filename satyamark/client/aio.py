"""``AsyncSatyaMark``: the SDK on asyncio (``SatyaMark`` wraps it for plain code)."""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar, overload

import httpx
from pydantic import BaseModel

from .errors import SatyaMarkError
from .models import (
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyPublic,
    DeliveryPage,
    Outcome,
    Submitted,
    TaskPage,
    TaskPublic,
    WebhookCreated,
    WebhookList,
    WebhookPublic,
)
from .stream import LOST_EVENTS, EventStream

EventHook = Callable[[dict[str, Any]], None]
M = TypeVar("M", bound=BaseModel)


class AsyncSatyaMark:
    """A client of one SatyaMark deployment, acting with an API key or an access token
    (``login`` gets one from an e-mail and password)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        timeout_s: float = 30.0,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._credential = api_key or token
        self._ssl = verify if isinstance(verify, ssl.SSLContext) else None
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout_s, verify=verify)
        self.tasks = AsyncTasks(self)
        self.api_keys = AsyncApiKeys(self)
        self.webhooks = AsyncWebhooks(self)

    @classmethod
    async def login(
        cls, base_url: str, email: str, password: str, *, register: bool = False, **options: Any
    ) -> AsyncSatyaMark:
        """Log in (``register``: create the account when the login is refused)."""
        client = cls(base_url, **options)
        body = {"email": email, "password": password}
        try:
            response = await client._http.post("/v1/auth/login", json=body)
            if response.status_code == 401 and register:
                response = await client._http.post("/v1/auth/register", json=body)
            if response.status_code not in (200, 201):
                raise SatyaMarkError.from_response(response)
        except BaseException:
            await client.aclose()
            raise
        client._credential = str(response.json()["access_token"])
        return client

    async def __aenter__(self) -> AsyncSatyaMark:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing -------------------------------------------------------------------

    def _bearer(self) -> dict[str, str]:
        if not self._credential:
            raise SatyaMarkError(401, "SDK-AUTH-401", "no API key or token: pass one, or login")
        return {"Authorization": f"Bearer {self._credential}"}

    async def request(
        self, method: str, path: str, *, expect: Sequence[int] = (200,), **kwargs: Any
    ) -> httpx.Response:
        """One authenticated call; anything but an ``expect``ed status raises."""
        headers = {**kwargs.pop("headers", {}), **self._bearer()}
        response = await self._http.request(method, path, headers=headers, **kwargs)
        if response.status_code not in expect:
            raise SatyaMarkError.from_response(response)
        return response

    async def _parsed(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        """``request``, its JSON body read as ``model``."""
        return model.model_validate((await self.request(method, path, **kwargs)).json())

    def stream(self, last_event_id: str | None = None) -> EventStream:
        """The caller's pushed events (``async with client.stream() as s: await s.next()``)."""
        ws_url = self.base_url.replace("http", "ws", 1) + "/v1/ws"
        self._bearer()
        assert self._credential is not None
        return EventStream(
            ws_url, self._credential, last_event_id=last_event_id, ssl_context=self._ssl
        )

    # -- verifying ------------------------------------------------------------------

    async def submit(self, text: str, *, idempotency_key: str | None = None) -> Submitted:
        """Submit ``text``; a cache hit comes with its result. With ``idempotency_key``
        a retry of the same submission gets the same task (for 24 h)."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return await self._parsed(
            Submitted, "POST", "/v1/verify", json={"text": text}, headers=headers, expect=(200, 202)
        )

    @overload
    async def verify(
        self,
        text: str,
        *,
        wait: Literal[True] = ...,
        idempotency_key: str | None = ...,
        timeout_s: float = ...,
        on_event: EventHook | None = ...,
    ) -> Outcome: ...

    @overload
    async def verify(
        self,
        text: str,
        *,
        wait: Literal[False],
        idempotency_key: str | None = ...,
        timeout_s: float = ...,
        on_event: EventHook | None = ...,
    ) -> Submitted: ...

    async def verify(
        self,
        text: str,
        *,
        wait: bool = True,
        idempotency_key: str | None = None,
        timeout_s: float = 600.0,
        on_event: EventHook | None = None,
    ) -> Outcome | Submitted:
        """Submit ``text`` and (``wait``) return how it ended: at once for a cache hit,
        else from the pushed event, which survives reconnects (the stream resumes where
        it stopped). ``on_event`` sees every event meanwhile (progress included)."""
        if not wait:
            return await self.submit(text, idempotency_key=idempotency_key)
        # Listen before submitting, so the push cannot come before we do.
        async with self.stream() as events:
            submitted = await self.submit(text, idempotency_key=idempotency_key)
            if submitted.cached and submitted.result is not None:
                return Outcome(
                    taskId=submitted.taskId, status="done", cached=True, result=submitted.result
                )
            return await self._outcome(events, submitted.taskId, timeout_s, on_event)

    async def wait_for(
        self, task_id: str, *, timeout_s: float = 600.0, on_event: EventHook | None = None
    ) -> Outcome:
        """How a task submitted earlier ends (at once if it already has)."""
        async with self.stream() as events:
            ended = Outcome.from_task(await self.tasks.get(task_id))
            if ended is not None:
                return ended
            return await self._outcome(events, task_id, timeout_s, on_event)

    async def _outcome(
        self, events: EventStream, task_id: str, timeout_s: float, on_event: EventHook | None
    ) -> Outcome:
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"task {task_id} did not finish in {timeout_s:.0f} s")
            event = await events.next(left)
            if on_event is not None:
                on_event(event)
            if event.get("taskId") == task_id and event.get("type") in ("result", "failed"):
                return Outcome.from_event(event)
            if event.get("type") in LOST_EVENTS:
                # The server could not replay everything: the API has the truth.
                ended = Outcome.from_task(await self.tasks.get(task_id))
                if ended is not None:
                    return ended

    async def events(self, last_event_id: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every pushed event, forever, resumed across reconnects (after
        ``last_event_id`` when given: the events since then are replayed first)."""
        async with self.stream(last_event_id) as events:
            while True:
                yield await events.next()


class _Namespace:
    path = ""  # of the collection

    def __init__(self, client: AsyncSatyaMark) -> None:
        self._client = client

    async def _create(self, model: type[M], body: dict[str, Any]) -> M:
        return await self._client._parsed(model, "POST", self.path, json=body, expect=(201,))

    async def _delete(self, item_id: str) -> None:
        await self._client.request("DELETE", f"{self.path}/{item_id}", expect=(204,))


class AsyncTasks(_Namespace):
    path = "/v1/tasks"

    async def list(
        self, *, status: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> TaskPage:
        """One page of the caller's tasks, newest first (pass ``nextCursor`` on)."""
        params: dict[str, str | int] = {"limit": limit}
        if status is not None:
            params["status"] = status
        if cursor is not None:
            params["cursor"] = cursor
        return await self._client._parsed(TaskPage, "GET", self.path, params=params)

    async def iterate(
        self, *, status: str | None = None, page_size: int = 100
    ) -> AsyncIterator[TaskPublic]:
        """Every task of the caller, newest first, fetched a page at a time."""
        cursor = None
        while True:
            page = await self.list(status=status, limit=page_size, cursor=cursor)
            for task in page.items:
                yield task
            if page.nextCursor is None:
                return
            cursor = page.nextCursor

    async def get(self, task_id: str) -> TaskPublic:
        return await self._client._parsed(TaskPublic, "GET", f"{self.path}/{task_id}")

    async def cancel(self, task_id: str) -> TaskPublic:
        """Cancel an unfinished task (it fails as TASK-CANCELLED)."""
        return await self._client._parsed(TaskPublic, "DELETE", f"{self.path}/{task_id}")


class AsyncApiKeys(_Namespace):
    path = "/v1/api-keys"

    async def create(
        self, name: str, *, scopes: list[str] | None = None, expires_at: datetime | None = None
    ) -> ApiKeyCreated:
        """A new key; its ``key`` is in this answer only."""
        body: dict[str, Any] = {"name": name}
        if scopes is not None:
            body["scopes"] = scopes
        if expires_at is not None:
            body["expiresAt"] = expires_at.isoformat()
        return await self._create(ApiKeyCreated, body)

    async def list(self) -> list[ApiKeyPublic]:
        return (await self._client._parsed(ApiKeyList, "GET", self.path)).items

    async def revoke(self, key_id: str) -> None:
        await self._delete(key_id)


class AsyncWebhooks(_Namespace):
    path = "/v1/webhooks"

    async def create(self, url: str, *, events: list[str] | None = None) -> WebhookCreated:
        """A new endpoint; keep its ``secret`` to check what is sent (``verify_webhook``)."""
        body: dict[str, Any] = {"url": url} | ({"events": events} if events else {})
        return await self._create(WebhookCreated, body)

    async def list(self) -> list[WebhookPublic]:
        return (await self._client._parsed(WebhookList, "GET", self.path)).items

    async def delete(self, webhook_id: str) -> None:
        await self._delete(webhook_id)

    async def rotate_secret(self, webhook_id: str) -> WebhookCreated:
        path = f"{self.path}/{webhook_id}/rotate-secret"
        return await self._client._parsed(WebhookCreated, "POST", path)

    async def deliveries(
        self, webhook_id: str, *, limit: int = 20, cursor: str | None = None
    ) -> DeliveryPage:
        params: dict[str, str | int] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        path = f"{self.path}/{webhook_id}/deliveries"
        return await self._client._parsed(DeliveryPage, "GET", path, params=params)


__all__ = ["AsyncApiKeys", "AsyncSatyaMark", "AsyncTasks", "AsyncWebhooks"]
