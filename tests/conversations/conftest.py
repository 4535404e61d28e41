"""Fixtures for conversation tests: the fake Loki's data and the HTTP-free ``driver``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conversations.driver import driver, loki_monitors
from tests.conversations.logdata import entries
from tests.fakes.loki import LokiFake

__all__ = ["driver", "loki", "loki_monitors"]


@pytest.fixture
def loki() -> Iterator[LokiFake]:
    with LokiFake(entries()) as fake:
        yield fake
