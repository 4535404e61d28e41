"""Conversation-level understanding (issue 10 §2), through the HTTP-free driver with a fake Loki.

Follow-ups in context, dropping a question, small talk, honesty about what Operator cannot do,
and two questions in one text. Behaviour against real Prometheus/Alertmanager lists is in
test_monitoring_sms.py; the signed /sms route in test_transcripts.py.
"""

from __future__ import annotations

import pytest

from dialogs.conversation import SMALL_TALK_HINT
from dialogs.query import Item, Query
from tests.conversations.driver import Driver
from tests.fakes.loki import LokiFake

ASK_SERVICE = r"^Logs for which service\? 1 api, 2 web, 3 worker \(or reset\)$"
CANT = r"^I can't do that \(yet\): Operator reads your monitors, it does not "


class TestFollowUps:
    @pytest.mark.parametrize("text", ["how about web", "web too?", "do the same for web", "and web?", "what about web"])
    async def test_another_service_reasks_the_last_question(self, driver: Driver, text: str) -> None:
        """After an answer, a service in passing asks the same question (same window) for it."""
        await driver.expect("logs api 1h", r"^api, last 1h: 1 error\.")
        await driver.expect(text, r"^web, last 1h: 8 errors\.")
        assert driver.session.last_query == Query("logs", service="web", window=driver.session.last_query.window)

    async def test_a_lone_service_asks_the_one_command_that_needs_it(self, driver: Driver) -> None:
        """No earlier question: `worker` can only mean logs for worker, which then asks the window."""
        await driver.expect("worker", r"^worker: which window\?")
        await driver.expect("15m", r"^worker, last 15m: no errors\.")

    async def test_a_bare_window_still_needs_a_question(self, driver: Driver) -> None:
        await driver.expect("1h", r"^A window for what\? Try: logs api 1h$")


class TestDropping:
    @pytest.mark.parametrize(
        "text", ["nah", "nah, skip it", "skip it", "stop it", "never mind", "nvm", "forget it", "cancel"]
    )
    async def test_everyday_ways_to_drop_a_question_reset(self, driver: Driver, text: str) -> None:
        """Not a miss ("Didn't get that"): the question is dropped and nothing is left open."""
        await driver.expect("logs", ASK_SERVICE)
        await driver.expect(text, r"^OK, cleared\.$")
        assert driver.session.state == "idle" and driver.session.draft is None and driver.session.misses == 0


class TestSmallTalk:
    @pytest.mark.parametrize(
        ("text", "opener"),
        [
            ("yo", "Hi!"),
            ("gm", "Hi!"),
            ("hi", "Hi!"),
            ("hello!", "Hi!"),
            ("cheers", "You're welcome."),
            ("thanks", "You're welcome."),
            ("thx", "You're welcome."),
            ("thanks bot", "You're welcome."),
            ("🙏🙏", "You're welcome."),
            ("ok", "OK."),
            ("cool", "OK."),
            ("👍", "OK."),
            ("got it", "OK."),
            ("bye", "Bye for now."),
            ("gn", "Bye for now."),
        ],
    )
    async def test_one_friendly_line_in_kind_with_a_hint(self, driver: Driver, text: str, opener: str) -> None:
        """A thanks is not answered "Hi!": the line answers in kind, then says what to text."""
        reply = await driver.push(text)
        assert reply == f"{opener} {SMALL_TALK_HINT}"
        assert "help" in reply and "don't know" not in reply and reply.isascii()

    async def test_inside_a_question_the_question_stays_open(self, driver: Driver) -> None:
        """An aside is no miss: the line, then the same question again."""
        await driver.expect("logs", ASK_SERVICE)
        await driver.expect("ok", r"^OK\. Text status.* Logs for which service\?")
        assert driver.session.state == "logs:service" and driver.session.misses == 0
        await driver.expect("web", r"^web: which window\?")


class TestHonesty:
    @pytest.mark.parametrize(
        ("text", "verb"),
        [
            ("roll back web", "roll back"),
            ("kill pid 42", "kill"),
            ("restart api", "restart"),
            ("can you restart worker", "restart"),
            ("please reboot web", "reboot"),
        ],
    )
    async def test_actions_we_cannot_perform_say_so_and_touch_nothing(
        self, driver: Driver, loki: LokiFake, text: str, verb: str
    ) -> None:
        """Never an answer that looks as if it acted: no query runs, the remembered question stays."""
        await driver.expect("logs api 1h", r"^api, last 1h")
        asked, last = len(loki.requests), driver.session.last_query
        await driver.expect(text, CANT + verb + r"\. Send help")
        assert len(loki.requests) == asked and driver.session.last_query == last

    @pytest.mark.parametrize("text", ["ack 1", "resolve 3", "4a"])
    async def test_on_call_actions_without_the_loop_say_so_and_touch_nothing(
        self, driver: Driver, loki: LokiFake, text: str
    ) -> None:
        """ack/resolve are commands (the on-call loop); without it configured they say so, nothing runs."""
        await driver.expect("logs api 1h", r"^api, last 1h")
        asked, last = len(loki.requests), driver.session.last_query
        await driver.expect(text, r"^The on-call loop is off \(set ALERT_WEBHOOK_TOKEN")
        assert len(loki.requests) == asked and driver.session.last_query == last

    async def test_equal_readings_are_asked_then_picked_by_number(self, driver: Driver) -> None:
        """`repet` is as close to `reset` as to `repeat`: asked, and `2` picks `again`."""
        await driver.expect("logs api 1h", r"^api, last 1h")
        await driver.expect("repet", r"^Did you mean reset or again\? \(1 or 2\)$")
        await driver.expect("2", r"^api, last 1h: 1 error")


class TestTwoQuestions:
    async def test_both_answered_when_they_fit_one_page(self, driver: Driver) -> None:
        reply = await driver.expect(
            "status and logs api 1h", r"^All clear: 1/1 sources ok \(loki\)\.\n\napi, last 1h: 1 error\."
        )
        assert "next: send" not in reply
        assert driver.session.last_query == Query("logs", service="api", window=driver.session.last_query.window)

    async def test_what_does_not_fit_is_named_for_the_next_text(self, driver: Driver) -> None:
        """`logs web 6h` fills pages by itself: status is not dropped silently, it is named up front."""
        reply = await driver.expect("logs web 6h and status", r"^\(status next: send status\)\nweb, last 6h")
        assert "1/1 sources ok" not in reply

    async def test_after_a_long_first_answer_nothing_more_is_asked(self, driver: Driver) -> None:
        """A question under a multi-page answer would be missed: it is named up front instead."""
        await driver.expect("logs web 6h and logs", r"^\(logs next: send logs\)\nweb, last 6h")
        assert driver.session.state == "idle"

    async def test_a_last_part_that_needs_a_question_asks_it(self, driver: Driver) -> None:
        """`status and web logs`: status answered, then the window for web asked (the question stays open)."""
        await driver.expect("status and logs web", r"^All clear: 1/1 sources ok \(loki\)\.\n\nweb: which window\?")
        assert driver.session.state == "logs:window"
        await driver.expect("1h", r"^web, last 1h: 8 errors")

    async def test_a_question_in_the_middle_is_left_for_later(self, driver: Driver) -> None:
        """Asking in the middle would swallow what follows: it is named for the next text instead."""
        reply = await driver.expect("logs and status and logs api 15m", r"^Logs for which service\?")
        assert "(status next: send status)" in reply and "(logs api 15m next: send logs api 15m)" in reply


class TestBareParts:
    """Names alone, several at once or instead of the answer asked for (blind corpus batches 6-10)."""

    async def test_two_services_after_an_answer_ask_the_last_question_for_each(self, driver: Driver) -> None:
        """'web and worker' after 'logs api 1h': logs for web and for worker over the hour, neither dropped."""
        await driver.expect("logs api 1h", r"^api, last 1h: 1 error\.")
        reply = await driver.expect("web and worker", r"^web, last 1h: 8 errors\.")
        assert "worker" in reply.split("\n\n", 1)[1] or "(logs worker 1h next: send logs worker 1h)" in reply

    async def test_a_metric_instead_of_the_service_asked_for_leaves_the_question(self, driver: Driver) -> None:
        """'actually cpu' while asked which service for logs: the engineer changed their mind."""
        await driver.expect("logs", ASK_SERVICE)
        reply = await driver.push("actually cpu")
        assert "which service" not in reply and "Didn't get that" not in reply
        assert driver.session.last_command == "metrics" and driver.session.state == "idle"

    async def test_a_name_the_last_question_settles_is_not_asked_about(self, driver: Driver) -> None:
        """'api' alone asks (logs for api or the gateway?); right after 'web logs 1h' it is logs for api."""
        await driver.expect("web logs 1h", r"^web, last 1h: 8 errors\.")
        await driver.expect("api", r"^api, last 1h: 1 error\.")

    async def test_a_slot_said_keeps_the_rest_of_the_last_question(self, driver: Driver) -> None:
        """'errs, go back 6 hrs' after 'logs api 1h': logs for api over 6h, not 'which service?'."""
        await driver.expect("logs api 1h", r"^api, last 1h: 1 error\.")
        await driver.expect("hmm ssl handshake errs. go back 6 hrs", r"^api, last 6h: ")


class TestServicesListed:
    """Several services in one clause ("logs web api", "web and worker" as the answer): each asked
    about, none dropped silently (found using it against the real stack)."""

    async def test_a_second_service_in_one_clause_is_answered_or_named(self, driver: Driver) -> None:
        reply = await driver.expect("logs worker api 1h", r"^worker, last 1h: no errors\.")
        assert "api, last 1h: 1 error" in reply or "(logs api 1h next: send logs api 1h)" in reply

    async def test_api_beside_another_service_is_a_service_not_the_gateway(self, driver: Driver) -> None:
        reply = await driver.expect("errors on worker api 1h", r"^worker, last 1h: no errors\.")
        assert "api, last 1h: 1 error" in reply or "(logs api 1h next: send logs api 1h)" in reply

    @pytest.mark.parametrize("answer", ["worker and api", "worker, api", "worker api", "logs worker api"])
    async def test_several_services_answer_which_service(self, driver: Driver, answer: str) -> None:
        """Asked which service, a list of names means each of them; the window then asked is for all."""
        await driver.expect("logs", ASK_SERVICE)
        reply = await driver.expect(answer, r"^worker: which window\?")
        assert "(logs api next: send logs api)" in reply
        await driver.expect("1h", r"^worker, last 1h: no errors\.")

    async def test_either_or_is_asked_again(self, driver: Driver) -> None:
        """'web or worker' is not a list: which one is asked again, nothing is run."""
        await driver.expect("logs", ASK_SERVICE)
        await driver.expect("web or worker", r"^Didn't get that\. Logs for which service\?")
        assert driver.session.state == "logs:service"

    async def test_a_further_part_takes_the_slots_the_first_took_from_the_last_question(self, driver: Driver) -> None:
        """'errors on worker api' after 'logs web 1h': worker over the hour (kept), and api over it too."""
        await driver.expect("logs web 1h", r"^web, last 1h: 8 errors\.")
        reply = await driver.expect("errors on worker api", r"^worker, last 1h: no errors\.")
        assert "api, last 1h: 1 error" in reply or "(logs api 1h next: send logs api 1h)" in reply

    async def test_a_question_that_would_land_behind_more_is_named_instead(self, driver: Driver) -> None:
        """A further part needing a question that would not fit the first page with the answer before
        it: named for the next text, and no question is left open that the engineer never saw."""

        def pager(text: str) -> list[str]:  # pages of 80 characters: api's answer fits, with the question not
            return [text[i : i + 80] for i in range(0, len(text), 80)] or [""]

        reply = await driver.conversation.reply(
            driver.session, "logs api 1h and logs", sender=driver.sender, now=driver.now, pager=pager
        )
        assert reply.text.startswith("api, last 1h: 1 error.") and "(logs next: send logs)" in reply.text
        assert driver.session.state == "idle" and driver.session.draft is None


class TestSeventhBlindRound:
    async def test_naming_a_reading_offered_picks_it(self, driver: Driver) -> None:
        """'api?' asks logs for api or the gateway; 'the logs one' is logs for api, not 'which service?'."""
        await driver.expect("api?", r"^Did you mean logs for api or gateway\? \(1 or 2\)$")
        await driver.expect("the logs one", r"^api: which window\?")
        await driver.expect("1h", r"^api, last 1h: 1 error\.")

    async def test_an_action_beside_a_question_is_declined_and_the_question_answered(
        self, driver: Driver, loki: LokiFake
    ) -> None:
        reply = await driver.expect("logs api 1h and restart web", CANT)
        assert "api, last 1h: 1 error." in reply  # answered alongside, never dropped
        queries = [" ".join(request.query.get("query", [])) for request in loki.requests]
        assert any('"api"' in q for q in queries) and not any('"web"' in q for q in queries), queries


class TestEighthBlindRound:
    async def test_a_change_pointed_at_that_one_of_a_list_is_asked_about(self, driver: Driver) -> None:
        """'silence that one for an hour' while a list of alerts is shown: which one is not known, so
        nothing is silenced (a bare 'ack' or 'silence 4 1h' still act on the page or the code)."""
        driver.session.show_list([Item("a"), Item("b"), Item("c")], "alerts")
        await driver.expect(
            "Can you silence that one for an hour?", r"^Which alert\? Reply with its page code, like 4s 2h\.$"
        )
        assert driver.session.state == "idle" and driver.session.items  # the list stays to pick from

    async def test_a_second_change_cut_short_is_named_not_dropped(self, driver: Driver) -> None:
        reply = await driver.push("ack 3 + sil 4 1h")
        assert "(silence 4 1h next: send silence 4 1h)" in reply, reply

    async def test_either_or_after_an_answer_asks_between_the_two(self, driver: Driver) -> None:
        await driver.expect("logs api 1h", r"^api, last 1h: 1 error\.")
        await driver.expect("web or worker?", r"^Which one: web or worker\? Send just that one\.$")
        await driver.expect("worker", r"^worker, last 1h: no errors\.")

    async def test_a_code_after_an_emoji_is_typed_exactly(self, driver: Driver) -> None:
        """'😴 3a' is the pager code, acted on (here: the loop is off), never asked back as a guess."""
        await driver.expect("😴 3a", r"^The on-call loop is off")


class TestUsedAgainstTheStack:
    """What using it against the real stack showed (this stop's last round)."""

    async def test_thanks_between_a_long_answer_and_more_keeps_the_rest(self, driver: Driver) -> None:
        first = await driver.expect("logs web 6h", r"^web, last 6h: \d+ errors\.")
        assert "MORE)" in first
        await driver.expect("thx", r"^You're welcome\.")
        await driver.expect("more", r"\(2/\d+")

    async def test_a_part_named_for_later_is_said_on_the_first_page(self, driver: Driver) -> None:
        """'logs web api 1h' where web's answer fills the page: api is named up front, not on page 2."""

        def pager(text: str) -> list[str]:  # pages of 240 characters: web's answer fits, with api's not
            return [text[i : i + 240] for i in range(0, len(text), 240)] or [""]

        reply = await driver.conversation.reply(
            driver.session, "logs web api 1h", sender=driver.sender, now=driver.now, pager=pager
        )
        assert reply.text.startswith("(logs api 1h next: send logs api 1h)\nweb, last 1h: 8 errors."), reply.text
