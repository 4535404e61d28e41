"""Faults with real `operator serve` processes on one Redis: a replica killed mid-send, two replicas
escalating, Twilio down for a while. Twilio's Messages API is the local fake; nothing is timed,
every wait is bounded and polls for the outcome."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.bot.test_cli import OPERATOR, run_env
from tests.conftest import REDIS_URL
from tests.fakes.twilio import ACCOUNT_SID, FROM_NUMBER, TwilioFake
from tests.oncall.conftest import CHAIN, alert, payload
from tests.oncall.test_routes import BEARER, WEBHOOK_TOKEN
from tests.phone import BASE_URL, TOKEN
from tests.servers.common import free_port, stop, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    with TwilioFake(ACCOUNT_SID, TOKEN) as fake:
        yield fake


def serve_env(prefix: str, twilio: TwilioFake, **extra: str) -> dict[str, str]:
    env = run_env(
        TWILIO_AUTH_TOKEN=TOKEN,
        PUBLIC_BASE_URL=BASE_URL,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_FROM_NUMBER=FROM_NUMBER,
        TWILIO_API_URL=twilio.url,
        REDIS_URL=REDIS_URL,
        REDIS_KEY_PREFIX=prefix,
        ALERT_WEBHOOK_TOKEN=WEBHOOK_TOKEN,
        ONCALL_NUMBERS=",".join(CHAIN),
        PAGE_CLAIM_IDLE_S="1",
        PAGE_BUNDLE_S="0",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


@contextmanager
def operator_serve(env: dict[str, str], tmp: Path, name: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(base + "/health", timeout=1).status_code == 200, 30, proc, name, log)
        yield base, proc
    finally:
        stop(proc)


def post_alerts(base: str, *alerts: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(base + "/alertmanager", content=payload(*alerts), headers=BEARER, timeout=5)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def incidents(prefix: str) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}{{oc}}:inc:*"))
        return [json.loads(raw) for raw in client.mget(keys) if raw] if keys else []
    finally:
        client.close()


class TestReplicaKilled:
    def test_sigkill_mid_send_then_another_replica_delivers_once(
        self, twilio: TwilioFake, redis_prefix: str, tmp_path: Path
    ) -> None:
        """A is killed while Twilio holds its request (the message was made) and with a page waiting on
        a retry; B on the same Redis finds the first at Twilio instead of resending, and sends the second."""
        env = serve_env(redis_prefix, twilio)
        twilio.hang_next(1)
        with operator_serve(env, tmp_path, "a") as (base, proc):
            post_alerts(base, alert("KillA", "db-1"))
            until(lambda: len(twilio.created) == 1, 20, "A's first request to reach Twilio")
            twilio.fail_next(503, times=1)
            post_alerts(base, alert("KillB", "db-2"))
            until(lambda: len(twilio.sent) == 2, 20, "A's second request (answered 503)")
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        assert len(twilio.created) == 1
        with operator_serve(env, tmp_path, "b"):
            until(lambda: len(twilio.created) == 2, 60, "B to deliver what A left")
            until(lambda: sum(1 for r in twilio.requests if r.method == "GET") >= 1, 60, "B to look A's send up")
        bodies = twilio.bodies_to(CHAIN[0])
        assert sorted(b.split()[1] for b in bodies) == ["KillA", "KillB"]  # each once


class TestTwoReplicas:
    def test_each_alert_escalates_exactly_once(self, twilio: TwilioFake, redis_prefix: str, tmp_path: Path) -> None:
        """Two replicas, both ticking: every unacked alert reaches the second number once."""
        env = serve_env(redis_prefix, twilio, ESCALATE_AFTER_S="5", PAGE_BUDGET_PER_HOUR="200")
        names = [f"Esc{i}" for i in range(5)]
        with operator_serve(env, tmp_path, "a") as (a, _), operator_serve(env, tmp_path, "b") as (b, _):
            post_alerts(a, *(alert(n, "x") for n in names[:3]))
            post_alerts(b, *(alert(n, "x") for n in names[3:]))
            until(lambda: len(twilio.bodies_to(CHAIN[1])) >= 5, 60, "five escalations")
            until(lambda: all(i["level"] >= 1 for i in incidents(redis_prefix)), 10, "levels recorded")
        for inc in incidents(redis_prefix):
            pairs = [(p["n"], p["level"]) for p in inc["paged"]]
            assert len(pairs) == len(set(pairs)), inc["paged"]  # no phone paged twice at one level
        to_second = [t for t in twilio.bodies_to(CHAIN[1]) if "(escalated from +14*******00)" in t]
        assert sorted(t.split()[1] for t in to_second) == names


class TestTwilioDown:
    def test_down_for_a_while_then_back_delivers_once(
        self, twilio: TwilioFake, redis_prefix: str, tmp_path: Path
    ) -> None:
        twilio.down = True
        with operator_serve(serve_env(redis_prefix, twilio), tmp_path, "a") as (base, _):
            post_alerts(base, alert("Outage", "api-1"))
            until(lambda: len(twilio.sent) >= 3, 30, "three refused attempts")
            twilio.down = False
            until(lambda: twilio.bodies_to(CHAIN[0]), 30, "the page once Twilio is back")
            [inc] = incidents(redis_prefix)
            assert inc["state"] == "paged"
        assert len(twilio.bodies_to(CHAIN[0])) == 1
