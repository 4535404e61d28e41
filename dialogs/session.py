"""What Operator remembers about one sender between messages.

Serialised as compact JSON; unknown keys from an older or newer version are ignored and a
value that does not fit its field reads as the field's default, so a rolling deploy never
breaks a stored conversation (at worst it forgets an open question).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from dialogs.query import Item, ListKind, Query, list_kind

IDLE = "idle"
# One encoder for every session: json.dumps with arguments builds a new JSONEncoder per call.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(slots=True)
class Session:
    state: str = IDLE  # dialog state; IDLE between dialogs
    draft: Query | None = None  # the question a dialog is filling in, slot by slot
    misses: int = 0  # answers in a row that fitted nothing
    pages: list[str] = field(default_factory=list)  # pages of the last answer still to send with "more"
    items: list[Item] = field(default_factory=list)  # the last numbered list, item 1 first
    list_kind: ListKind = ""  # what the numbered list holds
    last_query: Query | None = None  # the last answered question, for "again" and a new window
    last_command: str = ""  # survives expiry, so we can say "send logs again"
    updated_at: float = 0.0

    def clear(self) -> None:
        """Forget the conversation (but remember what it was about)."""
        last = self.last_command
        for f in fields(self):
            setattr(self, f.name, f.default_factory() if callable(f.default_factory) else f.default)
        self.last_command = last

    def show_list(self, items: list[Item], kind: ListKind) -> None:
        self.items, self.list_kind = items, kind

    def dumps(self) -> str:
        data: dict[str, Any] = {
            "state": self.state,
            "misses": self.misses,
            "pages": self.pages,
            "items": [i.to_json() for i in self.items],
            "list_kind": self.list_kind,
            "last_command": self.last_command,
            "updated_at": self.updated_at,
        }
        if self.draft is not None:
            data["draft"] = self.draft.to_json()
        if self.last_query is not None:
            data["last_query"] = self.last_query.to_json()
        return _ENCODE(data)

    @classmethod
    def loads(cls, raw: str | bytes | None) -> Session | None:
        if not raw:
            return None
        try:  # decoded here: json.loads would first sniff the bytes for UTF-16 and UTF-32
            data = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError is a ValueError)
            return None  # a corrupt entry is a fresh start, not an error reply
        if not isinstance(data, dict):
            return None
        items = data.get("items")
        pages = data.get("pages")
        return cls(
            state=_typed(data.get("state"), str, IDLE),
            draft=Query.from_json(data.get("draft")),
            misses=_typed(data.get("misses"), int, 0),
            pages=[p for p in pages if isinstance(p, str)] if isinstance(pages, list) else [],
            items=[i for raw_item in items if (i := Item.from_json(raw_item))] if isinstance(items, list) else [],
            list_kind=list_kind(data.get("list_kind")),
            last_query=Query.from_json(data.get("last_query")),
            last_command=_typed(data.get("last_command"), str, ""),
            updated_at=float(_typed(data.get("updated_at"), (int, float), 0.0)),
        )


def _typed(value: Any, kind: type | tuple[type, ...], default: Any) -> Any:
    return value if isinstance(value, kind) and not isinstance(value, bool) else default
