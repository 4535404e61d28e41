"""Single answers: ``match_choice``, ``match_yes_no``, ``match_name``."""

from __future__ import annotations

import pytest

from nlu import match_choice, match_name, match_yes_no

SERVICES = ["api", "web", "worker", "payments", "payroll"]


class TestMatchChoice:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("2", 2), ("#2", 2), ("# 2", 2), ("2nd", 2), ("second", 2), ("Second!", 2), ("1st", 1), ("first", 1),
         ("3)", 3), ("number 4", 4), ("option 5", 5), ("tenth", 10), ("12", 12), (" 7. ", 7)],
    )  # fmt: skip
    def test_choices(self, text: str, expected: int) -> None:
        """Numbers, #numbers, ordinals and 'number N' all pick an item."""
        assert match_choice(text) == expected

    @pytest.mark.parametrize("text", ["", "0", "#0", "-1", "two", "2h", "1000", "second one", "#", "api", "2 3"])
    def test_not_choices(self, text: str) -> None:
        """Zero, windows, words and several numbers are not a choice."""
        assert match_choice(text) is None

    def test_upper_bound(self) -> None:
        """With the list's length given, choices past its end are None and the end itself is fine."""
        assert match_choice("3", upper=3) == 3
        assert match_choice("4", upper=3) is None
        assert match_choice("fourth", upper=3) is None


class TestMatchYesNo:
    @pytest.mark.parametrize("text", ["y", "Y", "yes", "YES!", "yep", "yeah", "yup", "sure", "ok"])
    def test_yes(self, text: str) -> None:
        """Affirmatives are True."""
        assert match_yes_no(text) is True

    @pytest.mark.parametrize("text", ["n", "N", "no", "No.", "nope", "nah"])
    def test_no(self, text: str) -> None:
        """Negatives are False."""
        assert match_yes_no(text) is False

    @pytest.mark.parametrize("text", ["", "maybe", "yes no", "status", "2", "noo pe"])
    def test_neither(self, text: str) -> None:
        """Anything else is None, never a guess."""
        assert match_yes_no(text) is None


class TestMatchName:
    @pytest.mark.parametrize(
        ("word", "expected"),
        [("api", "api"), ("API", "api"), ("wbe", "web"), ("wrker", "worker"), ("work", "worker"),
         ("paymnets", "payments"), ("web.", "web")],
    )  # fmt: skip
    def test_matches(self, word: str, expected: str) -> None:
        """Exact, typo and unique-prefix forms return the configured name."""
        assert match_name(word, SERVICES) == expected

    @pytest.mark.parametrize(
        "word", ["", "banana", "pay", "a", "we", "{api}", '"web"', "api.*", "$(web)", "web;rm", "wéb", "api\x00"]
    )
    def test_no_match(self, word: str) -> None:
        """Nonsense, an ambiguous prefix, and words with non-name characters match nothing."""
        assert match_name(word, SERVICES) is None

    def test_returns_the_list_element(self) -> None:
        """The value returned is the element of the list (its spelling), never the typed text."""
        names = ["Checkout-Svc"]
        assert match_name("checkout_svc", names) is names[0]

    def test_equally_close_names_are_not_guessed(self) -> None:
        """Two names one edit away: better to ask than to show the wrong service."""
        assert match_name("wek", ["web", "wea"]) is None

    def test_empty_list(self) -> None:
        """Without configured names nothing matches."""
        assert match_name("api", []) is None
