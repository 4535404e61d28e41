"""``parse``: one SMS in, one ``Intent`` out — the table every change to ``nlu`` must keep green."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.catalog import REGISTRY
from nlu import Intent, parse

VOCABULARY = REGISTRY.vocabulary

SERVICES = ("api", "web", "worker", "payments")
METRICS = ("cpu", "memory", "disk", "load")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def row(
    text: str,
    expecting: str | None = None,
    *,
    services: Sequence[str] = SERVICES,
    metrics: Sequence[str] = METRICS,
    **fields: Any,
) -> Any:
    """One table row; every Intent field not named must keep its default (None / empty)."""
    fields.setdefault("command", None)
    label = f"{text!r}" + (f" expecting {expecting}" if expecting else "")
    return pytest.param(text, expecting, tuple(services), tuple(metrics), Intent(**fields), id=label)


CASES = [
    # --- every canonical command and alias ---
    row("help", command="help"),
    row("?", command="help"),
    row("info", command="help"),
    row("status", command="status"),
    row("stat", command="status"),
    row("health", command="status"),
    row("alerts", command="alerts"),
    row("alert", command="alerts"),
    row("metrics", command="metrics"),
    row("metric", command="metrics"),
    row("graph", command="metrics"),
    row("logs", command="logs"),
    row("log", command="logs"),
    row("db", command="db"),
    row("database", command="db"),
    row("postgres", command="db"),
    row("pg", command="db"),
    row("gateway", command="gateway"),
    row("gw", command="gateway"),
    row("api", service="api", ambiguous=("logs", "gateway")),  # a service and a gateway word: ask
    row("api", services=("web",), command="gateway"),  # not a service here: the gateway word
    row("more", command="more"),
    row("next", command="more"),
    row("m", command="more"),
    row("reset", command="reset"),
    row("cancel", command="reset"),
    row("start over", command="reset"),
    row("clear", command="reset"),
    row("again", command="again"),
    row("repeat", command="again"),
    # --- typos ---
    row("stauts", command="status"),
    row("sttaus", command="status"),
    row("stats", command="status"),
    row("lgos", command="logs"),
    row("mertics", command="metrics"),
    row("databse", command="db"),
    row("gatway", command="gateway"),
    row("alrets", command="alerts"),
    row("hlep", command="help"),
    row("strat over", command="reset"),
    # --- case, punctuation, spacing, filler ---
    row("  STATUS!! ", command="status"),
    row("Logs, api", command="logs", service="api"),
    row("status?", command="status"),
    row("show me the logs for api in the last 2 hours", command="logs", service="api", window=2 * H),
    # --- slots in any order ---
    row("logs api 1h", command="logs", service="api", window=H),
    row("logs 1h api", command="logs", service="api", window=H),
    row("lgos wbe 2 hours", command="logs", service="web", window=2 * H),
    row("logs work 30 mins", command="logs", service="worker", window=30 * MIN),
    row("logs pay last hour", command="logs", service="payments", window=H),
    row("metrics cpu", command="metrics", metric="cpu"),
    row("mertics cpu", command="metrics", metric="cpu"),
    row("metrics mem 15m", command="metrics", metric="memory", window=15 * MIN),
    row("alerts 2", command="alerts", choice=2),
    row("help logs", command="help", topic="logs"),
    row("help lgos", command="help", topic="logs"),
    row("help api", command="help", topic="gateway"),
    # --- windows: forms and limits ---
    row("6h", window=6 * H),
    row("90 min", window=90 * MIN),
    row("2hrs", window=2 * H),
    row("1d", window=24 * H),
    row("an hour", window=H),
    row("1.5h", window=90 * MIN),
    row("1h30m", window=90 * MIN),
    row("1 hour", window=H),
    row("half an hour", window=30 * MIN),
    row("7d", window=7 * 24 * H),
    row("60s", window=MIN),
    row("45s", window_rejected="45s"),
    row("0m", window_rejected="0m"),
    row("8d", window_rejected="8d"),
    row("logs api 90d", command="logs", service="api", window_rejected="90d"),
    row("logs last 3 months", command="logs", window_rejected="last 3 months"),
    row("logs 1h 6h", command="logs", window=H, unknown=("6h",)),
    # --- bare follow-ups ---
    row("2", choice=2),
    row("#2", choice=2),
    row("second", choice=2),
    row("3rd", choice=3),
    row("y", yes=True),
    row("yes", yes=True),
    row("yep", yes=True),
    row("yeah", yes=True),
    row("n", yes=False),
    row("no", yes=False),
    row("nope", yes=False),
    row("web", service="web"),
    # --- dialog context ---
    row("api", "service", service="api"),
    row("wbe", "service", service="web"),
    row("api 1h", "service", service="api", window=H),
    row("api", "service", services=("web",), command="gateway"),  # not a service here: the alias
    row("status", "service", services=("stats", "web"), command="status"),  # exact command beats a typo
    row("reset", "service", services=("reset",), command="reset"),  # reset always escapes
    row("help", "service", command="help"),
    row("logs", "service", command="logs"),  # a new command abandons the dialog
    row("stauts", "service", command="status"),
    row("cpu", "metric", metric="cpu"),
    row("mem", "metric", metric="memory"),
    row("load", "metric", services=("load",), metric="load"),  # asked for a metric: metric first
    row("2", "choice", choice=2),
    row("next", "choice", command="more"),
    row("yes please", "yes_no", yes=True),
    row("6h", "window", window=6 * H),
    # --- ambiguity: "repet" is one edit from both "repeat" (again) and "reset" ---
    row("repet", ambiguous=("reset", "again")),
    row("reseat", ambiguous=("reset", "again")),
    # --- rejects and nonsense ---
    row("banana", unknown=("banana",)),
    row("asdf", unknown=("asdf",)),
    row("hello world", unknown=("hello", "world")),
    row("start", unknown=("start",)),  # a carrier keyword is never read as a typo of "stat", nor as an action
    row("stop", unknown=("stop",)),
    row("mo", unknown=("mo",)),  # two letters: exact only
    row("dbs", command="db"),
    row("logs banana", command="logs", unknown=("banana",)),
    row("logs {api}", command="logs", unknown=("{api}",)),
    row('logs "api"', command="logs", service="api"),  # quoted whole: the word (the name is still the list's own)
    row('logs "api', command="logs", unknown=('"api',)),
    row("logs api.*", command="logs", unknown=("api.*",)),
    row("logs $(web)", command="logs", unknown=("$(web)",)),
    row(""),
    row("   !!  "),
    row("🔥🔥", command="alerts"),
    row("🙏", smalltalk=True),
    row("🙂🙂", smalltalk=True),  # emoji only: not empty, small talk
]


@pytest.mark.parametrize(("text", "expecting", "services", "metrics", "expected"), CASES)
def test_parse_table(
    text: str, expecting: str | None, services: tuple[str, ...], metrics: tuple[str, ...], expected: Intent
) -> None:
    """Each message parses to exactly the expected intent, every other field left empty."""
    assert parse(text, VOCABULARY, services=services, metrics=metrics, expecting=expecting) == expected


def test_intent_is_frozen() -> None:
    """An Intent cannot be changed after parsing: handlers share it."""
    intent = parse("status", VOCABULARY)
    with pytest.raises(AttributeError):
        intent.command = "logs"  # type: ignore[misc]


def test_names_come_from_the_lists_not_the_text() -> None:
    """The service and metric returned are the configured objects, whatever the case typed."""
    services = ["Payments-API"]
    intent = parse("LOGS payments-api", VOCABULARY, services=services)
    assert intent.service is services[0]


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=300),
    expecting=st.sampled_from([None, "service", "window", "metric", "choice", "yes_no", "bogus"]),
)
def test_parse_never_raises(text: str, expecting: str | None) -> None:
    """Any text parses, and names found are always elements of the configured lists."""
    intent = parse(text, VOCABULARY, services=SERVICES, metrics=METRICS, expecting=expecting)
    assert intent.service is None or intent.service in SERVICES
    assert intent.metric is None or intent.metric in METRICS
    assert intent.command is None or intent.command in VOCABULARY.names


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60), names=st.lists(st.text(max_size=12), max_size=6))
def test_any_names_list_is_safe(text: str, names: list[str]) -> None:
    """Whatever the configured names, a found service or metric is one of them, by identity."""
    intent = parse(text, VOCABULARY, services=names, metrics=names, expecting="service")
    assert intent.service is None or any(intent.service is name for name in names)
    assert intent.metric is None or any(intent.metric is name for name in names)


@given(text=st.text(alphabet=st.characters(codec="utf-8"), min_size=1000, max_size=2000))
@settings(max_examples=25, deadline=None)
def test_long_messages_never_raise(text: str) -> None:
    """Pasted walls of text (SMS can be 1600 characters) parse, and only configured names come out."""
    intent = parse(text, VOCABULARY, services=SERVICES, metrics=METRICS)
    assert intent.service is None or intent.service in SERVICES
    assert intent.metric is None or intent.metric in METRICS
    assert intent.command is None or intent.command in VOCABULARY.names


@pytest.mark.parametrize(
    ("text", "command", "service", "window_s"),
    [
        ("\x00\x01\x1b[31m", None, None, None),
        ("status\x00", "status", None, None),
        ("\u200bstatus", "status", None, None),  # zero-width space before the word
        ("\u202estatus\u202c", "status", None, None),  # bidi override around it
        ("\ufeffalerts", "alerts", None, None),  # a byte-order mark from a paste
        ("logs\tapi\n1h", "logs", "api", 3600),
        ("9" * 2000, None, None, None),  # a huge number is no window and no choice
    ],
)
def test_control_and_odd_characters(text: str, command: str | None, service: str | None, window_s: int | None) -> None:
    """Control characters, invisible format characters and huge numbers read as what they say."""
    intent = parse(text, VOCABULARY, services=SERVICES)
    assert intent.command == command
    assert intent.service == service
    assert (intent.window.total_seconds() if intent.window else None) == window_s
    assert intent.choice is None
