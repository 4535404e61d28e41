"""`status` wording: problems first, most severe first, sources DOWN, "All clear" only when true."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitors.alerting import sort_alerts
from monitors.base import Alert, Health, Problem
from monitors.rollup import (
    ONE_SEGMENT,
    TWO_SEGMENTS,
    alert_problems,
    degraded_problems,
    fold_alerts,
    format_status,
    septets,
)

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
ALL = [Health(name, True) for name in ("prometheus", "alertmanager", "postgres", "pgbouncer", "haproxy", "kong")]


def alert(name: str, severity: str, subject: str, minutes: int) -> Alert:
    return Alert(name, severity, subject, "alertmanager", NOW - timedelta(minutes=minutes))


class TestAllClear:
    def test_all_clear_names_the_sources_in_one_segment(self) -> None:
        text = format_status([], ALL)
        assert text == ("All clear: 6/6 sources ok (prometheus, alertmanager, postgres, pgbouncer, haproxy, kong).")
        assert septets(text) <= ONE_SEGMENT

    def test_many_sources_drop_the_names_not_the_segment(self) -> None:
        many = [Health(f"monitor-number-{i}", True) for i in range(12)]
        text = format_status([], many)
        assert text == "All clear: 12/12 sources ok." and septets(text) <= ONE_SEGMENT

    def test_silenced_alerts_are_said_even_when_clear(self) -> None:
        assert format_status([], ALL[:1], silenced=2) == "All clear: 1/1 sources ok, 2 silenced (prometheus)."

    def test_a_source_down_is_never_all_clear(self) -> None:
        healths = [*ALL[:5], Health("kong", False, "connection refused")]
        assert format_status([], healths) == (
            "DOWN kong: connection refused\n"
            "no problems found in the others; 5/6 sources ok "
            "(prometheus, alertmanager, postgres, pgbouncer, haproxy)"
        )


class TestProblems:
    def test_most_severe_first_then_sources_down(self) -> None:
        problems = [
            Problem("warn", "pgbouncer", "pgbouncer appdb/app: 2 clients waiting"),
            Problem("crit", "prometheus", "target 10.0.0.7:9100 (node) down 2m"),
        ]
        healths = [*ALL[:5], Health("kong", False, "timeout after 3s")]
        assert format_status(problems, healths).splitlines() == [
            "CRIT target 10.0.0.7:9100 (node) down 2m",
            "WARN pgbouncer appdb/app: 2 clients waiting",
            "DOWN kong: timeout after 3s",
            "5/6 sources ok (prometheus, alertmanager, postgres, pgbouncer, haproxy)",
        ]

    def test_too_many_problems_fit_two_segments_problems_first(self) -> None:
        problems = [
            Problem("warn", "haproxy", f"haproxy be_{i}: 1/2 up (srv{i} DOWN L4CON Connection refused, 3m)")
            for i in range(10)
        ]
        problems.append(Problem("crit", "prometheus", "target 10.0.0.7:9100 (node) down 2m"))
        healths = [*ALL[:5], Health("kong", False, "timeout after 3s")]
        text = format_status(problems, healths)
        lines = text.splitlines()
        assert septets(text) <= TWO_SEGMENTS
        assert lines[0] == "CRIT target 10.0.0.7:9100 (node) down 2m"
        assert lines[-2].startswith("+") and lines[-2].endswith(" more: haproxy, kong"), lines
        assert lines[-1] == "5/6 sources ok"
        shown = len(lines) - 2
        assert int(lines[-2][1:].split()[0]) == len(problems) + 1 - shown  # the DOWN line is counted too

    def test_alerts_summarised_per_severity_newest_named(self) -> None:
        alerts = sort_alerts(
            [
                alert("DiskFull", "warning", "db-1:9100", 180),
                alert("HighCPU", "critical", "api-1", 30),
                alert("TargetDown", "critical", "10.0.0.7:9100", 1),
                alert("Info", "info", "x", 1),
            ]
        )
        assert [(p.severity, p.text) for p in alert_problems(alerts, NOW)] == [
            ("crit", "2 alerts: TargetDown 10.0.0.7:9100 (1m) +1"),
            ("warn", "alert DiskFull db-1:9100 (3h)"),
        ]
        status = format_status(alert_problems(alerts, NOW), [Health("alertmanager", True, "ok")])
        assert status.splitlines()[:2] == [
            "CRIT 2 alerts: TargetDown 10.0.0.7:9100 (1m) +1",
            "WARN alert DiskFull db-1:9100 (3h)",
        ]  # the severity said once

    def test_an_alert_about_a_target_shown_down_is_said_on_its_line(self) -> None:
        """TargetDown for the target the line shows down is one fact: said once, the alert named;
        an alert about anything else keeps its own line."""
        alerts = sort_alerts(
            [alert("TargetDown", "critical", "10.0.0.7:9100", 1), alert("HighCPU", "critical", "api-1", 5)]
        )
        target = Problem("crit", "prometheus", "target 10.0.0.7:9100 (node) down 2m", "10.0.0.7:9100")
        kept, problems = fold_alerts(alerts, [target])
        status = format_status(alert_problems(kept, NOW) + problems, [Health("prometheus", True, "ok")])
        assert status.splitlines()[:2] == [
            "CRIT alert HighCPU api-1 (5m)",
            "CRIT target 10.0.0.7:9100 (node) down 2m, alert TargetDown",
        ]
        assert status.count("10.0.0.7:9100") == 1

    def test_an_alert_matched_by_its_instance_label(self) -> None:
        labelled = Alert("NodeDown", "warning", "node", "alertmanager", labels={"instance": "10.0.0.7:9100"})
        target = Problem("crit", "prometheus", "target 10.0.0.7:9100 (node) down 2m", "10.0.0.7:9100")
        kept, problems = fold_alerts([labelled], [target])
        assert kept == [] and problems[0].text.endswith(", alert NodeDown")

    def test_degraded_health_is_a_warning(self) -> None:
        """Elasticsearch yellow (ok but degraded) becomes a WARN line; a version note does not."""
        healths = [
            Health("elasticsearch", True, "cluster yellow (replicas unassigned)", degraded=True),
            Health("prometheus", True, "v2.42.0"),
        ]
        problems = degraded_problems(healths)
        assert format_status(problems, healths).splitlines() == [
            "WARN elasticsearch: cluster yellow (replicas unassigned)",
            "2/2 sources ok (elasticsearch, prometheus)",
        ]
