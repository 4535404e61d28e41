"""The whole loop with the real Alertmanager: alert → Alertmanager → webhook → page → reply → silence.

Two Alertmanager processes (not clustered: each notifies on its own, the worst case of an HA
pair) post to one Operator app served by hypercorn on a loopback port, with
`http_config.authorization` carrying the bearer token. Twilio's Messages API is the local fake.
Alerts are posted to Alertmanager's own API; silences are checked through Alertmanager's API.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from bot.app import create_app
from bot.oncall import OncallLoop
from tests.fakes.twilio import TwilioFake
from tests.oncall.conftest import CHAIN
from tests.oncall.test_routes import WEBHOOK_TOKEN, oncall_settings
from tests.phone import Phone
from tests.servers.common import free_port, need_binary, start, stop, wait_until

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Alertmanagers:
    urls: tuple[str, ...]
    webhook_port: int

    def post_alert(
        self, labels: dict[str, str], *, to: tuple[str, ...] | None = None, ends_in_s: float | None = None
    ) -> None:
        """Fire an alert as Prometheus would: POST it to each Alertmanager's v2 API (ending soon, if asked)."""
        now = datetime.now(UTC)
        alert: dict[str, Any] = {
            "labels": labels,
            "annotations": {"summary": "test"},
            "startsAt": now.isoformat().replace("+00:00", "Z"),
        }
        if ends_in_s is not None:
            alert["endsAt"] = (now + timedelta(seconds=ends_in_s)).isoformat().replace("+00:00", "Z")
        body = [alert]
        for url in to or self.urls:
            httpx.post(f"{url}/api/v2/alerts", json=body, timeout=5).raise_for_status()

    def silences(self, url: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = httpx.get(f"{url or self.urls[0]}/api/v2/silences", timeout=5).json()
        return found

    def alert_status(self, alertname: str) -> dict[str, Any]:
        [found] = httpx.get(
            f"{self.urls[0]}/api/v2/alerts", params={"filter": f'alertname="{alertname}"'}, timeout=5
        ).json()
        status: dict[str, Any] = found["status"]
        return status


README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver() -> str:
    """The receiver snippet README.md tells operators to use, exactly as written there."""
    text = README.read_text()
    start = text.index("```yaml\n", text.index("<!-- alertmanager-receiver")) + len("```yaml\n")
    return text[start : text.index("```", start)]


@pytest.fixture(scope="module")
def alertmanagers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanagers]:
    binary = need_binary("/usr/bin/prometheus-alertmanager")
    webhook_port = free_port()
    base = tmp_path_factory.mktemp("am-oncall")
    config = base / "alertmanager.yml"
    receiver = readme_receiver().replace("https://ops.example.com", f"http://127.0.0.1:{webhook_port}")
    config.write_text(
        "route: {receiver: operator, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h}\n"
        + receiver.replace("<ALERT_WEBHOOK_TOKEN>", WEBHOOK_TOKEN)
    )
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for i in range(2):
            port = free_port()
            (base / f"data{i}").mkdir()
            log = base / f"am{i}.log"
            procs.append(
                proc := start(
                    [
                        binary,
                        f"--config.file={config}",
                        f"--storage.path={base / f'data{i}'}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        "--cluster.listen-address=",
                    ],
                    log,
                )
            )
            url = f"http://127.0.0.1:{port}"
            wait_until(
                lambda u=url: httpx.get(f"{u}/-/ready", timeout=1).status_code == 200,
                20,
                proc,  # type: ignore[misc]
                "alertmanager",
                log,
            )
            urls.append(url)
        yield Alertmanagers(tuple(urls), webhook_port)
    finally:
        for proc in procs:
            stop(proc)


@contextlib.asynccontextmanager
async def served(port: int, settings: Any) -> AsyncIterator[Quart]:
    """The app behind hypercorn on a loopback port, start-up hooks and background tasks running."""
    app = create_app(settings)
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = config.errorlog = None
    config.graceful_timeout = 1
    stop_event = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop_event.wait))  # type: ignore[arg-type]
    deadline = time.monotonic() + 10
    async with httpx.AsyncClient() as client:
        while True:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or task.done():
                raise AssertionError("the app did not start")
            await asyncio.sleep(0.05)
    try:
        yield app
    finally:
        stop_event.set()
        await asyncio.wait_for(task, 10)


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    from tests.fakes.twilio import ACCOUNT_SID
    from tests.phone import TOKEN

    with TwilioFake(ACCOUNT_SID, TOKEN) as fake:
        yield fake


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def until(check: Any, timeout_s: float, what: str) -> Any:
    """Poll `check()` until truthy (bounded); the value it returned."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def texts_with(twilio: TwilioFake, number: str, word: str) -> list[str]:
    return [t for t in twilio.bodies_to(number) if word in t]


def loop_of(app: Quart) -> OncallLoop:
    loop: OncallLoop = app.extensions["oncall"]
    return loop


async def notified(alertmanagers: Alertmanagers, timeout_s: float = 20) -> None:
    """Wait until every Alertmanager has delivered at least one webhook (its own counter says so)."""

    def counts() -> list[float]:
        out = []
        for url in alertmanagers.urls:
            for line in httpx.get(f"{url}/metrics", timeout=5).text.splitlines():
                if line.startswith('alertmanager_notifications_total{integration="webhook"}'):
                    out.append(float(line.rsplit(" ", 1)[1]))
        return out

    await until(
        lambda: len(counts()) == len(alertmanagers.urls) and all(c >= 1 for c in counts()),
        timeout_s,
        "both Alertmanagers to notify",
    )


async def reply(app: Quart, number: str, text: str) -> str:
    """The responder's SMS reply, signed like Twilio signs it, through the real /sms route."""
    return await Phone(app.test_client(), number).text(text)


class TestLoop:
    async def test_alert_pages_once_and_sms_silence_is_real(
        self, alertmanagers: Alertmanagers, twilio: TwilioFake, redis_prefix: str
    ) -> None:
        """Both Alertmanagers notify; one page; `Ns 1h` makes a silence Alertmanager applies; unsilence expires it."""
        name = unique("HighErrorRate")
        settings = oncall_settings(redis_prefix, twilio.url, alertmanager_url=alertmanagers.urls[0])
        async with served(alertmanagers.webhook_port, settings) as app:
            alertmanagers.post_alert({"alertname": name, "instance": "api-3:9100", "severity": "critical"})
            [page] = await until(lambda: texts_with(twilio, CHAIN[0], name), 20, "the page")
            assert page.startswith(f"CRIT {name} api-3") and "Reply 1a ack, 1s 1h silence" in page
            await notified(alertmanagers)  # the HA-style duplicate has arrived too
            assert len(texts_with(twilio, CHAIN[0], name)) == 1
            text = await reply(app, CHAIN[0], "1s 1h")
            assert text.startswith(f"Silenced {name} api-3:9100 for 1h (id ..")
            [silence] = [
                s
                for s in alertmanagers.silences()
                if s["status"]["state"] == "active" and any(m["value"] == name for m in s["matchers"])
            ]
            assert silence["id"].endswith(text.split("(id ..")[1][:6])
            assert {m["name"]: m["value"] for m in silence["matchers"]} == {
                "alertname": name,
                "instance": "api-3:9100",
                "severity": "critical",
            }
            assert all(not m["isRegex"] and m["isEqual"] for m in silence["matchers"])
            assert silence["createdBy"] == "operator: +14*******00"
            status = await until(lambda: alertmanagers.alert_status(name)["silencedBy"], 10, "the alert silenced")
            assert status == [silence["id"]]
            text = await reply(app, CHAIN[0], "unsilence 1")
            assert "expired" in text
            [gone] = [s for s in alertmanagers.silences() if s["id"] == silence["id"]]
            assert gone["status"]["state"] == "expired"

    async def test_unacked_page_escalates_with_a_short_delay(
        self, alertmanagers: Alertmanagers, twilio: TwilioFake, redis_prefix: str
    ) -> None:
        """ESCALATE_AFTER_S=5: nobody acks, the second number gets the page, naming the first."""
        name = unique("PgDown")
        settings = oncall_settings(redis_prefix, twilio.url, escalate_after_s=5)
        async with served(alertmanagers.webhook_port, settings):
            alertmanagers.post_alert({"alertname": name, "instance": "db-1", "severity": "critical"})
            await until(lambda: texts_with(twilio, CHAIN[0], name), 20, "the page")
            [second] = await until(lambda: texts_with(twilio, CHAIN[1], name), 20, "the escalation")
            assert "(escalated from +14*******00)" in second

    async def test_bundle_then_confirmed_silence(
        self, alertmanagers: Alertmanagers, twilio: TwilioFake, redis_prefix: str
    ) -> None:
        """Three alerts at once: one page, then a bundle of two; `Nss 1h` asks first, `yes` silences both."""
        tag = unique("B")
        settings = oncall_settings(redis_prefix, twilio.url, alertmanager_url=alertmanagers.urls[0], page_bundle_s=3)
        async with served(alertmanagers.webhook_port, settings) as app:
            for i in range(3):
                alertmanagers.post_alert(
                    {"alertname": f"{tag}x{i}", "instance": "web-1", "severity": "warning"}, to=alertmanagers.urls[:1]
                )
            [bundle] = await until(
                lambda: [t for t in texts_with(twilio, CHAIN[0], tag) if " new: " in t], 30, "the bundle"
            )
            assert bundle.startswith("2 new: ") and "Reply 2aa to ack these 2" in bundle
            question = await reply(app, CHAIN[0], "2s 1h")
            assert question.startswith("Silence 2 alerts matching") and question.endswith("for 1h? yes/no")
            assert not [s for s in alertmanagers.silences() if tag in str(s["matchers"])]
            done = await reply(app, CHAIN[0], "yes")
            assert done.startswith("Silenced 2 alerts for 1h")
            mine = [s for s in alertmanagers.silences() if tag in str(s["matchers"])]
            assert [s["status"]["state"] for s in mine] == ["active", "active"]

    async def test_resolved_by_alertmanager_closes_the_page(
        self, alertmanagers: Alertmanagers, twilio: TwilioFake, redis_prefix: str
    ) -> None:
        """The alert ends in Alertmanager: its resolved webhook closes the incident and says RESOLVED once."""
        name = unique("DiskFull")
        settings = oncall_settings(redis_prefix, twilio.url, escalate_after_s=3600)
        async with served(alertmanagers.webhook_port, settings):
            alertmanagers.post_alert(
                {"alertname": name, "instance": "db-2", "severity": "warning"}, to=alertmanagers.urls[:1], ends_in_s=3
            )
            await until(lambda: texts_with(twilio, CHAIN[0], name), 20, "the page")
            [done] = await until(
                lambda: [t for t in texts_with(twilio, CHAIN[0], name) if t.startswith("RESOLVED")],
                30,
                "the RESOLVED text",
            )
            assert done == f"RESOLVED {name} db-2 (1)"
