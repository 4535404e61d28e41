"""``parse_window``: the forms people type for a time window, and the limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from nlu import WINDOW_MAX, WINDOW_MIN, parse_window
from nlu.windows import match_window

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
            ("thirty mins", 30 * M),
            ("90 minutes", 90 * M),
            ("forty-five minutes", 45 * M),
            ("an hour and a half", 90 * M),
            ("hour and a half", 90 * M),
            ("two and a half hours", 150 * M),
            ("a couple of hours", 2 * H),
            ("in the past 10 min", 10 * M),
            ("during the last hour", H),
            ("prev 12 hrs", 12 * H),
            ("last 15", 15 * M),
            ("past 30", 30 * M),
        ],
    )
    def test_forms(self, text: str, expected: timedelta) -> None:
        """Every supported spelling of a window gives its duration."""
        assert parse_window(text) == expected

    @pytest.mark.parametrize(
        ("text", "broken"),
        [("45s", "too short"), ("59 seconds", "too short"), ("0m", "too short"), ("0.5m", "too short"),
         ("30s", "too short"), ("8d", "too long"), ("169h", "too long"), ("2w", "too long"),
         ("2 weeks", "too long"), ("90d", "too long"), ("3 months", "too long"), ("a month", "too long"),
         ("1y", "too long"), ("last 3 months", "too long")],
    )  # fmt: skip
    def test_outside_limits_is_recognised_and_refused(self, text: str, broken: str) -> None:
        """Too short or too long is still a window (so the bot can say why), never a duration."""
        found = match_window(text)
        assert found is not None
        assert found.out_of_range == broken
        assert parse_window(text) is None

    @pytest.mark.parametrize(
        ("text", "limit"),
        [("1m", WINDOW_MIN), ("60s", WINDOW_MIN), ("7d", WINDOW_MAX), ("168h", WINDOW_MAX), ("1w", WINDOW_MAX)],
    )
    def test_limits_are_inclusive(self, text: str, limit: timedelta) -> None:
        """Exactly one minute and exactly seven days are allowed, each its own limit."""
        assert parse_window(text) == limit

    def test_limit_values(self) -> None:
        """The limits the bot quotes to users."""
        assert (WINDOW_MIN, WINDOW_MAX) == (M, 7 * D)

    @pytest.mark.parametrize(
        "text",
        ["", "h", "hour", "last", "second", "2", "m", "1h30", "1x", "1e5h", "15m api", "logs 1h", "9" * 400 + "h",
         "a", "hours 2", "last m", "1 h h", "last 2", "last 0"],
    )  # fmt: skip
    def test_not_a_window(self, text: str) -> None:
        """Anything that is not entirely a window is None (a bare number is a choice, not a window)."""
        assert parse_window(text) is None


NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


class TestClockAnchors:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("since 2am", 7 * H + 30 * M), ("since 2 am", 7 * H + 30 * M), ("since 8:30", H),
         ("since 8:30am", H), ("since 14:00", 19 * H + 30 * M), ("since 11pm", 10 * H + 30 * M),
         ("since 2:15pm", 19 * H + 15 * M), ("since midnight", 9 * H + 30 * M), ("since noon", 21 * H + 30 * M),
         ("today", 9 * H + 30 * M), ("since today", 9 * H + 30 * M), ("yesterday", D + 9 * H + 30 * M),
         ("since yesterday", D + 9 * H + 30 * M)],
    )  # fmt: skip
    def test_span_from_then_to_now(self, text: str, expected: timedelta) -> None:
        """A clock time is today's if it has passed, else yesterday's; today/yesterday start at 00:00."""
        assert parse_window(text, NOW) == expected

    def test_zone_is_that_of_now(self) -> None:
        """Clock times are read in the zone of the ``now`` passed in."""
        paris = timezone(timedelta(hours=1))
        assert parse_window("since 2am", NOW.astimezone(paris)) == 8 * H + 30 * M

    def test_just_now_is_too_short(self) -> None:
        """'since 9:30' at 09:30:20 spans 20 seconds: recognised, refused as too short."""
        found = match_window("since 9:30", NOW + timedelta(seconds=20))
        assert found is not None and found.out_of_range == "too short"

    @pytest.mark.parametrize(
        "text",
        [
            "since 2",
            "since 25:00",
            "since 13pm",
            "since 9:75",
            "since",
            "2am",
            "since banana",
            "overnight",
            "since 0am",
        ],
    )
    def test_not_a_clock_window(self, text: str) -> None:
        """A bare number after 'since', impossible times, and a clock time without 'since' are not windows."""
        assert match_window(text, NOW) is None
