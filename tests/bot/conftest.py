"""Fixtures that run the real Quart app (start-up hooks included) behind a signed phone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from quart import Quart

from dialogs.store import SessionStore
from tests.apps import SmsApp
from tests.phone import Phone


@pytest.fixture
async def app(sms_app: SmsApp, store: SessionStore) -> AsyncIterator[Quart]:
    async with sms_app(store=store) as application:
        yield application


@pytest.fixture
def phone(app: Quart) -> Phone:
    return Phone(app.test_client())


async def metric_value(app: Quart, name: str, **labels: Any) -> float:
    """Read one sample from the app's own /metrics."""
    body = await (await app.test_client().get("/metrics")).get_data(as_text=True)
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in body.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
