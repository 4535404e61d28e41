"""The real app's /alertmanager and /twilio/status routes: auth, bounds, persistence, signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from quart import Quart

from bot.config import Settings
from tests.apps import SmsApp
from tests.conftest import REDIS_URL, make_settings
from tests.fakes.twilio import ACCOUNT_SID, FROM_NUMBER, TwilioFake
from tests.oncall.conftest import CHAIN, alert, payload
from tests.phone import TOKEN, Phone

WEBHOOK_TOKEN = "am-webhook-token-0123456789"
BEARER = {"Authorization": f"Bearer {WEBHOOK_TOKEN}", "Content-Type": "application/json"}


def oncall_settings(prefix: str, twilio_url: str, **overrides: Any) -> Settings:
    return make_settings(**oncall_values(prefix, twilio_url, **overrides))


def oncall_values(prefix: str, twilio_url: str, **overrides: Any) -> dict[str, Any]:
    """Settings for the on-call loop on the machine's Redis (this test's prefix) and a fake Twilio."""
    values: dict[str, Any] = {
        "redis_url": REDIS_URL,
        "redis_key_prefix": prefix,
        "alert_webhook_token": WEBHOOK_TOKEN,
        "oncall_numbers": ",".join(CHAIN),
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_from_number": FROM_NUMBER,
        "twilio_api_url": twilio_url,
        "page_claim_idle_s": 1,
    }
    values.update(overrides)
    return values


@pytest.fixture
def twilio() -> Iterator[TwilioFake]:
    # The app signs webhooks with tests.phone.TOKEN; Twilio's REST API takes the same account token.
    with TwilioFake(ACCOUNT_SID, TOKEN) as fake:
        yield fake


@pytest.fixture
async def app(sms_app: SmsApp, redis_prefix: str, twilio: TwilioFake) -> AsyncIterator[Quart]:
    async with sms_app(**oncall_values(redis_prefix, twilio.url)) as application:
        yield application


class TestAlertmanagerWebhook:
    async def test_bearer_token_is_required(self, app: Quart) -> None:
        client = app.test_client()
        body = payload(alert("PgDown", "db-1"))
        assert (await client.post("/alertmanager", data=body)).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await client.post("/alertmanager", data=body, headers=wrong)).status_code == 401
        response = await client.post("/alertmanager", data=body, headers=BEARER)
        assert response.status_code == 200 and (await response.get_json()) == {"alerts": 1, "new": 1}

    async def test_replay_is_stored_once(self, app: Quart, twilio: TwilioFake) -> None:
        """The same webhook twice (a retry, an HA peer): the second stores nothing new and pages nothing."""
        client = app.test_client()
        body = payload(alert("PgDown", "db-1"))
        first = await (await client.post("/alertmanager", data=body, headers=BEARER)).get_json()
        second = await (await client.post("/alertmanager", data=body, headers=BEARER)).get_json()
        assert (first["new"], second["new"]) == (1, 0)
        await twilio.wait_for(1)
        assert len(twilio.bodies_to(CHAIN[0])) == 1

    @pytest.mark.parametrize(
        ("body", "reason"),
        [
            (b"not json", "not JSON"),
            (b'{"version": "3", "alerts": []}', "version 4"),
            (b'{"version": "4", "alerts": [{"status": "firing"}]}', "fingerprint"),
        ],
    )
    async def test_malformed_payload_is_400_and_stores_nothing(self, app: Quart, body: bytes, reason: str) -> None:
        response = await app.test_client().post("/alertmanager", data=body, headers=BEARER)
        assert response.status_code == 400 and reason in await response.get_data(as_text=True)

    async def test_body_is_bounded(self, app: Quart) -> None:
        response = await app.test_client().post("/alertmanager", data=b"x" * (1024 * 1024 + 1), headers=BEARER)
        assert response.status_code == 413

    async def test_store_down_is_503_so_alertmanager_retries(
        self, sms_app: SmsApp, redis_prefix: str, twilio: TwilioFake
    ) -> None:
        """Nothing persisted: 5xx (Alertmanager retries 5xx, not 4xx), and no stack trace in the answer."""
        async with sms_app(**oncall_values(redis_prefix, twilio.url, redis_url="redis://127.0.0.1:9/0")) as application:
            response = await application.test_client().post(
                "/alertmanager", data=payload(alert("PgDown", "db-1")), headers=BEARER
            )
            text = await response.get_data(as_text=True)
        assert response.status_code == 503 and text == "not stored, retry\n"

    async def test_off_without_token(self, sms_app: SmsApp, redis_prefix: str, twilio: TwilioFake) -> None:
        async with sms_app(**oncall_values(redis_prefix, twilio.url, alert_webhook_token=None)) as application:
            response = await application.test_client().post("/alertmanager", data=b"{}", headers=BEARER)
        assert response.status_code == 404


class TestStatusCallback:
    async def test_forged_callback_is_403(self, app: Quart) -> None:
        phone = Phone(app.test_client())
        response = await phone.post(
            {"MessageSid": "SM1", "MessageStatus": "failed"}, path="/twilio/status", signature="forged"
        )
        assert response.status_code == 403

    async def test_signed_failure_escalates(self, app: Quart, twilio: TwilioFake) -> None:
        client = app.test_client()
        await client.post("/alertmanager", data=payload(alert("PgDown", "db-1")), headers=BEARER)
        await twilio.wait_for(1)
        sid = twilio.created[0]["sid"]
        form = {
            "MessageSid": sid,
            "MessageStatus": "failed",
            "ErrorCode": "30005",
            "To": CHAIN[0],
            "From": FROM_NUMBER,
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
        }
        response = await Phone(client).post(form, path="/twilio/status")
        assert response.status_code == 204
        await twilio.wait_for(2)
        assert "(escalated from +14*******00)" in twilio.bodies_to(CHAIN[1])[0]


def test_the_loop_without_redis_is_a_settings_error() -> None:
    """One clear line at start-up instead of a loop that would page twice from two replicas."""
    from pydantic import ValidationError

    from bot.config import describe_validation_error

    with pytest.raises(ValidationError) as caught:
        make_settings(alert_webhook_token=WEBHOOK_TOKEN)
    assert "ALERT_WEBHOOK_TOKEN needs REDIS_URL" in describe_validation_error(caught.value)
    with pytest.raises(ValidationError) as caught:
        make_settings(alert_webhook_token=WEBHOOK_TOKEN, redis_url=REDIS_URL, redis_cluster=True)
    assert "needs a single Redis" in describe_validation_error(caught.value)


async def test_help_offers_oncall_with_the_loop_on(app: Quart) -> None:
    """The loop on: `help` lists oncall (without it, tests/conversations/test_polish.py: left out)."""
    assert ", oncall." in await Phone(app.test_client(), CHAIN[0]).text("help")
