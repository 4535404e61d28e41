"""ASGI entry point for hypercorn workers (`operator serve` points them here)."""

from __future__ import annotations

import os

from bot.app import create_app

app = create_app(local=os.environ.get("OPERATOR_LOCAL") == "1")
