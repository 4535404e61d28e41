"""Replies read as a tired engineer reads them: findings from driving Operator against the real
stack, each kept here as the exchange that showed it (HTTP-free driver over the fake Loki)."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from dialogs.conversation import Conversation
from monitors.registry import build_monitors
from tests.conftest import make_settings
from tests.conversations.driver import Driver
from tests.servers.trouble import TroubleStack, trouble_stack  # noqa: F401 - fixture


async def test_a_clock_anchored_window_is_worded_as_people_write_windows(driver: Driver) -> None:
    """`logs api since 2am` at 08:25:48 is "last 6h25m", never "last 23148s"; `again` keeps it."""
    driver.now = driver.now.replace(hour=8, minute=25, second=48, microsecond=0)
    reply = await driver.expect("logs api since 2am", r"^api, last 6h25m: ")
    assert not re.search(r"\d{3,}s\b", reply), reply
    await driver.expect("again", r"^api, last 6h25m: ")
    await driver.expect("logs web since midnight", r"^web, last 8h25m: ")


async def test_help_offers_oncall_only_when_the_loop_is_on(driver: Driver) -> None:
    """Without the on-call loop `help` leaves oncall out; asked anyway, it says how to turn it on."""
    listing = await driver.push("help")
    assert listing.startswith("Ops desk: ") and "oncall" not in listing and "logs" in listing
    await driver.expect("who's on call", r"^The on-call loop is off \(set ALERT_WEBHOOK_TOKEN")


async def test_a_text_not_understood_keeps_the_rest_for_more(driver: Driver) -> None:
    """`logs web 6h` runs to two pages; a garbled text in between does not throw the second away."""
    first = await driver.expect("logs web 6h", r"^web, last 6h: ")
    assert first.endswith("MORE)"), first
    await driver.expect("qwzx", r"^I don't know that\. Try help, or more for the rest\.$")
    await driver.expect("more", r"\(2/\d( MORE)?\)$")


async def test_blocking_is_a_database_word(driver: Driver) -> None:
    """ "who is blocking" after a lock wait shown by `db` asks db again (here: none configured)."""
    for text in ("who is blocking", "any blockers?", "idle in transaction"):
        await driver.expect(text, r"^No database configured \(set DATABASE_URL")


async def test_tired_typing(driver: Driver) -> None:
    """ "lst" (a thumb missing the a) is "last", in an answer to the window question and in a whole text."""
    await driver.expect("logs", r"^Logs for which service\?")
    await driver.expect("api", r"^api: which window\?")
    await driver.expect("lst hour", r"^api, last 1h: ")
    await driver.expect("logs web lst 30 mins", r"^web, last 30m: ")


@pytest.mark.integration
async def test_an_empty_metric_says_which_target_is_down(trouble_stack: TroubleStack) -> None:
    """node-exporter killed for real: `metrics ghost` and `metrics ghost 1h` (a node_ query with no
    series) say "no data (target ... node down ...)" - the instant and the windowed answer alike."""
    ghost = {"ghost": {"query": "node_never_exported_total", "description": "a node metric"}}
    monitors = build_monitors(
        make_settings(
            prometheus_url=trouble_stack.prometheus_url, monitor_timeout_s=3, metric_aliases=json.dumps(ghost)
        )
    )
    trouble_stack.kill_node()
    try:
        for _ in range(300):  # Prometheus scrapes every second (bounded poll)
            if trouble_stack.up() == 0.0:
                break
            await asyncio.sleep(0.1)
        driver = Driver(Conversation(monitors))
        why = rf"no data \(target {re.escape(trouble_stack.node_instance)} node down \d+[sm]\+?\)"
        await driver.expect("metrics ghost", rf"^ghost \(a node metric\): {why}$")
        await driver.expect("metrics ghost 1h", rf"^ghost \(a node metric\), last 1h: now / avg / peak\n{why}$")
    finally:
        trouble_stack.start_node()
        await monitors.aclose()


async def test_two_services_in_one_text_are_two_questions(driver: Driver) -> None:
    """`logs api 1h and web`: both services answered (web over the same hour), never api dropped silently."""
    reply = await driver.push("logs api 1h and web")
    assert reply.startswith("api, last 1h: ") and "\n\nweb, last 1h: " in reply, reply


async def test_anything_new_asks_for_alerts(driver: Driver) -> None:
    """ "anything new?" at night means "what fired": alerts (here none configured, which it says)."""
    for text in ("anything new?", "whats new"):
        await driver.push(text)
        assert driver.commands[-1] == "alerts", text
