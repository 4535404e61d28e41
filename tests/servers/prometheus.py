"""Real node-exporter, Alertmanager and Prometheus on free loopback ports, once per session.

Prometheus scrapes node-exporter and itself every second and evaluates one always-firing
rule (`AlwaysFiring`, severity warning) that it pushes to Alertmanager. The fixture is
ready only once node-exporter has been scraped often enough for `rate()` to answer and the
alert has reached Alertmanager, so tests never poll for start-up themselves.

Fixtures: `monitoring_stack` (session; the servers and direct-API helpers),
`prometheus_monitor` and `alertmanager_monitor` (per test; our adapters pointed at them).
Use from conftest: ``pytest_plugins = ["tests.servers.prometheus"]``.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitors.alertmanager import AlertmanagerMonitor
from monitors.config import MonitorSettings
from monitors.prometheus import PrometheusMonitor
from tests.servers.common import free_port, need_binary, start, stop, wait_until

ALERT_NAME = "AlwaysFiring"

_RULES = f"""\
groups:
  - name: operator-tests
    rules:
      - alert: {ALERT_NAME}
        expr: vector(1) > 0
        labels: {{severity: warning, team: ops, service: checkout}}
        annotations:
          summary: Test alert that always fires
          description: vector(1) > 0 is always true
"""


@dataclass(frozen=True)
class MonitoringStack:
    prometheus_url: str
    alertmanager_url: str
    node_exporter_url: str
    node_instance: str  # the `instance` label Prometheus gives node-exporter ("127.0.0.1:PORT")
    prometheus_instance: str
    textfile_dir: Path  # drop *.prom files here to add metrics to node-exporter
    startup_s: float  # Prometheus start until the alert is visible in Alertmanager

    def prom_query(self, promql: str) -> list[dict[str, Any]]:
        """Ask Prometheus directly (not through our adapter): the reference the tests compare with."""
        body = httpx.get(f"{self.prometheus_url}/api/v1/query", params={"query": promql}, timeout=5).json()
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def am_alerts(self, **params: str) -> list[dict[str, Any]]:
        """Alertmanager's own answer for its active, unsilenced alerts."""
        query = {"active": "true", "silenced": "false", "inhibited": "false", **params}
        alerts: list[dict[str, Any]] = httpx.get(
            f"{self.alertmanager_url}/api/v2/alerts", params=query, timeout=5
        ).json()
        return alerts


def _ok(url: str) -> bool:
    return httpx.get(url, timeout=1).status_code == 200


def _node_rate_ready(prom: str, node_instance: str) -> bool:
    # rate() needs two samples of node-exporter inside the window: wait for them so the
    # cpu alias answers from the first test on.
    query = f'rate(node_cpu_seconds_total{{instance="{node_instance}",mode="idle"}}[1m])'
    body = httpx.get(f"{prom}/api/v1/query", params={"query": query}, timeout=1).json()
    return bool(body["data"]["result"])


def _alert_in_alertmanager(am: str) -> bool:
    alerts = httpx.get(f"{am}/api/v2/alerts", params={"filter": f'alertname="{ALERT_NAME}"'}, timeout=1).json()
    return len(alerts) > 0


class _Shared:
    """The one running stack of this test process and how many fixture definitions hold it.

    Test modules re-export the fixture until conftest lists this plugin; each re-export is
    its own fixture definition with its own session cache, and without this they would
    each start a stack.
    """

    stack: MonitoringStack | None = None
    users = 0
    exit = contextlib.ExitStack()


@pytest.fixture(scope="session")
def monitoring_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoringStack]:
    """node-exporter + Alertmanager + Prometheus, started once and stopped at session end."""
    if _Shared.stack is None:
        _Shared.stack = _Shared.exit.enter_context(_running_stack(tmp_path_factory))
    _Shared.users += 1
    try:
        yield _Shared.stack
    finally:
        _Shared.users -= 1
        if _Shared.users == 0:
            _Shared.stack = None
            _Shared.exit.close()


@contextlib.contextmanager
def _running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonitoringStack]:
    node_bin = need_binary("/usr/bin/prometheus-node-exporter")
    am_bin = need_binary("/usr/bin/prometheus-alertmanager")
    prom_bin = need_binary("/usr/bin/prometheus")
    base = tmp_path_factory.mktemp("monitoring")
    for sub in ("textfile", "am-data", "prom-data"):
        (base / sub).mkdir()
    node_port, am_port, prom_port = free_port(), free_port(), free_port()
    node_url, am_url, prom_url = (f"http://127.0.0.1:{p}" for p in (node_port, am_port, prom_port))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        log = base / "node_exporter.log"
        procs.append(
            proc := start(
                [
                    node_bin,
                    f"--web.listen-address=127.0.0.1:{node_port}",
                    f"--collector.textfile.directory={base / 'textfile'}",
                ],
                log,
            )
        )
        wait_until(lambda: _ok(f"{node_url}/metrics"), 20, proc, "node-exporter", log)

        (base / "alertmanager.yml").write_text(
            "route: {receiver: 'null', group_by: [alertname], group_wait: 1s, group_interval: 5s,"
            " repeat_interval: 1h}\nreceivers: [{name: 'null'}]\n"
        )
        log = base / "alertmanager.log"
        procs.append(
            proc := start(
                [
                    am_bin,
                    f"--config.file={base / 'alertmanager.yml'}",
                    f"--storage.path={base / 'am-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                log,
            )
        )  # empty: no gossip port
        wait_until(lambda: _ok(f"{am_url}/-/ready"), 20, proc, "alertmanager", log)

        (base / "rules.yml").write_text(_RULES)
        (base / "prometheus.yml").write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{base / 'rules.yml'}']\n"
            f"alerting: {{alertmanagers: [{{static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]}}]}}\n"
            "scrape_configs:\n"
            f"  - {{job_name: prometheus, static_configs: [{{targets: ['127.0.0.1:{prom_port}']}}]}}\n"
            f"  - {{job_name: node, static_configs: [{{targets: ['127.0.0.1:{node_port}']}}]}}\n"
        )
        log = base / "prometheus.log"
        t0 = time.monotonic()
        # resend-delay: alerts evaluated before the notifier has found Alertmanager are
        # dropped; with the default 1m the first one would arrive only a minute later.
        procs.append(
            proc := start(
                [
                    prom_bin,
                    f"--config.file={base / 'prometheus.yml'}",
                    f"--storage.tsdb.path={base / 'prom-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    "--rules.alert.resend-delay=2s",
                ],
                log,
            )
        )
        wait_until(lambda: _ok(f"{prom_url}/-/ready"), 30, proc, "prometheus", log)
        node_instance = f"127.0.0.1:{node_port}"
        wait_until(lambda: _node_rate_ready(prom_url, node_instance), 30, proc, "node-exporter scrape", log)
        wait_until(lambda: _alert_in_alertmanager(am_url), 40, proc, "alert delivery to alertmanager", log)
        yield MonitoringStack(
            prom_url,
            am_url,
            node_url,
            node_instance,
            f"127.0.0.1:{prom_port}",
            base / "textfile",
            time.monotonic() - t0,
        )
    finally:
        for proc in reversed(procs):
            stop(proc)


def monitor_settings(**values: Any) -> MonitorSettings:
    """Settings from the given values only: no .env file, and passed values beat the environment."""
    return MonitorSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def prometheus_monitor(monitoring_stack: MonitoringStack) -> AsyncIterator[PrometheusMonitor]:
    monitor = PrometheusMonitor.from_settings(monitor_settings(prometheus_url=monitoring_stack.prometheus_url))
    assert monitor is not None
    yield monitor
    await monitor.aclose()


@pytest.fixture
async def alertmanager_monitor(monitoring_stack: MonitoringStack) -> AsyncIterator[AlertmanagerMonitor]:
    monitor = AlertmanagerMonitor.from_settings(monitor_settings(alertmanager_url=monitoring_stack.alertmanager_url))
    assert monitor is not None
    yield monitor
    await monitor.aclose()
