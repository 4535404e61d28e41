"""What a command hands back to the conversation: whole text plus what to remember."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.query import Item, ListKind, Query


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    items: tuple[Item, ...] = ()  # a numbered list shown, item 1 first
    list_kind: ListKind = ""
    query: Query | None = None  # how to ask this again ("again", a new window or service)
    is_page: bool = False  # already one SMS page (``more``): sent as is, the kept pages untouched
