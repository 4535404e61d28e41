"""status, metrics and alerts by SMS against real Prometheus, Alertmanager and node-exporter.

Numbers in the replies are compared with what the servers' own APIs say.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from quart import Quart

from bot.sms import segment_info
from tests.apps import SmsApp
from tests.phone import NUMBERS, Phone
from tests.servers.prometheus import ALERT_NAME, MonitoringStack
from tests.servers.trouble import DASHBOARD, RUNBOOK, TroubleStack, trouble_stack  # noqa: F401 - fixture

pytestmark = pytest.mark.integration


@pytest.fixture
async def app(sms_app: SmsApp, monitoring_stack: MonitoringStack) -> AsyncIterator[Quart]:
    async with sms_app(
        prometheus_url=monitoring_stack.prometheus_url,
        alertmanager_url=monitoring_stack.alertmanager_url,
        monitor_timeout_s=3,
    ) as application:
        yield application


@pytest.fixture
def phone(app: Quart) -> Phone:
    return Phone(app.test_client(), NUMBERS[0])


async def test_status_rolls_up_the_firing_alert(phone: Phone, monitoring_stack: MonitoringStack) -> None:
    """The stack's always-firing warning is the one problem (as many as Alertmanager has active);
    both sources are ok; one segment."""
    reply = await phone.text("stauts")
    active = len(monitoring_stack.am_alerts())
    head, more = (f"{active} alerts: ", rf" \+{active - 1}") if active > 1 else ("alert ", "")
    assert re.fullmatch(
        rf"WARN {head}{ALERT_NAME} checkout \(\d+[smh]\){more}\n"
        r"2/2 sources ok(, \d+ silenced)? \(prometheus, alertmanager\)",
        reply,
    ), reply
    assert segment_info(reply).segments == 1


async def test_alerts_filters(phone: Phone) -> None:
    """`alerts warn` and `alerts checkout` (a label value) keep the warning; `alerts crit` has none."""
    await phone.expect("alerts warn", rf"^warn: 1 alert firing:\n1 WARN {ALERT_NAME} checkout")
    await phone.expect("alerts checkout", rf"^checkout: 1 alert firing:\n1 WARN {ALERT_NAME}")
    assert await phone.text("alerts crit") == "No alerts match crit (1 firing)."


async def test_metrics_memory_matches_prometheus(phone: Phone, monitoring_stack: MonitoringStack) -> None:
    """The memory % the bot texts is the one Prometheus computes (within a point: it moves)."""
    reply = await phone.expect("mertics memory", r"memory")
    truth = monitoring_stack.prom_query("100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)")
    assert len(truth) == 1
    expected = float(truth[0]["value"][1])
    shown = re.search(r"(\d+(?:\.\d+)?)%", reply)
    assert shown is not None, reply
    assert abs(float(shown.group(1)) - expected) <= 1.5, (reply, expected)


async def test_metrics_without_a_name_offers_the_list_then_a_number_picks(phone: Phone) -> None:
    await phone.expect("metrics", r"^Which metric\? 1 cpu, 2 memory, 3 disk, 4 load, 5 up")
    await phone.expect("1", r"cpu.*\d+(\.\d+)?%")
    # the answer can be asked again
    await phone.expect("again", r"cpu.*\d+(\.\d+)?%")


async def test_alerts_list_and_detail_match_alertmanager(phone: Phone, monitoring_stack: MonitoringStack) -> None:
    """The firing alert Alertmanager reports is item 1; `alerts 1` and a bare `1` show its annotations."""
    names = {a["labels"]["alertname"] for a in monitoring_stack.am_alerts()}
    assert ALERT_NAME in names
    listing = await phone.expect("alrets", rf"{len(names)} alerts? firing.*\n1 WARN {ALERT_NAME}")
    assert "DOWN" not in listing
    detail = await phone.expect("1", r"Test alert that always fires")
    assert await phone.text("alerts 1") == detail
    await phone.expect("9", r"^(Pick 1-\d+\.|Only 1 on the list: reply 1\.)$")


async def test_a_silenced_alert_leaves_the_list(phone: Phone, monitoring_stack: MonitoringStack) -> None:
    now = dt.datetime.now(dt.UTC)
    body = {
        "matchers": [{"name": "alertname", "value": ALERT_NAME, "isRegex": False}],
        "startsAt": now.isoformat(),
        "endsAt": (now + dt.timedelta(minutes=5)).isoformat(),
        "createdBy": "test",
        "comment": "operator test",
    }
    async with httpx.AsyncClient(base_url=monitoring_stack.alertmanager_url, timeout=5) as am:
        silence = (await am.post("/api/v2/silences", json=body)).json()["silenceID"]
        try:
            await _until_silenced(monitoring_stack)
            reply = await phone.text("alerts")
            assert reply == "No alerts firing, 1 silenced."
            status = await phone.text("status")
            assert status == "All clear: 2/2 sources ok, 1 silenced (prometheus, alertmanager)."
        finally:
            await am.delete(f"/api/v2/silence/{silence}")


async def _until_silenced(stack: MonitoringStack) -> None:
    """Alertmanager applies a new silence within a moment; poll its own API (bounded)."""
    for _ in range(50):
        if not any(a["labels"]["alertname"] == ALERT_NAME for a in stack.am_alerts()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("Alertmanager did not apply the silence")


async def test_metrics_over_a_window_gives_now_average_and_peak(
    phone: Phone, monitoring_stack: MonitoringStack
) -> None:
    """`metrics memory 1h` is a range query: now / avg / peak per instance, as Prometheus computes them."""
    head = r"^memory \(memory used % per instance\), last 1h: now / avg / peak\n"
    reply = await phone.expect("metrics memory 1h", head)
    row = re.search(r"\n\S+ (\d+(?:\.\d+)?)% / (\d+(?:\.\d+)?)% / (\d+(?:\.\d+)?)%", reply)
    assert row is not None, reply
    now, average, peak = (float(v) for v in row.groups())
    assert peak + 0.5 >= max(now, average), reply  # the shown values are rounded
    expr = "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)"
    truth_now = float(monitoring_stack.prom_query(expr)[0]["value"][1])
    truth_peak = float(monitoring_stack.prom_query(f"max_over_time(({expr})[1h:1s])")[0]["value"][1])
    assert abs(now - truth_now) <= 1.5, (reply, truth_now)
    # The range query samples every window/N seconds, so it may miss a spike the 1s subquery
    # sees (memory moves while the suite runs): the peak shown can never exceed the true peak.
    assert peak <= truth_peak + 0.5, (reply, truth_peak)
    # A bare window asks the same metric again over it.
    await phone.expect("6h", r"^memory \(memory used % per instance\), last 6h: now / avg / peak\n\S+ \d")


async def test_another_metric_in_passing_reasks_with_it(phone: Phone) -> None:
    """`metrics disk`, then `how about load?`: the same question for the load metric (window kept)."""
    await phone.expect("metrics disk", r"^disk \(")
    await phone.expect("how about load?", r"^load\b")
    await phone.expect("metrics cpu 1h", r"^cpu \(CPU busy % per instance\), last 1h: now / avg / peak")
    await phone.expect("what about memory", r"^memory \(memory used % per instance\), last 1h: now / avg / peak")


@pytest.mark.parametrize("text", ["the first one", "number 1", "more on 1", "#1", "1st"])
async def test_picking_from_the_alert_list_in_words(phone: Phone, text: str) -> None:
    await phone.expect("alerts", rf"\n1 WARN {ALERT_NAME}")
    await phone.expect(text, r"Test alert that always fires")


async def test_two_questions_in_one_text(phone: Phone) -> None:
    """`status and alerts`: both, in one reply; `metrics cpu and memory`: both metrics."""
    both = rf"^WARN alert {ALERT_NAME} .*\n2/2 sources ok.*\n\n\d+ alerts? firing.*\n1 WARN {ALERT_NAME}"
    reply = await phone.expect("status and alerts", both)
    assert "next: send" not in reply
    reply = await phone.expect("metrics cpu and memory", r"^cpu \(CPU busy % per instance\):\n")
    assert "\n\nmemory (memory used % per instance):\n" in reply, reply  # one host: both fit one page


async def test_killed_node_exporter_is_named_and_its_alert_carries_the_runbook(
    trouble_stack: TroubleStack, sms_app: SmsApp
) -> None:
    """node-exporter killed for real: `status` names the target (with its port) and the critical
    alert first; `alerts 1` carries the runbook and dashboard links, whole. GSM-7, within budget."""
    trouble_stack.kill_node()
    try:
        for _ in range(300):  # Prometheus scrapes every 1 s, Alertmanager hears within seconds (bounded)
            if "TargetDown" in trouble_stack.am_alert_names(active="true"):
                break
            await asyncio.sleep(0.1)
        async with sms_app(
            prometheus_url=trouble_stack.prometheus_url,
            alertmanager_url=trouble_stack.alertmanager_url,
            monitor_timeout_s=3,
            sms_page_segments=2,
        ) as app:
            phone = Phone(app.test_client(), NUMBERS[0])
            status = await phone.text("status")
            listing = await phone.text("alerts")
            detail = await phone.text("1")
    finally:
        trouble_stack.start_node()
    target = trouble_stack.node_instance
    assert re.match(rf"CRIT target {re.escape(target)} \(node\) down \d+s, alert TargetDown\n", status), status
    assert status.count(target) == 1, status  # the alert about the dead target said on its line, not twice
    assert listing.splitlines()[1].startswith(f"1 CRIT TargetDown {target}")
    assert f"runbook: {RUNBOOK}" in detail.splitlines() and f"dashboard: {DASHBOARD}" in detail.splitlines()
    for reply in (status, listing, detail):
        info = segment_info(reply)
        assert info.encoding == "GSM-7" and info.segments <= 2, (reply, info)
