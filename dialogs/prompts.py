"""The questions an open dialog asks: wording, options, and reading a numbered pick.

Every question names ``reset`` (CANCEL may be a carrier opt-out keyword, so we advertise ours).
"""

from __future__ import annotations

from collections.abc import Sequence

from dialogs.query import Query, SlotValue
from dialogs.registry import Option, SlotSpec
from monitors.registry import Monitors

# How ``help`` inside a question ends: the question again, then how to answer it.
HOW_TO_ANSWER = "Reply with a number or a name, or reset to stop."


class Prompts:
    def __init__(self, monitors: Monitors) -> None:
        self.monitors = monitors

    def options(self, slot: SlotSpec) -> Sequence[Option]:
        return slot.options(self.monitors)

    def question(self, draft: Query, slot: SlotSpec) -> str:
        """``Logs for which service? 1 api, 2 web`` / ``web: which window? 15m, 1h``."""
        labels = [label for label, _ in self.options(slot)]
        shown = ", ".join(f"{i} {label}" for i, label in enumerate(labels, 1)) if slot.numbered else ", ".join(labels)
        asked = slot.question.format(
            command=draft.command, Command=draft.command.capitalize(), service=draft.service or draft.command
        )
        return f"{asked} {shown}".rstrip()

    def prompt(self, draft: Query, slot: SlotSpec) -> str:
        return f"{self.question(draft, slot)} (or reset)"

    def help(self, draft: Query, slot: SlotSpec) -> str:
        """``help`` inside a question: the question again and how to answer it."""
        return f"{self.question(draft, slot)} {HOW_TO_ANSWER}"

    def picked(self, slot: SlotSpec, choice: int) -> SlotValue | None:
        """The value option ``choice`` (1-based) stands for, None when out of range."""
        options = self.options(slot)
        return options[choice - 1][1] if 1 <= choice <= len(options) else None
