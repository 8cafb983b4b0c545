"""One error type for the whole system and the handlers that render it.

Business code raises ``SatyaError`` subclasses; only the app edge turns them into
``{errorCode, message}`` JSON with the right status (and headers such as Retry-After).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MasterDownError, ReadOnlyError, TryAgainError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .db import UNAVAILABLE as DB_UNAVAILABLE
from .responses import JsonResponse


class SatyaError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "SYS-INT-500"
    default_message: ClassVar[str] = "internal error"

    def __init_subclass__(
        cls,
        *,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        **options: Any,
    ) -> None:
        """An error type in one line: ``class NoSuchTask(NotFound, code=..., message=...)``
        (what it leaves out, it takes from its base)."""
        super().__init_subclass__(**options)
        cls.status = status or cls.status
        cls.code = code or cls.code
        cls.default_message = message or cls.default_message

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.error_code = code or self.code
        self.status_code = status or self.status
        self.headers = dict(headers or {})
        super().__init__(f"{self.error_code}: {self.message}")

    def body(self) -> dict[str, Any]:
        return {"errorCode": self.error_code, "message": self.message}


class BadRequest(SatyaError, status=400, code="SYS-VAL-400", message="bad request"): ...


class ValidationFailed(
    SatyaError, status=422, code="SYS-VAL-422", message="request body failed validation"
): ...


class Unauthorized(
    SatyaError, status=401, code="SYS-AUTH-401", message="authentication required"
): ...


class Forbidden(SatyaError, status=403, code="SYS-AUTH-403", message="forbidden"): ...


class NotFound(SatyaError, status=404, code="SYS-NF-404", message="not found"): ...


class Conflict(SatyaError, status=409, code="SYS-CONF-409", message="conflict"): ...


class PayloadTooLarge(
    SatyaError, status=413, code="SYS-VAL-413", message="request body too large"
): ...


class UnsupportedMediaType(
    SatyaError, status=415, code="SYS-VAL-415", message="content type must be application/json"
): ...


class RateLimited(SatyaError, status=429, code="RL-LIMIT-429", message="rate limit exceeded"): ...


class UpstreamUnavailable(
    SatyaError, status=503, code="SYS-DEP-503", message="a dependency is unavailable, retry shortly"
): ...


# Redis is not serving (unreachable, timed out, loading, a replica or a cluster without
# its primary). A wrong command is none of these.
REDIS_UNAVAILABLE: tuple[type[Exception], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    ReadOnlyError,
    MasterDownError,
    TryAgainError,
)
STORE_UNAVAILABLE = (*DB_UNAVAILABLE, *REDIS_UNAVAILABLE)


@contextmanager
def store_unavailable_as(code: str, what: str) -> Iterator[None]:
    """Turn a connection-level failure of PostgreSQL or Redis into 503 ``code``
    ("<what> unavailable"). Anything else, a wrong query or command included,
    propagates: a 500 that is logged, never a 503 that hides a bug."""
    try:
        yield
    except STORE_UNAVAILABLE as exc:
        raise UpstreamUnavailable(f"{what} unavailable", code=code) from exc


# The code of an error the framework raises by its status (``SYS`` becomes the prefix).
_STATUS_CODES = {
    error.status: error.code
    for error in (
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
        UnsupportedMediaType, ValidationFailed, RateLimited,
    )
} | {405: "SYS-VAL-405"}  # fmt: skip


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI, prefix: str) -> None:
    """Render every error of ``app`` as ``{errorCode, message}``.

    ``prefix`` names the service in codes the framework raises (``GW``, ``AUTH`` …).
    """

    async def on_satya(_: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, SatyaError)
        return JsonResponse(exc.body(), status_code=exc.status_code, headers=exc.headers)

    async def on_validation(_: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, RequestValidationError)
        body = {"errorCode": f"{prefix}-VAL-422", "message": _validation_message(exc)}
        return JsonResponse(body, status_code=422)

    async def on_http(_: Request, exc: Exception) -> JsonResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, f"SYS-HTTP-{exc.status_code}")
        body = {"errorCode": code.replace("SYS", prefix, 1), "message": str(exc.detail)}
        return JsonResponse(body, status_code=exc.status_code, headers=exc.headers)

    async def on_unexpected(_: Request, exc: Exception) -> JsonResponse:
        body = {"errorCode": f"{prefix}-INT-500", "message": "internal error"}
        return JsonResponse(body, status_code=500)

    app.add_exception_handler(SatyaError, on_satya)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
