"""What an app holds, and how routes reach it: `gate()` for the request checks built from the
settings when the app is created, `services()` for what is opened while it serves.

Both live in `app.extensions`, so blueprints hold no state and one process may run many apps
(tests do). Only code running inside a request or the serving hooks may call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from quart import current_app

from bot.config import Settings
from bot.security import AllowList, RefusalLog, SignatureCheck
from bot.services import Services

GATE = "operator.gate"
SERVICES = "operator.services"


@dataclass(frozen=True, slots=True)
class Gate:
    settings: Settings
    signatures: SignatureCheck | None  # None only in local mode without TWILIO_AUTH_TOKEN
    allow: AllowList
    refusals: RefusalLog
    local: bool


def gate() -> Gate:
    return cast(Gate, current_app.extensions[GATE])


def services() -> Services:
    return cast(Services, current_app.extensions[SERVICES])
