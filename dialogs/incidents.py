"""An incident's life as one `transitions` machine, built once from data, and the texts it pages.

An incident is one alert instance: Alertmanager's (fingerprint, startsAt). Its states:

    firing ──page──▶ paged ──escalate──▶ escalated ──escalate──▶ escalated …
       │               │                     │
       └──────ack──────┴─────────ack─────────┴──▶ acked ──silence──▶ silenced ──unsilence──▶ acked
    any open state ──resolve──▶ resolved (Alertmanager said so, or "resolve 4": closed here)

Per event the incident (a plain dict from the store) is wrapped in an `IncidentModel`, added
to MACHINE, triggered and removed again (`fire`), so the machine holds nothing between events.
A trigger that is not valid in the current state returns False and changes nothing.

Texts are built here (what a page says) as plain ASCII without GSM-7 extension characters, so
their length is their septet count: one segment is 160 characters, a bundle may take two.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from transitions import Machine

from monitors.alerting import format_age, normalise_severity, subject_of

OPEN = ("firing", "paged", "escalated", "acked", "silenced")
STATES = [*OPEN, "resolved"]
TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "page", "source": "firing", "dest": "paged"},
    {"trigger": "escalate", "source": ["paged", "escalated"], "dest": "escalated"},
    {"trigger": "ack", "source": ["firing", "paged", "escalated"], "dest": "acked"},
    {"trigger": "silence", "source": ["firing", "paged", "escalated", "acked"], "dest": "silenced"},
    {"trigger": "unsilence", "source": "silenced", "dest": "acked"},
    {"trigger": "resolve", "source": list(OPEN), "dest": "resolved"},
]
UNACKED = ("paged", "escalated")  # what escalation moves on

logging.getLogger("transitions").setLevel(logging.ERROR)  # see dialogs/forms.py: noise per add_model


class IncidentModel:
    """The machine's model for one event: the stored incident dict, whose "state" it moves."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.state: str = data["state"]


MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial="firing",
    auto_transitions=False,
    model_override=True,
    ignore_invalid_triggers=True,
)


def fire(incident: dict[str, Any], trigger: str) -> bool:
    """Apply `trigger` to the incident dict; False (nothing changed) when not valid from its state."""
    model = IncidentModel(incident)
    MACHINE.add_model(model, initial=model.state)
    try:
        moved = bool(MACHINE.events[trigger].trigger(model))
    finally:
        MACHINE.remove_model(model)
    if moved:
        incident["state"] = model.state
    return moved


def incident_id(fingerprint: str, starts_at: float) -> str:
    return f"{fingerprint}-{int(starts_at)}"


def new_incident(event: Mapping[str, Any], order: Sequence[str]) -> dict[str, Any]:
    return {
        "id": incident_id(event["fp"], event["starts_at"]),
        "fp": event["fp"],
        "starts_at": event["starts_at"],
        "labels": dict(event["labels"]),
        "annotations": dict(event.get("annotations", {})),
        "state": "firing",
        "level": 0,
        "order": list(order),
        "codes": {},
        "paged": [],
        "silences": [],
        "acked_by": "",
        "fired": int(event.get("fired", 1)),
        "group_labels": dict(event.get("group_labels") or {}),  # the route's group_by values
    }


# -- texts --------------------------------------------------------------------------------

SEGMENT = 160
_SAFE = re.compile(r"[^ -~]|[\^{}\\\[\]~|]")
_SHORT = {"critical": "CRIT", "warning": "WARN", "info": "INFO"}


def gsm_safe(text: str) -> str:
    """Printable ASCII without GSM-7 extension characters: length = septets."""
    text = text.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")").replace("|", "/")
    return _SAFE.sub("?", " ".join(text.split()))


def title(incident: Mapping[str, Any]) -> str:
    """ "HighErrorRate api-3": alert name and its most telling label."""
    labels = incident["labels"]
    subject = subject_of(labels)
    return gsm_safe(f"{labels.get('alertname', '?')} {subject}".strip())


def severity(incident: Mapping[str, Any]) -> str:
    return _SHORT[normalise_severity(incident["labels"].get("severity"))]


def _fit(head: str, tail: str, limit: int = SEGMENT) -> str:
    """head + tail in `limit` characters, cutting the head (the tail holds the reply code)."""
    room = limit - len(tail)
    if len(head) > room:
        head = head[: max(0, room - 3)].rstrip() + "..."
    return head + tail


def page_text(incident: Mapping[str, Any], code: int, now: datetime, escalated_from: str = "") -> str:
    """`CRIT HighErrorRate api-3 (x3) 2m. Reply 4a ack, 4s 1h silence`, one segment."""
    fired = int(incident.get("fired", 1))
    age = format_age(datetime.fromtimestamp(incident["starts_at"], UTC), now)
    head = f"{severity(incident)} {title(incident)}" + (f" (x{fired})" if fired > 1 else "")
    head += f" {age}" if age else ""
    source = f" (escalated from {escalated_from})" if escalated_from else ""
    return _fit(head, f".{source} Reply {code}a ack, {code}s 1h silence")


def bundle_text(incidents: Sequence[Mapping[str, Any]], code: int, escalated_from: str = "") -> str:
    """`5 new: HighErrorRate api-3, PgDown db-1, ... Reply 7aa to ack these 5`, at most two segments."""
    n = len(incidents)
    names = ", ".join(f"{severity(i)} {title(i)}" for i in incidents)
    source = f" (escalated from {escalated_from})" if escalated_from else ""
    return _fit(f"{n} new: {names}", f".{source} Reply {code}aa to ack these {n}, {code}ss 1h silence", 2 * 153)


def resolved_text(incident: Mapping[str, Any], code: int | None) -> str:
    return _fit(f"RESOLVED {title(incident)}", f" ({code})" if code else "")


def notice_text(budget: int, pending: int) -> str:
    return (
        f"Page budget spent ({budget} SMS/h). {pending} more alert{'s' if pending != 1 else ''} pending: "
        "send alerts to see them."
    )


def segments(text: str) -> int:
    """Segments of a `gsm_safe` text."""
    return 1 if len(text) <= SEGMENT else -(-len(text) // 153)
