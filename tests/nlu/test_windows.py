"""``parse_window``: the forms people type for a time window, and the limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from nlu import WINDOW_MAX, WINDOW_MIN, parse_window

M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


class TestParseWindow:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("15m", 15 * M),
            ("15 m", 15 * M),
            ("1h", H),
            ("1H", H),
            ("90 min", 90 * M),
            ("30 mins", 30 * M),
            ("10 minutes", 10 * M),
            ("2 hours", 2 * H),
            ("2hrs", 2 * H),
            ("2 hr", 2 * H),
            ("1 hour", H),
            ("1d", D),
            ("3 days", 3 * D),
            ("1w", 7 * D),
            ("a week", 7 * D),
            ("last hour", H),
            ("the last hour", H),
            ("past day", D),
            ("last 2 hours", 2 * H),
            ("for the last 30 mins", 30 * M),
            ("an hour", H),
            ("a day", D),
            ("half an hour", 30 * M),
            ("half hour", 30 * M),
            ("two hours", 2 * H),
            ("1.5h", 90 * M),
            ("1.5 hours", 90 * M),
            ("1h30m", 90 * M),
            ("60s", M),
            ("120 seconds", 2 * M),
            ("  6H!! ", 6 * H),
        ],
    )
    def test_forms(self, text: str, expected: timedelta) -> None:
        """Every supported spelling of a window gives its duration."""
        assert parse_window(text) == expected

    @pytest.mark.parametrize("text", ["45s", "59 seconds", "0m", "0.5m", "8d", "169h", "2w", "3 months", "1y"])
    def test_outside_limits_is_none(self, text: str) -> None:
        """Windows shorter than a minute or longer than a week are refused."""
        assert parse_window(text) is None

    @pytest.mark.parametrize("text", ["1m", "7d", "168h", "1w"])
    def test_limits_are_inclusive(self, text: str) -> None:
        """Exactly one minute and exactly seven days are allowed."""
        assert parse_window(text) in (WINDOW_MIN, WINDOW_MAX)

    def test_limit_values(self) -> None:
        """The limits the bot quotes to users."""
        assert (WINDOW_MIN, WINDOW_MAX) == (M, 7 * D)

    @pytest.mark.parametrize(
        "text",
        ["", "h", "hour", "last", "second", "2", "m", "1h30", "1x", "1e5h", "15m api", "logs 1h", "9" * 400 + "h",
         "a", "hours 2", "last m", "1 h h"],
    )  # fmt: skip
    def test_not_a_window(self, text: str) -> None:
        """Anything that is not entirely a window is None (a bare number is a choice, not a window)."""
        assert parse_window(text) is None
