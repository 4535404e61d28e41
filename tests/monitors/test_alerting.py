"""Alert ordering, grouping and SMS wording; the label helpers the adapters share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitors.alerting import (
    filter_alerts,
    format_age,
    format_alert_detail,
    format_alert_list,
    normalise_severity,
    numbered_alerts,
    parse_time,
    sort_alerts,
    strip_port,
    subject_of,
)
from monitors.base import Alert

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def alert(
    name: str,
    severity: str = "warning",
    subject: str = "",
    ago: timedelta | None = timedelta(minutes=5),
    source: str = "alertmanager",
    **extra: str,
) -> Alert:
    return Alert(name, severity, subject, source, NOW - ago if ago else None, **extra)  # type: ignore[arg-type]


class TestLabels:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("critical", "critical"),
            ("PAGE", "critical"),
            ("error", "critical"),
            ("warning", "warning"),
            ("Warn", "warning"),
            ("info", "info"),
            ("none", "info"),
            ("", "info"),
            (None, "info"),
        ],
    )
    def test_severity(self, raw: str | None, expected: str) -> None:
        """Severity labels fold into critical, warning or info."""
        assert normalise_severity(raw) == expected

    @pytest.mark.parametrize(
        ("labels", "expected"),
        [
            ({"alertname": "X", "instance": "api-1:9100", "job": "node"}, "api-1:9100"),
            ({"alertname": "X", "service": "checkout", "job": "node"}, "checkout"),
            ({"alertname": "X", "job": "node", "pod": "p-1"}, "node"),
            ({"alertname": "X", "pod": "web-7d9f"}, "web-7d9f"),
            ({"alertname": "X", "severity": "critical"}, ""),
        ],
    )
    def test_subject(self, labels: dict[str, str], expected: str) -> None:
        """The subject is the most telling label; an instance keeps its port (two exporters, two targets)."""
        assert subject_of(labels) == expected

    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("10.0.0.7:9100", "10.0.0.7"),
            ("api-1:9100", "api-1"),
            ("[::1]:9100", "[::1]"),
            ("::1", "::1"),
            ("api-1", "api-1"),
            ("host:name", "host:name"),
        ],
    )
    def test_strip_port(self, raw: str, expected: str) -> None:
        """Only a numeric port is dropped; bare IPv6 and odd names stay whole."""
        assert strip_port(raw) == expected

    def test_parse_time(self) -> None:
        """Nanosecond RFC 3339 (Prometheus), 'Z', offsets and Go's zero time are handled."""
        assert parse_time("2026-11-26T14:49:40.130317927Z") == datetime(2026, 11, 26, 14, 49, 40, 130317, UTC)
        assert parse_time("2019-09-19T10:05:00+00:00") == datetime(2019, 9, 19, 10, 5, tzinfo=UTC)
        assert parse_time("0001-01-01T00:00:00Z") is None
        assert parse_time("yesterday") is None
        assert parse_time(12) is None


class TestOrder:
    def test_most_severe_then_longest_firing(self) -> None:
        """Critical before warning before info; within a severity the newest first (a 6-second-old
        CRIT is news); unknown start last."""
        alerts = [
            alert("A", "info", ago=timedelta(days=3)),
            alert("B", "warning", ago=timedelta(minutes=1)),
            alert("C", "critical", ago=timedelta(hours=2)),
            alert("D", "warning", ago=None),
            alert("E", "warning", ago=timedelta(hours=1)),
            alert("F", "critical", ago=timedelta(seconds=6)),
        ]
        assert [a.name for a in sort_alerts(alerts)] == ["F", "C", "B", "E", "D", "A"]

    def test_groups_by_name_in_display_order(self) -> None:
        """Alerts sharing a name form one group; Datadog's are never merged with Alertmanager's."""
        alerts = [
            alert("DiskFull", subject="db-1"),
            alert("HighCPU", "critical", "api-1"),
            alert("DiskFull", subject="db-2", ago=timedelta(hours=3)),
            alert("DiskFull", subject="db-3", source="datadog"),
        ]
        groups = numbered_alerts(alerts)
        assert [[(a.name, a.subject) for a in g] for g in groups] == [
            [("HighCPU", "api-1")],
            [("DiskFull", "db-1"), ("DiskFull", "db-2")],
            [("DiskFull", "db-3")],
        ]


class TestAge:
    @pytest.mark.parametrize(
        ("delta", "text"),
        [
            (timedelta(seconds=45), "45s"),
            (timedelta(minutes=12, seconds=59), "12m"),
            (timedelta(hours=3), "3h"),
            (timedelta(hours=36), "36h"),
            (timedelta(days=2, hours=5), "2d"),
            (timedelta(seconds=-5), "0s"),
        ],
    )
    def test_age(self, delta: timedelta, text: str) -> None:
        """Ages read 45s, 12m, 3h, 36h, 2d; a clock skew never goes negative."""
        assert format_age(NOW - delta, NOW) == text

    def test_unknown(self) -> None:
        """No start time, no age."""
        assert format_age(None, NOW) == ""


class TestList:
    def test_example_from_the_issue(self) -> None:
        """Header with the count, numbered lines, grouping with x4 and +2, Datadog marked."""
        alerts = [alert("HighCPU", "critical", "api-1", timedelta(minutes=12))]
        alerts += [alert("DiskFull", "warning", f"db-{i}", timedelta(hours=3, minutes=i)) for i in range(1, 5)]
        alerts += [alert("My monitor", "critical", "host0", timedelta(days=2), source="datadog")]
        assert format_alert_list(alerts, [], NOW).splitlines() == [
            "6 alerts firing:",
            "1 CRIT HighCPU api-1 (12m)",
            "2 CRIT [dd] My monitor host0 (2d)",
            "3 WARN DiskFull x4 (db-1, db-2, +2) (3h)",
        ]

    def test_group_without_subjects(self) -> None:
        """A group whose alerts have no subject still shows its size."""
        text = format_alert_list([alert("Watchdog", "info"), alert("Watchdog", "info")], [], NOW)
        assert text.splitlines()[1] == "1 INFO Watchdog x2 (5m)"

    def test_no_alerts(self) -> None:
        """Nothing firing and every source answered: a plain all-clear."""
        assert format_alert_list([], [], NOW) == "No alerts firing."

    def test_no_alerts_but_a_source_down(self) -> None:
        """Never an all-clear while a source is unreadable."""
        text = format_alert_list([], ["alertmanager: timeout after 3s"], NOW)
        assert text == "No alerts found, but:\nalertmanager DOWN: timeout after 3s"

    @pytest.mark.parametrize(
        ("silenced", "inhibited", "expected"),
        [
            (1, 0, "No alerts firing, 1 silenced."),
            (0, 2, "No alerts firing, 2 inhibited."),
            (3, 1, "No alerts firing, 3 silenced, 1 inhibited."),
            (0, 0, "No alerts firing."),
        ],
    )
    def test_muted_alerts_are_counted(self, silenced: int, inhibited: int, expected: str) -> None:
        """A silence never makes the answer read as all clear without a word."""
        assert format_alert_list([], [], NOW, silenced, inhibited) == expected

    def test_muted_count_beside_firing_ones(self) -> None:
        text = format_alert_list([alert("HighCPU", "critical", "api-1")], [], NOW, silenced=2)
        assert text.splitlines()[0] == "1 alert firing (2 silenced):"

    def test_alerts_and_a_source_down(self) -> None:
        """The failed source is a line after the alerts."""
        text = format_alert_list([alert("HighCPU", "critical", "api-1")], ["datadog: API key rejected"], NOW)
        assert text.splitlines() == ["1 alert firing:", "1 CRIT HighCPU api-1 (5m)", "datadog DOWN: API key rejected"]

    def test_lines_stay_short(self) -> None:
        """Even twenty subjects in one group make a line short enough for one SMS segment."""
        alerts = [alert("DiskFull", subject=f"database-server-{i:02}") for i in range(20)]
        line = format_alert_list(alerts, [], NOW).splitlines()[1]
        assert len(line) < 80 and "+18" in line


class TestFilter:
    ALERTS = [
        alert(
            "HighCPU",
            "critical",
            "api-1:9100",
            labels={"alertname": "HighCPU", "instance": "api-1:9100", "service": "checkout"},
        ),
        alert("DiskFull", "warning", "db-1:9100", labels={"alertname": "DiskFull", "instance": "db-1:9100"}),
        alert("Watchdog", "info", labels={"alertname": "Watchdog"}),
    ]

    @pytest.mark.parametrize(
        ("word", "names"),
        [
            ("crit", ["HighCPU"]),
            ("CRITICAL", ["HighCPU"]),
            ("warn", ["DiskFull"]),
            ("info", ["Watchdog"]),
            ("checkout", ["HighCPU"]),
            ("db-1", ["DiskFull"]),
            ("db-1:9100", ["DiskFull"]),
            ("diskfull", ["DiskFull"]),
            ("nothing", []),
        ],
    )
    def test_by_severity_or_label_value(self, word: str, names: list[str]) -> None:
        """`alerts crit`, `alerts warn`, `alerts <label value>` (an instance matches with or without port)."""
        assert [a.name for a in filter_alerts(self.ALERTS, word)] == names


class TestDetail:
    def test_single(self) -> None:
        """Summary, since, description, labels (minus alertname/severity), source."""
        one = alert(
            "HighCPU",
            "critical",
            "api-1",
            timedelta(minutes=12),
            summary="CPU above 90%",
            description="api-1 has been above 90% CPU for 10 minutes",
            labels={"alertname": "HighCPU", "severity": "critical", "instance": "api-1:9100", "team": "web"},
        )
        assert format_alert_detail([one], NOW).splitlines() == [
            "CRIT HighCPU api-1 (12m)",
            "CPU above 90%",
            "since 14:48 UTC (12m)",
            "api-1 has been above 90% CPU for 10 minutes",
            "instance=api-1:9100 team=web",
            "source: alertmanager",
        ]

    def test_links_come_early_and_whole(self) -> None:
        """runbook_url, dashboard and the rule's host are shown right after the summary; a long
        description gives way (clipped or dropped) so the links fit the budget uncut."""
        runbook = "https://runbooks.example.com/very/long/path/to/the/high-cpu-runbook-page#step-1"
        dashboard = "https://grafana.example.com/d/abc123/node-exporter-full?var-instance=api-1"
        one = alert(
            "HighCPU",
            "critical",
            "api-1",
            summary="CPU above 90%",
            description="word " * 100,
            annotations={"runbook_url": runbook, "dashboard": dashboard},
            generator_url="http://prom-1.internal:9090/graph?g0.expr=up",
        )
        detail = format_alert_detail([one], NOW, max_chars=306)
        lines = detail.splitlines()
        assert lines[2:5] == [f"runbook: {runbook}", f"dashboard: {dashboard}", "rule: prom-1.internal:9090"]
        assert len(detail) <= 306

    def test_a_link_that_does_not_fit_is_left_out_not_cut(self) -> None:
        url = "https://runbooks.example.com/" + "x" * 200
        detail = format_alert_detail([alert("X", annotations={"runbook_url": url})], NOW, max_chars=160)
        assert "runbooks.example.com" not in detail and len(detail) <= 160

    def test_group(self) -> None:
        """A group lists where it fires; an older start shows its date."""
        group = [alert("DiskFull", subject=f"db-{i}", ago=timedelta(days=2)) for i in (1, 2)]
        lines = format_alert_detail(group, NOW).splitlines()
        assert lines[:2] == ["WARN DiskFull x2 (db-1, db-2) (2d)", "on: db-1, db-2"]
        assert "since Nov 24 15:00 UTC (2d)" in lines

    def test_long_text_clipped(self) -> None:
        """Long annotations are clipped, whitespace folded."""
        one = alert("X", description="word " * 200)
        detail = format_alert_detail([one], NOW)
        assert all(len(line) <= 200 for line in detail.splitlines()) and "..." in detail

    def test_empty(self) -> None:
        """An out-of-range item number gives a plain line, not an IndexError."""
        assert format_alert_detail([], NOW) == "No such alert."
