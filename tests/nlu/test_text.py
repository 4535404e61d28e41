"""``tokenize`` and ``drop_fillers``: what is left of a text once the noise is gone."""

from __future__ import annotations

import pytest

from nlu.text import FILLERS, drop_fillers, tokenize


class TestTokenize:
    @pytest.mark.parametrize(
        ("text", "tokens"),
        [("What's firing??", ["whats", "firing"]), ("how’s prod", ["hows", "prod"]),
         ("status/alerts", ["status", "and", "alerts"]), ("cpu & mem", ["cpu", "and", "mem"]),
         ("status+alerts", ["status", "and", "alerts"]), ("alerts, status", ["alerts", "and", "status"]),
         ("logs 1,5h", ["logs", "1", "5h"]), ("since 14:00", ["since", "14:00"]), ("#2", ["#2"]),
         # texting shorthand, dropped g's, a name spelled out, suffixes that add nothing, choices in words
         ("wat r u doin", ["what", "are", "u", "doing"]), ("since yday", ["since", "yesterday"]),
         ("logs for the A P I", ["logs", "for", "the", "api"]), ("d b", ["db"]), ("a b", ["a", "b"]),
         ("auth-service logs", ["auth", "logs"]), ("Worker-svc", ["worker"]), ("cpu%", ["cpu"]),
         ("number five", ["#5"]), ("option 2", ["#2"]), ("alert four", ["alert", "#4"]),
         ("since two a.m.", ["since", "two", "am"]), ('"status"', ["status"]), ("“db”", ["db"]),
         ("the thrid", ["the", "third"]), ("sicne 2am", ["since", "2am"])],
    )  # fmt: skip
    def test_tokens(self, text: str, tokens: list[str]) -> None:
        """Apostrophes go, joiners and commas between words read as 'and', times keep their colon."""
        assert tokenize(text) == tokens


class TestDropFillers:
    def test_fillers_go(self) -> None:
        """'show me', 'pls', 'the', 'can you', 'hey', 'any chance' carry no meaning."""
        assert drop_fillers(tokenize("hey can you show me the worker logs pls")) == ["worker", "logs"]
        assert drop_fillers(tokenize("any chance of the db")) == ["db"]

    def test_kept_words_are_never_fillers(self) -> None:
        """A configured name that is also a filler ('check', 'me') is kept."""
        assert "check" in FILLERS
        assert drop_fillers(["logs", "check", "1h"], keep={"check"}) == ["logs", "check", "1h"]

    def test_all_filler_text_is_kept_whole(self) -> None:
        """A text of fillers only is not erased: 'hey' is a greeting, not nothing."""
        assert drop_fillers(["hey"]) == ["hey"]
        assert drop_fillers(["how", "about", "that"]) == ["how", "about", "that"]

    @pytest.mark.parametrize(
        "word",
        [
            "logs",
            "status",
            "alerts",
            "metrics",
            "db",
            "gateway",
            "api",
            "web",
            "worker",
            "cpu",
            "memory",
            "disk",
            "load",
            "up",
            "down",
            "errors",
            "1h",
            "since",
            "last",
            "nah",
            "stop",
            "reset",
            "more",
            "again",
            "help",
        ],
    )
    def test_meaningful_words_are_not_fillers(self, word: str) -> None:
        """Command words, names, state words, window words and drop words are never dropped."""
        assert word not in FILLERS
