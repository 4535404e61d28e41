"""``match_command``: aliases, typos, ambiguity and nonsense."""

from __future__ import annotations

import pytest

from dialogs.catalog import REGISTRY
from nlu import Vocabulary
from nlu import match_command as match_in

VOCABULARY = REGISTRY.vocabulary
ALIASES = VOCABULARY.commands


def match_command(word: str) -> tuple[str | None, tuple[str, ...]]:
    return match_in(word, VOCABULARY)


class TestMatchCommand:
    @pytest.mark.parametrize(("alias", "command"), [(a, c) for c, aliases in ALIASES.items() for a in aliases])
    def test_every_alias(self, alias: str, command: str) -> None:
        """Each alias, in any case, names its command."""
        assert match_command(alias.upper()) == (command, ())

    @pytest.mark.parametrize(
        ("typo", "command"),
        [("stauts", "status"), ("sttaus", "status"), ("lgos", "logs"), ("mertics", "metrics"),
         ("databse", "db"), ("gatway", "gateway"), ("alrets", "alerts"), ("hlep", "help"), ("postgers", "db"),
         ("gatewya", "gateway"), ("statsu", "status"), ("rest", "reset"), ("agian", "again"),
         ("gtaewya", "gateway"), ("dtaabsae", "db")],
    )  # fmt: skip
    def test_typos(self, typo: str, command: str) -> None:
        """One swapped, missing or extra letter still finds the command."""
        assert match_command(typo) == (command, ())

    @pytest.mark.parametrize("typo", ["stxtxs", "alrtes", "lgso"])
    def test_two_edits_in_a_short_word_is_too_many(self, typo: str) -> None:
        """Up to six letters one edit is tolerated, not two (seven and more letters allow two)."""
        assert match_command(typo) == (None, ())

    def test_ambiguous_between_two_commands(self) -> None:
        """'repet' is one edit from 'repeat' and from 'reset': ask, in help order."""
        assert match_command("repet") == (None, ("reset", "again"))

    def test_same_command_twice_is_not_ambiguous(self) -> None:
        """'stats' is one edit from both 'stat' and 'status', which mean the same thing."""
        assert match_command("stats") == ("status", ())

    @pytest.mark.parametrize(
        "word", ["banana", "asdf", "hello world", "", "x", "mm", "dv", "gx", "??x", "start", "stop", "quit", "a" * 500]
    )
    def test_nonsense_is_no_command(self, word: str) -> None:
        """Nonsense, near-misses of two-letter aliases and carrier keywords get no command."""
        assert match_command(word) == (None, ())

    def test_commands_are_the_advertised_ones(self) -> None:
        """The registry's commands, in help order, each with its own alias list."""
        assert set(VOCABULARY.names) >= {
            "help",
            "status",
            "alerts",
            "metrics",
            "logs",
            "db",
            "gateway",
            "more",
            "reset",
            "again",
        }
        assert VOCABULARY.names == tuple(spec.name for spec in REGISTRY)


class TestVocabulary:
    def test_a_word_naming_two_commands_is_refused(self) -> None:
        """Two commands sharing a word would make the parser guess: building the vocabulary fails."""
        with pytest.raises(ValueError, match="names both"):
            Vocabulary(commands={"logs": ("logs", "errors"), "alerts": ("alerts", "Errors")})

    def test_tables_are_built_once(self) -> None:
        """The lookup tables belong to the vocabulary object, not to each call."""
        vocabulary = Vocabulary(
            commands={"reset": ("reset", "start over"), "status": ("status",)}, phrases={"status": ("we good",)}
        )
        assert vocabulary.alias_to_command["we good"] == "status"
        assert vocabulary.phrase_lengths == (2,)
        assert match_in("we good", vocabulary) == ("status", ())
