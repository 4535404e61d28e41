"""Metric answers as SMS text."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from monitors.aliases import DEFAULT_ALIASES
from monitors.base import MetricAlias, MetricResult, Series
from monitors.metric_format import (
    WindowSeries,
    format_metric,
    format_metric_error,
    format_metric_window,
    format_number,
)


class TestNumber:
    @pytest.mark.parametrize(
        ("value", "unit", "text"),
        [
            (83.4, "%", "83%"),
            (99.6, "%", "100%"),
            (4.46, "%", "4.5%"),
            (0.0, "%", "0%"),
            (7.0, "%", "7%"),
            (0.4249, "/core", "0.42/core"),
            (1.5, "/core", "1.5/core"),
            (1234.0, "", "1.2k"),
            (12_345.0, "", "12.3k"),
            (123_456.0, "", "123k"),
            (3_400_000.0, "", "3.4M"),
            (2.5e9, "", "2.5G"),
            (512.0, "", "512"),
            (42.25, "", "42.2"),
            (0.123, "", "0.12"),
            (-0.001, "", "-0.001"),
            (0.0025, "", "0.0025"),
            (0.0025, "s", "2.5ms"),
            (0.25, "s", "250ms"),
            (0.000042, "s", "42us"),
            (1.5, "s", "1.5s"),
            (0.0, "s", "0s"),
            (0.0, "", "0"),
            (120.0, "ms", "120ms"),
            (3.0, "down", "3 down"),
            (12.0, "req/s", "12 req/s"),
            (math.nan, "%", "n/a"),
            (math.inf, "", "inf"),
            (-math.inf, "%", "-inf"),
        ],
    )
    def test_rounding(self, value: float, unit: str, text: str) -> None:
        """Numbers are rounded for reading: 83%, 0.42/core, 1.2k; NaN reads n/a."""
        assert format_number(value, unit) == text


class TestMetric:
    def test_top_rows_and_more(self) -> None:
        """Header with the description, top N rows in the given order, '+N more'."""
        result = MetricResult(DEFAULT_ALIASES["cpu"], [Series(f"api-{i}", 90.0 - i * 10) for i in range(1, 8)])
        assert format_metric(result, top=3).splitlines() == [
            "cpu (CPU busy % per instance):",
            "api-1 80%",
            "api-2 70%",
            "api-3 60%",
            "+4 more",
        ]

    def test_exactly_top_has_no_more_line(self) -> None:
        """No '+0 more'."""
        result = MetricResult(DEFAULT_ALIASES["load"], [Series("a", 0.42), Series("b", 0.1)])
        assert format_metric(result, top=2) == "load (load1 per core):\na 0.42/core\nb 0.1/core"

    def test_stale_rows_are_marked(self) -> None:
        """A row whose target stopped answering says for how long; 10 minutes and more is capped."""
        result = MetricResult(
            DEFAULT_ALIASES["cpu"], [Series("api-1", 80.0), Series("api-2", 41.0, 45.0), Series("api-3", 12.0, 900.0)]
        )
        assert format_metric(result).splitlines()[1:] == [
            "api-1 80%",
            "api-2 41% (stale 45s)",
            "api-3 12% (stale 10m+)",
        ]

    def test_no_data(self) -> None:
        """An empty result is said as such on the header line."""
        text = format_metric(MetricResult(DEFAULT_ALIASES["disk"], []))
        assert text == "disk (fullest filesystem % per instance): no data"

    def test_nan_explained(self) -> None:
        """NaN rows read n/a, with one line saying what that means."""
        alias = MetricAlias("ratio", "a / b", "%")
        text = format_metric(MetricResult(alias, [Series("x", 50.0), Series("y", math.nan)]))
        assert text.splitlines()[1:] == ["x 50%", "y n/a", "(n/a: the query gave NaN, e.g. a division by zero)"]

    def test_alias_without_description(self) -> None:
        """The header is just the name when there is no description."""
        assert format_metric(MetricResult(MetricAlias("q", "x"), [Series("a", 1.0)])) == "q:\na 1"

    def test_error_lines(self) -> None:
        """A query error and a down backend each get one clear line naming the alias."""
        cpu = DEFAULT_ALIASES["cpu"]
        assert (
            format_metric_error(cpu, "prometheus", "query error: parse error")
            == "cpu: prometheus query error: parse error"
        )
        assert format_metric_error(cpu, "prometheus", "timeout after 3s") == "cpu: prometheus DOWN: timeout after 3s"


class TestMetricWindow:
    def test_a_series_that_stopped_early_has_no_now(self) -> None:
        """A target that died inside the window: its last value is marked stale, not shown as now."""
        rows = [WindowSeries("api-1", 40.0, 35.0, 50.0), WindowSeries("db-1", 96.0, 75.0, 96.0, stale_s=2400.0)]
        text = format_metric_window(DEFAULT_ALIASES["cpu"], timedelta(hours=1), rows)
        assert text.splitlines() == [
            "cpu (CPU busy % per instance), last 1h: now / avg / peak",
            "api-1 40% / 35% / 50%",
            "db-1 96% (stale 10m+) / 75% / 96%",
        ]

    def test_empty_window_says_no_data(self) -> None:
        text = format_metric_window(DEFAULT_ALIASES["cpu"], timedelta(minutes=90), [])
        assert text.endswith(", last 90m: now / avg / peak\nno data")
