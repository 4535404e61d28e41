"""The conversation's own commands: help, more, again, reset. One record + one handler each.

They read or change the sender's memory (``ctx.session``), never a monitor; ``more`` hands back
a page the conversation kept, ``again`` runs the last ``Query`` through the registry again.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from dialogs.answer import Answer
from dialogs.context import CommandContext
from dialogs.query import Query, pick
from dialogs.registry import CommandSpec, SlotSpec, command
from monitors.registry import Monitors

NOTHING_MORE = "Nothing more. Send help for commands."
NOTHING_AGAIN = "Nothing to repeat yet. Try help."


# How on-call engineers say it (nlu reads these; tests/data/corpus.tsv measures them).
HELP_WORDS = ("?", "info", "commands", "usage", "menu", "options", "halp", "manual", "syntax", "howto")
HELP_PHRASES = (
    "what can you do",
    "how does this work",
    "what do i text",
    "help me",
    "what commands",
    "how do i",
    "what can i ask",
    "what can i say",
    "how to use",
    "explain",
    "how it works",
    "how that works",
)


@command(
    "help",
    usage="help [command]",
    help="help logs: how one command works.",
    words=HELP_WORDS,
    phrases=HELP_PHRASES,
    slots=(SlotSpec("ref", "Help on which command?", required=False),),
    stateless=True,
    escape=True,
    overview="",
    says=("help", "help logs"),
    doc="the command list in one segment; how one command works",
)
async def help_(ctx: CommandContext, query: Query) -> Answer:
    monitors = ctx.monitors

    # A fresh install (nothing configured) lists everything: `status` then says how to start.
    # `oncall` is offered only with the on-call loop on (its desk); off, it answers how to turn it on.
    def available(spec: CommandSpec) -> bool:
        if spec.name == "oncall" and ctx.desk is None and monitors.all:
            return False
        return not monitors.all or spec.available(monitors)

    if query.ref is not None:
        return Answer(ctx.registry.help_text(query.ref, available))
    # The overview depends only on what is configured, fixed at start-up: worded once per set of
    # monitors (and desk on/off), not on every `help` (23 availability checks per message).
    overviews = _OVERVIEWS.setdefault(monitors, {})
    key = (ctx.registry, ctx.desk is None)
    if key not in overviews:
        overviews[key] = ctx.registry.help_text(None, available)
    return Answer(overviews[key])


_OVERVIEWS: WeakKeyDictionary[Monitors, dict[tuple[object, bool], str]] = WeakKeyDictionary()


MORE_WORDS = ("next", "m", "continue")
MORE_PHRASES = (
    "keep going", "go on", "rest of it", "the rest", "next page", "next pg", "show more", "page 2", "what else",
)  # fmt: skip


@command(
    "more",
    usage="more",
    help="more: next page of the last long answer. more on 2: item 2 of the last list.",
    words=MORE_WORDS,
    phrases=MORE_PHRASES,
    slots=(SlotSpec("choice", "Which item?", required=False),),
    recalls=True,
    overview="then",
    doc="the next page of the last long answer",
)
async def more(ctx: CommandContext, query: Query) -> Answer:
    if query.choice is not None and ctx.session is not None and ctx.session.items:  # "more on 2"
        return Answer(pick(ctx.session.items, query.choice))
    if ctx.session is None or not ctx.session.pages:
        return Answer(NOTHING_MORE, is_page=True)
    return Answer(ctx.session.pages.pop(0), is_page=True)


RESET_WORDS = (
    "cancel",
    "start over",
    "clear",
    "nvm",
    "nevermind",
    "never mind",
    "forget it",
    "skip it",
    "stop it",
    "scratch that",
    "abort",
    "start again",
    "forget that",
    "drop it",
)


@command(
    "reset",
    usage="reset",
    help="reset: forget this conversation.",
    words=RESET_WORDS,
    escape=True,
    overview="then",
    says=("reset", "cancel"),
    doc="forget the conversation",
)
async def reset(ctx: CommandContext, query: Query) -> Answer:
    if ctx.session is not None:
        ctx.session.clear()
    return Answer("OK, cleared.")


AGAIN_WORDS = ("repeat", "refresh", "rerun", "redo", "reload")
AGAIN_PHRASES = (
    "one more time", "same again", "ask again", "run it again", "run that again", "do that again", "try that again",
    "try again", "same question", "same q",
)  # fmt: skip


@command(
    "again",
    usage="again",
    help="again: ask the last question again. A bare window (6h) re-asks with it.",
    words=AGAIN_WORDS,
    phrases=AGAIN_PHRASES,
    recalls=True,
    overview="then",
    doc="the last question again",
)
async def again(ctx: CommandContext, query: Query) -> Answer:
    last = ctx.session.last_query if ctx.session is not None else None
    spec = ctx.registry.get(last.command) if last is not None else None
    if last is None or spec is None:
        return Answer(NOTHING_AGAIN)
    return await spec.handler(ctx, last)
