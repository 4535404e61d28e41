"""The conversation's typed memory: Query, Item and Session survive the store as JSON."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs.catalog import REGISTRY
from dialogs.query import Item, Query, pick
from dialogs.session import IDLE, Session
from dialogs.turn import query_of
from nlu import parse

names = st.none() | st.text(max_size=12)
queries = st.builds(
    Query,
    command=st.text(min_size=1, max_size=10),
    service=names,
    window=st.none() | st.integers(min_value=60, max_value=7 * 86400).map(lambda s: timedelta(seconds=s)),
    metric=names,
    choice=st.none() | st.integers(min_value=1, max_value=999),
    ref=names,
    filter=names,
)


class TestQuery:
    @given(queries)
    def test_json_round_trip(self, query: Query) -> None:
        """Whatever a Query holds comes back equal through JSON text."""
        assert Query.from_json(json.loads(json.dumps(query.to_json()))) == query

    def test_window_is_a_timedelta_stored_as_seconds(self) -> None:
        query = Query("logs", service="web", window=timedelta(hours=1))
        assert query.to_json() == {"command": "logs", "service": "web", "window": 3600}

    def test_merged_takes_only_filled_slots(self) -> None:
        last = Query("logs", service="api", window=timedelta(hours=1))
        assert last.merged(Query("", service="web")) == Query("logs", service="web", window=timedelta(hours=1))

    def test_foreign_values_read_as_none(self) -> None:
        """An older layout (the ``window_s`` key) or wrong types never raise."""
        assert Query.from_json({"service": "web"}) is None
        assert Query.from_json([1]) is None
        old = Query.from_json({"command": "logs", "service": "web", "window_s": 3600, "choice": True})
        assert old == Query("logs", service="web")


class TestItem:
    def test_round_trip_and_pick(self) -> None:
        items = [
            Item("HighCPU", detail="HighCPU on db1 for 5m", labels={"severity": "warning"}, source="am"),
            Item("cpu", query=Query("metrics", metric="cpu")),
        ]
        assert [Item.from_json(json.loads(json.dumps(i.to_json()))) for i in items] == items
        assert pick(items, 1) == "HighCPU on db1 for 5m"
        assert pick(items, 3) == "Pick 1-2."
        assert pick(items[:1], 2) == "Only 1 on the list: reply 1."  # never "Pick 1-1."
        assert pick([], 1) == "That list is empty."


class TestSession:
    def test_typed_fields_round_trip(self) -> None:
        session = Session(
            state="logs:window",
            draft=Query("logs", service="web"),
            misses=1,
            pages=["p2"],
            items=[Item("a", detail="A")],
            list_kind="alerts",
            last_query=Query("logs", service="api", window=timedelta(minutes=15)),
            last_command="logs",
            updated_at=12.5,
        )
        assert Session.loads(session.dumps()) == session

    def test_a_session_stored_by_the_previous_version_loads(self) -> None:
        """Dict slots and ``window_s`` from before the typed memory: a fresh question, no error."""
        old = (
            '{"state":"logs_window","slots":{"command":"logs","service":"web"},"misses":0,"pages":[],'
            '"items":[{"name":"api"}],"list_kind":"service","last_query":{"command":"logs","service":"api",'
            '"window_s":3600},"last_command":"logs","updated_at":1.0}'
        )
        session = Session.loads(old)
        assert session is not None
        assert session.draft is None and session.items == [] and session.list_kind == ""
        assert session.last_query == Query("logs", service="api") and session.last_command == "logs"

    def test_clear_forgets_all_but_the_last_command(self) -> None:
        session = Session(state="logs:window", draft=Query("logs"), last_command="logs", items=[Item("x")])
        session.clear()
        assert session == Session(last_command="logs") and session.state == IDLE


class TestSpoken:
    """A part named for the next text ("(alerts crit next: send alerts crit)") must ask the same again."""

    @pytest.mark.parametrize(
        "query",
        [
            Query("alerts", filter="crit"),
            Query("logs", service="web", window=timedelta(hours=1)),
            Query("metrics", metric="cpu", window=timedelta(minutes=30)),
            Query("help", ref="logs"),
            Query("silence", choice=4, window=timedelta(hours=2)),
        ],
    )
    def test_sent_back_it_reads_as_the_same_query(self, query: Query) -> None:
        intent = parse(query.spoken(), REGISTRY.vocabulary, services=("web",), metrics=("cpu",))
        spec = REGISTRY.get(intent.command)
        assert spec is not None and query_of(intent, spec) == query
