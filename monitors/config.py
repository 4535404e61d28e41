"""Settings of the monitoring backends. `bot.config.Settings` extends this class.

A backend whose settings are absent is not configured; a present but malformed
value fails validation, which start-up reports as one line naming the setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal
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


def split_csv(value: object) -> object:
    """'a, b,,c' -> ['a', 'b', 'c'] for list settings (`NoDecode`: env values are plain CSV, not JSON).

    Anything but a string passes through, so `Settings(log_services=[...])` works in code.
    Shared by every CSV setting here and in `bot.config`.
    """
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class MonitorSettings(BaseSettings):
    # Empty values (`PROMETHEUS_URL=` as in .env.example) mean "not configured", not "invalid".
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)

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

    # What `status` and `db` call trouble (see Thresholds).
    db_conn_warn_pct: float = Field(default=80, gt=0, le=100)
    db_lock_wait_warn_s: float = Field(default=10, ge=0)
    db_idle_in_txn_warn_s: float = Field(default=60, ge=0)
    db_replication_lag_warn_s: float = Field(default=30, ge=0)
    pgbouncer_waiting_warn: int = Field(default=1, ge=1)
    gateway_window_s: int = Field(default=300, ge=10, le=86400)
    gateway_5xx_warn_pct: float = Field(default=5, gt=0, le=100)

    # Embedded monitors (no backend needed): this host, URL checks, log files.
    host_monitor: Literal["auto", "on", "off"] = "auto"  # auto: on when no Prometheus and no Datadog
    host_disk_max_percent: float = Field(default=90.0, gt=0, le=100)
    host_memory_max_percent: float = Field(default=90.0, gt=0, le=100)
    host_load_max_per_core: float = Field(default=2.0, gt=0)
    check_urls: SecretStr | None = None  # name=url[|status][|latency],... (monitors/urlcheck.py); may hold user:pass@
    check_urls_ca_file: str | None = None  # extra CA bundle (PEM) for internal certificates
    cert_warn_days: int = Field(default=14, ge=0)
    log_files: str | None = None  # service=glob,... (monitors/logfiles.py)
    log_files_max_bytes: int = Field(default=4 * 1024 * 1024, ge=4096)  # read per question, newest first
    log_files_error_pattern: str = "(?i)(error|fatal|panic|exception)"

    _csv = field_validator("log_services", "elasticsearch_error_levels", mode="before")(split_csv)

    @field_validator("log_services")
    @classmethod
    def _services_are_names(cls, value: list[str]) -> list[str]:
        # Service names end up inside backend queries (after matching); keep them plain.
        for name in value:
            if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
                raise ValueError(f"service name {name!r} may hold only letters, digits, '-', '_' and '.'")
        return value

    @field_validator("check_urls")
    @classmethod
    def _urls_parse(cls, value: SecretStr | None) -> SecretStr | None:
        from monitors.urlcheck import parse_check_urls  # the syntax lives with its adapter

        if value is not None and value.get_secret_value():
            parse_check_urls(value.get_secret_value())
        return value

    @field_validator("check_urls_ca_file")
    @classmethod
    def _ca_file_loads(cls, value: str | None) -> str | None:
        import ssl

        if value:
            try:
                ssl.create_default_context().load_verify_locations(value)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(f"cannot load {value} as PEM certificates ({type(exc).__name__})") from None
        return value

    @field_validator("log_files")
    @classmethod
    def _log_files_parse(cls, value: str | None) -> str | None:
        from monitors.logfiles import parse_log_files

        if value:
            parse_log_files(value)
        return value

    @field_validator("log_files_error_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        return value

    @field_validator("loki_service_label")
    @classmethod
    def _label_is_a_name(cls, value: str) -> str:
        # The label name goes into LogQL unquoted (`{service="api"}`): only a Prometheus label name.
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(f"{value!r} is not a Loki label name")
        return value


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a fact becomes a problem in `status` (all from settings; defaults in MonitorSettings).

    A connection count at or over `conn_warn_pct` of max_connections is a warning (95% and
    over critical); a lock waiter, an idle-in-transaction session or a replica past its
    limit is a warning; so are `pgbouncer_waiting` or more clients queued in pgBouncer,
    and a gateway backend answering 5xx to `gateway_5xx_pct` of requests over the window.
    """

    conn_warn_pct: float = 80
    lock_wait_s: float = 10
    idle_in_txn_s: float = 60
    replication_lag_s: float = 30
    pgbouncer_waiting: int = 1
    gateway_window_s: int = 300
    gateway_5xx_pct: float = 5

    @classmethod
    def from_settings(cls, settings: MonitorSettings) -> Thresholds:
        return cls(
            settings.db_conn_warn_pct,
            settings.db_lock_wait_warn_s,
            settings.db_idle_in_txn_warn_s,
            settings.db_replication_lag_warn_s,
            settings.pgbouncer_waiting_warn,
            settings.gateway_window_s,
            settings.gateway_5xx_warn_pct,
        )
