"""The conversation's typed memory: a ``Query`` (what was asked) and the numbered ``Item``s shown.

A ``Query`` is the whole of one question: the command and every slot a command may take. It
is what a form fills, what a handler receives, what ``again`` repeats and what a bare ``6h``
or ``web`` changes. Both types round-trip through plain JSON for the session store
(``to_json``/``from_json``); a stored value that does not fit (an older layout, a corrupt
entry) reads as None, never as an error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, get_args

from monitors.spans import window_text

# What a numbered list holds, so a bare "2" knows what it picks.
ListKind = Literal["", "alerts", "readings"]  # a new kind of list adds its name here

# The slots a command may take; a form asks for them by these names.
SlotName = Literal["service", "window", "metric", "choice", "ref", "filter"]
SLOT_NAMES: tuple[str, ...] = get_args(SlotName)

SlotValue = str | int | timedelta


@dataclass(frozen=True, slots=True)
class Query:
    """One question: a command and its slots (any may be None until a form fills it)."""

    command: str
    service: str | None = None
    window: timedelta | None = None
    metric: str | None = None
    choice: int | None = None  # an item / alert reference number
    ref: str | None = None  # a free reference, e.g. an alert code "4"
    filter: str | None = None  # e.g. "crit", a label value

    def get(self, slot: str) -> SlotValue | None:
        value: SlotValue | None = getattr(self, slot)
        return value

    def with_slot(self, slot: str, value: SlotValue | None) -> Query:
        """A copy with one slot set (``slot`` is one of ``SLOT_NAMES``)."""
        if slot not in SLOT_NAMES:
            raise ValueError(f"no slot {slot!r}")
        changes: dict[str, Any] = {slot: value}
        return dataclasses.replace(self, **changes)

    def merged(self, other: Query) -> Query:
        """This query with every slot ``other`` has filled taken from ``other``."""
        changes: dict[str, Any] = {s: v for s in SLOT_NAMES if (v := getattr(other, s)) is not None}
        return dataclasses.replace(self, **changes) if changes else self

    def spoken(self) -> str:
        """How a user would text this query: ``logs web 1h``, ``metrics cpu``, ``ack 3``, ``alerts crit``."""
        choice = str(self.choice) if self.choice is not None else None
        words = [self.command, self.ref, self.filter, self.service, self.metric, choice]
        if self.window is not None:
            words.append(window_text(self.window))
        return " ".join(w for w in words if w)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.command}
        for slot in SLOT_NAMES:
            value = getattr(self, slot)
            if value is not None:
                out[slot] = int(value.total_seconds()) if isinstance(value, timedelta) else value
        return out

    @classmethod
    def from_json(cls, data: object) -> Query | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("command"), str):
            return None
        window = data.get("window")
        choice = data.get("choice")
        texts = {s: v if isinstance(v := data.get(s), str) else None for s in ("service", "metric", "ref", "filter")}
        return cls(
            command=data["command"],
            window=timedelta(seconds=window) if isinstance(window, int) and window > 0 else None,
            choice=choice if isinstance(choice, int) and not isinstance(choice, bool) else None,
            **texts,
        )


@dataclass(frozen=True, slots=True)
class Item:
    """One line of a numbered list: what it is called, and what picking it shows or asks."""

    label: str
    detail: str = ""  # the text picking it shows (an alert's detail)
    query: Query | None = None  # or the question picking it asks (a metric's query)
    labels: Mapping[str, str] = field(default_factory=dict)  # an alert's labels, for commands that act on it
    source: str = ""  # the monitor it came from

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label}
        if self.detail:
            out["detail"] = self.detail
        if self.query is not None:
            out["query"] = self.query.to_json()
        if self.labels:
            out["labels"] = dict(self.labels)
        if self.source:
            out["source"] = self.source
        return out

    @classmethod
    def from_json(cls, data: object) -> Item | None:
        if not isinstance(data, Mapping) or not isinstance(data.get("label"), str):
            return None
        labels = data.get("labels")
        return cls(
            label=data["label"],
            detail=str(data.get("detail") or ""),
            query=Query.from_json(data.get("query")),
            labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {},
            source=str(data.get("source") or ""),
        )


def pick(items: Sequence[Item], choice: int) -> str:
    """The text item ``choice`` (1-based) shows, or how to pick one."""
    if not 1 <= choice <= len(items):
        if len(items) == 1:
            return "Only 1 on the list: reply 1."
        return f"Pick 1-{len(items)}." if items else "That list is empty."
    return items[choice - 1].detail or items[choice - 1].label


def list_kind(value: object) -> ListKind:
    """A stored list kind, or "" when it is not one we know."""
    for kind in get_args(ListKind):
        if value == kind:
            k: ListKind = kind
            return k
    return ""
