"""format_logs: the SMS wording of a logs answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitors.base import LogLine, LogResult
from monitors.log_format import format_logs, short_time, trim, window_text

NOW = datetime(2024, 5, 2, 14, 5, tzinfo=UTC)


def at(hour: int, minute: int, day: int = 2) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC)


class TestFormatLogs:
    def test_count_and_latest_lines(self) -> None:
        """Summary line first, then one line per message with a short time."""
        result = LogResult(
            "web",
            timedelta(hours=1),
            37,
            [LogLine(at(14, 2), "payment timeout"), LogLine(at(13, 58), "db pool exhausted")],
        )
        assert format_logs(result, NOW) == "web, last 1h: 37 errors.\n14:02 payment timeout\n13:58 db pool exhausted"

    def test_repeats_collapse_into_newest(self) -> None:
        """Identical messages fold into the newest occurrence with a count, even when interleaved."""
        lines = (
            [LogLine(at(14, 2), "payment timeout")] * 3
            + [LogLine(at(14, 1), "disk full")]
            + [LogLine(at(14, 0), "payment  timeout ")] * 9
        )
        text = format_logs(LogResult("web", timedelta(hours=1), 13, lines), NOW)
        assert text.splitlines() == ["web, last 1h: 13 errors.", "14:02 payment timeout x12", "14:01 disk full"]

    def test_empty_window(self) -> None:
        assert format_logs(LogResult("api", timedelta(minutes=15), 0, []), NOW) == "api, last 15m: no errors."

    def test_one_error_is_singular(self) -> None:
        text = format_logs(LogResult("api", timedelta(hours=6), 1, [LogLine(at(14, 0), "boom")]), NOW)
        assert text.startswith("api, last 6h: 1 error.\n")

    def test_lists_all_fetched_lines(self) -> None:
        """More lines than one SMS holds: the pager cuts them, the formatter keeps them all."""
        lines = [LogLine(at(13, i), f"error number {i}") for i in range(30)]
        assert len(format_logs(LogResult("api", timedelta(hours=1), 30, lines), NOW).splitlines()) == 31

    def test_only_gsm7_added(self) -> None:
        """Trimming uses '...' (GSM-7), not the ellipsis character that would force UCS-2."""
        text = format_logs(LogResult("api", timedelta(hours=1), 1, [LogLine(at(14, 0), "x" * 300)]), NOW)
        assert text.endswith("...") and "\u2026" not in text
        assert len(text.splitlines()[1]) == len("14:00 ") + 80


class TestParts:
    @pytest.mark.parametrize(
        ("window", "text"),
        [
            (timedelta(minutes=15), "15m"),
            (timedelta(hours=1), "1h"),
            (timedelta(minutes=90), "90m"),
            (timedelta(hours=24), "24h"),
            (timedelta(days=2), "2d"),
            (timedelta(seconds=45), "45s"),
            (timedelta(seconds=23148), "6h25m"),
            (timedelta(hours=32, minutes=5, seconds=9), "32h5m"),
            (timedelta(days=2, hours=3, minutes=4), "2d3h"),
            (timedelta(minutes=119, seconds=30), "119m"),
        ],
    )
    def test_window_text(self, window: timedelta, text: str) -> None:
        assert window_text(window) == text

    def test_short_time_other_day_and_zone(self) -> None:
        """An older day shows the date; times are shown in `now`'s zone."""
        assert short_time(at(23, 50, day=1), NOW) == "May01 23:50"
        cest = timezone(timedelta(hours=2))
        assert short_time(at(14, 2), NOW.astimezone(cest)) == "16:02"

    def test_trim_squeezes_whitespace(self) -> None:
        assert trim("  a\n\tb   c ") == "a b c"
