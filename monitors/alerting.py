"""Alerts from every source, merged, ordered and worded for SMS.

`collect_alerts` asks the alert sources at once and never raises: a source that fails
becomes one "name: reason" entry next to the alerts of the others. `numbered_alerts`
is the one grouping both the list and `alerts N` use, so item N always means the same
group. The label helpers at the top are shared by the Prometheus-family and Datadog
adapters so every source names severities and subjects the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from monitors.base import Alert, AlertSource, Monitor, MonitorError, describe_failure

# Labels that name *what* is alerting, most telling first; alertname/severity never do.
SUBJECT_LABELS = ("instance", "service", "job", "pod", "host", "node", "container", "namespace",
                  "cluster", "device", "mountpoint")
_SEVERITY = {"critical": "critical", "page": "critical", "error": "critical", "high": "critical",
             "warning": "warning", "warn": "warning"}
_RANK = {"critical": 0, "warning": 1}
_SHORT = {"critical": "CRIT", "warning": "WARN"}
_DETAIL_HIDDEN = {"alertname", "severity", "__name__"}


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
    """The most telling label value of an alert (instance without its port, service, job, ...)."""
    for key in SUBJECT_LABELS:
        if labels.get(key):
            return strip_port(labels[key]) if key == "instance" else labels[key]
    return ""


def parse_time(raw: object) -> datetime | None:
    """RFC 3339 timestamps as the backends send them (nanoseconds, 'Z'); None when absent or odd."""
    if not isinstance(raw, str) or not raw or raw.startswith("0001-"):
        return None
    text = raw.replace("Z", "+00:00")
    date, dot, rest = text.partition(".")
    if dot:  # fromisoformat takes at most microseconds; Prometheus sends nanoseconds
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        text = f"{date}.{digits[:6]}{rest[len(digits):]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def collect_alerts(sources: Sequence[Monitor]) -> tuple[list[Alert], list[str]]:
    """Alerts of every alert source, most severe (then longest firing) first, and 'name: reason' failures.

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
    alertmanager_answered = "alertmanager" in names and isinstance(by_name["alertmanager"], list)
    for monitor in usable:
        got = by_name[monitor.name]
        if monitor.name == "prometheus" and alertmanager_answered:
            continue  # Prometheus would only repeat Alertmanager's alerts, silenced ones included
        if isinstance(got, str):
            errors.append(f"{monitor.name}: {got}")
        else:
            alerts.extend(got)
    return sort_alerts(alerts), errors


async def _alerts_of(source: AlertSource) -> list[Alert] | str:
    try:
        return await source.alerts()
    except MonitorError as exc:
        return exc.reason
    except Exception as exc:  # an adapter bug must not sink the other sources' answer
        return describe_failure(exc, getattr(source, "timeout_s", 0))


def sort_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    """Most severe first, then the longest firing, then by name and subject for a stable order."""
    far_future = datetime.max.replace(tzinfo=UTC)
    return sorted(alerts, key=lambda a: (_RANK.get(a.severity, 2), a.started_at or far_future,
                                         a.name, a.subject))


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
    seconds = max(0, int((now - started_at).total_seconds()))
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


def format_alert_list(alerts: Sequence[Alert], errors: Sequence[str], now: datetime) -> str:
    """'3 alerts firing:' then '1 CRIT HighCPU api-1 (12m)' lines, then a DOWN line per failed source."""
    groups = numbered_alerts(alerts)
    if groups:
        lines = [f"{len(alerts)} alert{'s' if len(alerts) != 1 else ''} firing:"]
        lines += [f"{n} {_head(group, now)}" for n, group in enumerate(groups, 1)]
    else:
        # Never claim "all clear" while a source could not be read.
        lines = ["No alerts found, but:" if errors else "No alerts firing."]
    for error in errors:
        name, _, reason = error.partition(": ")
        lines.append(f"{name} DOWN: {reason}")
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def format_alert_detail(group: Sequence[Alert], now: datetime) -> str:
    """One numbered item in full: head line, summary, description, key labels, since, source."""
    if not group:
        return "No such alert."
    first = group[0]
    lines = [_head(group, now)]
    if len(group) > 1:
        lines.append("on: " + _clip(", ".join(a.subject or "?" for a in group), 120))
    if first.summary:
        lines.append(_clip(first.summary, 120))
    if first.description and first.description != first.summary:
        lines.append(_clip(first.description, 200))
    shown = [f"{k}={v}" for k, v in sorted(first.labels.items()) if k not in _DETAIL_HIDDEN]
    if shown:
        lines.append(_clip(" ".join(shown), 140))
    starts = [a.started_at for a in group if a.started_at is not None]
    if starts:
        since = min(starts).astimezone(UTC)
        day = "" if since.date() == now.astimezone(UTC).date() else since.strftime("%b %d ")
        lines.append(f"since {day}{since:%H:%M} UTC ({format_age(since, now)})")
    lines.append(f"source: {first.source}")
    return "\n".join(lines)
