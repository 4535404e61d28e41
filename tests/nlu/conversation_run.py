"""The corpus through the real conversation: what each text makes Operator do, as a ``Query``.

Each row is played by a fresh sender (tests/conversations/driver.py: the very ``Conversation``
the service runs, without HTTP) against real monitors. What ran is read from the outside:

- every query the conversation hands to its dispatcher during the last turn (a recorder that
  calls straight through, so nothing is faked); ``again`` reads as the query it repeated; a
  further question left for the next text ("send logs web") or asked about counts as taken up;
- else an open question (the session's draft: a command started, a slot still to ask);
- else the item of the last list the reply shows (a pick needs no query);
- else what the reply says: "OK, cleared." (reset), the small-talk line, "I can't do that (yet)"
  (unsupported), "Did you mean" (ask); anything else ran nothing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from dialogs import conversation as conversation_module
from dialogs.context import CommandContext
from dialogs.conversation import Conversation
from dialogs.prompts import HOW_TO_ANSWER
from dialogs.query import Query as Asked
from dialogs.query import pick
from dialogs.registry import CommandSpec
from dialogs.session import IDLE, Session
from dialogs.turn import WINDOW_LIMITS, query_of
from tests.conversations.driver import Driver
from tests.nlu.corpus import Case, Query, Tally, judge

Run = Callable[[CommandContext, CommandSpec, Asked], Awaitable[object]]


class Sender(Protocol):
    """Who plays a case: the no-HTTP driver here, a signed phone in tests/nlu/sms_run.py."""

    @property
    def session(self) -> Session: ...  # the sender's session after the last push

    async def push(self, text: str) -> str: ...


class Recorder:
    """Keeps every query the conversation runs, in order; the run itself is the real one."""

    def __init__(self, conversation: Conversation) -> None:
        self.runs: list[Asked] = []
        self.conversation = conversation
        real: Run = conversation.dispatcher.run

        async def run(ctx: CommandContext, spec: CommandSpec, query: Asked) -> object:
            self.runs.append(query)
            return await real(ctx, spec, query)

        conversation.dispatcher.run = run  # type: ignore[method-assign]


def _ours(asked: Asked) -> Query:
    window = None if asked.window is None else str(int(asked.window.total_seconds()))
    return Query(
        asked.command,
        service=asked.service,
        window=window,
        metric=asked.metric,
        choice=asked.choice,
        topic=asked.ref,
        filter=asked.filter,
    )


# A further question left for the next text: "(logs api 6h next: send logs api 6h)".
_NAMED = re.compile(r"next: send ([^)]+)\)")
# The re-ask of an open question whose answer was not understood.
MISSED = "Didn't get that."
# Replies that ask instead of running anything (a guess avoided, or a slot with nothing to go with).
_ASKS = ("Did you mean", "A window for what?", "Nothing to pick from", "Which alert?", "Which one:")


def _named(conversation: Conversation, reply: str) -> list[Asked]:
    """The further questions a reply names for the next text, read back as the engineer would send them."""
    found = []
    for spoken in _NAMED.findall(reply):
        intent = conversation.understand(spoken)
        spec = conversation.registry.get(intent.command)
        if spec is not None:
            found.append(query_of(intent, spec))
    return found


def _said(reply: str) -> Query:
    if reply.startswith("OK, cleared"):
        return Query("reset")
    if reply.startswith(conversation_module.SMALL_TALK[:12]) or conversation_module.SMALL_TALK_HINT in reply:
        return Query("smalltalk")
    if reply.startswith("I can't do that"):
        return Query("unsupported")
    if any(question in reply for question in _ASKS):
        return Query("ask")
    return Query("none")


async def outcome(driver: Sender, recorder: Recorder, case: Case) -> tuple[Query, ...]:
    for text in case.before:
        await driver.push(text)
    recorder.runs.clear()
    reply = await driver.push(case.text)
    session = driver.session
    runs = [session.last_query if q.command == "again" and session.last_query else q for q in recorder.runs]
    # A second question left for the next text, said plainly ("logs web next: send logs web"), is kept.
    # (It may have been run and found too long to add: then it is in the runs already.)
    runs += [q for q in _named(recorder.conversation, reply) if q not in runs]
    if runs and session.state != IDLE and session.draft is not None:  # "alerts and web logs": + which window?
        runs.append(session.draft)
    if runs:
        ours = tuple(_ours(q) for q in runs)
        if reply.startswith(WINDOW_LIMITS):  # "cpu past 2 weeks": refused, then answered without it
            ours = tuple(replace(q, window="rejected") if q.window is None else q for q in ours)
        return ours
    if reply.endswith(HOW_TO_ANSWER):  # help asked inside a question: how to answer it
        return (Query("help"),)
    said = _said(reply)
    if said.command in ("smalltalk", "unsupported") or reply.startswith(MISSED):
        return (said if said.command != "none" else Query("ask"),)  # an aside, or "Didn't get that": the question stays
    if session.state != IDLE and session.draft is not None:
        started = _ours(session.draft)
        if reply.startswith(WINDOW_LIMITS):  # "logs web 2 weeks": refused and asked again
            return (replace(started, window="rejected"),)
        return (started,)
    if reply.startswith(WINDOW_LIMITS) and session.last_query is not None:  # "last 90 days" after an answer
        return (replace(_ours(session.last_query), window="rejected"),)
    for number in range(1, len(session.items) + 1):
        if session.list_kind == "alerts" and reply == pick(session.items, number):
            return (Query("alerts", choice=number),)
    return (_said(reply),)


async def conversation_tally(conversation: Conversation, cases: list[Case], commands: tuple[str, ...]) -> Tally:
    recorder = Recorder(conversation)
    result = Tally()
    for case in cases:
        driver = Driver(conversation, ttl=timedelta(hours=1))
        got = await outcome(driver, recorder, case)
        result.add(case, judge(case.want, got, driver.now, commands), got)
    return result
