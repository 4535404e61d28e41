"""The service's own endpoints: /health and /ready open; / and /metrics behind METRICS_TOKEN when set."""

from __future__ import annotations

import pytest

from dialogs.store import MemorySessionStore
from tests.apps import SmsApp

METRICS_TOKEN = "metrics-token-4f1c2a"


class TestMetricsToken:
    @pytest.mark.parametrize("path", ["/", "/metrics"])
    async def test_protected_when_set(self, sms_app: SmsApp, path: str) -> None:
        """No token, a wrong one or another scheme: 401 and no data; the right bearer: 200."""
        async with sms_app(store=MemorySessionStore(1800), metrics_token=METRICS_TOKEN) as app:
            client = app.test_client()
            for headers in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": f"Basic {METRICS_TOKEN}"},
                {"Authorization": f"Bearer {METRICS_TOKEN}x"},
                {"Authorization": "Bearer"},
            ):
                response = await client.get(path, headers=headers)
                assert response.status_code == 401, headers
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                body = await response.get_data(as_text=True)
                assert "operator_messages" not in body and "monitors" not in body
            ok = await client.get(path, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert ok.status_code == 200
            assert ("operator_messages_total" if path == "/metrics" else '"monitors"') in await ok.get_data(
                as_text=True
            )

    @pytest.mark.parametrize("path", ["/health", "/ready"])
    async def test_probes_stay_open(self, sms_app: SmsApp, path: str) -> None:
        """Load balancers probe without credentials: /health and /ready never ask for the token."""
        async with sms_app(store=MemorySessionStore(1800), metrics_token=METRICS_TOKEN) as app:
            assert (await app.test_client().get(path)).status_code == 200

    async def test_open_when_unset(self, sms_app: SmsApp) -> None:
        async with sms_app(store=MemorySessionStore(1800)) as app:
            assert (await app.test_client().get("/metrics")).status_code == 200
