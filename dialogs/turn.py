"""One message being answered: the sender's session, what the text says, and the command context."""

from __future__ import annotations

from dataclasses import dataclass

from dialogs.context import CommandContext
from dialogs.query import SLOT_NAMES, Query
from dialogs.registry import CommandSpec
from dialogs.session import Session
from nlu import Intent

# Said whenever a text holds a window outside the limits, whatever else the reply is.
WINDOW_LIMITS = "Windows go from 1m to 7d."


@dataclass(frozen=True, slots=True)
class Turn:
    session: Session
    intent: Intent
    ctx: CommandContext
    expired: bool = False  # the session was idle past its TTL and was cleared for this message
    text: str = ""  # the message as sent


def query_of(intent: Intent, spec: CommandSpec) -> Query:
    """The slots ``intent`` carries that ``spec`` takes, as a ``Query`` for it."""
    found = {
        "service": intent.service, "window": intent.window, "metric": intent.metric, "choice": intent.choice,
        "ref": intent.topic,
        # `alerts crit`, `alerts api-1` (the parser's filter); a service name is a label value too.
        "filter": intent.filter or intent.service,
    }  # fmt: skip
    query = Query(spec.name)
    for slot in SLOT_NAMES:
        value = found.get(slot)
        if value is not None and spec.slot(slot) is not None:
            query = query.with_slot(slot, value)
    return query


def expired_text(session: Session) -> str:
    return f"That conversation expired. Send {session.last_command or 'help'} again."
