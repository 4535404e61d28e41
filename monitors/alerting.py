"""Alerts from every source, merged, ordered and worded for SMS.

`gather_alerts` asks the alert sources at once and never raises: a source that fails
becomes one "name: reason" entry next to the alerts of the others, and Alertmanager's
silenced and inhibited counts come along so "No alerts firing" never hides a silence.
`numbered_alerts` is the one grouping both the list and `alerts N` use, so item N always
means the same group. `filter_alerts` implements `alerts crit`, `alerts warn` and
`alerts <label value>`. The label helpers at the top are shared by the Prometheus-family
and Datadog adapters so every source names severities and subjects the same way.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from monitors.base import Alert, AlertSource, Monitor, MonitorError, describe_failure

# Labels that name *what* is alerting, most telling first; alertname/severity never do.
SUBJECT_LABELS = (
    "instance",
    "service",
    "job",
    "pod",
    "host",
    "node",
    "container",
    "namespace",
    "cluster",
    "device",
    "mountpoint",
)
_SEVERITY = {
    "critical": "critical",
    "page": "critical",
    "error": "critical",
    "high": "critical",
    "warning": "warning",
    "warn": "warning",
}
_RANK = {"critical": 0, "warning": 1}
_SHORT = {"critical": "CRIT", "warning": "WARN"}
_DETAIL_HIDDEN = {"alertname", "severity", "__name__"}
# Annotations that carry a link worth tapping at 3 a.m., in the order shown.
LINK_ANNOTATIONS = (
    ("runbook_url", "runbook"),
    ("runbook", "runbook"),
    ("dashboard", "dashboard"),
    ("dashboard_url", "dashboard"),
    ("grafana", "grafana"),
    ("grafana_url", "grafana"),
)
_FILTER_WORDS = {"crit": "critical", "critical": "critical", "warn": "warning", "warning": "warning", "info": "info"}


def normalise_severity(raw: str | None) -> str:
    """critical/page/error → critical, warning/warn → warning, anything else → info."""
    return _SEVERITY.get((raw or "").strip().lower(), "info")


def strip_port(value: str) -> str:
    """'10.0.0.7:9100' → '10.0.0.7'; IPv6 in brackets and plain names are left alone."""
    host, sep, port = value.rpartition(":")
    if not (sep and host and port.isdigit()):
        return value
    bracketed = host.startswith("[") and host.endswith("]")
    return host if bracketed or ":" not in host else value  # a bare IPv6 address has no port


def subject_of(labels: Mapping[str, str]) -> str:
    """The most telling label value of an alert (instance with its port, service, job, ...).

    The port stays: two exporters on one host are two targets, and the on-call must
    tell which one is down.
    """
    for key in SUBJECT_LABELS:
        if labels.get(key):
            return labels[key]
    return ""


def parse_time(raw: object) -> datetime | None:
    """RFC 3339 timestamps as the backends send them (nanoseconds, 'Z'); None when absent or odd."""
    if not isinstance(raw, str) or not raw or raw.startswith("0001-"):
        return None
    text = raw.replace("Z", "+00:00")
    date, dot, rest = text.partition(".")
    if dot:  # fromisoformat takes at most microseconds; Prometheus sends nanoseconds
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        text = f"{date}.{digits[:6]}{rest[len(digits) :]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AlertBook:
    """What every alert source said: active alerts (sorted), failures, and the muted counts."""

    alerts: list[Alert]
    errors: list[str]  # "name: reason" per source that failed
    silenced: int = 0
    inhibited: int = 0


class MutedCounts(ABC):
    """Implemented by sources that know of silenced/inhibited alerts (Alertmanager)."""

    @abstractmethod
    async def alerts_and_muted(self) -> tuple[list[Alert], int, int]:
        """(active alerts, silenced count, inhibited count), from one request."""


async def gather_alerts(sources: Sequence[Monitor]) -> AlertBook:
    """Alerts of every alert source, most severe (then newest) first, plus failures and muted counts.

    Alertmanager, when configured, replaces Prometheus (it holds the same alerts, minus
    silenced and inhibited ones). Prometheus is still asked alongside it, so that if
    Alertmanager fails the answer falls back to Prometheus's own list at no extra wait.
    """
    usable = [s for s in sources if isinstance(s, AlertSource)]
    names = {s.name for s in usable}
    results = await asyncio.gather(*(_alerts_of(s) for s in usable))
    by_name = dict(zip((s.name for s in usable), results, strict=True))
    alerts: list[Alert] = []
    errors: list[str] = []
    silenced = inhibited = 0
    alertmanager_answered = "alertmanager" in names and not isinstance(by_name["alertmanager"], str)
    for monitor in usable:
        got = by_name[monitor.name]
        if monitor.name == "prometheus" and alertmanager_answered:
            continue  # Prometheus would only repeat Alertmanager's alerts, silenced ones included
        if isinstance(got, str):
            errors.append(f"{monitor.name}: {got}")
            continue
        alerts.extend(got[0])
        silenced += got[1]
        inhibited += got[2]
    return AlertBook(sort_alerts(alerts), errors, silenced, inhibited)


async def collect_alerts(sources: Sequence[Monitor]) -> tuple[list[Alert], list[str]]:
    """`gather_alerts` without the muted counts."""
    book = await gather_alerts(sources)
    return book.alerts, book.errors


async def _alerts_of(source: AlertSource) -> tuple[list[Alert], int, int] | str:
    try:
        if isinstance(source, MutedCounts):
            return await source.alerts_and_muted()
        return await source.alerts(), 0, 0
    except MonitorError as exc:
        return exc.reason
    except Exception as exc:  # an adapter bug must not sink the other sources' answer
        return describe_failure(exc, getattr(source, "timeout_s", 0))


def sort_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    """Most severe first, then the newest (a fresh CRIT is news), unknown start last; then by
    name and subject for a stable order."""

    def key(a: Alert) -> tuple[int, int, float, str, str]:
        started = a.started_at
        return (_RANK.get(a.severity, 2), started is None, -started.timestamp() if started else 0.0, a.name, a.subject)

    return sorted(alerts, key=key)


def filter_alerts(alerts: Sequence[Alert], word: str) -> list[Alert]:
    """`alerts crit` / `alerts warn` / `alerts info`: by severity; any other word: alerts with a
    label value equal to it (case-insensitive; an instance matches by host too: `alerts api-1`)."""
    wanted = word.strip().lower()
    severity = _FILTER_WORDS.get(wanted)
    if severity is not None:
        return [a for a in alerts if a.severity == severity]

    def matches(a: Alert) -> bool:
        values = {v.lower() for k, v in a.labels.items() if k not in _DETAIL_HIDDEN or k == "alertname"}
        values |= {strip_port(v).lower() for k, v in a.labels.items() if k == "instance"}
        return wanted in values or wanted == a.subject.lower()

    return [a for a in alerts if matches(a)]


def numbered_alerts(alerts: Sequence[Alert]) -> list[list[Alert]]:
    """Alerts grouped by name (and by whether they come from Datadog), in display order.

    Item N of the SMS list is element N-1 of this list: keep it in the session so a
    later `alerts 2` or `silence 2 1h` acts on what the user saw.
    """
    groups: dict[tuple[str, bool], list[Alert]] = {}
    for alert in sort_alerts(alerts):
        groups.setdefault((alert.name, alert.source == "datadog"), []).append(alert)
    return list(groups.values())


def format_age(started_at: datetime | None, now: datetime) -> str:
    """45s, 12m, 3h, 2d: how long it has fired; '' when unknown."""
    if started_at is None:
        return ""
    return format_age_s((now - started_at).total_seconds())


def format_age_s(seconds_f: float) -> str:
    """45s, 12m, 36h, 3d for a number of seconds."""
    seconds = max(0, int(seconds_f))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size * (2 if unit == "d" else 1):  # "36h" says more than "1d"
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _head(group: Sequence[Alert], now: datetime) -> str:
    first = group[0]
    mark = "[dd] " if first.source == "datadog" else ""
    parts = [_SHORT.get(first.severity, "INFO"), f"{mark}{first.name}"]
    subjects = list(dict.fromkeys(a.subject for a in group if a.subject))
    if len(group) > 1:
        parts.append(f"x{len(group)}")
        if subjects:
            more = f", +{len(subjects) - 2}" if len(subjects) > 2 else ""
            parts.append(f"({', '.join(subjects[:2])}{more})")
    elif subjects:
        parts.append(subjects[0])
    starts = [a.started_at for a in group if a.started_at is not None]
    age = format_age(min(starts), now) if starts else ""
    if age:
        parts.append(f"({age})")
    return " ".join(parts)


def muted_text(silenced: int, inhibited: int) -> str:
    """'1 silenced, 2 inhibited' (empty when nothing is muted)."""
    parts = [f"{n} {what}" for n, what in ((silenced, "silenced"), (inhibited, "inhibited")) if n]
    return ", ".join(parts)


def format_alert_list(
    alerts: Sequence[Alert], errors: Sequence[str], now: datetime, silenced: int = 0, inhibited: int = 0
) -> str:
    """'3 alerts firing (1 silenced):' then '1 CRIT HighCPU api-1:9100 (12m)' lines, then a DOWN
    line per failed source. Muted alerts are counted, never hidden without a word."""
    groups = numbered_alerts(alerts)
    muted = muted_text(silenced, inhibited)
    if groups:
        lines = [f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} firing" + (f" ({muted}):" if muted else ":")]
        lines += [f"{n} {_head(group, now)}" for n, group in enumerate(groups, 1)]
    elif errors:
        # Never claim "all clear" while a source could not be read.
        lines = ["No alerts found" + (f" ({muted})" if muted else "") + ", but:"]
    else:
        lines = ["No alerts firing" + (f", {muted}." if muted else ".")]
    for error in errors:
        name, _, reason = error.partition(": ")
        lines.append(f"{name} DOWN: {reason}")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def alert_links(alert: Alert) -> list[str]:
    """'runbook: https://...' lines from the annotations, then the rule's host ('rule: prom-1:9090')."""
    lines, seen = [], set()
    for key, label in LINK_ANNOTATIONS:
        url = alert.annotations.get(key, "").strip()
        if url and url not in seen and " " not in url:
            seen.add(url)
            lines.append(f"{label}: {url}")
    host = urlsplit(alert.generator_url).netloc if alert.generator_url else ""
    if host:
        lines.append(f"rule: {host}")
    return lines


def format_alert_detail(group: Sequence[Alert], now: datetime, max_chars: int = 306) -> str:
    """One numbered item: head line, summary, links, since, description, key labels, source.

    Within `max_chars` (two GSM-7 segments by default) the lines that help act come first;
    a link is never cut: what does not fit whole is left out, description and labels first.
    """
    if not group:
        return "No such alert."
    first = group[0]
    starts = [a.started_at for a in group if a.started_at is not None]
    since_line = ""
    if starts:
        since = min(starts).astimezone(UTC)
        day = "" if since.date() == now.astimezone(UTC).date() else since.strftime("%b %d ")
        since_line = f"since {day}{since:%H:%M} UTC ({format_age(since, now)})"
    # (text, may it be clipped to fit?) in order of importance; shown in this order too.
    parts: list[tuple[str, bool]] = [(_head(group, now), True)]
    if len(group) > 1:
        parts.append(("on: " + _clip(", ".join(a.subject or "?" for a in group), 120), True))
    if first.summary:
        parts.append((_clip(first.summary, 120), True))
    parts += [(link, False) for link in alert_links(first)]
    if since_line:
        parts.append((since_line, False))
    if first.description and first.description != first.summary:
        parts.append((_clip(first.description, 200), True))
    shown = [f"{k}={v}" for k, v in sorted(first.labels.items()) if k not in _DETAIL_HIDDEN]
    if shown:
        parts.append((_clip(" ".join(shown), 140), True))
    parts.append((f"source: {first.source}", False))
    lines: list[str] = []
    for text, clippable in parts:
        room = max_chars - len("\n".join(lines)) - (1 if lines else 0)
        if len(text) <= room:
            lines.append(text)
        elif clippable and room >= 20:
            lines.append(_clip(text, room))
    return "\n".join(lines)
