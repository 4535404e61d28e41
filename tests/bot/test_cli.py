"""The `operator` command line, run as a real subprocess."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.phone import BASE_URL, NUMBERS, TOKEN, reply_text, sign
from tests.servers.common import free_port, wait_until

OPERATOR = str(Path(sys.executable).with_name("operator"))


def run_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "PROMETHEUS", "REDIS_URL"))}
    env.update(extra)
    return env


class TestChat:
    def test_piped_messages_get_one_reply_each(self, tmp_path: Path) -> None:
        """`printf 'help\\nstatus\\n' | operator chat` prints two replies through the real pipeline."""
        out = subprocess.run(
            [OPERATOR, "chat"],
            input="help\nstatus\n",
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(HOST_MONITOR="off"),
            cwd=tmp_path,
            check=True,
        )
        lines = [line for line in out.stdout.splitlines() if line.strip()]
        assert len(lines) == 2, out.stdout
        assert "status" in lines[0] and "logs" in lines[0]
        assert "No monitors configured" in lines[1]

    def test_chat_keeps_the_conversation(self, tmp_path: Path) -> None:
        """An open question survives to the next line. (A metrics source must be configured for
        `metrics` to ask; nothing listens on it, and asking "Which metric?" queries nothing.)"""
        env = run_env(PROMETHEUS_URL=f"http://127.0.0.1:{free_port()}")
        out = subprocess.run(
            [OPERATOR, "chat", "--as", "+1 415 555 0100"],
            input="metrics\nreset\n",
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=tmp_path,
            check=True,
        )
        lines = out.stdout.splitlines()
        assert lines[0].startswith("Which metric?")
        assert lines[1] == "OK, cleared."

    def test_console_waits_for_slow_answers_and_texts_nobody(self, tmp_path: Path) -> None:
        """With Twilio REST configured and a backend slower than the budget, chat still prints the
        answer itself: nothing is deferred to an SMS."""
        from tests.fakes.server import FakeServer, Reply
        from tests.fakes.twilio import TwilioFake

        with FakeServer() as prom, TwilioFake("AC" + "1" * 32, TOKEN) as twilio:
            prom.routes[("GET", "/-/ready")] = lambda _: Reply(200, "ready", delay_s=1.0)
            prom.routes[("GET", "/api/v1/status/buildinfo")] = lambda _: Reply(
                200, {"status": "success", "data": {"version": "2.42.0"}}
            )
            # status asks for targets down (slowly) and alerts
            prom.routes[("GET", "/api/v1/query")] = lambda _: Reply(
                200, {"status": "success", "data": {"resultType": "vector", "result": []}}, delay_s=1.0
            )
            prom.routes[("GET", "/api/v1/alerts")] = lambda _: Reply(200, {"status": "success", "data": {"alerts": []}})
            env = run_env(
                PROMETHEUS_URL=prom.url,
                REPLY_BUDGET_S="0.2",
                TWILIO_AUTH_TOKEN=TOKEN,
                TWILIO_ACCOUNT_SID="AC" + "1" * 32,
                TWILIO_FROM_NUMBER="+14155550000",
                TWILIO_API_URL=twilio.url,
            )
            out = subprocess.run(
                [OPERATOR, "chat"],
                input="status\n",
                capture_output=True,
                text=True,
                timeout=60,
                env=env,
                cwd=tmp_path,
                check=True,
            )
            assert out.stdout.startswith("All clear: 1/1 sources ok"), out.stdout
            assert twilio.requests == []

    def test_bad_number_is_refused(self, tmp_path: Path) -> None:
        out = subprocess.run(
            [OPERATOR, "chat", "--as", "12"],
            input="",
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(),
            cwd=tmp_path,
            check=False,
        )
        assert out.returncode == 2
        assert "not a valid phone number" in out.stderr


class TestCheck:
    def test_no_monitors_is_fine(self, tmp_path: Path) -> None:
        out = subprocess.run(
            [OPERATOR, "check"],
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(HOST_MONITOR="off"),
            cwd=tmp_path,
            check=False,
        )
        assert out.returncode == 0
        assert "no monitors configured" in out.stdout

    def test_down_monitor_fails_the_check(self, tmp_path: Path) -> None:
        """A configured monitor that is down: one line naming it and why, exit code 1."""
        from tests.fakes.server import closed_port_url

        out = subprocess.run(
            [OPERATOR, "check"],
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(PROMETHEUS_URL=closed_port_url(), MONITOR_TIMEOUT_S="1"),
            cwd=tmp_path,
            check=False,
        )
        assert out.returncode == 1, out.stdout + out.stderr
        assert re.search(r"^DOWN prometheus .*connection refused", out.stdout, re.MULTILINE), out.stdout

    def test_malformed_setting_is_named_in_one_line(self, tmp_path: Path) -> None:
        out = subprocess.run(
            [OPERATOR, "check"],
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(PROMETHEUS_URL="not a url", DATADOG_API_KEY="sekrit-key"),
            cwd=tmp_path,
            check=False,
        )
        assert out.returncode == 2
        assert "PROMETHEUS_URL" in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
        assert "sekrit" not in out.stderr + out.stdout

    @pytest.mark.parametrize(
        ("name", "value"), [("METRIC_ALIASES", "{oops"), ("AUTHORIZED_NUMBERS", "+14155550100,12")]
    )
    def test_malformed_derived_setting_is_named(self, tmp_path: Path, name: str, value: str) -> None:
        out = subprocess.run(
            [OPERATOR, "check"],
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(**{name: value}),
            cwd=tmp_path,
            check=False,
        )
        assert out.returncode == 2
        assert out.stderr.startswith(f"invalid setting {name}")
        assert len(out.stderr.strip().splitlines()) == 1


class TestServe:
    def test_refuses_without_token(self, tmp_path: Path) -> None:
        out = subprocess.run(
            [OPERATOR, "serve", "--port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(),
            cwd=tmp_path,
            check=False,
        )
        assert out.returncode == 2
        assert "TWILIO_AUTH_TOKEN" in out.stderr

    def test_refuses_without_public_base_url(self, tmp_path: Path) -> None:
        """Signed but no PUBLIC_BASE_URL: one line, exit 2, nothing listening."""
        port = free_port()
        out = subprocess.run(
            [OPERATOR, "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=""),
            cwd=tmp_path,
            check=False,
        )
        assert out.returncode == 2
        assert out.stderr.startswith("PUBLIC_BASE_URL is not set")
        assert len(out.stderr.strip().splitlines()) == 1
        assert TOKEN not in out.stderr + out.stdout

    @pytest.mark.integration
    def test_local_mode_travels_as_an_argument_and_keeps_the_allow_list(self, tmp_path: Path) -> None:
        """`serve --local` (no token, no PUBLIC_BASE_URL) answers unsigned loopback requests from the
        allow-listed number only; the worker learns of local mode from its factory call, not the env."""
        port = free_port()
        log = tmp_path / "serve.log"
        env = run_env(AUTHORIZED_NUMBERS=NUMBERS[1], PUBLIC_BASE_URL="")
        env.pop("OPERATOR_LOCAL", None)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [OPERATOR, "serve", "--local", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp_path,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until(
                lambda: httpx.get(base + "/health", timeout=1).status_code == 200,
                30,
                proc,
                "operator serve --local",
                log,
            )
            listed = httpx.post(base + "/sms", data={"From": NUMBERS[1], "Body": "help"})
            stranger = httpx.post(base + "/sms", data={"From": NUMBERS[0], "Body": "help"})
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
        assert "status" in reply_text(listed.text)
        assert reply_text(stranger.text) == ""
        assert "LOCAL MODE" in log.read_text()

    @pytest.mark.integration
    def test_serves_signed_sms_and_health_then_stops_cleanly(self, tmp_path: Path) -> None:
        """`operator serve` answers /health and a signed /sms, and exits 0 on SIGTERM."""
        port = free_port()
        env = run_env(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=BASE_URL, AUTHORIZED_NUMBERS=NUMBERS[0])
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp_path,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until(
                lambda: httpx.get(base + "/health", timeout=1).status_code == 200, 30, proc, "operator serve", log
            )
            form = {"MessageSid": "SMcli1", "From": NUMBERS[0], "To": "+14155550000", "Body": "help"}
            signed = httpx.post(base + "/sms", data=form, headers={"X-Twilio-Signature": sign(BASE_URL + "/sms", form)})
            assert signed.status_code == 200
            assert "status" in reply_text(signed.text)
            forged = httpx.post(base + "/sms", data=form, headers={"X-Twilio-Signature": "AAAA"})
            assert forged.status_code == 403
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(20)
        assert code == 0, log.read_text()
        assert TOKEN not in log.read_text()
