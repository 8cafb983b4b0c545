"""``SatyaMark``: the SDK for plain (non-async) code. Each call runs the async client's
call on a private event loop, so both behave the same (one implementation)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from datetime import datetime
from typing import Any, Literal, TypeVar, overload

from .aio import AsyncSatyaMark, EventHook
from .models import (
    ApiKeyCreated,
    ApiKeyPublic,
    DeliveryPage,
    Outcome,
    Submitted,
    TaskPage,
    TaskPublic,
    WebhookCreated,
    WebhookPublic,
)

T = TypeVar("T")


class SatyaMark:
    """See ``AsyncSatyaMark``; the same methods, blocking. Not for use inside a running
    event loop (use ``AsyncSatyaMark`` there)."""

    def __init__(self, base_url: str, **options: Any) -> None:
        self._runner = asyncio.Runner()
        self._async = self._runner.run(_make(base_url, options))
        self.tasks = Tasks(self)
        self.api_keys = ApiKeys(self)
        self.webhooks = Webhooks(self)

    @classmethod
    def login(
        cls, base_url: str, email: str, password: str, *, register: bool = False, **options: Any
    ) -> SatyaMark:
        client = cls(base_url, **options)
        try:
            logged_in = client._run(
                AsyncSatyaMark.login(base_url, email, password, register=register, **options)
            )
        except BaseException:
            client.close()
            raise
        client._run(client._async.aclose())
        client._async = logged_in  # the namespaces read it at each call
        return client

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(work)

    def __enter__(self) -> SatyaMark:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._run(self._async.aclose())
        finally:
            self._runner.close()

    def submit(self, text: str, *, idempotency_key: str | None = None) -> Submitted:
        return self._run(self._async.submit(text, idempotency_key=idempotency_key))

    @overload
    def verify(
        self,
        text: str,
        *,
        wait: Literal[True] = ...,
        idempotency_key: str | None = ...,
        timeout_s: float = ...,
        on_event: EventHook | None = ...,
    ) -> Outcome: ...

    @overload
    def verify(
        self,
        text: str,
        *,
        wait: Literal[False],
        idempotency_key: str | None = ...,
        timeout_s: float = ...,
        on_event: EventHook | None = ...,
    ) -> Submitted: ...

    def verify(
        self,
        text: str,
        *,
        wait: bool = True,
        idempotency_key: str | None = None,
        timeout_s: float = 600.0,
        on_event: EventHook | None = None,
    ) -> Outcome | Submitted:
        if not wait:
            return self.submit(text, idempotency_key=idempotency_key)
        return self._run(
            self._async.verify(
                text, idempotency_key=idempotency_key, timeout_s=timeout_s, on_event=on_event
            )
        )

    def wait_for(
        self, task_id: str, *, timeout_s: float = 600.0, on_event: EventHook | None = None
    ) -> Outcome:
        return self._run(self._async.wait_for(task_id, timeout_s=timeout_s, on_event=on_event))

    def events(self, last_event_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Every pushed event, forever (stop iterating to close the stream)."""
        stream = self._async.stream(last_event_id)
        self._run(stream.__aenter__())
        try:
            while True:
                yield self._run(stream.next())
        finally:
            self._run(stream.close())


async def _make(base_url: str, options: dict[str, Any]) -> AsyncSatyaMark:
    return AsyncSatyaMark(base_url, **options)


class _Namespace:
    def __init__(self, client: SatyaMark) -> None:
        self._client = client


class Tasks(_Namespace):
    def list(
        self, *, status: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> TaskPage:
        return self._client._run(
            self._client._async.tasks.list(status=status, limit=limit, cursor=cursor)
        )

    def iterate(self, *, status: str | None = None, page_size: int = 100) -> Iterator[TaskPublic]:
        cursor = None
        while True:
            page = self.list(status=status, limit=page_size, cursor=cursor)
            yield from page.items
            if page.nextCursor is None:
                return
            cursor = page.nextCursor

    def get(self, task_id: str) -> TaskPublic:
        return self._client._run(self._client._async.tasks.get(task_id))

    def cancel(self, task_id: str) -> TaskPublic:
        return self._client._run(self._client._async.tasks.cancel(task_id))


class ApiKeys(_Namespace):
    def create(
        self, name: str, *, scopes: list[str] | None = None, expires_at: datetime | None = None
    ) -> ApiKeyCreated:
        keys = self._client._async.api_keys
        return self._client._run(keys.create(name, scopes=scopes, expires_at=expires_at))

    def list(self) -> list[ApiKeyPublic]:
        return self._client._run(self._client._async.api_keys.list())

    def revoke(self, key_id: str) -> None:
        self._client._run(self._client._async.api_keys.revoke(key_id))


class Webhooks(_Namespace):
    def create(self, url: str, *, events: list[str] | None = None) -> WebhookCreated:
        return self._client._run(self._client._async.webhooks.create(url, events=events))

    def list(self) -> list[WebhookPublic]:
        return self._client._run(self._client._async.webhooks.list())

    def delete(self, webhook_id: str) -> None:
        self._client._run(self._client._async.webhooks.delete(webhook_id))

    def rotate_secret(self, webhook_id: str) -> WebhookCreated:
        return self._client._run(self._client._async.webhooks.rotate_secret(webhook_id))

    def deliveries(
        self, webhook_id: str, *, limit: int = 20, cursor: str | None = None
    ) -> DeliveryPage:
        hooks = self._client._async.webhooks
        return self._client._run(hooks.deliveries(webhook_id, limit=limit, cursor=cursor))
