"""A newcomer's first five minutes, through real `operator` subprocesses: serve (the port bound
before "serving", a port in use), chat (piped and at a terminal), ping (every outcome of a
deployment self-test against a real `operator serve`), and the README's quick start."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import select
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.security import mask
from tests.bot.test_cli import OPERATOR, run_env
from tests.conftest import REDIS_URL
from tests.fakes.server import FakeServer, Reply, closed_port_url
from tests.fakes.tls import https, make_certs
from tests.phone import NUMBERS, STRANGER, TOKEN, reply_text
from tests.servers.common import free_port, wait_until

HOSTNAME = socket.gethostname()


@contextlib.contextmanager
def serving(tmp_path: Path, *args: str, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """`operator serve` on a free loopback port until the block ends; yields (base URL, process, log)."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=run_env(**env),
            cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(base + "/health", timeout=1).status_code == 200, 30, proc, "operator serve", log)
        yield base, proc, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class TestServe:
    def test_port_in_use_is_one_line_and_exit_2(self, tmp_path: Path) -> None:
        """Another process holds the port: one line saying so, exit code 2, no traceback, no "serving"."""
        with socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            held.listen(1)
            port = held.getsockname()[1]
            out = subprocess.run(
                [OPERATOR, "serve", "--local", "--port", str(port)],
                capture_output=True,
                text=True,
                timeout=60,
                env=run_env(),
                cwd=tmp_path,
                check=False,
            )
        assert out.returncode == 2
        lines = [line for line in out.stderr.splitlines() if not line.startswith("***")]
        assert lines == [
            f"cannot listen on 127.0.0.1:{port}: the port is in use (another operator serve? pick one with --port)"
        ], out.stderr
        assert "Traceback" not in out.stderr and "serving" not in out.stderr + out.stdout

    @pytest.mark.integration
    def test_says_serving_only_once_the_port_is_bound(self, tmp_path: Path) -> None:
        """The moment "serving" is printed, a connection to the port is accepted (no retry)."""
        port = free_port()
        proc = subprocess.Popen(
            [OPERATOR, "serve", "--local", "--port", str(port)],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=run_env(),
            cwd=tmp_path,
        )
        try:
            assert proc.stderr is not None
            deadline = time.monotonic() + 30
            line = b""
            while b"serving on" not in line and time.monotonic() < deadline:
                line = proc.stderr.readline()
                assert line or proc.poll() is None, "operator serve exited"
            assert b"serving on http://127.0.0.1:%d" % port in line
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
            if proc.stderr is not None:
                proc.stderr.close()


class TestChat:
    def test_history_file_location(self) -> None:
        """README: ~/.operator_history, or $XDG_STATE_HOME/operator/history when that is set."""
        from bot.console import history_path

        assert history_path({"HOME": "/home/u"}) == Path("/home/u/.operator_history")
        assert history_path({"HOME": "/home/u", "XDG_STATE_HOME": "/s"}) == Path("/s/operator/history")

    def test_status_and_metrics_of_this_machine_with_nothing_configured(self, tmp_path: Path) -> None:
        """Fresh settings: `status` and `metrics cpu` answer from this host; no log line among replies."""
        out = subprocess.run(
            [OPERATOR, "chat"],
            input="status\nmetrics cpu\n",
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(),
            cwd=tmp_path,
            check=True,
        )
        assert "host" in out.stdout
        assert "No monitors configured" not in out.stdout
        match = re.search(rf"^{re.escape(HOSTNAME)} (\d+(?:\.\d)?)%$", out.stdout, re.MULTILINE)
        assert match, out.stdout
        assert 0 <= float(match.group(1)) <= 100
        assert " INFO " not in out.stdout + out.stderr

    def test_no_library_logs_between_replies(self, tmp_path: Path) -> None:
        """A URL check makes httpx requests; its INFO lines (and ours) stay out of the console."""
        with FakeServer() as web:
            web.routes[("GET", "/health")] = lambda _: Reply(200, "ok")
            out = subprocess.run(
                [OPERATOR, "chat"],
                input="status\nstatus\n",
                capture_output=True,
                text=True,
                timeout=60,
                env=run_env(CHECK_URLS=f"web={web.url}/health", HOST_MONITOR="off"),
                cwd=tmp_path,
                check=True,
            )
            assert web.requests  # the checks really ran (two statuses this close share one round)
        assert "HTTP Request" not in out.stderr + out.stdout
        assert " INFO " not in out.stderr + out.stdout
        assert "urls" in out.stdout

    def test_quit_leaves_and_blank_lines_are_skipped(self, tmp_path: Path) -> None:
        out = subprocess.run(
            [OPERATOR, "chat"],
            input="\nhelp\n/quit\nstatus\n",
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(HOST_MONITOR="off"),
            cwd=tmp_path,
            check=True,
        )
        assert out.stdout.count("Ops desk") == 1
        assert "No monitors" not in out.stdout

    def test_terminal_has_prompt_banner_separator_editing_and_history(self, tmp_path: Path) -> None:
        """At a terminal (a real pty): banner with the --as number masked, `> ` prompt, `< ` replies,
        a separator, readline history (arrow up repeats), saved to ~/.operator_history on /quit."""
        env = run_env(HOME=str(tmp_path), HOST_MONITOR="off", TERM="xterm")
        env.pop("XDG_STATE_HOME", None)
        pid, fd = pty.fork()
        if pid == 0:  # the child: becomes `operator chat` on the pty
            os.chdir(tmp_path)
            os.execve(OPERATOR, [OPERATOR, "chat", "--as", "+447700900123"], env)  # noqa: S606 - a fixed argv
        seen = b""

        def until(pattern: bytes, timeout_s: float = 30) -> None:
            nonlocal seen
            deadline = time.monotonic() + timeout_s
            while pattern not in seen:
                left = deadline - time.monotonic()
                assert left > 0, f"no {pattern!r} in {seen[-600:]!r}"
                ready, _, _ = select.select([fd], [], [], left)
                if ready:
                    try:
                        seen += os.read(fd, 4096)
                    except OSError:  # the child closed the pty
                        break

        try:
            until(b"> ")
            assert b"texting as " + mask("+447700900123").encode() in seen
            assert b"WARNING" not in seen  # the banner says where sessions live; no log lines
            os.write(fd, b"help\r")
            until(b"< Ops desk")
            until(b"-" * 40)
            mark = len(seen)
            os.write(fd, b"\x1b[A\r")  # arrow up, enter: the last line again
            deadline = time.monotonic() + 30
            while seen.count(b"< Ops desk") < 2 and time.monotonic() < deadline:
                until(b"< Ops desk")
                ready, _, _ = select.select([fd], [], [], 1)
                if ready:
                    seen += os.read(fd, 4096)
            assert seen.count(b"< Ops desk") == 2, seen[mark:]
            os.write(fd, b"/quit\r")
            _, status = os.waitpid(pid, 0)
            pid = 0
            assert os.waitstatus_to_exitcode(status) == 0
        finally:
            if pid:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            os.close(fd)
        history = (tmp_path / ".operator_history").read_text().split()
        assert history == ["help", "/quit"]  # readline keeps a repeated line once


@pytest.fixture(scope="class")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real `operator serve` as deployed: token, PUBLIC_BASE_URL = the URL it is reached at, one number."""
    tmp = tmp_path_factory.mktemp("deployed")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "serve.log"
    env = run_env(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL=base, AUTHORIZED_NUMBERS=NUMBERS[0], HOST_MONITOR="off")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=tmp,
        )
    try:
        wait_until(lambda: httpx.get(base + "/health", timeout=1).status_code == 200, 30, proc, "operator serve", log)
        yield base, proc
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def ping(tmp_path: Path, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = run_env(TWILIO_AUTH_TOKEN=token, AUTHORIZED_NUMBERS=NUMBERS[0])
    return subprocess.run(
        [OPERATOR, "ping", *args], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path, check=False
    )


@pytest.mark.integration
class TestPing:
    def test_answered(self, deployed: tuple[str, subprocess.Popen[bytes]], tmp_path: Path) -> None:
        """Signed with the right token over the right URL, from an allowed number: the reply is shown."""
        out = ping(tmp_path, deployed[0])
        assert out.returncode == 0, out.stdout + out.stderr
        assert re.search(r"^answered in \d+ms \(signature ok, \+14\*+00 allowed\):$", out.stdout, re.MULTILINE)
        assert "Ops desk: status" in out.stdout
        assert TOKEN not in out.stdout + out.stderr

    def test_url_other_than_public_base_url_is_a_403_with_causes(
        self, deployed: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
    ) -> None:
        """Called as localhost while the server's PUBLIC_BASE_URL says 127.0.0.1: what a proxy rewrite does."""
        other = deployed[0].replace("127.0.0.1", "localhost")
        out = ping(tmp_path, other)
        assert out.returncode == 1
        assert out.stdout.splitlines()[1].startswith("403 Forbidden in ")
        assert f"PUBLIC_BASE_URL is not exactly {other}" in out.stdout
        assert "proxy rewriting the scheme or host" in out.stdout
        assert "TWILIO_AUTH_TOKEN here differs" in out.stdout

    def test_wrong_token_is_a_403(self, deployed: tuple[str, subprocess.Popen[bytes]], tmp_path: Path) -> None:
        out = ping(tmp_path, deployed[0], token="not-the-servers-token")
        assert out.returncode == 1 and "403 Forbidden" in out.stdout
        assert "not-the-servers-token" not in out.stdout + out.stderr

    def test_sender_not_allowed_is_an_empty_reply(
        self, deployed: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
    ) -> None:
        out = ping(tmp_path, deployed[0], "--from", STRANGER)
        assert out.returncode == 1
        assert "empty reply in " in out.stdout and "not in the server's AUTHORIZED_NUMBERS" in out.stdout
        assert STRANGER not in out.stdout  # masked

    def test_a_stuck_service_is_a_timeout(self, deployed: tuple[str, subprocess.Popen[bytes]], tmp_path: Path) -> None:
        """The server process stopped (SIGSTOP): the kernel accepts, nobody answers."""
        base, proc = deployed
        proc.send_signal(signal.SIGSTOP)
        try:
            out = ping(tmp_path, base, "--timeout", "1.5")
        finally:
            proc.send_signal(signal.SIGCONT)
        assert out.returncode == 1
        assert "no answer within 1.5s: Twilio gives up at 15s" in out.stdout

    def test_nothing_listening_is_connection_refused(self, tmp_path: Path) -> None:
        url = closed_port_url()
        out = ping(tmp_path, url)
        assert out.returncode == 1
        assert f"connection refused at 127.0.0.1:{url.rsplit(':', 1)[1]}" in out.stdout

    def test_a_certificate_twilio_would_refuse_is_a_tls_failure(self, tmp_path: Path) -> None:
        """An https webhook with an expired certificate: said as a TLS failure, one line."""
        with FakeServer() as hook:
            url = https(hook, make_certs(tmp_path).expired)
            out = ping(tmp_path, url)
        assert out.returncode == 1
        assert re.search(
            r"^TLS failed \(.*certificate.*\): Twilio needs a valid certificate\.$", out.stdout, re.MULTILINE
        ), out.stdout
        assert "Traceback" not in out.stdout + out.stderr

    def test_without_a_token_it_says_so(self, tmp_path: Path) -> None:
        out = subprocess.run(
            [OPERATOR, "ping", "http://127.0.0.1:9"],
            capture_output=True,
            text=True,
            timeout=60,
            env=run_env(),
            cwd=tmp_path,
            check=False,
        )
        assert out.returncode == 2 and "TWILIO_AUTH_TOKEN is not set" in out.stderr

    def test_the_request_is_twilio_shaped(self, tmp_path: Path) -> None:
        """Every usual field, a fresh SM + 32 hex MessageSid, a signature twilio's validator accepts."""
        from twilio.request_validator import RequestValidator

        with FakeServer() as hook:
            hook.routes[("POST", "/sms")] = lambda _: Reply(200, "<Response/>", {"Content-Type": "text/xml"})
            ping(tmp_path, hook.url)
            ping(tmp_path, hook.url + "/sms")
        first, second = ({k: v[0] for k, v in r.form().items()} for r in hook.requests)
        for form, request in ((first, hook.requests[0]), (second, hook.requests[1])):
            assert re.fullmatch(r"SM[0-9a-f]{32}", form["MessageSid"])
            assert form["SmsSid"] == form["SmsMessageSid"] == form["MessageSid"]
            assert form["From"] == NUMBERS[0] and form["Body"] == "help" and form["SmsStatus"] == "received"
            assert {"AccountSid", "To", "NumMedia", "NumSegments", "ApiVersion", "FromCountry"} <= set(form)
            assert RequestValidator(TOKEN).validate(hook.url + "/sms", form, request.headers["x-twilio-signature"])
        assert first["MessageSid"] != second["MessageSid"]


@pytest.mark.integration
class TestReadmeQuickStart:
    def test_local_serve_then_curl_gets_a_real_status(self, tmp_path: Path) -> None:
        """README: `scripts/serve --local`, then the curl (unsigned, from +14155550100) gets this host's status,
        and `metrics memory` matches /proc/meminfo."""
        with serving(tmp_path, "--local") as (base, _, _):
            form = {"From": "+14155550100", "Body": "status"}
            status = reply_text(httpx.post(base + "/sms", data=form, timeout=30).text)
            form["Body"] = "metrics memory"
            memory = reply_text(httpx.post(base + "/sms", data=form, timeout=30).text)
        assert "host" in status and "No monitors" not in status, status
        with open("/proc/meminfo") as fh:
            info = {line.split(":")[0]: int(line.split()[1]) for line in fh}
        used = 100 * (1 - info["MemAvailable"] / info["MemTotal"])
        match = re.search(rf"^{re.escape(HOSTNAME)} (\d+(?:\.\d)?)%$", memory, re.MULTILINE)
        assert match, memory
        assert abs(float(match.group(1)) - used) < 3

    def test_local_mode_checks_signatures_when_a_token_is_set(self, tmp_path: Path) -> None:
        """README: with TWILIO_AUTH_TOKEN in .env, --local still checks signatures (a bare curl gets 403)."""
        (tmp_path / ".env").write_text(f"TWILIO_AUTH_TOKEN={TOKEN}\n")
        with serving(tmp_path, "--local") as (base, _, _):
            response = httpx.post(base + "/sms", data={"From": NUMBERS[0], "Body": "status"}, timeout=30)
        assert response.status_code == 403

    @pytest.mark.parametrize("with_redis", [False, True])
    def test_local_mode_uses_redis_when_redis_url_is_set(self, tmp_path: Path, with_redis: bool) -> None:
        """README: --local keeps sessions in memory unless REDIS_URL is set (environment or .env)."""
        if with_redis:
            try:
                import redis

                redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
            except Exception:
                pytest.skip("Redis is not reachable")
            (tmp_path / ".env").write_text(f"REDIS_URL={REDIS_URL}\nREDIS_KEY_PREFIX=optest:{uuid.uuid4().hex[:8]}:\n")
        with serving(tmp_path, "--local") as (base, _, _):
            info = json.loads(httpx.get(base + "/", timeout=5).text)
        assert info["store"] == ("RedisSessionStore" if with_redis else "MemorySessionStore")
