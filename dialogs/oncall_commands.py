"""The on-call replies as registry commands: ``4a``, ``ack 4``, ``4s 2h``, ``7aa``, ``4e``, ``log 4``, ``oncall``.

Each record declares its words, its reply-code suffixes (``codes``: ``4a`` is ``ack`` with choice
4) and its slots; each handler is one call into the incident desk (dialogs/oncall_desk.py), which
the app hands to the conversation as ``ctx.desk``. The number in a reply is the per-phone code
of a page, carried in the ``choice`` slot; without it an action means the latest page.
Everything that changes something is ``mutating`` (never guessed from a typo). No phrase like
"silence it": phrases match with typos, and "silence 4" is two edits from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from dialogs.answer import Answer
from dialogs.context import CommandContext
from dialogs.oncall_desk import OncallDesk
from dialogs.query import Query
from dialogs.registry import Option, SlotSpec, command
from monitors.registry import Monitors

OFF = "The on-call loop is off (set ALERT_WEBHOOK_TOKEN, ONCALL_NUMBERS and REDIS_URL)."
CODE = SlotSpec("choice", "Which code?", required=False)
SILENCE_OPTIONS: tuple[Option, ...] = tuple(
    (label, timedelta(minutes=m)) for label, m in (("30m", 30), ("1h", 60), ("4h", 240), ("24h", 1440))
)


def _silence_windows(monitors: Monitors) -> Sequence[Option]:
    return SILENCE_OPTIONS


SILENCE_FOR = SlotSpec("window", "Silence for how long?", _silence_windows, numbered=False)
Act = Callable[[OncallDesk, str, Query], Awaitable[str]]


async def _with_desk(ctx: CommandContext, query: Query, act: Act) -> Answer:
    if not isinstance(ctx.desk, OncallDesk):
        return Answer(OFF)
    return Answer(await act(ctx.desk, ctx.sender, query))


def _seconds(query: Query) -> float | None:
    return query.window.total_seconds() if query.window is not None else None


@command(
    "ack",
    usage="ack [N] (or Na)",
    help="ack 4 (or 4a): acknowledge page 4, escalation stops. ack: the latest. "
    "7aa: a bundle. ack all: everything paged to you.",
    words=("acknowledge",),
    codes=("a", "aa"),
    slots=(CODE,),
    mutating=True,
    overview="",
    says=("4a", "ack 4", "ack", "7aa"),
    doc="acknowledge a paged alert (the latest; a bundle's members): escalation stops",
)
async def ack(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.ack(who, q.choice))


@command(
    "ackall",
    usage="ackall (ack all)",
    help="ack all: acknowledge every alert paged to this phone.",
    phrases=("ack all", "acknowledge all", "ack everything"),
    mutating=True,
    overview="",
    says=("ack all",),
    doc="acknowledge every open alert paged to this phone",
)
async def ack_all(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.ack(who, None, every=True))


@command(
    "silence",
    usage="silence N 2h (or Ns 2h)",
    help="silence 4 2h (or 4s 2h): a real Alertmanager silence of alert 4. 7ss 1h: a bundle (asks first).",
    words=("mute",),
    codes=("s", "ss"),
    slots=(CODE, SILENCE_FOR),
    mutating=True,
    overview="",
    says=("4s 2h", "silence 4 for 2h"),
    doc="a real Alertmanager silence; wide or longer than 24h ask yes/no first",
)
async def silence(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.silence(who, q.choice, _seconds(q)))


@command(
    "silenceall",
    usage="silenceall 1h (silence all 1h)",
    help="silence all 1h: silence every alert paged here (asks first).",
    phrases=("silence all", "mute all", "silence everything"),
    slots=(SILENCE_FOR,),
    mutating=True,
    overview="",
    says=("silence all 1h",),
    doc="silence every open alert paged to this phone, after yes",
)
async def silence_all(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.silence(who, None, _seconds(q), every=True))


@command(
    "group",
    usage="group N 1h (or Ng 1h)",
    help="group 4 1h (or 4g 1h): one silence on alert 4's Alertmanager group labels (asks first).",
    codes=("g",),
    slots=(CODE, SILENCE_FOR),
    mutating=True,
    overview="",
    says=("4g 1h", "group 4 1h"),
    doc="silence an alert's whole group (its group labels), after yes",
)
async def silence_group(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.silence_group(who, q.choice, _seconds(q) or 3600))


@command(
    "unsilence",
    usage="unsilence N",
    help="unsilence 4: expire the silence made for alert 4.",
    words=("unmute",),
    slots=(CODE,),
    mutating=True,
    overview="",
    says=("unsilence 4",),
    doc="expire the silence made for an alert (already gone is fine)",
)
async def unsilence(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.unsilence(who, q.choice))


@command(
    "silences",
    usage="silences",
    help="silences: active Alertmanager silences, soonest end first.",
    words=("muted", "silenced"),
    overview="",
    doc="active Alertmanager silences",
)
async def silences(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.silences_list(who))


@command(
    "escalate",
    usage="escalate N (or Ne)",
    help="escalate 4 (or 4e): page the next number in the chain now.",
    words=("esc",),
    codes=("e",),
    slots=(CODE,),
    mutating=True,
    overview="",
    says=("4e", "escalate 4"),
    doc="page the next number in the chain now",
)
async def escalate(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.escalate(who, q.choice))


@command(
    "resolve",
    usage="resolve N",
    help="resolve 4: close alert 4 here (Alertmanager fires again if still true).",
    words=("close",),
    codes=("c",),
    slots=(CODE,),
    mutating=True,
    overview="",
    says=("resolve 4", "4c"),
    doc="close here; Alertmanager fires again if it is still true",
)
async def resolve(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.resolve(who, q.choice))


@command(
    "history",
    usage="history N (log N)",
    help="log 4: alert 4's history: who did what, when, Alertmanager's answer.",
    ref_words=("log",),
    slots=(CODE,),
    overview="",
    says=("log 4",),
    doc="an alert's history",
)
async def history(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.history(who, q.choice))


ONCALL_PHRASES = (
    "on call", "who is on call", "whos on call", "who's on call", "who has the pager", "who is handling",
    "whos handling", "who's handling", "who is on it", "whos on it", "who's on it", "who is dealing with",
)  # fmt: skip


@command(
    "oncall",
    usage="oncall",
    help="oncall: who holds the pager; oncall me: take it. On a page: 4a ack, 4s 2h silence, 4e escalate, "
    "log 4, resolve 4.",
    words=("on-call", "pager"),
    phrases=ONCALL_PHRASES,
    says=("oncall", "who's on call"),
    doc="who holds the pager",
)
async def oncall(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.oncall(who))


@command(
    "oncallme",
    usage="oncallme (oncall me)",
    help="oncall me: take the pager (an override that expires).",
    phrases=("oncall me", "on call me", "i'm on call", "im on call", "i am on call", "take the pager"),
    mutating=True,
    overview="",
    says=("oncall me",),
    doc="take the pager (an override with an expiry)",
)
async def oncall_me(ctx: CommandContext, query: Query) -> Answer:
    return await _with_desk(ctx, query, lambda desk, who, q: desk.oncall(who, take=True))


async def answer_yes_no(ctx: CommandContext, yes: bool) -> Answer | None:
    """A bare yes/no answering the desk's question (a wide or long silence); None when none waits.

    Called by the conversation's follow-ups (dialogs/followups.py) before "Nothing to confirm".
    """
    if isinstance(ctx.desk, OncallDesk):
        said = await ctx.desk.answer(ctx.sender, yes=yes)
        if said is not None:
            return Answer(said)
    return None
