import pytest
from pydantic import SecretStr, ValidationError

from ai_service.config import AiSettings
from result_receiver.config import ReceiverSettings

STRONG = "x" * 40


def test_production_refuses_development_placeholders() -> None:
    with pytest.raises(ValidationError, match="development placeholder"):
        AiSettings(env="production")


def test_production_refuses_short_secrets() -> None:
    with pytest.raises(ValidationError, match="shorter than 32"):
        ReceiverSettings(
            env="production",
            internal_token=SecretStr(STRONG),
            callback_secret=SecretStr("too-short-secret"),
        )


def test_production_accepts_strong_secrets_and_development_anything() -> None:
    ReceiverSettings(
        env="production", internal_token=SecretStr(STRONG), callback_secret=SecretStr(STRONG)
    )
    ReceiverSettings(env="development", callback_secret=SecretStr("short"))
