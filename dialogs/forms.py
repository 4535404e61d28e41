"""Multi-step dialogs as one `transitions` machine, built once from data.

A dialog ("form") is a command plus the slots it needs, in the order they are
asked for. Each missing slot is a state ``<command>_<slot>``; the command's trigger
walks to the first missing slot (and asks for it) or, when all are filled, back to
idle (and runs the command). Per message, a `Step` model is added to the machine and
removed afterwards, so the machine holds no conversation between messages.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from transitions.extensions.asyncio import AsyncMachine

from dialogs.session import IDLE, Session

FORMS: dict[str, tuple[str, ...]] = {
    "logs": ("service", "window"),
    "metrics": ("metric",),
}
SLOTS = ("service", "window", "metric")

STATES = [IDLE] + [f"{command}_{slot}" for command, slots in FORMS.items() for slot in slots]
TRANSITIONS: list[dict[str, Any]] = [
    *(
        {"trigger": command, "source": "*", "dest": f"{command}_{slot}", "unless": f"has_{slot}",
         "after": "ask"}
        for command, slots in FORMS.items()
        for slot in slots
    ),
    *({"trigger": command, "source": "*", "dest": IDLE, "after": "run"} for command in FORMS),
]


def slot_of(state: str) -> str | None:
    """The slot a dialog state asks for ("logs_window" → "window")."""
    return state.rpartition("_")[2] if state != IDLE else None


class Step:
    """The machine's model for one message: the session plus what the dialog says back."""

    def __init__(self, session: Session, ask: Callable[[Step], Awaitable[None]],
                 run: Callable[[Step], Awaitable[None]]) -> None:
        self.session = session
        self.state = session.state
        self.reply = ""
        self._ask = ask
        self._run = run

    def has_service(self) -> bool:
        return "service" in self.session.slots

    def has_window(self) -> bool:
        return "window_s" in self.session.slots

    def has_metric(self) -> bool:
        return "metric" in self.session.slots

    async def ask(self) -> None:
        self.session.state = self.state
        await self._ask(self)

    async def run(self) -> None:
        self.session.state = IDLE
        await self._run(self)


# With model_override the machine warns on every add_model about each convenience method
# it skips (by design here), and logs every callback at INFO: noise on every message.
logging.getLogger("transitions").setLevel(logging.ERROR)

MACHINE = AsyncMachine(
    model=None, states=STATES, transitions=TRANSITIONS, initial=IDLE,
    auto_transitions=False, model_override=True, queued="model",
)


async def advance(step: Step, command: str) -> None:
    """Walk `command`'s form from the step's state: ask for the next slot or run it."""
    MACHINE.add_model(step, initial=step.state)
    try:
        await MACHINE.events[command].trigger(step)
    finally:
        MACHINE.remove_model(step)
