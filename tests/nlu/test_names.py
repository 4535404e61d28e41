"""``NameTable``: configured names typed in full, by prefix, mistyped or abbreviated."""

from __future__ import annotations

import pytest

from nlu.names import NameTable, is_abbreviation

SERVICES = NameTable(("api", "web", "worker", "payments", "auth", "payroll"))


class TestAbbreviations:
    @pytest.mark.parametrize(
        ("token", "name"),
        [
            ("wrkr", "worker"),
            ("pymnts", "payments"),
            ("ath", "auth"),
            ("pymnt", "payments"),
            ("paymts", "payments"),
            ("wrk", "worker"),
        ],
    )
    def test_thumb_abbreviations(self, token: str, name: str) -> None:
        """Vowels dropped, a tail cut, or most letters kept with first and last: still the name."""
        assert is_abbreviation(token, name)

    @pytest.mark.parametrize(
        ("token", "name"),
        [
            ("wok", "worker"),
            ("woke", "worker"),
            ("ws", "web-server"),
            ("rkr", "worker"),
            ("pt", "payments"),
            ("worker", "worker"),
            ("x", ""),
            ("abc", ""),
        ],
    )
    def test_not_abbreviations(self, token: str, name: str) -> None:
        """Another first letter, a consonant skipped mid-word, too short, or the whole name: no."""
        assert not is_abbreviation(token, name)


class TestFind:
    @pytest.mark.parametrize(
        ("token", "name"),
        [
            ("web", "web"),
            ("work", "worker"),
            ("wbe", "web"),
            ("wrkr", "worker"),
            ("pymnts", "payments"),
            ("ath", "auth"),
            ("pyrl", "payroll"),
        ],
    )
    def test_found(self, token: str, name: str) -> None:
        """Exact, unique prefix, one-edit typo, abbreviation."""
        assert SERVICES.find(token) == name

    @pytest.mark.parametrize("token", ["pay", "banana", "api.*", "{web}", ""])
    def test_not_found(self, token: str) -> None:
        """A prefix of two names, nonsense, or non-name characters: nothing (ask, don't guess)."""
        assert SERVICES.find(token) is None

    def test_everyday_words(self) -> None:
        """Extra words name a configured metric exactly ('ram' is memory)."""
        metrics = NameTable(("cpu", "memory"), {"ram": "memory"})
        assert metrics.exact("ram") == "memory"
        assert metrics.find("mem") == "memory"
