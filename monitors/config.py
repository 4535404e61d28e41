"""Settings of the monitoring backends. `bot.config.Settings` extends this class.

A backend whose settings are absent is not configured; a present but malformed
value fails validation, which start-up reports as one line naming the setting.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

from pydantic import AnyHttpUrl, BeforeValidator, Field, Secret, SecretStr, TypeAdapter, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def redact_url(url: str) -> str:
    """A URL as it may be shown: user, password and query replaced by ``***``; scheme, host, path kept."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", ""))


class SecretUrl(Secret[str]):
    """A backend URL that may carry credentials: `str()` and `repr()` show it redacted;
    `get_secret_value()` is the only way to the real URL (for the client that calls it)."""

    def _display(self) -> str:
        return redact_url(self.get_secret_value())


_HTTP_URL: TypeAdapter[AnyHttpUrl] = TypeAdapter(AnyHttpUrl)


def _http_url(value: object) -> object:
    return value if isinstance(value, Secret) else str(_HTTP_URL.validate_python(value))


HttpSecretUrl = Annotated[SecretUrl, BeforeValidator(_http_url)]  # validated as http(s), held as a secret


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class MonitorSettings(BaseSettings):
    # Empty values (`PROMETHEUS_URL=` as in .env.example) mean "not configured", not "invalid".
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    monitor_timeout_s: float = Field(default=3.0, gt=0, le=14)

    # Metrics and alerts
    prometheus_url: HttpSecretUrl | None = None
    alertmanager_url: HttpSecretUrl | None = None
    # Extra metric aliases: a JSON file, or inline JSON ({"name": {"query": ..., "unit": ...}}).
    metric_aliases_file: str | None = None
    metric_aliases: str | None = None

    datadog_api_key: SecretStr | None = None
    datadog_app_key: SecretStr | None = None
    datadog_site: str = "datadoghq.com"
    datadog_api_url: HttpSecretUrl | None = None  # overrides https://api.<site>

    # Logs
    loki_url: HttpSecretUrl | None = None
    loki_service_label: str = "service"
    loki_error_filter: str = '|~ "(?i)(error|fatal|panic|exception)"'
    loki_tenant: str | None = None  # X-Scope-OrgID, only when Loki runs multi-tenant
    elasticsearch_url: HttpSecretUrl | None = None
    elasticsearch_index: str = "logs-*"
    elasticsearch_api_key: SecretStr | None = None
    elasticsearch_service_field: str = "service.name"
    elasticsearch_level_field: str = "log.level"
    elasticsearch_error_levels: Annotated[list[str], NoDecode] = ["error", "fatal", "critical"]
    elasticsearch_message_field: str = "message"
    elasticsearch_timestamp_field: str = "@timestamp"
    log_services: Annotated[list[str], NoDecode] = []

    # Database
    database_url: SecretStr | None = None
    pgbouncer_url: SecretStr | None = None

    # API gateway
    kong_admin_url: HttpSecretUrl | None = None
    kong_admin_token: SecretStr | None = None
    haproxy_stats_url: HttpSecretUrl | None = None

    _csv = field_validator("log_services", "elasticsearch_error_levels", mode="before")(_split_csv)

    @field_validator("log_services")
    @classmethod
    def _services_are_names(cls, value: list[str]) -> list[str]:
        # Service names end up inside backend queries (after matching); keep them plain.
        for name in value:
            if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ValueError(f"service name {name!r} may hold only letters, digits, '-', '_' and '.'")
        return value

    @field_validator("loki_service_label")
    @classmethod
    def _label_is_a_name(cls, value: str) -> str:
        # The label name goes into LogQL unquoted (`{service="api"}`): only a Prometheus label name.
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(f"{value!r} is not a Loki label name")
        return value
