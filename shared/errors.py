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


class BadRequest(SatyaError):
    status = 400
    code = "SYS-VAL-400"
    default_message = "bad request"


class ValidationFailed(SatyaError):
    status = 422
    code = "SYS-VAL-422"
    default_message = "request body failed validation"


class Unauthorized(SatyaError):
    status = 401
    code = "SYS-AUTH-401"
    default_message = "authentication required"


class Forbidden(SatyaError):
    status = 403
    code = "SYS-AUTH-403"
    default_message = "forbidden"


class NotFound(SatyaError):
    status = 404
    code = "SYS-NF-404"
    default_message = "not found"


class Conflict(SatyaError):
    status = 409
    code = "SYS-CONF-409"
    default_message = "conflict"


class PayloadTooLarge(SatyaError):
    status = 413
    code = "SYS-VAL-413"
    default_message = "request body too large"


class UnsupportedMediaType(SatyaError):
    status = 415
    code = "SYS-VAL-415"
    default_message = "content type must be application/json"


class RateLimited(SatyaError):
    status = 429
    code = "RL-LIMIT-429"
    default_message = "rate limit exceeded"


class UpstreamUnavailable(SatyaError):
    status = 503
    code = "SYS-DEP-503"
    default_message = "a dependency is unavailable, retry shortly"


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


_STATUS_CODES = {
    400: BadRequest.code,
    401: Unauthorized.code,
    403: Forbidden.code,
    404: NotFound.code,
    405: "SYS-VAL-405",
    409: Conflict.code,
    413: PayloadTooLarge.code,
    415: UnsupportedMediaType.code,
    422: ValidationFailed.code,
    429: RateLimited.code,
}


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
