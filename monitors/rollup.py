"""`status` as a roll-up of real problems: what is wrong in the system first, then which
monitoring sources could not be asked, and "All clear" only when nothing is wrong.

Pure functions, no I/O (`Monitors.survey()` gathers the inputs):

    CRIT alert HighLatency api (5m)
    CRIT target 127.0.0.1:9100 (node) down 2m, alert TargetDown
    WARN pgbouncer appdb/app: 2 clients waiting, longest 3.0s
    DOWN haproxy: timeout after 3s
    5/6 sources ok

Budget: a healthy answer fits one GSM-7 segment (160 septets); trouble fits `max_septets`
(two segments, 306, by default) with problems first - what does not fit becomes a
"+N more" line, never a cut-off line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from monitors.alerting import format_age, muted_text
from monitors.base import Alert, Health, Problem

ONE_SEGMENT = 160
TWO_SEGMENTS = 306  # 2 x 153: a concatenated part loses 7 septets to its header
_EXTENSION = frozenset("\f^{}\\[]~|€")  # GSM-7 characters that cost two septets
_SEVERITY_ORDER = {"crit": 0, "warn": 1}
_ALERT_SEVERITY = (("critical", "crit"), ("warning", "warn"))
_PROBLEM_SEVERITIES = frozenset(severity for severity, _ in _ALERT_SEVERITY)  # info alerts are no problems


@dataclass(frozen=True, slots=True)
class Survey:
    """Everything `status` needs, gathered at once by `Monitors.survey()`."""

    problems: list[Problem]
    healths: list[Health]
    silenced: int = 0
    inhibited: int = 0
    notes: list[str] = field(default_factory=list)


def septets(text: str) -> int:
    """GSM-7 length (an extension character is escape + code)."""
    return len(text) + sum(1 for c in text if c in _EXTENSION)


def alert_problems(alerts: Sequence[Alert], now: datetime) -> list[Problem]:
    """One problem per severity: the count, and the first alert (most severe, newest) named.

    `alerts` must already be sorted (`sort_alerts`); info alerts are not problems.
    """
    out = []
    for severity, level in _ALERT_SEVERITY:
        these = [a for a in alerts if a.severity == severity]
        if not these:
            continue
        first = these[0]
        named = " ".join(part for part in (first.name, first.subject) if part)
        age = format_age(first.started_at, now)
        # status prints the severity in front ("CRIT alert TargetDown ..."): not again here.
        head = f"{len(these)} alerts: " if len(these) > 1 else "alert "
        more = f" +{len(these) - 1}" if len(these) > 1 else ""
        out.append(Problem(level, "alerts", f"{head}{named}" + (f" ({age})" if age else "") + more))
    return out


def fold_alerts(alerts: Sequence[Alert], problems: Sequence[Problem]) -> tuple[list[Alert], list[Problem]]:
    """Alerts about an instance a problem line already shows (TargetDown for a target seen down)
    said on that line instead of on one of their own: the same fact once, the alert still named
    ("target 127.0.0.1:9100 (node) down 2m, alert TargetDown")."""
    shown = {p.subject for p in problems if p.subject}
    folded: dict[str, list[str]] = {}
    kept: list[Alert] = []
    for a in alerts:
        instance = a.labels.get("instance") or a.subject
        if instance in shown and a.severity in _PROBLEM_SEVERITIES:
            folded.setdefault(instance, []).append(a.name)
        else:
            kept.append(a)
    told = [
        replace(p, text=f"{p.text}, alert {', '.join(dict.fromkeys(folded[p.subject]))}") if p.subject in folded else p
        for p in problems
    ]
    return kept, told


def degraded_problems(healths: Sequence[Health]) -> list[Problem]:
    """Sources that work but say something is wrong (Elasticsearch yellow) are warnings."""
    return [Problem("warn", h.monitor, f"{h.monitor}: {h.reason}") for h in healths if h.ok and h.degraded]


def sort_problems(problems: Sequence[Problem]) -> list[Problem]:
    """Most severe first; otherwise in the order the sources gave them."""
    return sorted(problems, key=lambda p: _SEVERITY_ORDER.get(p.severity, 2))


def _all_clear(healths: Sequence[Health], muted: str) -> str:
    n = len(healths)
    text = f"All clear: {n}/{n} sources ok" + (f", {muted}" if muted else "")
    names = ", ".join(h.monitor for h in healths)
    with_names = f"{text} ({names})."
    return with_names if septets(with_names) <= ONE_SEGMENT else text + "."


def format_status(
    problems: Sequence[Problem],
    healths: Sequence[Health],
    *,
    silenced: int = 0,
    inhibited: int = 0,
    max_septets: int = TWO_SEGMENTS,
) -> str:
    """The `status` answer: problems (most severe first), sources DOWN, then how many are ok."""
    if not healths:
        return "No monitors configured."
    down = [h for h in healths if not h.ok]
    muted = muted_text(silenced, inhibited)
    ordered = sort_problems(problems)
    if not ordered and not down:
        return _all_clear(healths, muted)
    ok = [h.monitor for h in healths if h.ok]
    tail = f"{len(ok)}/{len(healths)} sources ok" + (f", {muted}" if muted else "")
    lines = [(p.monitor, f"{p.severity.upper()} {p.text}") for p in ordered]
    lines += [(h.monitor, f"DOWN {h.monitor}: {h.reason}") for h in down]
    if not ordered:
        # Nothing wrong that we could see - but we could not see everywhere.
        tail = "no problems found in the others; " + tail
    named = f"{tail} ({', '.join(ok)})" if ok else tail
    return _fit(lines, (named, tail), max_septets)


def _clip(line: str, limit: int = 150) -> str:
    return line if septets(line) <= limit else line[: limit - 3].rstrip() + "..."


def _more(dropped: Sequence[tuple[str, str]]) -> list[str]:
    """'+2 more: haproxy, pgbouncer' - where the lines left out come from, so one can ask there."""
    if not dropped:
        return []
    return [f"+{len(dropped)} more: " + ", ".join(dict.fromkeys(monitor for monitor, _ in dropped))]


def _fit(lines: list[tuple[str, str]], tails: tuple[str, str], budget: int) -> str:
    """(monitor, line)s in order, then the tail (naming the sources that answered, when that
    fits too); what does not fit is counted and its sources named, never cut mid-line."""
    lines = [(monitor, _clip(line)) for monitor, line in lines]
    for keep in range(len(lines), -1, -1):
        for tail in tails:
            text = "\n".join([*(line for _, line in lines[:keep]), *_more(lines[keep:]), tail])
            if septets(text) <= budget:
                return text
    return f"{len(lines)} problems\n{tails[-1]}"
