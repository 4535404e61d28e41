"""The /sms webhook end to end: signatures, allow-list, keywords, idempotency, odd bodies."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from quart import Quart
from werkzeug.datastructures import MultiDict

from bot import twiml
from bot.app import create_app
from bot.sms import MAX_BODY, segment_info
from bot.webhook import BodyGuard, small
from dialogs.store import SessionStore
from tests.bot.conftest import metric_value
from tests.conftest import make_settings
from tests.phone import BASE_URL, NUMBERS, STRANGER, TOKEN, Phone, reply_text, sign
from tests.servers.common import free_port

E164 = NUMBERS[0]
EMPTY = r"^Empty message\? Send help for commands\.$"
UNKNOWN = r"\btry help\b"  # the unknown-words answer; its exact wording belongs to the conversation


async def post_raw(app: Quart, path: str, form: MultiDict[str, str], signature: str) -> Any:
    """Post a form with repeated keys intact (the test client's form= keeps one value per key)."""
    headers = {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"}
    return await app.test_client().post(path, data=urlencode(list(form.items(multi=True))), headers=headers)


async def assert_untouched(store: SessionStore, phone: Phone) -> None:
    assert await store.load(E164) is None
    again = await store.begin(E164, phone.last_sid, rate_limit=1, lock_wait_s=0.1)
    assert again.duplicate is None, "a refused request must not store a reply"
    assert not again.limited, "a refused request must not count towards the rate limit"


class TestSignature:
    async def test_signed_help_is_answered_in_one_segment(self, phone: Phone) -> None:
        """A correctly signed `help` gets the command list, in one GSM-7 segment."""
        reply = await phone.expect("help", r"status.*alerts.*metrics.*logs.*db.*gateway")
        info = segment_info(reply)
        assert (info.encoding, info.segments) == ("GSM-7", 1)

    @pytest.mark.parametrize("case", ["missing", "garbage", "other_token", "other_url", "other_body"])
    async def test_bad_signature_is_403_and_touches_nothing(
        self, app: Quart, store: SessionStore, phone: Phone, case: str
    ) -> None:
        """Forged, missing or replayed-with-another-body signatures get 403 and run nothing."""
        form = phone.form("status")
        signature = {
            "missing": "",
            "garbage": "bm90IGEgc2lnbmF0dXJl",
            "other_token": sign(BASE_URL + "/sms", form, "another-token"),
            "other_url": sign("https://evil.example.com/sms", form),
            "other_body": sign(BASE_URL + "/sms", {**form, "Body": "help"}),
        }[case]
        response = (
            await phone.post(form, signature=signature)
            if signature
            else await app.test_client().post("/sms", form=form)
        )
        assert response.status_code == 403
        assert "Response" not in await response.get_data(as_text=True)
        await assert_untouched(store, phone)
        assert await metric_value(app, "operator_messages_total", outcome="forged") == 1
        assert await metric_value(app, "operator_commands_total", command="status") == 0

    async def test_query_string_and_repeated_keys_are_signed_as_received(self, app: Quart) -> None:
        """The signature covers the raw query and every value of a repeated key."""
        phone = Phone(app.test_client())
        form = MultiDict([*phone.form("help").items(), ("MediaUrl0", "a"), ("MediaUrl0", "b")])
        url = BASE_URL + "/sms?tenant=a%20b"
        ok = await post_raw(app, "/sms?tenant=a%20b", form, sign(url, form))
        assert ok.status_code == 200
        assert "status" in reply_text(await ok.get_data(as_text=True))
        dropped = MultiDict([*phone.form("help", sid="SMx").items(), ("MediaUrl0", "a")])
        signed_with_both = MultiDict([*dropped.items(multi=True), ("MediaUrl0", "b")])
        bad = await post_raw(app, "/sms?tenant=a%20b", dropped, sign(url, signed_with_both))
        assert bad.status_code == 403

    async def test_public_url_is_what_counts_behind_a_proxy(self, store: SessionStore) -> None:
        """Twilio signs https://public/...; the app sees http://internal: the public URL wins."""
        app = create_app(make_settings(public_base_url="https://ops.example.com/hooks"), store=store)
        async with app.test_app():
            phone = Phone(app.test_client(), base_url="https://ops.example.com/hooks")
            form = phone.form("help")
            good = await phone.post(form, sign_url="https://ops.example.com/hooks/sms")
            assert good.status_code == 200
            seen = await phone.post(phone.form("help"), sign_url="http://localhost/sms")
            assert seen.status_code == 403

    async def test_local_mode_without_public_url_signs_the_seen_url(self, store: SessionStore) -> None:
        """--local with a token and no PUBLIC_BASE_URL: the URL the app sees is what is checked."""
        app = create_app(make_settings(public_base_url=None), store=store, local=True)
        async with app.test_app():
            phone = Phone(app.test_client(), base_url="http://localhost")
            assert (await phone.send("help")).status_code == 200
            wrong = await phone.post(phone.form("help"), sign_url=BASE_URL + "/sms")
            assert wrong.status_code == 403


class TestSenders:
    async def test_unknown_sender_gets_empty_response_and_nothing_runs(self, app: Quart, store: SessionStore) -> None:
        """A stranger gets an empty <Response/>: no data, no session, counted."""
        stranger = Phone(app.test_client(), STRANGER)
        response = await stranger.send("status")
        assert response.status_code == 200
        body = await response.get_data(as_text=True)
        assert reply_text(body) == "" and "Message" not in body
        assert await store.load(STRANGER) is None
        assert await metric_value(app, "operator_messages_total", outcome="unknown_sender") == 1

    async def test_allow_list_is_compared_in_e164(self, store: SessionStore) -> None:
        """`+1 (415) 555-0100` in the settings admits the sender +14155550100."""
        app = create_app(
            make_settings(authorized_numbers="+1 (415) 555-0100, 020 7946 0018", default_region="GB"), store=store
        )
        async with app.test_app():
            assert "status" in await Phone(app.test_client(), "+14155550100").text("help")
            assert "status" in await Phone(app.test_client(), "+442079460018").text("help")

    def test_malformed_allow_list_entry_stops_start_up(self) -> None:
        with pytest.raises(ValueError, match="AUTHORIZED_NUMBERS"):
            create_app(make_settings(authorized_numbers="+14155550100,12"))

    async def test_local_mode_without_a_list_accepts_loopback_senders(self, store: SessionStore) -> None:
        """`operator serve --local` with no AUTHORIZED_NUMBERS: whoever is on loopback may try it."""
        app = create_app(make_settings(twilio_auth_token=None, authorized_numbers=""), local=True, store=store)
        async with app.test_app():
            response = await app.test_client().post("/sms", form={"From": STRANGER, "Body": "help"})
            assert "status" in reply_text(await response.get_data(as_text=True))
        strict = create_app(make_settings(authorized_numbers=""), store=store)
        async with strict.test_app():
            assert await Phone(strict.test_client(), STRANGER).text("help") == ""

    def test_refuses_to_run_without_token_unless_local(self) -> None:
        with pytest.raises(RuntimeError, match="TWILIO_AUTH_TOKEN"):
            create_app(make_settings(twilio_auth_token=None))
        assert create_app(make_settings(twilio_auth_token=None), local=True) is not None

    def test_refuses_to_run_without_public_url_unless_local(self) -> None:
        """Without PUBLIC_BASE_URL the client's Host header would pick the signed URL: no start."""
        with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL is not set"):
            create_app(make_settings(public_base_url=None))
        assert create_app(make_settings(public_base_url=None), local=True) is not None


class TestKeywords:
    @pytest.mark.parametrize(
        "word", ["STOP", "stop", " Stop ", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT"]
    )
    async def test_opt_out_gets_no_reply_and_is_recorded(self, phone: Phone, store: SessionStore, word: str) -> None:
        """Carrier opt-out words: the carrier answers, we stay silent and remember."""
        assert await phone.text(word) == ""
        assert await store.is_opted_out(E164)
        assert await phone.text("START") == ""
        assert not await store.is_opted_out(E164)

    async def test_stop_inside_a_sentence_is_not_an_opt_out(self, phone: Phone, store: SessionStore) -> None:
        """Only a bare keyword opts out: a sentence with STOP in it is an ordinary message (an action we can't do)."""
        await phone.expect("stop the alerts", r"^I can't do that \(yet\)")
        assert not await store.is_opted_out(E164)

    @pytest.mark.parametrize("word", ["reset", "cancel", "RESET"])
    async def test_reset_clears_the_conversation(self, store: SessionStore, word: str) -> None:
        """`metrics` opens a question (a metrics source is configured; nothing listens, none is
        queried to ask), and the reset word closes it."""
        app = create_app(make_settings(prometheus_url=f"http://127.0.0.1:{free_port()}"), store=store)
        async with app.test_app():
            phone = Phone(app.test_client())
            await phone.text("metrics")
            session = await store.load(E164)
            assert session is not None and session.state != "idle"
            assert await phone.text(word) == "OK, cleared."
            session = await store.load(E164)
            assert session is not None and session.state == "idle" and session.draft is None


class TestBodies:
    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ("", EMPTY),
            ("   \n\t ", EMPTY),
            ("\u202e\u200b", EMPTY),
            (
                "🙏" * 400,
                r"^You.re welcome\. .*help",
            ),  # an emoji is said, not empty (issue 10): a friendly line in kind
            ("x" * 1600, UNKNOWN),
            ("\x00\x01\x02\x1b[31m", UNKNOWN),
            ("<Response>&amp;</Response>", UNKNOWN),
            ("é" * 1600, UNKNOWN),
        ],
    )
    async def test_odd_bodies_get_a_short_answer(
        self, phone: Phone, store: SessionStore, body: str, expected: str
    ) -> None:
        """Nothing readable gets "Empty message?"; emoji a friendly line; unreadable words the pointer to help."""
        response = await phone.send(body)
        assert response.status_code == 200
        reply = reply_text(await response.get_data(as_text=True))
        assert re.search(expected, reply, re.IGNORECASE), reply
        assert segment_info(reply).segments == 1, reply
        assert not await store.is_opted_out(E164)

    async def test_unknown_word_points_to_help(self, phone: Phone) -> None:
        await phone.expect("banana", r"try help")

    @pytest.mark.parametrize("text", ["&" * MAX_BODY, "<" * MAX_BODY, "\U0001f600" * MAX_BODY])
    def test_the_largest_reply_goes_whole_into_the_transport_buffer(self, text: str) -> None:
        """Replies are sent without RESPONSE_TIMEOUT because even the largest fits the transport's
        buffer (64 KiB before it pushes back): sending one never waits on the client."""
        body = twiml.message(text)
        assert len(body.encode()) < 64 * 1024
        assert small(body).timeout is None

    async def test_without_the_guard_the_route_reads_the_body_itself(self, app: Quart, phone: Phone) -> None:
        """`BodyGuard` hands the route the body it read; served without the guard, the route reads it."""
        assert isinstance(app.asgi_app, BodyGuard)
        app.asgi_app = app.asgi_app.inner  # type: ignore[method-assign]
        await phone.expect("help", r"status.*metrics")
        await phone.expect("", EMPTY)


class TestIdempotency:
    async def test_same_message_sid_returns_same_reply_and_runs_once(self, app: Quart, phone: Phone) -> None:
        """Twilio may deliver a webhook twice: the second gets the stored reply, nothing runs."""
        first = await phone.text("status", sid="SMsame0001")
        second = await phone.text("status", sid="SMsame0001")
        assert second == first
        assert await metric_value(app, "operator_commands_total", command="status") == 1
        assert await metric_value(app, "operator_messages_total", outcome="duplicate") == 1


class TestServiceEndpoints:
    async def test_health_ready_info_metrics(self, app: Quart) -> None:
        client = app.test_client()
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/ready")
        assert ready.status_code == 200
        assert (await client.get("/health?ready=1")).status_code == 200
        info = json.loads(await (await client.get("/")).get_data(as_text=True))
        assert info["name"] == "operator" and info["monitors"] == []
        text = json.dumps(info)
        assert TOKEN not in text
        metrics = await (await client.get("/metrics")).get_data(as_text=True)
        for name in ("operator_messages_total", "operator_reply_seconds_bucket"):
            assert name in metrics

    async def test_ready_is_503_when_the_store_is_unreachable(self) -> None:
        app = create_app(make_settings(redis_url="redis://127.0.0.1:1/0"))
        async with app.test_app():
            client = app.test_client()
            assert (await client.get("/ready")).status_code == 503
            assert (await client.get("/health")).status_code == 200
            # stateless commands still answer without the store
            assert "status" in await Phone(client).text("help")
