"""Settings of ratelimit_service (env prefix ``RATELIMIT_``): the bucket rules."""

from __future__ import annotations

from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict

from shared.config import CommonSettings, RedisSettingsMixin


class BucketRule(BaseModel):
    capacity: int = Field(gt=0)
    refill_per_s: float = Field(gt=0)
    # Overrides RATELIMIT_SOFT_FRACTION for this rule.
    soft_fraction: float | None = Field(default=None, ge=0, le=1)


def _default_rules() -> dict[str, BucketRule]:
    return {
        # per user
        "verify": BucketRule(capacity=20, refill_per_s=2),
        "tasks": BucketRule(capacity=120, refill_per_s=20),
        "ws": BucketRule(capacity=20, refill_per_s=1),
        # per API key, spent on top of its owner's bucket above: set these lower to
        # share one account's allowance among its keys
        "verify-key": BucketRule(capacity=20, refill_per_s=2),
        "tasks-key": BucketRule(capacity=120, refill_per_s=20),
        # per client IP, unauthenticated
        "auth": BucketRule(capacity=10, refill_per_s=0.5),
        # failed logins, per account and per client IP (spent by auth_service)
        "login-fail": BucketRule(capacity=5, refill_per_s=1 / 60),
    }


class RateLimitSettings(CommonSettings, RedisSettingsMixin):
    """``RATELIMIT_RULES`` takes JSON: ``{"verify": {"capacity": 20, "refill_per_s": 2}}``;
    endpoints not named keep their defaults.

    ``RATELIMIT_SOFT_FRACTION``: an allowed request that leaves fewer than this fraction
    of the bucket's capacity is flagged ``nearLimit`` (the gateway then sends
    ``RateLimit-Warning``); a rule's ``soft_fraction`` overrides it, 0 turns it off.
    """

    model_config = SettingsConfigDict(env_prefix="RATELIMIT_", extra="ignore", frozen=True)

    port: int = 8002
    metrics_port: int = 9472
    rules: dict[str, BucketRule] = Field(default_factory=_default_rules)
    soft_fraction: float = Field(default=0.2, ge=0, le=1)

    def rule(self, endpoint: str) -> BucketRule | None:
        return self.rules.get(endpoint) or _default_rules().get(endpoint)

    def soft_limit(self, rule: BucketRule) -> float:
        """Remaining tokens under which an allowed request is near the limit."""
        fraction = self.soft_fraction if rule.soft_fraction is None else rule.soft_fraction
        return fraction * rule.capacity
