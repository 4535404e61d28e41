"""The command registry: every command Operator answers, declared once.

Adding a command = one record + one handler (+ tests). The record carries the command's words
(command word and synonyms, typo-tolerant), example phrases, usage and one-line help, the slots
it takes (which are required, and the question asking for each), whether it answers without
the session store (``stateless``), whether it changes anything (``mutating``: never guessed),
and the monitor capabilities it ``needs``. The parser's vocabulary, ``help``, the dialog
forms, the store-down path and README's "What you can text" table all read it::

    # dialogs/host.py, plus `host` in dialogs/catalog.py's MODULES
    from dialogs.registry import command

    @command("top", usage="top", help="top: the busiest processes on this host.",
             words=("procs", "processes"), phrases=("whats eating cpu",),
             needs=frozenset({HOST}), configure="No host monitor (set HOST_MONITOR=on).",
             stateless=True, doc="the busiest processes of the host Operator runs on")
    async def top(ctx: CommandContext, query: Query) -> Answer:
        host = ctx.monitors.with_capability(HOST)[0]  # ctx also has sender, now, session, desk
        return Answer(format_top(await host.top()), query=Query("top"))

A handler never raises for a monitor failure: it words it (``MonitorError.reason``). Slots the
handler needs arrive filled in ``query`` (a form asks for required ones first). Cost:
registering is start-up work; lookups are dict reads; the parser vocabulary is built once per
registry (``Registry.vocabulary``), not per message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from dialogs.answer import Answer
from dialogs.context import CommandContext
from dialogs.query import Query, SlotName, SlotValue
from monitors.registry import Monitors
from nlu import CARRIER_KEYWORDS, Vocabulary

Handler = Callable[[CommandContext, Query], Awaitable[Answer]]
Option = tuple[str, SlotValue]  # (what the question shows, what picking it fills)
Options = Callable[[Monitors], Sequence[Option]]
# Where the help overview names a command: among the questions, among the follow-ups, or not.
Overview = Literal["ask", "then", ""]

HELP_HEAD = "Ops desk: "
HELP_TAIL = "help <cmd> for more."


def no_options(monitors: Monitors) -> Sequence[Option]:
    return ()


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """One slot a command takes. A required slot is asked for until it is filled.

    ``question`` may name ``{command}``, ``{Command}`` and ``{service}``; ``options`` lists
    what the question offers (picked by number or by name). ``numbered`` options read
    ``1 api, 2 web``, others ``15m, 1h``. ``none_configured`` ends the dialog when there
    are no options at all.
    """

    name: SlotName
    question: str
    options: Options = no_options
    required: bool = True
    numbered: bool = True
    none_configured: str = ""


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command: how people say it, what it takes, what it does (see the module docstring)."""

    name: str
    handler: Handler
    usage: str
    help: str  # one line, shown by ``help <name>``
    words: tuple[str, ...] = ()  # the command word and synonyms; the name is always one
    phrases: tuple[str, ...] = ()  # example phrases people text
    slots: tuple[SlotSpec, ...] = ()
    stateless: bool = False  # answerable without the session store
    mutating: bool = False  # changes something: never guessed, asked on ambiguity
    needs: frozenset[str] = frozenset()  # monitor capabilities; none of them configured → ``configure``
    configure: str = ""  # the one line answered when its needs are unconfigured
    escape: bool = False  # works whatever an open question waits for (reset, help)
    recalls: bool = False  # answers from the conversation's memory: after expiry, says so
    overview: Overview = "ask"
    says: tuple[str, ...] = ()  # README examples; default: the usage
    doc: str = ""  # README "gets" column; default: the help line
    codes: tuple[str, ...] = ()  # pager reply-code suffixes: "a" reads "4a" as this command, choice 4
    ref_words: tuple[str, ...] = ()  # words naming this command when a number follows ("log 4")

    @property
    def all_words(self) -> tuple[str, ...]:
        return (self.name, *(w for w in self.words if w != self.name))

    @property
    def required(self) -> tuple[SlotSpec, ...]:
        return tuple(s for s in self.slots if s.required)

    def slot(self, name: str) -> SlotSpec | None:
        return next((s for s in self.slots if s.name == name), None)

    def available(self, monitors: Monitors) -> bool:
        """Whether some monitor it needs is configured (always, for one that needs none)."""
        return not self.needs or any(monitors.with_capability(c) for c in self.needs)


class Registry:
    """Commands in registration order, which is help order."""

    def __init__(self) -> None:
        self._specs: dict[str, CommandSpec] = {}
        self._vocabulary: Vocabulary | None = None

    def register(self, spec: CommandSpec) -> CommandSpec:
        if spec.name in self._specs:
            raise ValueError(f"command {spec.name!r} is registered twice")
        if spec.needs and not spec.configure:
            raise ValueError(f"command {spec.name!r} needs monitors but says nothing about configuring them")
        self._specs[spec.name] = spec
        self._vocabulary = None
        return spec

    def command(
        self,
        name: str,
        *,
        usage: str,
        help: str,
        words: tuple[str, ...] = (),
        phrases: tuple[str, ...] = (),
        slots: tuple[SlotSpec, ...] = (),
        stateless: bool = False,
        mutating: bool = False,
        needs: frozenset[str] = frozenset(),
        configure: str = "",
        escape: bool = False,
        recalls: bool = False,
        overview: Overview = "ask",
        says: tuple[str, ...] = (),
        doc: str = "",
        codes: tuple[str, ...] = (),
        ref_words: tuple[str, ...] = (),
    ) -> Callable[[Handler], Handler]:
        """Register the decorated handler as ``name`` (errbot's ``@botcmd`` style)."""

        def decorate(handler: Handler) -> Handler:
            self.register(CommandSpec(
                name=name, handler=handler, usage=usage, help=help, words=words, phrases=phrases, slots=slots,
                stateless=stateless, mutating=mutating, needs=needs, configure=configure, escape=escape,
                recalls=recalls, overview=overview, says=says, doc=doc, codes=codes, ref_words=ref_words,
            ))  # fmt: skip
            return handler

        return decorate

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._specs.values())

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, name: str | None) -> CommandSpec | None:
        return self._specs.get(name or "")

    def __getitem__(self, name: str) -> CommandSpec:
        return self._specs[name]

    def by_word(self, word: str) -> CommandSpec | None:
        """The command ``word`` (or phrase) names exactly, case-insensitively."""
        name = self.vocabulary.alias_to_command.get(" ".join(word.casefold().split()))
        return self.get(name)

    @property
    def vocabulary(self) -> Vocabulary:
        """The parser's vocabulary, built once (again only after a new ``register``)."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary(
                commands={s.name: s.all_words for s in self},
                phrases={s.name: s.phrases for s in self if s.phrases},
                escape=frozenset(s.name for s in self if s.escape),
                mutating=frozenset(s.name for s in self if s.mutating),
                never_fuzzy=CARRIER_KEYWORDS,
                codes={code: s.name for s in self for code in s.codes},
                ref_words={word: s.name for s in self for word in s.ref_words},
            )
        return self._vocabulary

    def help_text(self, topic: str | None = None, available: Callable[[CommandSpec], bool] | None = None) -> str:
        """One command's help line, or the overview of every available command in one segment."""
        spec = self.get(topic)
        if spec is not None:
            return spec.help
        shown = [s for s in self if available is None or available(s)]
        ask = ", ".join(s.usage for s in shown if s.overview == "ask")
        then = ", ".join(s.name for s in shown if s.overview == "then")
        # The bare follow-ups (a window, a list number) are no command: the conversation reads them.
        return f"{HELP_HEAD}{ask}. Then: {then}, 6h, 2. {HELP_TAIL}"

    def docs_table(self) -> str:
        """README's "What you can text" rows for the commands, as markdown."""
        rows = ["| say | gets |", "|---|---|"]
        for spec in self:
            says = ", ".join(f"`{s}`" for s in (spec.says or (spec.usage,)))
            rows.append(f"| {says} | {spec.doc or spec.help} |")
        return "\n".join(rows)


REGISTRY = Registry()
command = REGISTRY.command
