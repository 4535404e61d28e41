"""A newcomer's first messages with nothing configured but a log file: every answer carries real
data from this machine, through the signed /sms route (the embedded host and log-file monitors)."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from quart import Quart

from bot.app import create_app
from dialogs.store import MemorySessionStore
from tests.apps import SmsApp
from tests.conftest import make_settings
from tests.phone import NUMBERS, Phone

HOSTNAME = socket.gethostname()


def meminfo_used_percent() -> float:
    with open("/proc/meminfo") as fh:
        info = {line.split(":")[0]: int(line.split()[1]) for line in fh}
    return 100 * (1 - info["MemAvailable"] / info["MemTotal"])


@pytest.fixture
def app_log(tmp_path: Path) -> Path:
    now = datetime.now(UTC)
    lines = [
        f"{(now - timedelta(hours=3)).isoformat()} ERROR before the window",
        f"{(now - timedelta(minutes=40)).isoformat()} ERROR payment timeout",
        f"{(now - timedelta(minutes=20)).isoformat()} INFO checkout ok",
        f"{(now - timedelta(minutes=2)).isoformat()} ERROR payment timeout",
    ]
    path = tmp_path / "app.log"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
async def phone(sms_app: SmsApp, app_log: Path) -> AsyncIterator[Phone]:
    """Fresh settings (HOST_MONITOR at its default, auto) plus LOG_FILES; nothing else configured."""
    async with sms_app(store=MemorySessionStore(1800), host_monitor="auto", log_files=f"app={app_log}") as application:
        yield Phone(application.test_client(), NUMBERS[0])


@pytest.mark.skipif(not Path("/proc/meminfo").exists(), reason="compares with Linux /proc")
class TestFirstMessages:
    async def test_status_checks_this_host_and_the_log_files(self, phone: Phone) -> None:
        reply = await phone.text("status")
        assert "No monitors configured" not in reply
        assert "host" in reply and "logfiles" in reply, reply
        assert "DOWN" not in reply, reply

    async def test_metrics_cpu_and_memory_are_this_machine(self, phone: Phone) -> None:
        cpu = await phone.expect("metrics cpu", r"^cpu \(CPU busy %, this host\):\n")
        shown = re.search(rf"^{re.escape(HOSTNAME)} (\d+(?:\.\d)?)%$", cpu, re.MULTILINE)
        assert shown and 0 <= float(shown.group(1)) <= 100, cpu
        memory = await phone.expect("mertics memory", r"^memory")
        shown = re.search(rf"^{re.escape(HOSTNAME)} (\d+(?:\.\d)?)%$", memory, re.MULTILINE)
        assert shown, memory
        assert abs(float(shown.group(1)) - meminfo_used_percent()) < 3

    async def test_metrics_disk_lists_the_root_filesystem(self, phone: Phone) -> None:
        reply = await phone.expect("metrics disk", r"^disk")
        assert re.search(r"^/ \d+(\.\d)?%$", reply, re.MULTILINE), reply

    async def test_logs_dialog_reads_the_file(self, phone: Phone) -> None:
        """`logs` asks for the service (LOG_FILES named it), then the window; the count is the file's."""
        await phone.expect("logs", r"^Logs for which service\? 1 app")
        await phone.expect("app", r"^app: which window\?")
        reply = await phone.expect("1h", r"^app, last 1h: 2 errors\.\n")
        assert re.search(r"^\d\d:\d\d ERROR payment timeout x2$", reply, re.MULTILINE), reply
        await phone.expect("6h", r"^app, last 6h: 3 errors\.")

    async def test_top_names_real_processes(self, phone: Phone) -> None:
        reply = await phone.expect("what's eating cpu?", rf"^{re.escape(HOSTNAME)}: cpu \d+(\.\d)?% mem ")
        assert re.search(r"^by cpu: \S+ \d", reply, re.MULTILINE), reply
        assert re.search(r"^by mem: \S+ \d", reply, re.MULTILINE), reply

    async def test_top_without_the_host_monitor_says_how_to_enable_it(self, app_log: Path) -> None:
        settings = make_settings(host_monitor="off", log_files=f"app={app_log}")
        application: Quart = create_app(settings, store=MemorySessionStore(1800))
        async with application.test_app():
            phone = Phone(application.test_client(), NUMBERS[0])
            await phone.expect("top", r"^No host monitor \(set HOST_MONITOR=on\)\.$")


class TestStatusRollsUpRealProblems:
    async def test_failing_urls_and_a_full_disk_are_problems_in_status(self, tmp_path: Path) -> None:
        """A URL answering 503, one that hangs, and the root filesystem over its threshold: each is a
        line of `status`, within the monitor timeout; the sources themselves are fine."""
        import shutil

        from tests.fakes.server import FakeServer, Reply

        usage = shutil.disk_usage("/")
        root = 100 * usage.used / (usage.used + usage.free)
        with socket.socket() as hang, FakeServer() as web:
            hang.bind(("127.0.0.1", 0))
            hang.listen(4)
            web.routes[("GET", "/health")] = lambda _: Reply(503, "maintenance")
            urls = f"api={web.url}/health,slow=http://127.0.0.1:{hang.getsockname()[1]}/"
            settings = make_settings(
                host_monitor="on", host_disk_max_percent=max(1.0, root - 1), check_urls=urls, monitor_timeout_s=1
            )
            application: Quart = create_app(settings, store=MemorySessionStore(1800))
            async with application.test_app():
                reply = await Phone(application.test_client(), NUMBERS[0]).text("status")
        assert re.search(r"api DOWN: 503 in \d+ms", reply), reply
        assert "slow DOWN: no answer in 1s" in reply, reply
        assert re.search(rf"{re.escape(HOSTNAME)} disk / \d+% full", reply), reply


class TestBadInput:
    async def test_a_log_glob_matching_nothing_is_one_clear_line(self, tmp_path: Path) -> None:
        settings = make_settings(host_monitor="off", log_files=f"app={tmp_path}/nothing-*.log")
        application: Quart = create_app(settings, store=MemorySessionStore(1800))
        async with application.test_app():
            phone = Phone(application.test_client(), NUMBERS[0])
            await phone.expect("logs app 1h", rf"^logs app: logfiles DOWN: no file matches {tmp_path}/nothing-\*\.log$")
            status = await phone.text("status")
            assert f"no file matches {tmp_path}/nothing-*.log" in status
