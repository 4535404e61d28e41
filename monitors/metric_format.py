"""Metric answers worded for SMS: a header, the top rows with value and unit, "+N more".

    cpu (CPU busy % per instance):
    api-1 83%
    api-2 41% (stale 45s)
    +3 more

A row whose target has stopped answering is marked "stale" with how long ago it last
answered: Prometheus keeps serving the last value of a rate window for a while, and a
dead exporter must not read as a quiet one. Small values keep two significant digits
(0.0025 s reads 2.5ms, not 0s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from monitors.alerting import format_age_s
from monitors.base import MetricAlias, MetricResult
from monitors.spans import window_text

STALE_CAP_S = 600  # what Prometheus's look-back for the last good scrape covers

_SCALES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def _trim(text: str) -> str:
    # "12.0" → "12", "0.50" → "0.5": fewer characters, same meaning
    return text.rstrip("0").rstrip(".") if "." in text else text


def _seconds(value: float) -> tuple[float, str]:
    """Sub-second durations in the unit that keeps them readable: 0.0025 s -> 2.5 ms."""
    size = abs(value)
    if size == 0 or size >= 1:
        return value, "s"
    if size >= 1e-3:
        return value * 1e3, "ms"
    return value * 1e6, "us"  # GSM-7 has no micro sign


def format_number(value: float, unit: str = "") -> str:
    """A value as a person reads it: 83%, 4.5%, 0.42/core, 1.2k, 3.4M, 2.5ms, n/a for NaN."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if unit == "s":
        value, unit = _seconds(value)
    size = abs(value)
    if unit == "%":
        # Whole percents are enough above 10; below, a decimal tells 0.4% from 0%.
        text = f"{value:.0f}" if size >= 10 else _trim(f"{value:.1f}")
    elif size >= 1e3:
        scale, suffix = next((s, x) for s, x in _SCALES if size >= s)
        scaled = value / scale
        text = (f"{scaled:.0f}" if abs(scaled) >= 100 else _trim(f"{scaled:.1f}")) + suffix
    elif size >= 100:
        text = f"{value:.0f}"
    elif size >= 10:
        text = _trim(f"{value:.1f}")
    elif size >= 0.01 or size == 0:
        text = _trim(f"{value:.2f}")
    else:
        text = f"{value:.2g}"  # two significant digits: 0.0025, 1.2e-05
    if text in ("-0", "-0.0"):
        text = "0"
    if not unit:
        return text
    # Symbols stick to the number (83%, 0.42/core, 120ms); words are spaced (3 down, 12 req/s).
    return f"{text}{unit}" if unit[0] in "%/" or unit in ("us", "ms", "s", "B") else f"{text} {unit}"


def _stale(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return " (stale 10m+)" if seconds >= STALE_CAP_S else f" (stale {format_age_s(seconds)})"


def _header(alias: MetricAlias) -> str:
    return f"{alias.name} ({alias.description}):" if alias.description else f"{alias.name}:"


def format_metric(result: MetricResult, top: int = 5) -> str:
    """Header, then the largest `top` rows, then '+N more'; 'no data' for an empty result."""
    alias = result.alias
    if not result.series:
        return f"{_header(alias)} no data" + (f" ({result.why_empty})" if result.why_empty else "")
    shown = result.series[:top]
    lines = [_header(alias)]
    lines += [f"{s.label} {format_number(s.value, alias.unit)}" + _stale(s.stale_s) for s in shown]
    if len(result.series) > len(shown):
        lines.append(f"+{len(result.series) - len(shown)} more")
    if any(math.isnan(s.value) for s in shown):
        lines.append("(n/a: the query gave NaN, e.g. a division by zero)")
    return "\n".join(lines)


def format_metric_error(alias: MetricAlias, monitor: str, reason: str) -> str:
    """The one line a failed metric query gets: 'cpu: prometheus query error: ...'."""
    return (
        f"{alias.name}: {monitor} {reason}"
        if reason.startswith("query error")
        else f"{alias.name}: {monitor} DOWN: {reason}"
    )


@dataclass(frozen=True, slots=True)
class WindowSeries:
    """One row of a metric over a window: the latest value, the mean and the highest (NaN-free)."""

    label: str
    now: float
    average: float
    peak: float
    stale_s: float | None = None  # the latest point is this old: "now" is not now


def format_metric_window(alias: MetricAlias, window: timedelta, rows: list[WindowSeries], top: int = 5) -> str:
    """Header with the window, then ``label now / avg / peak`` for the top rows (by now)."""
    head = f"{_header(alias).rstrip(':')}, last {window_text(window)}: now / avg / peak"
    if not rows:
        return f"{head}\nno data"
    lines = [head]
    lines += [
        " / ".join(
            [
                f"{r.label} {format_number(r.now, alias.unit)}{_stale(r.stale_s)}",
                format_number(r.average, alias.unit),
                format_number(r.peak, alias.unit),
            ]
        )
        for r in rows[:top]
    ]
    if len(rows) > top:
        lines.append(f"+{len(rows) - top} more")
    return "\n".join(lines)
