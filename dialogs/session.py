"""What Operator remembers about one sender between messages.

Serialised as compact JSON; unknown keys from an older or newer version are ignored,
so a rolling deploy never breaks a stored conversation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

IDLE = "idle"


@dataclass(slots=True)
class Session:
    state: str = IDLE  # dialog state; IDLE between dialogs
    slots: dict[str, Any] = field(default_factory=dict)  # the dialog's command and the slots filled so far
    misses: int = 0  # answers in a row that fitted nothing
    pages: list[str] = field(default_factory=list)  # pages of the last answer still to send with "more"
    items: list[dict[str, Any]] = field(default_factory=list)  # the last numbered list, item 1 first
    list_kind: str = ""  # what the numbered list holds: "alerts", "metrics", "services", ...
    last_query: dict[str, Any] | None = None  # the last answered question, for "again" and a new window
    last_command: str = ""  # survives expiry, so we can say "send logs again"
    updated_at: float = 0.0

    def clear(self) -> None:
        """Forget the conversation (but remember what it was about)."""
        last = self.last_command
        for f in fields(self):
            setattr(self, f.name, f.default_factory() if callable(f.default_factory) else f.default)
        self.last_command = last

    def dumps(self) -> str:
        # A shallow dict, not dataclasses.asdict: that deep-copies every list on every message.
        return json.dumps({name: getattr(self, name) for name in _FIELDS}, separators=(",", ":"),
                          ensure_ascii=False)

    @classmethod
    def loads(cls, raw: str | bytes | None) -> Session | None:
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None  # a corrupt entry is a fresh start, not an error reply
        if not isinstance(data, dict):
            return None
        try:
            return cls(**{k: v for k, v in data.items() if k in _FIELDS})
        except TypeError:
            return None


_FIELDS = tuple(f.name for f in fields(Session))
