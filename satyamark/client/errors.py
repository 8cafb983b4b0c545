"""The one error the SDK raises for a refused call."""

from __future__ import annotations

import httpx


class SatyaMarkError(Exception):
    """The API refused a call: its HTTP status, ``errorCode`` and message, and how long
    to wait before retrying (``Retry-After``) when it said."""

    def __init__(
        self, status: int, error_code: str, message: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.retry_after_s = retry_after_s

    @classmethod
    def from_response(cls, response: httpx.Response) -> SatyaMarkError:
        try:
            body = response.json()
            code, message = str(body["errorCode"]), str(body["message"])
        except (ValueError, KeyError, TypeError):
            code, message = f"HTTP-{response.status_code}", response.text[:500]
        retry = response.headers.get("retry-after")
        return cls(
            response.status_code, code, message, float(retry) if retry and retry.isdigit() else None
        )
