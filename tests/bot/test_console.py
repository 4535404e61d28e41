"""`operator chat` in process: the console's own promises (the CLI subprocess tests are in test_cli.py)."""

from __future__ import annotations

import io

from bot import console
from tests.conftest import make_settings
from tests.phone import NUMBERS


def test_a_piped_script_is_not_rate_limited() -> None:
    """25 lines piped at a limit of 20 a minute: 25 answers, no "Slow down" (one person at a keyboard)."""
    settings = make_settings(rate_limit_per_min=20, host_monitor="off")
    out = io.StringIO()
    assert console.run(settings, NUMBERS[0], stdin=io.StringIO("help\n" * 25), out=out) == 0
    replies = out.getvalue().splitlines()
    assert not any("Slow down" in line for line in replies), replies
    assert len(replies) == 25 and all(line.startswith("Ops desk: status") for line in replies), replies
