"""ASGI entry point for hypercorn workers: `operator serve` points them at
``bot.asgi:create_app()`` (or ``create_app(local=True)`` for --local); hypercorn evaluates
the call in each worker, so local mode is an argument, never an environment variable.
"""

from __future__ import annotations

import os

from bot.app import create_app
from bot.logconfig import configure_logging

configure_logging(os.environ.get("LOG_LEVEL", "INFO"))  # spawned workers: the CLI's set-up is not inherited

__all__ = ["create_app"]
