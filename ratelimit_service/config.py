from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from shared.config import CommonSettings, RedisSettingsMixin


class BucketRule(BaseModel):
    capacity: int = Field(gt=0)
    refill_per_s: float = Field(gt=0)


def _default_rules() -> dict[str, BucketRule]:
    return {
        # per user
        "verify": BucketRule(capacity=20, refill_per_s=2),
        "tasks": BucketRule(capacity=120, refill_per_s=20),
        "ws": BucketRule(capacity=20, refill_per_s=1),
        # per client IP, unauthenticated
        "auth": BucketRule(capacity=10, refill_per_s=0.5),
        # failed logins, per account and per client IP (spent by auth_service)
        "login-fail": BucketRule(capacity=5, refill_per_s=1 / 60),
    }


class RateLimitSettings(CommonSettings, RedisSettingsMixin):
    """``RATELIMIT_RULES`` takes JSON: ``{"verify": {"capacity": 20, "refill_per_s": 2}}``;
    endpoints not named keep their defaults."""

    model_config = SettingsConfigDict(env_prefix="RATELIMIT_", extra="ignore", frozen=True)

    port: int = 8002
    rules: dict[str, BucketRule] = Field(default_factory=_default_rules)

    def rule(self, endpoint: str) -> BucketRule | None:
        return self.rules.get(endpoint) or _default_rules().get(endpoint)
