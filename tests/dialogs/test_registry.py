"""The command registry: every record complete, forms/parser/help/docs all derived from it."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.sms import segment_info
from dialogs.answer import Answer
from dialogs.catalog import REGISTRY
from dialogs.context import CommandContext
from dialogs.conversation import Conversation
from dialogs.forms import Forms
from dialogs.query import SLOT_NAMES, Query
from dialogs.registry import CommandSpec, Registry, SlotSpec
from dialogs.session import Session
from monitors.aliases import DEFAULT_ALIASES
from monitors.base import LOGS
from monitors.registry import Monitors
from nlu import parse

README = Path(__file__).resolve().parents[2] / "README.md"
SPECS = list(REGISTRY)
IDS = [s.name for s in SPECS]


async def _echo(ctx: CommandContext, query: Query) -> Answer:
    return Answer(f"{query.command} {query.service}", query=query)


def toy_registry() -> Registry:
    """A registry of its own: what adding one command must (and must not) take."""
    registry = Registry()
    registry.command("reset", usage="reset", help="reset: forget.", words=("cancel",), escape=True)(_echo)
    service = SlotSpec("service", "{Command} for which service?", lambda m: [(s, s) for s in m.log_services])
    registry.command(
        "deploys",
        usage="deploys [service]",
        help="deploys web: the last deploys of a service.",
        words=("deploy", "releases"),
        phrases=("new builds",),
        slots=(service,),
    )(_echo)
    return registry


class TestEveryRecord:
    @pytest.mark.parametrize("spec", SPECS, ids=IDS)
    def test_has_help_usage_words_and_an_async_handler(self, spec: CommandSpec) -> None:
        """A record is complete: one-line help, usage naming the command, an async (ctx, query) handler."""
        assert spec.help and "\n" not in spec.help and len(spec.help) <= 160
        assert spec.usage.split()[0] == spec.name
        assert spec.name in spec.all_words
        assert inspect.iscoroutinefunction(spec.handler)
        assert list(inspect.signature(spec.handler).parameters) == ["ctx", "query"]

    @pytest.mark.parametrize("spec", SPECS, ids=IDS)
    def test_slots_are_query_fields_and_required_ones_are_form_states(self, spec: CommandSpec) -> None:
        """Each slot names a Query field; each required slot is a state of the one dialog machine."""
        forms = Forms(REGISTRY)
        for slot in spec.slots:
            assert slot.name in SLOT_NAMES
            asking = forms.asking(f"{spec.name}:{slot.name}")
            if slot.required:
                assert asking is not None and asking.command is spec and asking.slot is slot
                assert slot.question
            else:
                assert asking is None

    @pytest.mark.parametrize("spec", SPECS, ids=IDS)
    def test_stateless_commands_ask_nothing_and_mutating_ones_are_not_stateless(self, spec: CommandSpec) -> None:
        """Without the store a question could not be kept; a change is never made without a session."""
        if spec.stateless:
            assert not spec.required and not spec.mutating

    @pytest.mark.parametrize("spec", SPECS, ids=IDS)
    def test_needs_come_with_a_configure_line(self, spec: CommandSpec) -> None:
        assert bool(spec.needs) <= bool(spec.configure)

    def test_the_forms_are_exactly_the_commands_with_required_slots(self) -> None:
        assert Forms(REGISTRY).commands == {s.name for s in SPECS if s.required}


class TestDerived:
    def test_readme_table_is_the_registry_table(self) -> None:
        """README's "What you can text" rows are docs_table(); regenerate with REGISTRY.docs_table()."""
        assert REGISTRY.docs_table() in README.read_text(), REGISTRY.docs_table()

    def test_help_overview_is_one_segment_and_names_every_available_command(self) -> None:
        text = REGISTRY.help_text()
        assert segment_info(text).segments == 1
        for spec in SPECS:
            if spec.overview:
                assert (spec.usage if spec.overview == "ask" else spec.name) in text

    def test_help_leaves_out_commands_whose_monitors_are_not_configured(self) -> None:
        monitors = Monitors([], DEFAULT_ALIASES, ["api"])
        text = REGISTRY.help_text(available=lambda s: s.available(monitors))
        assert "status" in text and "logs" not in text and "alerts" not in text

    @pytest.mark.parametrize("spec", SPECS, ids=IDS)
    def test_help_topic_is_the_records_help(self, spec: CommandSpec) -> None:
        assert REGISTRY.help_text(spec.name) == spec.help

    @pytest.mark.parametrize("spec", SPECS, ids=IDS)
    def test_every_word_parses_to_its_command(self, spec: CommandSpec) -> None:
        """The parser's vocabulary is the registry's words: each one names its command."""
        for word in spec.all_words:
            assert parse(word, REGISTRY.vocabulary).command == spec.name, word

    def test_vocabulary_is_built_once(self) -> None:
        """The matcher tables are built once, not per message."""
        assert REGISTRY.vocabulary is REGISTRY.vocabulary


class TestAddingACommand:
    def test_one_record_reaches_parser_help_forms_and_docs(self) -> None:
        registry = toy_registry()
        assert parse("releases", registry.vocabulary).command == "deploys"
        assert parse("new builds", registry.vocabulary).command == "deploys"
        assert parse("deplyos web", registry.vocabulary, services=["web"]).service == "web"
        assert "deploys [service]" in registry.help_text()
        assert registry.help_text("deploys") == "deploys web: the last deploys of a service."
        assert Forms(registry).commands == {"deploys"}
        assert "| `deploys [service]` | deploys web: the last deploys of a service. |" in registry.docs_table()

    async def test_its_form_asks_then_runs_its_handler(self) -> None:
        conversation = Conversation(Monitors([], {}, ["api", "web"]), toy_registry())
        session, now = Session(), datetime.now(UTC)
        asked = await conversation.reply(session, "deploy", sender="+1", now=now)
        assert asked.text == "Deploys for which service? 1 api, 2 web (or reset)"
        assert session.state == "deploys:service"
        ran = await conversation.reply(session, "2", sender="+1", now=now)
        assert ran.text == "deploys web" and session.state == "idle"
        assert session.last_query == Query("deploys", service="web")

    async def test_a_mutating_command_is_never_run_on_a_typo(self) -> None:
        """`silnce` is one edit from `silence`, which changes something: asked, and run only on `1`."""
        registry = toy_registry()
        ran: list[Query] = []

        async def silence(ctx: CommandContext, query: Query) -> Answer:
            ran.append(query)
            return Answer("silenced")

        registry.command("silence", usage="silence", help="silence: mute an alert.", mutating=True)(silence)
        conversation = Conversation(Monitors([], {}, ["api"]), registry)
        session, now = Session(), datetime.now(UTC)
        asked = await conversation.reply(session, "silnce", sender="+1", now=now)
        assert asked.text == "Did you mean silence? Reply 1 to do it." and ran == []
        assert (await conversation.reply(session, "1", sender="+1", now=now)).text == "silenced"
        assert (await conversation.reply(session, "SILENCE", sender="+1", now=now)).text == "silenced"
        assert len(ran) == 2

    def test_a_name_or_word_registered_twice_is_refused(self) -> None:
        registry = toy_registry()
        with pytest.raises(ValueError, match="twice"):
            registry.command("deploys", usage="deploys", help="x")(_echo)
        registry.command("rollouts", usage="rollouts", help="x", words=("releases",))(_echo)
        with pytest.raises(ValueError, match="names both"):
            _ = registry.vocabulary

    def test_needs_without_a_configure_line_is_refused(self) -> None:
        with pytest.raises(ValueError, match="configuring"):
            Registry().command("tail", usage="tail", help="x", needs=frozenset({LOGS}))(_echo)


class TestUnconfigured:
    async def test_answered_at_once_with_how_to_configure(self) -> None:
        """`logs` without a logs backend does not ask for a service: one line names the settings."""
        conversation = Conversation(Monitors([], DEFAULT_ALIASES, ["api"]))
        session = Session()
        reply = await conversation.reply(session, "logs", sender="+1", now=datetime.now(UTC))
        assert reply.text == REGISTRY["logs"].configure
        assert "LOKI_URL" in reply.text and session.state == "idle"
