"""`operator check` runs every metric alias once against the real Prometheus: a malformed PromQL
alias fails the check (exit 1) and is named, before anyone asks for it at night."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.bot.test_cli import OPERATOR, run_env
from tests.servers.prometheus import MonitoringStack

pytestmark = pytest.mark.integration


def check(
    tmp_path: Path, stack: MonitoringStack, aliases: dict[str, object] | None = None
) -> subprocess.CompletedProcess[str]:
    extra = {"METRIC_ALIASES": json.dumps(aliases)} if aliases else {}
    return subprocess.run(
        [OPERATOR, "check"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=run_env(PROMETHEUS_URL=stack.prometheus_url, MONITOR_TIMEOUT_S="5", **extra),
        check=False,
    )


def test_every_default_alias_answers(tmp_path: Path, monitoring_stack: MonitoringStack) -> None:
    out = check(tmp_path, monitoring_stack)
    assert out.returncode == 0, out.stdout + out.stderr
    assert re.search(r"^ok   prometheus ", out.stdout, re.MULTILINE)
    assert "5/5 metric aliases answer" in out.stdout


def test_a_malformed_alias_fails_the_check(tmp_path: Path, monitoring_stack: MonitoringStack) -> None:
    """Prometheus's parser rejects the alias: its name and the parse error are printed, exit 1."""
    out = check(tmp_path, monitoring_stack, {"broken": {"query": "sum(rate(node_cpu_seconds_total[1m])"}})
    assert out.returncode == 1, out.stdout + out.stderr
    assert re.search(r"^FAIL metric alias broken: query error: .*parse error", out.stdout, re.MULTILINE), out.stdout
    assert "5/6 metric aliases answer" in out.stdout
