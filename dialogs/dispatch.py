"""Running a ``Query`` through the registry, and remembering what its answer showed.

``run`` answers a command whose monitors are all unconfigured with its one ``configure`` line,
without calling the handler; ``remember`` writes the answer's list and query into the session
(the conversation's memory) so ``2``, ``again`` and ``6h`` can refer to them.
"""

from __future__ import annotations

from datetime import datetime

from dialogs.answer import Answer
from dialogs.context import CommandContext
from dialogs.query import Query
from dialogs.registry import CommandSpec, Registry
from dialogs.session import Session
from monitors.registry import Monitors


class Dispatcher:
    def __init__(self, registry: Registry, monitors: Monitors, desk: object | None = None) -> None:
        self.registry = registry
        self.monitors = monitors
        self.desk = desk

    def context(self, session: Session | None, sender: str, now: datetime) -> CommandContext:
        return CommandContext(
            monitors=self.monitors, sender=sender, now=now, registry=self.registry, session=session, desk=self.desk
        )

    async def run(self, ctx: CommandContext, spec: CommandSpec, query: Query) -> Answer:
        if not spec.available(self.monitors):
            return Answer(spec.configure)
        return await spec.handler(ctx, query)


def remember(session: Session, answer: Answer) -> None:
    """Keep what later messages may refer to: the list shown, the question answered."""
    if answer.items or answer.list_kind:
        session.show_list(list(answer.items), answer.list_kind)
    if answer.query is not None:
        session.last_query = answer.query
        session.last_command = answer.query.command
