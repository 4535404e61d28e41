"""`status`, `alerts` and `metrics` facts against a Prometheus + Alertmanager + node-exporter of
this module's own, with node-exporter killed for real (SIGKILL): the target goes down in
Prometheus's `up`, its `TargetDown` rule fires (critical, with runbook and dashboard
annotations) and reaches Alertmanager, where a test silences it through the real API.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from monitors.alerting import format_alert_detail, format_alert_list, gather_alerts, numbered_alerts
from monitors.alertmanager import AlertmanagerMonitor
from monitors.aliases import DEFAULT_ALIASES
from monitors.metric_format import format_metric
from monitors.prometheus import PrometheusMonitor
from monitors.registry import Monitors
from monitors.rollup import format_status
from tests.servers.trouble import DASHBOARD, RUNBOOK, TroubleStack, trouble_stack  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


def poll(check: object, what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    pytest.fail(f"never happened: {what}")


@pytest.fixture(scope="module")
def node_down(trouble_stack: TroubleStack) -> Iterator[TroubleStack]:
    """node-exporter killed; ready once Prometheus says up == 0 and Alertmanager has TargetDown."""
    # rate() needs two samples before the kill, or `metrics cpu` has no row to mark stale.
    poll(lambda: trouble_stack.query(DEFAULT_ALIASES["cpu"].query), "a cpu rate for the node")
    trouble_stack.kill_node()
    try:
        poll(lambda: trouble_stack.up() == 0.0, "Prometheus seeing the target down")
        poll(lambda: "TargetDown" in trouble_stack.am_alert_names(), "TargetDown reaching Alertmanager")
        yield trouble_stack
    finally:
        trouble_stack.start_node()


@pytest.fixture
async def monitors(trouble_stack: TroubleStack) -> AsyncIterator[Monitors]:
    prometheus = PrometheusMonitor(trouble_stack.prometheus_url, httpx.AsyncClient(timeout=3), 3)
    alertmanager = AlertmanagerMonitor(trouble_stack.alertmanager_url, httpx.AsyncClient(timeout=3), 3)
    built = Monitors([prometheus, alertmanager], DEFAULT_ALIASES)
    yield built
    await built.aclose()


class TestAllWell:
    async def test_status_is_all_clear_in_one_segment(self, monitors: Monitors, trouble_stack: TroubleStack) -> None:
        """node-exporter up and no alert firing: "All clear", one segment."""
        poll(lambda: trouble_stack.up() == 1.0 and not trouble_stack.am_alert_names(active="true"), "a quiet stack")
        survey = await monitors.survey()
        text = format_status(survey.problems, survey.healths, silenced=survey.silenced)
        assert text == "All clear: 2/2 sources ok (prometheus, alertmanager)."


class TestNodeExporterKilled:
    async def test_status_names_the_target_and_the_alert(self, monitors: Monitors, node_down: TroubleStack) -> None:
        """The target down (with its port) leads the answer with the critical alert about it said on
        the same line (one fact, once); both sources ok."""
        survey = await monitors.survey()
        text = format_status(survey.problems, survey.healths)
        lines = text.splitlines()
        target = re.escape(node_down.node_instance)
        assert re.fullmatch(rf"CRIT target {target} \(node\) down \d+s, alert TargetDown", lines[0]), text
        assert text.count(node_down.node_instance) == 1, text
        assert lines[-1] == "2/2 sources ok (prometheus, alertmanager)"
        assert len(text) <= 306 and text.isascii()

    async def test_metrics_mark_the_dead_target_stale(self, monitors: Monitors, node_down: TroubleStack) -> None:
        """The cpu rate still has a value for a minute after the exporter died: it is marked stale."""
        prometheus = monitors.by_name("prometheus")
        assert isinstance(prometheus, PrometheusMonitor)
        result = await prometheus.query_metric(DEFAULT_ALIASES["cpu"])
        if not result.series:
            pytest.fail("the rate window already dropped the dead target; the stack started too slowly")
        [row] = result.series
        assert row.stale_s is not None and row.stale_s > 0
        assert " (stale " in format_metric(result).splitlines()[1]

    async def test_empty_metric_says_its_target_is_down(self, monitors: Monitors, node_down: TroubleStack) -> None:
        """`mem` with node-exporter dead: not a bare "no data" but which target of its job is down."""
        prometheus = monitors.by_name("prometheus")
        assert isinstance(prometheus, PrometheusMonitor)
        result = await prometheus.query_metric(DEFAULT_ALIASES["memory"])
        assert result.series == []
        assert re.fullmatch(rf"target {re.escape(node_down.node_instance)} node down \d+[sm]\+?", result.why_empty)
        assert format_metric(result).endswith(f" no data ({result.why_empty})")
        up = await prometheus.query_metric(DEFAULT_ALIASES["up"])
        assert up.series and up.why_empty == ""  # an answer with rows needs no excuse

    async def test_alert_detail_carries_runbook_and_dashboard(
        self, monitors: Monitors, node_down: TroubleStack
    ) -> None:
        """The runbook_url and dashboard annotations and the rule's host are in `alerts 1`, uncut."""
        book = await gather_alerts(monitors.with_capability("alerts"))
        listing = format_alert_list(book.alerts, book.errors, datetime.now(UTC))
        assert listing.splitlines()[1].startswith(f"1 CRIT TargetDown {node_down.node_instance}")
        detail = format_alert_detail(numbered_alerts(book.alerts)[0], datetime.now(UTC))
        assert f"runbook: {RUNBOOK}" in detail.splitlines()
        assert f"dashboard: {DASHBOARD}" in detail.splitlines()
        assert any(line.startswith("rule: ") for line in detail.splitlines())

    async def test_silenced_alert_is_counted(self, monitors: Monitors, node_down: TroubleStack) -> None:
        """Silenced through Alertmanager's own API: gone from the list, but "1 silenced" is said."""
        now = datetime.now(UTC)
        body = {
            "matchers": [{"name": "alertname", "value": "TargetDown", "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(minutes=10)).isoformat(),
            "createdBy": "operator-tests",
            "comment": "silence test",
        }
        async with httpx.AsyncClient(base_url=node_down.alertmanager_url, timeout=5) as am:
            silence = (await am.post("/api/v2/silences", json=body)).json()["silenceID"]
            try:
                for _ in range(100):  # Alertmanager applies a silence within a moment (bounded poll)
                    book = await gather_alerts(monitors.with_capability("alerts"))
                    if book.silenced:
                        break
                    await asyncio.sleep(0.1)
                survey = await monitors.survey()
            finally:
                await am.delete(f"/api/v2/silence/{silence}")
        assert (book.alerts, book.silenced) == ([], 1)
        assert format_alert_list(book.alerts, book.errors, now, book.silenced) == "No alerts firing, 1 silenced."
        # status still names the target (Prometheus's `up` is not silenced) and the muted alert
        text = format_status(survey.problems, survey.healths, silenced=survey.silenced)
        assert text.splitlines()[0].startswith(f"CRIT target {node_down.node_instance} (node) down")
        assert text.splitlines()[-1] == "2/2 sources ok, 1 silenced (prometheus, alertmanager)"


class TestPostedAlert:
    async def test_alert_posted_to_alertmanager_shows_its_links(
        self, monitors: Monitors, trouble_stack: TroubleStack
    ) -> None:
        """An alert posted straight to Alertmanager's API with runbook_url, grafana and a
        generatorURL: `alerts` lists it (instance with port), the detail carries every link whole."""
        now = datetime.now(UTC)
        runbook = "https://wiki.example.com/runbooks/disk-full#free-space"
        grafana = "https://grafana.example.com/d/disk?var-host=db-7:9100"
        alert = {
            "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-7:9100"},
            "annotations": {"summary": "/var is 97% full", "runbook_url": runbook, "grafana": grafana},
            "generatorURL": "http://prom-eu-1.example.com:9090/graph?g0.expr=disk",
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(minutes=5)).isoformat(),
        }
        async with httpx.AsyncClient(base_url=trouble_stack.alertmanager_url, timeout=5) as am:
            (await am.post("/api/v2/alerts", json=[alert])).raise_for_status()
        for _ in range(100):  # Alertmanager lists a posted alert at once; poll (bounded) anyway
            book = await gather_alerts(monitors.with_capability("alerts"))
            if any(a.name == "DiskFull" for a in book.alerts):
                break
            await asyncio.sleep(0.1)
        groups = numbered_alerts(book.alerts)
        [group] = [g for g in groups if g[0].name == "DiskFull"]
        detail = format_alert_detail(group, datetime.now(UTC)).splitlines()
        assert re.fullmatch(r"CRIT DiskFull db-7:9100 \(\d+s\)", detail[0]) and detail[1] == "/var is 97% full"
        assert detail[2:5] == [f"runbook: {runbook}", f"grafana: {grafana}", "rule: prom-eu-1.example.com:9090"]


class TestFrozenHttpBackend:
    async def test_status_answers_within_the_deadline_and_names_the_frozen_one(
        self, trouble_stack: TroubleStack
    ) -> None:
        """Prometheus SIGSTOPped (it accepts connections, answers nothing): `status` returns within
        MONITOR_TIMEOUT_S + 0.5 s naming it, Alertmanager still answers; resumed, all is well."""
        timeout_s = 1.0
        prometheus = PrometheusMonitor(trouble_stack.prometheus_url, httpx.AsyncClient(timeout=timeout_s), timeout_s)
        alertmanager = AlertmanagerMonitor(
            trouble_stack.alertmanager_url, httpx.AsyncClient(timeout=timeout_s), timeout_s
        )
        monitors = Monitors([prometheus, alertmanager])
        try:
            with trouble_stack.frozen("prometheus"):
                started = time.monotonic()
                survey = await monitors.survey()
                elapsed = time.monotonic() - started
            health = {h.monitor: h for h in survey.healths}
            assert elapsed < timeout_s + 0.5, elapsed
            assert (health["prometheus"].ok, health["prometheus"].reason) == (False, "timeout after 1s")
            assert health["alertmanager"].ok
            assert all(h.ok for h in (await monitors.survey()).healths)
        finally:
            await monitors.aclose()
