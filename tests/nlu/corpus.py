"""The understanding corpus (tests/data/corpus.tsv) and how a reading of it is judged.

Shared by tests/nlu/test_corpus.py (which asserts the targets) and bench/understanding.py (which
prints the per-category table for the README). Each row is a text an on-call engineer sends,
after zero or more earlier turns, and what it must mean. An outcome is:

- ``understood``: exactly the wanted command(s) and slots;
- ``asked``: the bot asks or says it did not get it (not understood, but harmless);
- ``wrong``: it runs (or starts) a different command or query than meant, or acts where it
  should only talk. The target for ``wrong`` is zero.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Literal

from nlu.windows import WINDOW_MIN

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus.tsv"
SERVICES = ("api", "web", "worker", "payments", "auth")
METRICS = ("cpu", "memory", "disk", "load", "up")
FOLLOW_UP = "followup"
# Outcomes that are not a command: what the bot says instead of running anything.
TALK = ("smalltalk", "unsupported", "ask")
# How far apart an expected "since 2am" and the parsed one may be (the two clocks are read apart).
SINCE_SLACK_S = 120

Verdict = Literal["understood", "asked", "wrong"]


@dataclass(frozen=True, slots=True)
class Query:
    """One meaning: a command with its slots, or a TALK outcome / ``reset``."""

    command: str
    service: str | None = None
    window: str | None = None  # seconds as text, "since:HH:MM", "since:yesterday" or "rejected"
    metric: str | None = None
    choice: int | None = None
    topic: str | None = None
    filter: str | None = None  # what narrows an alerts list ("crit")
    instead: str | None = None  # for "unsupported": the command accepted once it exists

    def key(self) -> tuple[object, ...]:
        return (self.command, self.service, self.window, self.metric, self.choice, self.topic, self.filter)


@dataclass(frozen=True, slots=True)
class Case:
    line: int
    category: str
    before: tuple[str, ...]
    text: str
    want: tuple[Query, ...]

    @property
    def label(self) -> str:
        turns = " / ".join((*self.before, self.text))
        return f"{self.line}:{self.category}:{turns}"


def parse_want(text: str) -> tuple[Query, ...]:
    queries = []
    for part in text.split(" + "):
        command, *slots = part.split()
        values: dict[str, str | int | None] = {}
        if command == "unsupported" and slots:
            values["instead"] = slots.pop()
        for slot in slots:
            name, _, value = slot.partition("=")
            values[name] = int(value) if name == "choice" else value
        queries.append(Query(command, **values))  # type: ignore[arg-type]
    return tuple(queries)


def load(path: Path = CORPUS) -> list[Case]:
    cases = []
    with path.open(encoding="utf-8") as f:
        lines = [(n, line) for n, line in enumerate(f, 1) if line.strip() and not line.startswith("#")]
    reader = csv.DictReader((line for _, line in lines), delimiter="\t", quoting=csv.QUOTE_NONE)
    for (number, _), row in zip(lines[1:], reader, strict=True):
        before = tuple(t.strip() for t in row["before"].split(" // ") if t.strip())
        cases.append(Case(number, row["category"], before, row["text"], parse_want(row["want"])))
    return cases


def window_seconds(window: str, now: datetime) -> float | None:
    """The seconds a wanted window stands for at ``now`` (None for "rejected")."""
    if window == "rejected":
        return None
    if window == "since:yesterday":
        return (now - datetime.combine(now.date() - timedelta(days=1), time(0), now.tzinfo)).total_seconds()
    if window.startswith("since:"):
        hour, minute = (int(x) for x in window[6:].split(":"))
        then = datetime.combine(now.date(), time(hour, minute), now.tzinfo)
        if then > now:
            then -= timedelta(days=1)
        return (now - then).total_seconds()
    return float(window)


def same(want: Query, got: Query, now: datetime, commands: Iterable[str]) -> bool:
    if want.command == "unsupported" and want.instead in commands:
        return got.command == want.instead
    if want.key()[:2] + want.key()[3:] != got.key()[:2] + got.key()[3:]:
        return False
    if want.window is not None and want.window.startswith("since:") and got.window == "rejected":
        expected = window_seconds(want.window, now)  # "since noon" at 12:00:30 is half a minute: too short
        return expected is not None and expected < WINDOW_MIN.total_seconds()
    if want.window is None or got.window is None or "rejected" in (want.window, got.window):
        return want.window == got.window
    expected = window_seconds(want.window, now)
    return expected is not None and abs(float(got.window) - expected) <= SINCE_SLACK_S


def judge(want: Sequence[Query], got: Sequence[Query], now: datetime, commands: Iterable[str]) -> Verdict:
    commands = tuple(commands)
    if len(want) == len(got) and all(same(w, g, now, commands) for w, g in zip(want, got, strict=True)):
        return "understood"
    ran = [g for g in got if g.command not in TALK and g.command != "none"]
    if not ran or (len(want) == len(got) == 1 and _asks_for_the_rest(want[0], got[0])):
        return "asked"
    wanted = [w for w in want if w.command not in TALK]
    # Everything run must be something wanted; running fewer than wanted is a (harmless) miss
    # only when the rest was said to be left, which a judge of replies cannot see: count it wrong.
    if all(any(same(w, g, now, commands) for w in wanted) for g in ran) and len(ran) == len(wanted):
        return "understood"
    return "wrong"


def _asks_for_the_rest(want: Query, got: Query) -> bool:
    """Same command, every slot it found right, some missing: the dialog asks for them."""
    return want.command == got.command and all(
        g is None or g == w for w, g in zip(want.key()[1:], got.key()[1:], strict=True)
    )


@dataclass
class Tally:
    verdicts: dict[str, Counter[str]] = field(default_factory=dict)
    wrong: list[tuple[Case, tuple[Query, ...]]] = field(default_factory=list)
    missed: list[tuple[Case, tuple[Query, ...]]] = field(default_factory=list)

    def add(self, case: Case, verdict: Verdict, got: tuple[Query, ...]) -> None:
        self.verdicts.setdefault(case.category, Counter())[verdict] += 1
        if verdict == "wrong":
            self.wrong.append((case, got))
        elif verdict == "asked":
            self.missed.append((case, got))

    def rate(self, category: str | None = None) -> float:
        counters = [c for k, c in self.verdicts.items() if category in (None, k)]
        total = sum(sum(c.values()) for c in counters)
        return sum(c["understood"] for c in counters) / total if total else 0.0

    def table(self) -> str:
        rows = ["| category | texts | understood | asked | wrong | accuracy |", "|---|---:|---:|---:|---:|---:|"]
        for name in sorted(self.verdicts):
            c = self.verdicts[name]
            rows.append(
                f"| {name} | {sum(c.values())} | {c['understood']} | {c['asked']} | {c['wrong']} | "
                f"{100 * self.rate(name):.1f}% |"
            )
        total: Counter[str] = sum(self.verdicts.values(), Counter())
        rows.append(
            f"| **all** | {sum(total.values())} | {total['understood']} | {total['asked']} | "
            f"{total['wrong']} | **{100 * self.rate():.1f}%** |"
        )
        return "\n".join(rows)
