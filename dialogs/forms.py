"""Multi-step dialogs as one ``transitions`` machine, built once from the registry's slot specs.

A dialog ("form") is a command plus its required slots, in the order they are asked for. Each
required slot is a state (``logs:window``); the command's trigger walks to the first slot the
draft lacks or, when all are filled, back to idle, where the conversation runs the command.
Per message a ``Step`` model is added to the machine and removed afterwards, so the machine
holds no conversation between messages. Cost: building is start-up work (one machine per
``Conversation``); a step is one add_model, one trigger, one remove_model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from transitions import EventData
from transitions.extensions.asyncio import AsyncMachine

from dialogs.query import Query
from dialogs.registry import CommandSpec, Registry, SlotSpec
from dialogs.session import IDLE


@dataclass(frozen=True, slots=True)
class Asking:
    """What an open question asks: which command's draft, and which of its slots."""

    command: CommandSpec
    slot: SlotSpec


class _Filled:
    """Transition condition: the step's draft has ``slot``. One per slot, not a method per slot."""

    def __init__(self, slot: str) -> None:
        self.slot = slot

    def __call__(self, event: EventData) -> bool:
        model = event.model
        return isinstance(model, Step) and model.draft.get(self.slot) is not None


class Step:
    """The machine's model for one message: the draft being filled and the state it is in."""

    def __init__(self, draft: Query, state: str) -> None:
        self.draft = draft
        self.state = state


# With model_override the machine warns on every add_model about each convenience method
# it skips (by design here), and logs every callback at INFO: noise on every message.
logging.getLogger("transitions").setLevel(logging.ERROR)


class Forms:
    """Every command with required slots, as states and transitions of one machine."""

    def __init__(self, registry: Registry) -> None:
        self._asking: dict[str, Asking] = {}
        transitions: list[dict[str, Any]] = []
        for spec in registry:
            if not spec.required:
                continue
            for slot in spec.required:
                state = f"{spec.name}:{slot.name}"
                self._asking[state] = Asking(spec, slot)
                transitions.append({"trigger": spec.name, "source": "*", "dest": state, "unless": [_Filled(slot.name)]})
            transitions.append({"trigger": spec.name, "source": "*", "dest": IDLE})
        self.commands = frozenset(a.command.name for a in self._asking.values())
        self.slot_names = frozenset(a.slot.name for a in self._asking.values())
        self._machine = AsyncMachine(
            model=None,
            states=[IDLE, *self._asking],
            transitions=transitions,
            initial=IDLE,
            auto_transitions=False,
            model_override=True,
            queued="model",
            send_event=True,
        )

    def asking(self, state: str) -> Asking | None:
        """The question a dialog state asks, None when idle (or a state no form has now)."""
        return self._asking.get(state)

    async def advance(self, draft: Query, state: str) -> str:
        """The next state for ``draft``: the first missing slot's, or IDLE when it can run."""
        step = Step(draft, state if state in self._asking else IDLE)
        self._machine.add_model(step, initial=step.state)
        try:
            await self._machine.events[draft.command].trigger(step)
        finally:
            self._machine.remove_model(step)
        return step.state
