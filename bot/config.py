"""Service settings, from the environment or `.env` (every one is documented in .env.example).

`Settings` extends the monitors' settings with the bot's own. Credentials are
`SecretStr`, so `repr(settings)` and logs never show them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import NoDecode

from monitors.config import MonitorSettings, split_csv


class Settings(MonitorSettings):
    twilio_auth_token: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_url: AnyHttpUrl | None = None  # overrides https://api.twilio.com (tests use a local fake)
    public_base_url: AnyHttpUrl | None = None

    authorized_numbers: Annotated[list[str], NoDecode] = []
    default_region: str = "US"  # for numbers written without a country code

    redis_url: SecretStr | None = None  # may carry a password
    redis_key_prefix: str = "operator:"
    redis_cluster: bool = False  # REDIS_URL names one node of a Redis Cluster

    session_ttl_s: int = Field(default=1800, ge=10)
    rate_limit_per_min: int = Field(default=20, ge=1)
    reply_budget_s: float = Field(default=8.0, gt=0, lt=15)  # Twilio gives up on the webhook at 15 s
    sms_page_segments: int = Field(default=2, ge=1, le=10)
    reply_emoji: bool = False
    lock_wait_s: float = Field(default=5.0, gt=0)

    _split = field_validator("authorized_numbers", mode="before")(split_csv)


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the malformed setting(s), never echoing their values (they may be secrets)."""
    parts = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]).upper() or "settings"
        parts.append(f"{name}: {err['msg']}")
    return "invalid setting " + "; ".join(parts)
