"""``CommandContext``: everything a command handler may use besides its ``Query``.

Fields:
    monitors   the configured monitors (``Monitors``); handlers pick theirs by capability.
    sender     E.164 number of who is texting (on-call commands act as that person).
    now        when the message is handled (tz-aware UTC); handlers use it, not the clock.
    registry   the command registry (help, and ``again`` re-running a query).
    session    the sender's conversation memory, or None when answered without the session
               store (only ``stateless`` commands run then).
    desk       the extension point for state other parts own (the on-call incident desk):
               set by whoever builds the ``Conversation``, passed through untouched, typed
               ``object`` so dialogs depends on nothing new; a handler narrows it with
               ``isinstance``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from dialogs.session import Session
from monitors.registry import Monitors

if TYPE_CHECKING:
    from dialogs.registry import Registry


@dataclass(frozen=True, slots=True)
class CommandContext:
    monitors: Monitors
    sender: str
    now: datetime
    registry: Registry
    session: Session | None = None
    desk: object | None = None
