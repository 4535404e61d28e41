"""What a command hands back to the conversation: whole text plus what to remember."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Answer:
    text: str
    items: list[dict[str, Any]] = field(default_factory=list)  # a numbered list shown, item 1 first
    list_kind: str = ""
    query: dict[str, Any] | None = None  # how to ask this again ("again", a new window)
