"""Settings: documented, secret-safe, and strict about malformed values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_validation_error
from monitors.aliases import load_aliases
from tests.conftest import make_settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_every_setting_is_documented_in_env_example() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    missing = {name.upper() for name in Settings.model_fields} - documented
    assert not missing, f"undocumented settings: {sorted(missing)}"


def test_env_example_as_is_is_a_valid_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copying .env.example to .env gives a working (if unconnected) configuration."""
    (tmp_path / ".env").write_text(ENV_EXAMPLE.read_text())
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.prometheus_url is None
    assert settings.log_services == ["api", "web", "worker"]


def test_repr_shows_no_secret() -> None:
    settings = make_settings(
        datadog_api_key="dd-secret-key",
        redis_url="redis://:pw-secret@127.0.0.1:6379/0",
        database_url="postgresql://u:db-secret@h/db",
    )
    text = repr(settings) + str(settings.model_dump())
    for secret in ("dd-secret-key", "pw-secret", "db-secret", "test-auth-token"):
        assert secret not in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prometheus_url", "not a url"),
        ("session_ttl_s", "-5"),
        ("reply_budget_s", "20"),
        ("log_services", "api,we b"),
    ],
)
def test_malformed_value_is_named(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(**{field: value})
    line = describe_validation_error(info.value)
    assert field.upper() in line
    assert "\n" not in line


URL_SETTINGS = [
    "prometheus_url",
    "alertmanager_url",
    "datadog_api_url",
    "loki_url",
    "elasticsearch_url",
    "kong_admin_url",
    "haproxy_stats_url",
    "twilio_api_url",
]


@pytest.mark.parametrize("field", URL_SETTINGS)
def test_urls_are_secrets_shown_redacted(field: str) -> None:
    """A URL setting with credentials prints as scheme://***@host/path; only get_secret_value has them."""
    settings = make_settings(**{field: "https://ops:url-secret@backend.internal:8443/base?token=q-secret"})
    value = getattr(settings, field)
    shown = f"{value} {value!r} {settings!r} {settings.model_dump()}"
    assert "url-secret" not in shown and "q-secret" not in shown and "ops:" not in shown
    assert "https://***@backend.internal:8443/base?***" in str(value)
    assert value.get_secret_value() == "https://ops:url-secret@backend.internal:8443/base?token=q-secret"


def test_a_url_without_credentials_is_shown_as_is() -> None:
    assert str(make_settings(prometheus_url="http://prom:9090").prometheus_url) == "http://prom:9090/"


@pytest.mark.parametrize("value", ["ftp://u:url-secret@x", "http://u:url-secret@", "url-secret"])
def test_a_malformed_url_is_named_without_its_value(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        make_settings(prometheus_url=value)
    line = describe_validation_error(info.value)
    assert line.startswith("invalid setting PROMETHEUS_URL")
    assert "url-secret" not in line


def test_metrics_token_is_a_secret() -> None:
    settings = make_settings(metrics_token="mt-secret")
    assert "mt-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"metric_aliases": "{not json"}, r"^METRIC_ALIASES: not valid JSON"),
        ({"metric_aliases": '{"cpu": {"unit": "%"}}'}, r"^METRIC_ALIASES: alias 'cpu' needs a \"query\" string"),
        ({"metric_aliases": '{"bad name": {"query": "up"}}'}, r"^METRIC_ALIASES: alias name 'bad name'"),
        ({"metric_aliases": "[1]"}, r"^METRIC_ALIASES: expected a JSON object"),
    ],
)
def test_malformed_metric_aliases_are_named(values: dict[str, str], message: str) -> None:
    """Aliases are JSON checked at start-up: the error names the setting and what is wrong."""
    with pytest.raises(ValueError, match=message):
        load_aliases(make_settings(**values))


def test_malformed_metric_aliases_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "aliases.json"
    path.write_text('{"cpu": "not an object"}')
    with pytest.raises(ValueError, match=r"^METRIC_ALIASES_FILE: alias 'cpu' needs"):
        load_aliases(make_settings(metric_aliases_file=str(path)))
