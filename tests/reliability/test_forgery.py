"""Forgery and replay beyond tests/bot/test_webhook.py: tampered replays, and duplicates across replicas."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from quart import Quart

from bench import flood
from bot.webhook import BodyGuard
from dialogs.redis_store import RedisSessionStore
from dialogs.store import MemorySessionStore
from tests.apps import SmsApp
from tests.bot.conftest import metric_value
from tests.bot.test_cli import OPERATOR
from tests.conftest import make_settings
from tests.phone import BASE_URL, NUMBERS, TOKEN, Phone, reply_text, sign
from tests.servers import redis as redis_servers
from tests.servers.common import free_port, wait_until
from tests.servers.redis import RedisServer

redis_server = redis_servers.redis_server  # the fixture, until tests/conftest.py lists the plugin


@pytest.fixture
async def app(sms_app: SmsApp) -> AsyncIterator[Quart]:
    async with sms_app(store=MemorySessionStore(1800)) as application:
        yield application


async def post_body(app: Quart, body: str, signature: str, path: str = "/sms") -> tuple[int, str]:
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    response = await app.test_client().post(path, data=body, headers=headers)
    return response.status_code, await response.get_data(as_text=True)


class TestTamperedReplays:
    async def test_captured_request_replayed_with_an_added_field_is_403(self, app: Quart) -> None:
        """A valid captured request plus one more parameter no longer matches its signature."""
        form = Phone(app.test_client()).form("status")
        signature = sign(BASE_URL + "/sms", form)
        status, _ = await post_body(app, urlencode({**form, "Body2": "x"}), signature)
        assert status == 403
        status, _ = await post_body(app, urlencode({**form, "MediaUrl0": "https://evil.example/x"}), signature)
        assert status == 403
        assert await metric_value(app, "operator_commands_total", command="status") == 0

    async def test_captured_request_replayed_with_a_field_dropped_or_emptied_is_403(self, app: Quart) -> None:
        form = Phone(app.test_client()).form("status")
        signature = sign(BASE_URL + "/sms", form)
        dropped = {k: v for k, v in form.items() if k != "NumMedia"}
        assert (await post_body(app, urlencode(dropped), signature))[0] == 403
        assert (await post_body(app, urlencode({**form, "From": ""}), signature))[0] == 403

    @pytest.mark.parametrize(
        "url",
        [
            "http://ops.example.com/sms",
            "https://ops.example.com/sms?x=1",
            "https://ops.example.com/sms/",
            "https://OPS.example.com.evil/sms",
        ],
    )
    async def test_signature_for_a_near_miss_url_is_403(self, app: Quart, url: str) -> None:
        """Another scheme, an added query, a trailing slash, a lookalike host: all refused."""
        form = Phone(app.test_client()).form("status")
        assert (await post_body(app, urlencode(form), sign(url, form)))[0] == 403

    async def test_replay_with_reordered_parameters_is_the_same_message_answered_once(self, app: Quart) -> None:
        """Parameter order is not signed (names are sorted): a reordered replay is a duplicate, run once."""
        form = Phone(app.test_client()).form("status")
        signature = sign(BASE_URL + "/sms", form)
        first = await post_body(app, urlencode(form), signature)
        again = await post_body(app, urlencode(dict(reversed(list(form.items())))), signature)
        assert first[0] == again[0] == 200
        assert reply_text(again[1]) == reply_text(first[1]) != ""
        assert await metric_value(app, "operator_commands_total", command="status") == 1
        assert await metric_value(app, "operator_messages_total", outcome="duplicate") == 1

    async def test_same_message_sid_with_another_signed_body_gets_the_stored_reply(self, app: Quart) -> None:
        """Even correctly signed, a second message under a used MessageSid runs nothing new."""
        phone = Phone(app.test_client())
        first = await phone.text("help", sid="SMreplay000000000000000000000001")
        second = await phone.text("status", sid="SMreplay000000000000000000000001")
        assert second == first
        assert await metric_value(app, "operator_commands_total", command="status") == 0


class TestReplayAcrossReplicas:
    async def test_a_retried_webhook_on_another_replica_runs_once(
        self, sms_app: SmsApp, redis_server: RedisServer
    ) -> None:
        """Twilio's retry may land on the other process: the stored reply comes back, nothing runs twice."""

        def replica() -> AbstractAsyncContextManager[Quart]:
            return sms_app(store=RedisSessionStore.from_url(redis_server.url, 1800), redis_url=redis_server.url)

        async with replica() as first_app, replica() as second_app:
            apps = [first_app, second_app]
            form = Phone(apps[0].test_client(), NUMBERS[2]).form("status")
            signature = sign(BASE_URL + "/sms", form)
            first = await post_body(apps[0], urlencode(form), signature)
            second = await post_body(apps[1], urlencode(form), signature)
            assert first[0] == second[0] == 200
            assert reply_text(first[1]) == reply_text(second[1]) != ""
            runs = [await metric_value(a, "operator_commands_total", command="status") for a in apps]
            assert runs == [1, 0]
            assert await metric_value(apps[1], "operator_messages_total", outcome="duplicate") == 1


class TestNothingBeforeTheSignatureIsExpensive:
    """Bodies over MAX_BODY_BYTES or MAX_FORM_FIELDS are refused before parsing or hashing."""

    async def test_declared_length_over_the_bound_is_413_before_reading(self, app: Quart) -> None:
        """A 1 MB unsigned body: 413 from Content-Length, never counted as a forgery (nothing was hashed)."""
        headers = {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl", "Content-Type": "application/x-www-form-urlencoded"}
        response = await app.test_client().post("/sms", data="Body=" + "x" * 1_000_000, headers=headers)
        assert response.status_code == 413
        assert response.headers["Connection"] == "close"  # the rest of the body is never read
        assert await metric_value(app, "operator_messages_total", outcome="oversized") == 1
        assert await metric_value(app, "operator_messages_total", outcome="forged") == 0

    async def test_a_chunked_body_growing_past_the_bound_is_413_while_read(self, app: Quart) -> None:
        """No Content-Length (chunked): the count of bytes read is what stops it."""
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"}
        async with app.test_client().request("/sms", method="POST", headers=headers) as connection:
            for _ in range(8):
                await connection.send(b"Body=" + b"y" * 16_000 + b"&")
            await connection.send_complete()
        response = await connection.as_response()
        assert response.status_code == 413
        assert await metric_value(app, "operator_messages_total", outcome="oversized") == 1

    async def test_too_many_fields_is_413_even_when_small(self, app: Quart) -> None:
        """Many tiny fields (the 1M-field attack, scaled down under the byte bound) are refused by count."""
        body = "&".join(f"f{i}=" for i in range(150))
        assert len(body) < make_settings().max_body_bytes
        status, _ = await post_body(app, body, "bm90IGEgc2lnbmF0dXJl")
        assert status == 413
        assert await metric_value(app, "operator_messages_total", outcome="forged") == 0

    async def test_a_real_webhook_with_media_fields_fits_the_bounds(self, app: Quart) -> None:
        """An MMS-sized webhook (ten media URLs and types) is under both bounds and answered."""
        phone = Phone(app.test_client())
        extra = {
            f"MediaUrl{i}": f"https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME{i:030d}"
            for i in range(10)
        }
        extra |= {f"MediaContentType{i}": "image/jpeg" for i in range(10)}
        form = phone.form("help", NumMedia="10", **extra)
        status, xml = await post_body(app, urlencode(form), sign(BASE_URL + "/sms", form))
        assert status == 200
        assert "status" in reply_text(xml)

    async def test_bounds_are_settings(self, sms_app: SmsApp) -> None:
        """MAX_BODY_BYTES lowered: a normal webhook over it is refused; raised back, answered."""
        async with sms_app(store=MemorySessionStore(1800), max_body_bytes=4096) as small:
            phone = Phone(small.test_client())
            form = phone.form("help", Padding="p" * 5000)
            assert (await post_body(small, urlencode(form), sign(BASE_URL + "/sms", form)))[0] == 413
            form = phone.form("help", Padding="p" * 3000)
            assert (await post_body(small, urlencode(form), sign(BASE_URL + "/sms", form)))[0] == 200

    async def test_a_body_that_trickles_is_408(self, app: Quart) -> None:
        """A body still incomplete after the guard's timeout is refused; the connection is closed."""
        app.asgi_app = BodyGuard(app, 65536, 100, body_timeout_s=0.2)  # type: ignore[method-assign]
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"}
        async with app.test_client().request("/sms", method="POST", headers=headers) as connection:
            await connection.send(b"Body=slow")  # and nothing more
        response = await connection.as_response()
        assert response.status_code == 408
        assert response.headers["Connection"] == "close"


class TestHostHeader:
    async def test_a_signature_for_the_seen_host_is_refused(self, app: Quart) -> None:
        """Signed for another webhook URL of the account and sent with that Host: PUBLIC_BASE_URL wins, 403."""
        form = Phone(app.test_client()).form("status")
        signature = sign("http://other-app.example.net/sms", form)
        headers = {
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
            "Host": "other-app.example.net",
        }
        response = await app.test_client().post("/sms", data=urlencode(form), headers=headers)
        assert response.status_code == 403


@pytest.mark.integration
@pytest.mark.parametrize("mode", ["large", "fields", "chunked"])
def test_a_flood_of_unsigned_bodies_leaves_signed_messages_answered(tmp_path: Path, mode: str) -> None:
    """A real `operator serve` under 16 connections of unsigned junk for 3 s (bench/flood.py's
    attacker, bounded): every signed `help` meanwhile is answered within Twilio's 15 s, every junk
    request is refused by size, and the server's memory stays far from the attack's volume."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_", "AUTHORIZED"))}
    env.update(
        TWILIO_AUTH_TOKEN=TOKEN,
        PUBLIC_BASE_URL=BASE_URL,
        AUTHORIZED_NUMBERS=NUMBERS[0],
        RATE_LIMIT_PER_MIN="100000",
        LOG_LEVEL="WARNING",
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [OPERATOR, "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(base + "/health", timeout=1).status_code == 200, 30, server, "serve", log)
        sampler = flood.RssSampler(server.pid)
        sampler.start()
        attacker = subprocess.Popen(
            [
                sys.executable,
                flood.__file__,
                "--attack",
                mode,
                "--port",
                str(port),
                "--clients",
                "16",
                "--seconds",
                "3",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        replies = []
        with httpx.Client(base_url=base, timeout=15) as client:  # Twilio gives up at 15 s
            for i in range(20):
                form = {
                    "MessageSid": f"SMflood{mode}{i:024d}"[:34],
                    "From": NUMBERS[0],
                    "To": "+14155550000",
                    "Body": "help",
                }
                response = client.post("/sms", data=form, headers={"X-Twilio-Signature": sign(BASE_URL + "/sms", form)})
                replies.append((response.status_code, reply_text(response.text)))
        stats = json.loads(attacker.communicate(timeout=60)[0])
        sampler.done.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait(20)
    assert all(code == 200 and "status" in text for code, text in replies), replies
    assert stats["requests"] > 16
    assert set(stats) <= {"requests", "bytes", "refused_mid_body", "413"}, stats  # refused, never parsed
    assert max(sampler.samples) < 250, max(sampler.samples)  # MB (4 unsigned 9 MB bodies once took 1 GB)
