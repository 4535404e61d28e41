"""Service settings, from the environment or `.env` (every one is documented in .env.example).

`Settings` extends the monitors' settings with the bot's own. Credentials are
`SecretStr`, so `repr(settings)` and logs never show them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import NoDecode

from monitors.config import HttpSecretUrl, MonitorSettings, split_csv

# Twilio channels whose sender is a phone number (`whatsapp:+14155550100`); SMS needs none.
CHANNELS = frozenset({"whatsapp"})


class Settings(MonitorSettings):
    twilio_auth_token: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_url: HttpSecretUrl | None = None  # overrides https://api.twilio.com (tests use a local fake)
    public_base_url: AnyHttpUrl | None = None  # required outside --local: signatures are checked against it

    authorized_numbers: Annotated[list[str], NoDecode] = []
    default_region: str = "US"  # for numbers written without a country code
    allowed_channels: Annotated[list[str], NoDecode] = []  # e.g. whatsapp; plain SMS is always on

    # Twilio's webhooks are a few KiB: anything larger is refused before it is parsed or hashed.
    max_body_bytes: int = Field(default=64 * 1024, ge=4096, le=1024 * 1024)
    max_form_fields: int = Field(default=100, ge=30, le=1000)
    metrics_token: SecretStr | None = None  # bearer token for / and /metrics when set

    redis_url: SecretStr | None = None  # may carry a password
    redis_key_prefix: str = "operator:"
    redis_cluster: bool = False  # REDIS_URL names one node of a Redis Cluster

    session_ttl_s: int = Field(default=1800, ge=10)
    rate_limit_per_min: int = Field(default=20, ge=1)
    reply_budget_s: float = Field(default=8.0, gt=0, lt=15)  # Twilio gives up on the webhook at 15 s
    sms_page_segments: int = Field(default=2, ge=1, le=10)
    reply_emoji: bool = False
    lock_wait_s: float = Field(default=5.0, gt=0)
    lock_lease_s: float = Field(default=5.0, ge=1, le=30)  # renewed while answering; a dead holder frees it

    _split = field_validator("authorized_numbers", "allowed_channels", mode="before")(split_csv)

    @field_validator("allowed_channels")
    @classmethod
    def _known_channels(cls, value: list[str]) -> list[str]:
        names = [name.lower() for name in value]
        for name in names:
            if name not in CHANNELS:
                raise ValueError(f"{name!r} is not a channel Operator can take (known: {', '.join(sorted(CHANNELS))})")
        return names

    # -- the on-call loop (engineer "oncall"; see bot/alert_routes.py) -------------------------
    oncall_numbers: Annotated[list[str], NoDecode] = []  # the escalation chain, primary first
    viewer_numbers: Annotated[list[str], NoDecode] = []  # may ask, may not act
    oncall_names: Annotated[list[str], NoDecode] = []  # "+15551230000=alice": names in silences and logs
    alert_webhook_token: SecretStr | None = None  # Alertmanager's bearer token; unset: no /alertmanager
    escalate_after_s: int = Field(default=300, ge=5)
    page_bundle_s: int = Field(default=60, ge=0)
    page_budget_per_hour: int = Field(default=20, ge=2)  # SMS segments per number per hour
    oncall_override_ttl_s: int = Field(default=12 * 3600, ge=60)  # how long "oncall me" holds the pager
    page_resolved: Literal["unacked", "all", "none"] = "unacked"  # who hears RESOLVED
    page_validity_s: int = Field(default=300, ge=1, le=36000)  # Twilio ValidityPeriod: stale pages fail
    page_claim_idle_s: float = Field(default=30.0, ge=0.5)  # a replica silent this long: its pages are taken over

    @field_validator("oncall_numbers", "viewer_numbers", "oncall_names", mode="before")
    @classmethod
    def _split_oncall(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _responders_may_text(self) -> Settings:
        """On-call and viewer numbers are authorized senders too; the loop's state needs Redis."""
        if self.alert_webhook_token is not None and self.redis_url is None:
            raise ValueError("ALERT_WEBHOOK_TOKEN needs REDIS_URL: the on-call loop keeps its state in Redis")
        if self.alert_webhook_token is not None and self.redis_cluster:
            # Its keys share one hash slot, but its WATCH transactions need a plain client (not done yet).
            raise ValueError("ALERT_WEBHOOK_TOKEN with REDIS_CLUSTER=1: the on-call loop needs a single Redis for now")
        extra = [n for n in (*self.oncall_numbers, *self.viewer_numbers) if n not in self.authorized_numbers]
        if extra:
            self.authorized_numbers = [*self.authorized_numbers, *extra]
        return self


def start_refusal(settings: Settings, *, local: bool) -> str | None:
    """Why Operator must not start with these settings (one line), or None.

    Outside local mode signatures are checked against PUBLIC_BASE_URL only: without it the
    client's Host header would choose the URL that is checked.
    """
    if local:
        return None
    if settings.twilio_auth_token is None:
        return (
            "TWILIO_AUTH_TOKEN is not set: refusing to start. Set it, or run with --local "
            "to try Operator on this machine (loopback only, signatures NOT checked)."
        )
    if settings.public_base_url is None:
        return (
            "PUBLIC_BASE_URL is not set: refusing to start. Set it to the URL Twilio calls "
            "(e.g. https://ops.example.com); signatures are checked against it."
        )
    return None


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the malformed setting(s), never echoing their values (they may be secrets)."""
    parts = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]).upper() or "settings"
        parts.append(f"{name}: {err['msg']}")
    return "invalid setting " + "; ".join(parts)
