"""What a benchmark hands bench/run_all.py: one section of RESULTS.md and its rows in the README.

A bench module joins the suite by defining ``section(opts: Options) -> Section`` and being named
in ``run_all.BENCHES`` (one line); modules listed there that do not exist yet are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Options:
    """The knobs of one run_all invocation, recorded in RESULTS.md so a rerun can match them."""

    duration: int = 10  # seconds per wrk run
    rounds: int = 3  # alternating rounds of the overhead bench
    readme: bool = True  # also refresh README.md's generated blocks

    def command(self) -> str:
        return f".venv/bin/python bench/run_all.py --duration {self.duration} --rounds {self.rounds}"


@dataclass(frozen=True)
class Section:
    title: str  # "Per-message overhead (`bench/overhead.py`)"
    body: str  # Markdown under the title in RESULTS.md
    readme_rows: list[tuple[str, str, str]] = field(default_factory=list)  # (what, figure, target)
    raw: dict[str, Any] = field(default_factory=dict)  # figures as measured, for the JSON appendix
