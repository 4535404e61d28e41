"""The conversation without HTTP: the driver pushes a text and pops the reply (errbot's testbot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialogs.conversation import Conversation
from dialogs.query import Query
from monitors.registry import Monitors
from tests.conversations.driver import Driver

ASK_SERVICE = r"^Logs for which service\? 1 api, 2 web, 3 worker \(or reset\)$"


class TestDialog:
    async def test_asks_for_what_is_missing_then_runs(self, driver: Driver) -> None:
        """The form asks each missing slot in order, then answers and remembers the typed query."""
        await driver.play([
            ("lgos", ASK_SERVICE),
            ("wbe", r"^web: which window\? 15m, 1h, 6h, 24h \(or reset\)$"),
            ("1h", r"^web, last 1h: 8 errors\."),
        ])  # fmt: skip
        assert driver.session.last_query == Query("logs", service="web", window=timedelta(hours=1))
        assert driver.session.state == "idle" and driver.session.draft is None
        assert driver.commands == ["logs", None, None]

    async def test_the_machine_keeps_no_model_between_messages(self, driver: Driver) -> None:
        """One machine per conversation; each message's model is removed again (transitions #475)."""
        machine = driver.conversation.forms._machine
        for text in ("logs", "api", "15m", "metrics", "reset"):
            await driver.push(text)
            assert machine.models == []

    async def test_a_good_answer_resets_the_miss_count(self, driver: Driver) -> None:
        """Two misses, a good answer, two more misses: still asking (three in a row reset, not five in all)."""
        await driver.play([
            ("logs", ASK_SERVICE), ("banana", r"^Didn't get that\."), ("qqq", r"^Didn't get that\."),
            ("web", r"^web: which window\?"),
            ("banana", r"^Didn't get that\. web: which window\?"), ("qqq", r"^Didn't get that\. web: which window\?"),
        ])  # fmt: skip
        assert driver.session.misses == 2

    async def test_a_new_command_resets_the_miss_count(self, driver: Driver) -> None:
        """Misses in an abandoned question do not count against the next one."""
        await driver.play([
            ("logs", ASK_SERVICE), ("banana", r"^Didn't get that\."), ("qqq", r"^Didn't get that\."),
            ("status", r"^All clear: 1/1 sources ok"), ("logs", ASK_SERVICE),
            ("banana", r"^Didn't get that\."), ("qqq", r"^Didn't get that\. Logs for which service"),
        ])  # fmt: skip

    async def test_misses_reset_after_three(self, driver: Driver) -> None:
        await driver.play(
            [
                ("logs", ASK_SERVICE),
                ("banana", r"^Didn't get that\."),
                ("qqq", r"^Didn't get that\."),
                ("zzz", r"I reset"),
            ]
        )
        assert driver.session.state == "idle" and driver.session.misses == 0


class TestMore:
    async def test_more_pages_from_the_session(self, driver: Driver) -> None:
        """`more` is the conversation's: it hands back kept pages without asking Loki again."""
        first = await driver.expect("logs web 6h", r"\(1/(\d+) MORE\)$")
        total = int(first.rsplit("/", 1)[1].split()[0])
        for page in range(2, total + 1):
            await driver.expect("more", rf"\({page}/{total}( MORE)?\)$")
        await driver.expect("more", r"^Nothing more\. Send help for commands\.$")

    async def test_expired_more_says_so(self, driver: Driver) -> None:
        await driver.expect("logs web 6h", r"MORE")
        driver.now += timedelta(hours=1)
        await driver.expect("more", r"^That conversation expired\. Send logs again\.$")


class TestWithoutStore:
    async def test_only_stateless_commands_that_read_the_same_in_any_question(self) -> None:
        """With no session, `status` and `help` answer; `api` (a service or the gateway?) and `logs` do not."""
        conversation = Conversation(Monitors([], {}, ["api", "web"]))
        now = datetime.now(UTC)
        status = await conversation.reply_stateless("status", sender="+1", now=now)
        assert status is not None and status.text.startswith("No monitors configured")
        assert await conversation.reply_stateless("help", sender="+1", now=now) is not None
        assert await conversation.reply_stateless("api", sender="+1", now=now) is None
        assert await conversation.reply_stateless("logs", sender="+1", now=now) is None
        assert await conversation.reply_stateless("more", sender="+1", now=now) is None
