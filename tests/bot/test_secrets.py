"""No credential in any output: a unique password planted in every URL and DSN setting never
appears in logs, replies, `/`, `/metrics`, `operator check` or `operator chat`.

Real servers where they run here (Prometheus, Alertmanager, PostgreSQL with a role whose
password is the planted one, pgBouncer, HAProxy, a private Redis), fakes for the vendors that
cannot (Loki, Elasticsearch, Kong, Datadog, Twilio REST). One backend (a closed port) fails, so
error paths are covered too. Every process logs at DEBUG: nothing may leak at any level.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.bot.test_cli import OPERATOR, run_env
from tests.fakes.datadog import FakeDatadog
from tests.fakes.elasticsearch import ElasticsearchFake
from tests.fakes.kong import KongFake
from tests.fakes.loki import LokiFake
from tests.fakes.server import closed_port_url
from tests.fakes.twilio import ACCOUNT_SID, FROM_NUMBER, TwilioFake
from tests.phone import BASE_URL, NUMBERS, TOKEN, reply_text, sign
from tests.servers import redis as redis_servers
from tests.servers.common import free_port, wait_until
from tests.servers.haproxy import HAProxyServer
from tests.servers.pg import PgBouncerServer, PgServer
from tests.servers.prometheus import MonitoringStack
from tests.servers.redis import RedisServer

redis_server = redis_servers.redis_server

pytestmark = pytest.mark.integration

PASSWORD = "planted-" + uuid.uuid4().hex  # unique: any occurrence anywhere is a leak
METRICS_TOKEN = "metrics-" + uuid.uuid4().hex
COMMANDS = [
    "help",
    "help logs",
    "status",
    "alerts",
    "metrics",
    "metrics cpu",
    "1",
    "logs",
    "api",
    "1h",
    "more",
    "6h",
    "logs web 1h",
    "db",
    "gateway",
    "top",
    "oncall",
    "silences",
    "xyzzy",
    "reset",
    "STOP",
    "START",
]


def with_password(url: str, user: str = "ops") -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{PASSWORD}@{rest}"


@pytest.fixture
def leaky_env(
    monitoring_stack: MonitoringStack,
    pg_server: PgServer,
    pgbouncer_server: PgBouncerServer,
    haproxy_server: HAProxyServer,
    redis_server: RedisServer,
) -> Iterator[dict[str, str]]:
    """Every URL/DSN setting carries PASSWORD; every backend is reachable except one."""
    role = "leak_" + uuid.uuid4().hex[:8]
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}' IN ROLE pg_monitor")
    with (
        LokiFake() as loki,
        ElasticsearchFake() as es,
        KongFake() as kong,
        FakeDatadog() as datadog,
        TwilioFake(ACCOUNT_SID, TOKEN) as twilio,
    ):
        yield run_env(
            TWILIO_AUTH_TOKEN=TOKEN,
            PUBLIC_BASE_URL=BASE_URL,
            AUTHORIZED_NUMBERS=",".join(NUMBERS),
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_FROM_NUMBER=FROM_NUMBER,
            TWILIO_API_URL=with_password(twilio.url),
            METRICS_TOKEN=METRICS_TOKEN,
            LOG_LEVEL="DEBUG",
            MONITOR_TIMEOUT_S="3",
            LOG_SERVICES="api,web",
            PROMETHEUS_URL=with_password(monitoring_stack.prometheus_url),
            ALERTMANAGER_URL=with_password(closed_port_url()),  # down: the error path
            LOKI_URL=with_password(loki.url),
            ELASTICSEARCH_URL=with_password(es.url),
            KONG_ADMIN_URL=with_password(kong.url),
            HAPROXY_STATS_URL=with_password(haproxy_server.stats_url),
            DATADOG_API_KEY="dd-api-key",
            DATADOG_APP_KEY="dd-app-key",
            DATADOG_API_URL=with_password(datadog.url),
            DATABASE_URL=pg_server.dsn(role, PASSWORD),
            PGBOUNCER_URL=pgbouncer_server.dsn("pgbadmin", PASSWORD, "pgbouncer"),
            REDIS_URL=redis_server.url.replace("redis://", f"redis://default:{PASSWORD}@"),
            CHECK_URLS=f"site={with_password(monitoring_stack.prometheus_url)}/-/ready|200,"
            f"gone={with_password(closed_port_url())}",
        )


def assert_no_password(*outputs: str) -> None:
    for text in outputs:
        assert PASSWORD not in text, text[max(0, text.find(PASSWORD) - 300) : text.find(PASSWORD) + 100]


class TestPlantedPasswords:
    def test_operator_check_shows_no_credential(self, leaky_env: dict[str, str], tmp_path: Path) -> None:
        """`operator check` health-checks every backend (one DOWN) and prints no password."""
        out = subprocess.run(
            [OPERATOR, "check"], capture_output=True, text=True, timeout=120, env=leaky_env, cwd=tmp_path, check=False
        )
        assert "prometheus" in out.stdout and "DOWN" in out.stdout, out.stdout + out.stderr
        assert_no_password(out.stdout, out.stderr)

    def test_every_command_by_chat_shows_no_credential(self, leaky_env: dict[str, str], tmp_path: Path) -> None:
        out = subprocess.run(
            [OPERATOR, "chat"],
            input="\n".join(COMMANDS) + "\n",
            capture_output=True,
            text=True,
            timeout=300,
            env=leaky_env,
            cwd=tmp_path,
            check=False,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        assert len(out.stdout.splitlines()) >= len(COMMANDS)
        assert "ok" in out.stdout  # the backends answered: requests were made (and could have been logged)
        assert_no_password(out.stdout, out.stderr)

    def test_every_command_by_sms_and_every_endpoint_shows_no_credential(
        self, leaky_env: dict[str, str], tmp_path: Path
    ) -> None:
        """A real `operator serve`: every command by signed /sms, then /, /metrics; its whole log is clean."""
        port = free_port()
        log = tmp_path / "serve.log"
        base = f"http://127.0.0.1:{port}"
        replies: list[str] = []
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=leaky_env,
                cwd=tmp_path,
            )
        try:
            wait_until(
                lambda: httpx.get(base + "/health", timeout=1).status_code == 200, 30, proc, "operator serve", log
            )
            with httpx.Client(base_url=base, timeout=30) as client:
                for i, body in enumerate(COMMANDS):
                    form = {"MessageSid": f"SMleak{i:026d}", "From": NUMBERS[0], "To": "+14155550000", "Body": body}
                    response = client.post(
                        "/sms", data=form, headers={"X-Twilio-Signature": sign(BASE_URL + "/sms", form)}
                    )
                    assert response.status_code == 200, response.text
                    replies.append(reply_text(response.text))
                auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
                pages = [client.get(path, headers=auth).text for path in ("/", "/metrics", "/ready")]
        finally:
            proc.terminate()
            proc.wait(30)
        assert any("ok" in r for r in replies), replies
        assert_no_password(*replies, *pages, log.read_text())
