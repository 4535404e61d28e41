"""README's "everyday words" exchange is what the conversation says: replayed through the driver.

The block between ``<!-- everyday:start -->`` and ``<!-- everyday:end -->`` alternates ``> text``
and ``< reply`` (continuation lines indented by two spaces). Each reply line must be the
conversation's own, except clock times and latencies (the run's own) and a ``...`` line, which
elides the rest of that reply.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conversations.driver import Driver

README = Path(__file__).resolve().parents[2] / "README.md"
_VOLATILE = re.compile(r"\b\d\d:\d\d\b|\b\d+ms\b")


def exchange() -> list[tuple[str, list[str]]]:
    text = README.read_text()
    block = text[text.index("<!-- everyday:start -->") : text.index("<!-- everyday:end -->")]
    turns: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("> "):
            turns.append((line[2:], []))
        elif line.startswith("< ") or (turns and turns[-1][1] and (line.startswith("  ") or line == "")):
            turns[-1][1].append(line[2:])
    return turns


def same(shown: str, said: str) -> bool:
    return _VOLATILE.sub("#", shown) == _VOLATILE.sub("#", said)


async def test_readme_everyday_exchange_is_what_operator_says(driver: Driver) -> None:
    turns = exchange()
    assert len(turns) >= 8
    for text, shown in turns:
        said = (await driver.push(text)).splitlines()
        for i, line in enumerate(shown):
            if line == "...":
                break
            assert i < len(said) and same(line, said[i]), (text, shown, said)
        else:
            assert len(said) == len(shown), (text, shown, said)
