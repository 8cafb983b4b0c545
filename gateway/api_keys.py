"""``/v1/api-keys``: a user's keys for platforms, relayed to auth_service. Managed with
a login token only (``GW-SCOPE-403`` for an API key)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Path as PathParam
from fastapi.responses import Response

from shared.schemas import API_KEY_ID_PATTERN, ApiKeyCreate, ApiKeyCreated, ApiKeyList, ErrorBody

from .access import LoggedIn, UserRelay, management_router
from .deps import StateDep

api_keys = management_router("/v1/api-keys", "api keys")
_auth = UserRelay("auth_service", "/internal/api-keys", lambda state: state.auth_http)


@api_keys.post(
    "", status_code=201, responses={201: {"model": ApiKeyCreated}, 409: {"model": ErrorBody}}
)
async def create_api_key(body: ApiKeyCreate, state: StateDep, user: LoggedIn) -> Response:
    """A new key, `sm_live_<id>_<secret>`: send it as `Authorization: Bearer <key>` on
    the API and as the token of the WebSocket's first message. The whole key is in this
    answer only; SatyaMark keeps a hash. At most 50 active keys (409 `AUTH-KEYS-409`)."""
    content = orjson.dumps(body.model_dump(mode="json", exclude_none=True))
    return await _auth(
        state, user, "POST", content=content, headers={"content-type": "application/json"}
    )


@api_keys.get("", responses={200: {"model": ApiKeyList}})
async def list_api_keys(state: StateDep, user: LoggedIn) -> Response:
    """The caller's keys that are not revoked, newest first (no secrets)."""
    return await _auth(state, user, "GET")


@api_keys.delete(
    "/{key_id}", status_code=204, responses={204: {"model": None}, 404: {"model": ErrorBody}}
)
async def revoke_api_key(
    key_id: Annotated[str, PathParam(pattern=API_KEY_ID_PATTERN)],
    state: StateDep,
    user: LoggedIn,
) -> Response:
    """Revoke a key: refused by every gateway within a few seconds (it is told at once)."""
    return await _auth(state, user, "DELETE", f"/{key_id}")
