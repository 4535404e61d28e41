"""Settings and README claims, each proved through the real signed /sms route.

Every test here was written against a mutation that once survived the suite (the setting
ignored, the word dropped, the call made sequential): each fails when its setting is not
wired. Apps are built from `Settings` alone (`create_app(settings)`), so the store and the
monitors come from `build_store` / `build_monitors` exactly as in `operator serve`.
Backends: the machine's Redis (db 15, a prefix per test), private redis-servers (one with
TLS), a Redis Cluster, real Prometheus, a PostgreSQL primary with a streaming standby, and
fakes for Loki, Elasticsearch and Datadog.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis.asyncio as aioredis
from quart import Quart
from redis.asyncio.cluster import RedisCluster

from bot.app import create_app
from bot.config import Settings
from bot.sms import segment_info
from dialogs.store import MemorySessionStore
from tests.conftest import REDIS_URL, make_settings
from tests.fakes.datadog import API_KEY, APP_KEY, FakeDatadog, series
from tests.fakes.elasticsearch import ElasticsearchFake
from tests.fakes.kong import KongFake
from tests.fakes.loki import Entry, LokiFake
from tests.fakes.server import FakeServer, Reply, Request, closed_port_url
from tests.phone import NUMBERS, Phone, reply_text
from tests.servers.common import free_port, wait_until
from tests.servers.pg import REPLICA_NAME, Replication
from tests.servers.prometheus import MonitoringStack
from tests.servers.redis import RedisServer

NOW_NS = time.time_ns()
MIN_NS = 60 * 1_000_000_000
# A log source must be configured for `logs` to ask for a service; these tests never get as far
# as querying it, so nothing needs to listen there.
NO_LOKI = closed_port_url()
OPERATOR = str(Path(sys.executable).with_name("operator"))
HAPROXY_CSV = Path(__file__).resolve().parents[1] / "data" / "captured_haproxy_stats.csv"


@asynccontextmanager
async def serving(settings: Settings, **kwargs: Any) -> AsyncIterator[Quart]:
    """The app as `operator serve` builds it from these settings, start-up hooks run."""
    app = create_app(settings, **kwargs)
    async with app.test_app():
        yield app


def api_errors(*lines: str, minutes_ago: int = 5) -> list[Entry]:
    return [Entry({"service": "api"}, NOW_NS - (minutes_ago + i) * MIN_NS, line) for i, line in enumerate(lines)]


def clock_text(ns: int) -> str:
    """HH:MM as the logs answer prints a line of today (in UTC, the server's zone in tests)."""
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%H:%M")


class TestHelpByCommand:
    @pytest.mark.parametrize("topic", ["status", "alerts", "metrics", "logs", "db", "gateway", "more", "reset"])
    async def test_help_with_a_command_explains_that_command(self, topic: str) -> None:
        """`help logs` by SMS answers about logs, not the general command list."""
        async with serving(make_settings()) as app:
            phone = Phone(app.test_client())
            general = await phone.text("help")
            specific = await phone.text(f"help {topic}")
        assert specific != general, specific
        assert specific.lower().startswith(topic), specific
        assert segment_info(specific).segments == 1


class TestOptIn:
    @pytest.mark.parametrize("word", ["UNSTOP", "START", "unstop", " Start "])
    async def test_opt_in_word_clears_the_opt_out(self, word: str) -> None:
        """STOP records the opt-out; UNSTOP or START through /sms clears it, silently (the carrier answers)."""
        store = MemorySessionStore(1800)
        async with serving(make_settings(), store=store) as app:
            phone = Phone(app.test_client())
            assert await phone.text("STOP") == ""
            assert await store.is_opted_out(NUMBERS[0])
            assert await phone.text(word) == ""
            assert not await store.is_opted_out(NUMBERS[0])
            assert "status" in await phone.text("help")  # and the number talks to us as before


class TestPaging:
    @staticmethod
    async def pages(segments: int, loki: LokiFake) -> list[str]:
        settings = make_settings(loki_url=loki.url, log_services="api", sms_page_segments=segments)
        async with serving(settings) as app:
            phone = Phone(app.test_client())
            replies = [await phone.text("logs api 6h")]
            for _ in range(40):  # bounded: the answer has far fewer pages
                if not re.search(r"\(\d+/\d+ MORE\)$", replies[-1]):
                    break
                replies.append(await phone.text("more"))
        return replies

    async def test_sms_page_segments_sets_the_page_size(self) -> None:
        """One long answer, paged at 1 and at 3 segments: each page fits its budget, and 1 needs more pages."""
        lines = [f"ERROR request {i} failed: upstream inventory-{i % 7} timed out after 30s" for i in range(20)]
        with LokiFake(api_errors(*lines)) as loki:
            one, three = await self.pages(1, loki), await self.pages(3, loki)
        assert all(segment_info(page).segments == 1 for page in one), one
        assert all(segment_info(page).segments <= 3 for page in three), three
        assert segment_info(three[0]).segments == 3, three[0]
        assert len(one) > len(three) > 1, (len(one), len(three))
        for pages in (one, three):
            assert pages[0].endswith(f"(1/{len(pages)} MORE)")
            assert pages[-1].endswith(f"({len(pages)}/{len(pages)})")
        assert "ERROR request 19 failed" in "".join(one) and "ERROR request 19 failed" in "".join(three)


class TestEmoji:
    @pytest.mark.parametrize("emoji", [False, True])
    async def test_reply_emoji_keeps_or_drops_backend_emoji(self, emoji: bool) -> None:
        """A log line with an emoji: dropped for GSM-7 by default, kept with REPLY_EMOJI=true."""
        with LokiFake(api_errors("ERROR \U0001f525 card declined")) as loki:
            settings = make_settings(loki_url=loki.url, log_services="api", reply_emoji=emoji)
            async with serving(settings) as app:
                reply = await Phone(app.test_client()).text("logs api 1h")
        assert "card declined" in reply
        assert ("\U0001f525" in reply) is emoji, reply
        assert segment_info(reply).encoding == ("UCS-2" if emoji else "GSM-7")


class TestLogSettings:
    async def test_elasticsearch_timestamp_field_is_the_one_queried(self) -> None:
        """Documents dated in `event.created` only: found, in order and with their times, when the setting says so."""
        stamps = [NOW_NS - 3 * MIN_NS, NOW_NS - 40 * MIN_NS, NOW_NS - 20 * MIN_NS]
        docs = [
            {
                "event": {"created": datetime.fromtimestamp(ns / 1e9, UTC).isoformat()},
                "service": {"name": "api"},
                "log": {"level": "error"},
                "message": f"boom {i}",
            }
            for i, ns in enumerate(stamps)
        ]
        docs.append(
            {
                "event": {"created": datetime.fromtimestamp((NOW_NS - 3 * 60 * MIN_NS) / 1e9, UTC).isoformat()},
                "service": {"name": "api"},
                "log": {"level": "error"},
                "message": "too old",
            }
        )
        with ElasticsearchFake(docs) as es:
            base = {"elasticsearch_url": es.url, "log_services": "api"}
            async with serving(make_settings(**base, elasticsearch_timestamp_field="event.created")) as app:
                reply = await Phone(app.test_client()).text("logs api 1h")
            async with serving(make_settings(**base)) as app:
                default = await Phone(app.test_client()).text("logs api 1h")
        lines = reply.splitlines()
        assert lines[0] == "api, last 1h: 3 errors.", reply
        assert lines[1:4] == [
            f"{clock_text(stamps[0])} boom 0",
            f"{clock_text(stamps[2])} boom 2",
            f"{clock_text(stamps[1])} boom 1",
        ], reply
        assert "too old" not in reply
        assert default == "api, last 1h: no errors.", default  # @timestamp: these documents have none
        sent = next(r.json() for r in es.requests if r.path.endswith("/_search"))
        assert sent["sort"] == [{"event.created": {"order": "desc"}}]

    async def test_loki_tenant_is_sent_as_x_scope_orgid(self) -> None:
        """A multi-tenant Loki answers only with the org id LOKI_TENANT names; without it, 401 named."""
        with LokiFake(api_errors("ERROR tenant-a only"), tenant="team-a") as loki:
            base = {"loki_url": loki.url, "log_services": "api"}
            async with serving(make_settings(**base, loki_tenant="team-a")) as app:
                reply = await Phone(app.test_client()).text("logs api 1h")
            async with serving(make_settings(**base)) as app:
                untenanted = await Phone(app.test_client()).text("logs api 1h")
            async with serving(make_settings(**base, loki_tenant="team-b")) as app:
                other = await Phone(app.test_client()).text("logs api 1h")
        assert reply.startswith("api, last 1h: 1 error.") and "tenant-a only" in reply, reply
        assert re.fullmatch(r"logs api: loki DOWN: auth rejected \(HTTP 401\)", untenanted), untenanted
        assert other == "api, last 1h: no errors.", other
        queries = [r for r in loki.requests if r.path.startswith("/loki/api/v1/query")]
        assert {r.headers.get("x-scope-orgid") for r in queries} == {"team-a", None, "team-b"}


class TestMissCounter:
    async def test_a_good_answer_resets_the_misses(self) -> None:
        """Two misses, a good answer, two more misses: still in the dialog (three in a row would reset it)."""
        with LokiFake(api_errors("ERROR the one line")) as loki:
            async with serving(make_settings(loki_url=loki.url, log_services="api,web")) as app:
                phone = Phone(app.test_client())
                await phone.expect("logs", r"^Logs for which service\?")
                await phone.expect("zzqx", r"^Didn't get that\. Logs for which service\?")
                await phone.expect("qqzv", r"^Didn't get that\. Logs for which service\?")
                await phone.expect("api", r"^api: which window\?")
                await phone.expect("zzqx", r"^Didn't get that\. api: which window\?")
                await phone.expect("qqzv", r"^Didn't get that\. api: which window\?")
                await phone.expect("1h", r"^api, last 1h: 1 error\.\n\d\d:\d\d ERROR the one line")
                # and three in a row do reset: the counter counts
                await phone.expect("logs", r"^Logs for which service\?")
                for _ in range(2):
                    await phone.expect("zzqx", r"^Didn't get that")
                await phone.expect("zzqx", r"reset")
                await phone.expect("1", r"^Nothing to pick from")


class TestMetricAliases:
    ALIAS = {
        "targets": {
            "query": "count by (job) (up)",
            "unit": "targets",
            "label": "job",
            "description": "scrape targets per job",
        }
    }

    async def test_inline_metric_aliases_answer_from_prometheus(self, monitoring_stack: MonitoringStack) -> None:
        """METRIC_ALIASES adds `metrics targets`, run on the real Prometheus, and lists it under `metrics`."""
        settings = make_settings(prometheus_url=monitoring_stack.prometheus_url, metric_aliases=json.dumps(self.ALIAS))
        await self.assert_targets(settings)

    async def test_metric_aliases_file_answers_from_prometheus(
        self, monitoring_stack: MonitoringStack, tmp_path: Path
    ) -> None:
        """METRIC_ALIASES_FILE: the same alias read from a JSON file."""
        path = tmp_path / "aliases.json"
        path.write_text(json.dumps(self.ALIAS))
        settings = make_settings(prometheus_url=monitoring_stack.prometheus_url, metric_aliases_file=str(path))
        await self.assert_targets(settings)

    @staticmethod
    async def assert_targets(settings: Settings) -> None:
        async with serving(settings) as app:
            phone = Phone(app.test_client())
            reply = await phone.text("metrics targets")
            listing = await phone.text("metrics")
        assert reply.splitlines() == ["targets (scrape targets per job):", "node 1 targets", "prometheus 1 targets"], (
            reply
        )
        assert "targets" in listing and "cpu" in listing, listing

    async def test_a_datadog_alias_answers_from_datadog(self) -> None:
        """An alias with "source": "datadog" runs its query on Datadog (keys checked by the fake)."""
        query = "avg:system.cpu.user{env:prod} by {host}"
        aliases = {
            "ddcpu": {
                "query": query,
                "unit": "%",
                "label": "host",
                "source": "datadog",
                "description": "Datadog CPU by host",
            }
        }
        with FakeDatadog() as dd:
            dd.query_series[query] = [series("host:web-2", [3.0, 7.5]), series("host:web-1", [50.0, 61.0])]
            settings = make_settings(
                datadog_api_url=dd.url,
                datadog_api_key=API_KEY,
                datadog_app_key=APP_KEY,
                metric_aliases=json.dumps(aliases),
            )
            async with serving(settings) as app:
                reply = await Phone(app.test_client()).text("metrics ddcpu")
            asked = [r.query["query"][0] for r in dd.requests if r.path == "/api/v1/query"]
        assert reply.splitlines() == ["ddcpu (Datadog CPU by host):", "web-1 61%", "web-2 7.5%"], reply
        assert asked == [query]


class TestRedisSettings:
    async def test_redis_key_prefix_is_on_every_key(self, redis_client: aioredis.Redis, redis_prefix: str) -> None:
        """REDIS_KEY_PREFIX: the session lives under it in Redis, and another prefix does not see it."""
        settings = make_settings(
            redis_url=REDIS_URL, redis_key_prefix=redis_prefix, log_services="api,web", loki_url=NO_LOKI
        )
        async with serving(settings) as app:
            await Phone(app.test_client()).expect("logs", r"^Logs for which service\?")
        keys = [k.decode() async for k in redis_client.scan_iter(match=redis_prefix + "*")]
        assert f"{redis_prefix}{{{NUMBERS[0]}}}:s" in keys, keys
        other = redis_prefix + "other:"
        try:
            async with serving(
                make_settings(redis_url=REDIS_URL, redis_key_prefix=other, log_services="api,web", loki_url=NO_LOKI)
            ) as app:
                reply = await Phone(app.test_client()).text("2")  # answers nothing open under this prefix
            assert reply.startswith("Nothing to pick from"), reply
        finally:
            stale = [k async for k in redis_client.scan_iter(match=other + "*")]
            if stale:
                await redis_client.delete(*stale)

    async def test_redis_cluster_setting_talks_cluster(self, redis_cluster_url: str) -> None:
        """REDIS_URL + REDIS_CLUSTER=1: dialogs of senders hashed to different nodes all keep their state."""
        prefix = f"optest:wired{time.time_ns()}:"
        settings = make_settings(
            redis_url=redis_cluster_url,
            redis_cluster=True,
            redis_key_prefix=prefix,
            log_services="api,web",
            loki_url=NO_LOKI,
        )
        async with serving(settings) as app:
            for number in NUMBERS:
                await Phone(app.test_client(), number).expect("logs", r"^Logs for which service\?")
            for number in NUMBERS:
                await Phone(app.test_client(), number).expect("web", r"^web: which window\?")
        cluster = RedisCluster.from_url(redis_cluster_url)
        try:
            owners = set()
            for number in NUMBERS:
                key = f"{prefix}{{{number}}}:s"
                assert await cluster.exists(key), key
                node = cluster.get_node_from_key(key)
                owners.add(node.port if node is not None else None)
        finally:
            await cluster.aclose()
        assert len(owners) > 1, "all senders on one node: the test would not see a MOVED"

    async def test_rediss_url_connects_over_tls(self, tls_redis_server: RedisServer) -> None:
        """REDIS_URL=rediss://...: sessions kept in a TLS-only redis-server (no plain port open)."""
        assert tls_redis_server.url.startswith("rediss://")
        settings = make_settings(redis_url=tls_redis_server.url, log_services="api,web", loki_url=NO_LOKI)
        async with serving(settings) as app:
            phone = Phone(app.test_client())
            await phone.expect("logs", r"^Logs for which service\?")
            await phone.expect("web", r"^web: which window\?")
            assert (await app.test_client().get("/ready")).status_code == 200
        client = aioredis.Redis.from_url(tls_redis_server.url)
        try:
            assert await client.exists(f"operator:{{{NUMBERS[0]}}}:s")
        finally:
            await client.aclose()
        plain = aioredis.Redis.from_url(
            f"redis://127.0.0.1:{tls_redis_server.port}/0", socket_timeout=2, socket_connect_timeout=2
        )
        try:
            with pytest.raises(Exception):  # noqa: B017, PT011 - any failure: the port speaks only TLS
                await plain.ping()
        finally:
            await plain.aclose()


class TestLocalMode:
    async def test_local_mode_with_an_allow_list_refuses_unlisted_senders(self) -> None:
        """--local with AUTHORIZED_NUMBERS set: the list still decides, on loopback too."""
        settings = make_settings(twilio_auth_token=None, authorized_numbers=NUMBERS[0])
        async with serving(settings, local=True) as app:
            client = app.test_client()
            listed = await client.post("/sms", form={"From": NUMBERS[0], "Body": "help", "MessageSid": "SMl1"})
            unlisted = await client.post("/sms", form={"From": NUMBERS[1], "Body": "help", "MessageSid": "SMl2"})
            listed_text, unlisted_text = await listed.get_data(as_text=True), await unlisted.get_data(as_text=True)
        assert listed.status_code == 200 and "status" in listed_text
        assert unlisted.status_code == 200 and "<Message>" not in unlisted_text, unlisted_text


class Barrier:
    """Holds each backend's first request until every backend has one: a sequential caller never gets past."""

    def __init__(self, parties: int, timeout_s: float) -> None:
        self.barrier = threading.Barrier(parties, timeout=timeout_s)
        self.arrived: list[str] = []
        self._lock = threading.Lock()

    def hold_first(self, fake: FakeServer, name: str) -> None:
        """Whatever path the probe asks first, that request waits for the others."""
        for key, handler in list(fake.routes.items()):
            fake.routes[key] = self._held(name, handler)

    def _held(self, name: str, handler: Callable[[Request], Reply]) -> Callable[[Request], Reply]:
        def held(req: Request) -> Reply:
            with self._lock:
                first = name not in self.arrived
                if first:
                    self.arrived.append(name)
            if first:
                try:
                    self.barrier.wait()
                except threading.BrokenBarrierError:
                    return Reply(503, "the others never came")
            return handler(req)

        return held


class TestStatusInParallel:
    TIMEOUT_S = 4.0

    async def test_status_asks_every_monitor_at_once(self) -> None:
        """Seven backends that each answer only once all seven have been asked: `status` gets 7/7 ok."""
        with ExitStack() as stack:
            prometheus, alertmanager, haproxy = (stack.enter_context(FakeServer()) for _ in range(3))
            loki = stack.enter_context(LokiFake())
            es = stack.enter_context(ElasticsearchFake())
            dd = stack.enter_context(FakeDatadog())
            kong = stack.enter_context(KongFake({"api": [("10.0.0.1:80", "HEALTHY")]}))
            prometheus.routes[("GET", "/-/ready")] = lambda _r: Reply(200, "Prometheus Server is Ready.\n")
            prometheus.routes[("GET", "/api/v1/status/buildinfo")] = lambda _r: Reply(
                200, {"status": "success", "data": {"version": "2.45.0"}}
            )
            alertmanager.routes[("GET", "/-/ready")] = lambda _r: Reply(200, "OK")
            alertmanager.routes[("GET", "/api/v2/status")] = lambda _r: Reply(
                200, {"versionInfo": {"version": "0.26.0"}, "cluster": {"status": "disabled"}}
            )
            haproxy.routes[("GET", "/stats;csv")] = lambda _r: Reply(200, HAPROXY_CSV.read_text())
            # `status` also asks Prometheus for targets down and alerts, Alertmanager for alerts.
            prometheus.routes[("GET", "/api/v1/query")] = lambda _r: Reply(
                200, {"status": "success", "data": {"resultType": "vector", "result": []}}
            )
            prometheus.routes[("GET", "/api/v1/alerts")] = lambda _r: Reply(
                200, {"status": "success", "data": {"alerts": []}}
            )
            alertmanager.routes[("GET", "/api/v2/alerts")] = lambda _r: Reply(200, [])
            # Each backend's first request waits at the barrier, which gives up after twice the
            # monitor timeout: a sequential `status` would see the first backend time out, and
            # every later one too.
            fakes = {
                "prometheus": prometheus,
                "alertmanager": alertmanager,
                "haproxy": haproxy,
                "loki": loki,
                "elasticsearch": es,
                "datadog": dd,
                "kong": kong,
            }
            barrier = Barrier(len(fakes), 2 * self.TIMEOUT_S)
            for name, fake in fakes.items():
                barrier.hold_first(fake, name)
            settings = make_settings(
                prometheus_url=prometheus.url,
                alertmanager_url=alertmanager.url,
                haproxy_stats_url=haproxy.url + "/stats;csv",
                loki_url=loki.url,
                elasticsearch_url=es.url,
                datadog_api_url=dd.url,
                datadog_api_key=API_KEY,
                datadog_app_key=APP_KEY,
                kong_admin_url=kong.url,
                log_services="api",
                monitor_timeout_s=self.TIMEOUT_S,
                sms_page_segments=4,
            )
            async with serving(settings) as app:
                reply = await Phone(app.test_client()).text("status")
        assert re.search(r"\n7/7 sources ok( \(.*\))?$", reply), reply  # (the Datadog fake's monitors alert)
        assert sorted(barrier.arrived) == sorted(fakes)


class TestReplicationLag:
    @staticmethod
    def lag_bytes(primary_dsn: str) -> int | None:
        with psycopg.connect(primary_dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint "
                "FROM pg_stat_replication WHERE application_name = %s",
                (REPLICA_NAME,),
            ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def wait_for(self, check: Callable[[], bool], what: str, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while not check():
            assert time.monotonic() < deadline, f"{what} within {timeout_s}s"
            time.sleep(0.1)

    async def test_db_names_a_lagging_streaming_replica(self, pg_replication: Replication) -> None:
        """A real standby with replay paused while the primary writes: `db` names it with a non-zero lag."""
        primary = pg_replication.primary.dsn()
        self.wait_for(lambda: self.lag_bytes(primary) == 0, "the standby reports its replay position")
        pg_replication.pause_replay()
        try:
            with psycopg.connect(primary, autocommit=True) as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS lag_maker (n int)")
                conn.execute("INSERT INTO lag_maker SELECT generate_series(1, 20000)")
            self.wait_for(lambda: (self.lag_bytes(primary) or 0) > 0, "replay falls behind")
            settings = make_settings(database_url=primary, sms_page_segments=4)
            async with serving(settings) as app:
                reply = await Phone(app.test_client()).text("db")
        finally:
            pg_replication.resume_replay()
        line = next((ln for ln in reply.splitlines() if REPLICA_NAME in ln), "")
        assert line, reply
        # Wording belongs to the postgres monitor; the facts must be there: the replica, and a
        # lag that is not zero (bytes behind, or seconds).
        assert re.search(r"(?<![\d.])(?:[1-9]\d*(?:\.\d+)?|0\.\d*[1-9]\d*) ?(?:B|kB|MB|GB)\b|lag [1-9]", line), reply


class TestLocalServe:
    @pytest.mark.integration
    def test_operator_serve_local_keeps_the_allow_list(self, tmp_path: Path) -> None:
        """`operator serve --local` (no token) with AUTHORIZED_NUMBERS: only listed loopback senders are answered."""
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_", "PROMETHEUS"))}
        env["AUTHORIZED_NUMBERS"] = NUMBERS[0]
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [OPERATOR, "serve", "--local", "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=tmp_path,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(
                lambda: httpx.get(base + "/health", timeout=1).status_code == 200,
                30,
                proc,
                "operator serve --local",
                log,
            )
            listed = httpx.post(base + "/sms", data={"From": NUMBERS[0], "Body": "help", "MessageSid": "SMloc1"})
            unlisted = httpx.post(base + "/sms", data={"From": NUMBERS[1], "Body": "help", "MessageSid": "SMloc2"})
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
        assert listed.status_code == 200 and "status" in reply_text(listed.text), listed.text
        assert unlisted.status_code == 200 and reply_text(unlisted.text) == "", unlisted.text
