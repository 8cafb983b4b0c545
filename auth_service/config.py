from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from shared.config import DEV_JWT_SECRET, CommonSettings, DatabaseSettingsMixin


class AuthSettings(CommonSettings, DatabaseSettingsMixin):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)

    port: int = 8001
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_ttl_s: int = 3600
    jwt_issuer: str = "satyamark-auth"
    jwt_audience: str = "satyamark"
