"""Understanding: the corpus of on-call texts, per category, as the README shows it.

Two runs with one judge (tests/nlu/corpus.py): every text of tests/data/corpus.tsv and of the
held-out tests/data/corpus_holdout.tsv, read after the turns before it,

- through the real conversation against real Prometheus, Alertmanager, PostgreSQL, pgBouncer
  and HAProxy with a fake Loki: ``test_conversation_meets_the_targets`` in
  tests/nlu/test_corpus.py, run here by pytest (the servers are its fixtures), hands its table
  over through the file named by ``OPERATOR_UNDERSTANDING_OUT``;
- through the parser alone (tests/nlu/parser_run.py), computed here.

Each text counts understood (exactly the meant command and slots), asked (the bot asks;
harmless) or wrong (a different command or query would run). Run
``python -m bench.understanding`` from the repository root (about a minute); ``--write``
replaces the block between ``<!-- understanding:start -->`` and ``<!-- understanding:end -->``
in README.md, which both tests compare with what they measure.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.nlu.corpus import CORPUS, FOLLOW_UP, Tally  # noqa: E402
from tests.nlu.parser_run import parser_tally  # noqa: E402

README = ROOT / "README.md"
START, END = "<!-- understanding:start -->", "<!-- understanding:end -->"
OUT_ENV = "OPERATOR_UNDERSTANDING_OUT"
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
HOLDOUT = CORPUS.with_name("corpus_holdout.tsv")


def conversation_block(measured: Tally) -> str:
    """The README's table for the conversation run (what the conversation test writes and checks)."""
    return "\n".join(
        [
            "Through the conversation (`tests/nlu/test_corpus.py::test_conversation_meets_the_targets`, real "
            "Prometheus, Alertmanager, PostgreSQL, pgBouncer, HAProxy; fake Loki), both corpus files:",
            "",
            measured.table(),
            "",
            f"Follow-ups: **{100 * measured.rate(FOLLOW_UP):.1f}%**.",
        ]
    )


def parser_line() -> str:
    main, holdout = parser_tally(CORPUS, NOW), parser_tally(HOLDOUT, NOW)
    batches, blind = batch_counts(HOLDOUT)
    return (
        f"Through the parser alone (`python -m bench.understanding`): `corpus.tsv` **{100 * main.rate():.1f}%** "
        f"understood ({len(main.wrong)} wrong), follow-ups {100 * main.rate(FOLLOW_UP):.1f}%; "
        f"`corpus_holdout.tsv` (texts written in {batches} batches after the parser was first tuned, the last "
        f"{blind} blind by separate writers who saw only the command table; what they missed at first sight was then "
        f"fixed in general ways) **{100 * holdout.rate():.1f}%** "
        f"({len(holdout.wrong)} wrong)."
    )


def batch_counts(path: Path) -> tuple[int, int]:
    """How many batches the held-out file's comments name ("# Batches 21-22 ..."), and how many of
    them were written blind (from batch 6 on, "# Batches 6-10 ...: written blind")."""
    spans = [re.match(r"# Batches (\d+)-(\d+)", line) for line in path.read_text().splitlines()]
    found = [(int(m.group(1)), int(m.group(2))) for m in spans if m is not None]
    last = max((end for _, end in found), default=0)
    first_blind = min((start for start, _ in found), default=last + 1)
    return last, last - first_blind + 1


def block(path: Path = README) -> str:
    text = path.read_text()
    if START not in text or END not in text:
        return ""
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def write(markdown: str, path: Path = README) -> bool:
    text = path.read_text()
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    path.write_text(f"{head}{START}\n{markdown}\n{END}{rest.split(END, 1)[1]}")
    return True


def run_conversation() -> str:
    """The conversation test's table, from a pytest run of it (it starts the real servers)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "table.md"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "tests/nlu/test_corpus.py::test_conversation_meets_the_targets",
            ],
            cwd=ROOT,
            env={**os.environ, OUT_ENV: str(out)},
            check=False,
            capture_output=True,
            text=True,
        )
        if not out.exists():
            raise SystemExit(f"the conversation run wrote no table:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        return out.read_text()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true", help="update README.md's understanding block")
    args = parser.parse_args()
    markdown = f"{run_conversation().strip()}\n\n{parser_line()}"
    print(markdown)
    if args.write and not write(markdown):
        print(f"no {START} block in {README}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
