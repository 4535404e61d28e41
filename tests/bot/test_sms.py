"""SMS shaping: segment counting, the GSM-7 sanitiser and paging (bot/sms.py).

Expected counts in the table were worked out by hand from the rules (GSM-7: 160 septets single,
153 per part, extension characters two septets and never split; UCS-2: 70 / 67 UTF-16 units,
surrogate pairs never split), not by running the code.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sms import GSM7, MAX_BODY, SegmentInfo, paginate, segment_info, to_gsm

G, U = "GSM-7", "UCS-2"
EXTENSION = ["^", "{", "}", "\\", "[", "]", "~", "|", "€", "\f"]

SEGMENT_TABLE: list[tuple[str, str, str, int, int]] = [
    # (case, text, encoding, units, segments)
    ("empty is nothing to send", "", G, 0, 0),
    ("one letter", "a", G, 1, 1),
    ("plain words", "status ok", G, 9, 1),
    ("160 septets fit one", "a" * 160, G, 160, 1),
    ("161 septets need two", "a" * 161, G, 161, 2),
    ("two full parts", "a" * 306, G, 306, 2),
    ("one over two parts", "a" * 307, G, 307, 3),
    ("three full parts", "a" * 459, G, 459, 3),
    ("one over three parts", "a" * 460, G, 460, 4),
    *((f"extension {c!r}", c, G, 2, 1) for c in EXTENSION),
    ("80 euro signs are 160 septets", "€" * 80, G, 160, 1),
    ("81 euro signs: 76 + 5 a part", "€" * 81, G, 162, 2),
    ("extension pushes past 160", "a" * 159 + "€", G, 161, 2),
    ("extension ends exactly at 160", "a" * 158 + "€", G, 160, 1),
    ("escape pair at a part boundary moves whole", "a" * 152 + "€" + "a" * 152, G, 306, 3),
    ("euro run straddling parts", "a" * 152 + "€" * 77, G, 306, 3),
    ("brackets pairs", "{}" * 40, G, 160, 1),
    ("GSM-7 letters and Greek capitals", "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ", G, 29, 1),
    ("GSM-7 punctuation and umlauts", "¡¿§¤ÄÖÑÜäöñüà", G, 13, 1),
    ("newline is one septet", "ok\nDOWN", G, 7, 1),
    ("CRLF is two septets", "a\r\nb", G, 4, 1),
    ("capital C cedilla is GSM-7", "Ç", G, 1, 1),
    ("small c cedilla is not", "ç", U, 1, 1),
    ("backtick is not GSM-7", "`ls`", U, 4, 1),
    ("tab is not GSM-7", "a\tb", U, 3, 1),
    ("smart quote forces UCS-2", "it’s ok", U, 7, 1),
    ("en dash forces UCS-2", "a – b", U, 5, 1),
    ("non-breaking space forces UCS-2", "a\u00a0b", U, 3, 1),
    ("Greek small alpha", "α", U, 1, 1),
    ("Greek capital alpha is not GSM-7 either", "Α", U, 1, 1),
    ("70 units fit one", "’" + "a" * 69, U, 70, 1),
    ("71 units need two", "’" + "a" * 70, U, 71, 2),
    ("two full UCS-2 parts", "’" + "a" * 133, U, 134, 2),
    ("one over two UCS-2 parts", "’" + "a" * 134, U, 135, 3),
    ("extension char is one unit in UCS-2", "€😀", U, 3, 1),
    ("emoji is a surrogate pair", "😀", U, 2, 1),
    ("35 emoji are 70 units", "😀" * 35, U, 70, 1),
    ("36 emoji are 72 units", "😀" * 36, U, 72, 2),
    ("100 emoji: 33 a part, not ceil(200/67)", "😀" * 100, U, 200, 4),
    ("surrogate pair at a part boundary moves whole", "a" * 66 + "😀" + "a" * 4, U, 72, 2),
    ("pair at boundary costs a part", "’" + "a" * 65 + "😀" + "a" * 66, U, 134, 3),
    ("BMP tick is one unit", "✅", U, 1, 1),
    ("warning sign with variation selector", "⚠️", U, 2, 1),
    ("flag is two regional indicators", "🇺🇸", U, 4, 1),
    ("skin tone modifier", "👍🏽", U, 4, 1),
    ("ZWJ sequence", "👨‍💻", U, 5, 1),
    ("combining acute forces UCS-2", "e\u0301", U, 2, 1),
    ("precomposed e acute is GSM-7", "é", G, 1, 1),
    ("combining tilde", "n\u0303", U, 2, 1),
    ("seed style status line", "✅ api: ok", U, 9, 1),
]


class TestSegmentInfo:
    @pytest.mark.parametrize(
        ("text", "encoding", "units", "segments"),
        [case[1:] for case in SEGMENT_TABLE],
        ids=[case[0] for case in SEGMENT_TABLE],
    )
    def test_table(self, text: str, encoding: str, units: int, segments: int) -> None:
        """Each hand-counted case gets its encoding, units and segments."""
        assert segment_info(text) == SegmentInfo(encoding, units, segments)

    @pytest.mark.parametrize("char", sorted(EXTENSION))
    def test_every_extension_character_costs_two_septets(self, char: str) -> None:
        """Each character of the GSM-7 extension table is ESC + code: 2 septets, 80 fill one segment."""
        assert segment_info(char) == SegmentInfo("GSM-7", 2, 1)
        assert segment_info(char * 80) == SegmentInfo("GSM-7", 160, 1)
        assert segment_info(char * 81) == SegmentInfo("GSM-7", 162, 2)

    def test_is_frozen(self) -> None:
        """SegmentInfo is an immutable value."""
        info = segment_info("x")
        with pytest.raises(AttributeError):
            info.segments = 2  # type: ignore[misc]

    @given(st.text(max_size=700))
    def test_part_bounds(self, text: str) -> None:
        """Parts hold at most 153/67 units and waste at most one unit each (an unsplittable pair)."""
        info = segment_info(text)
        single, part = (160, 153) if info.encoding == G else (70, 67)
        if not text:
            assert info.segments == 0
        elif info.units <= single:
            assert info.segments == 1
        else:
            assert (info.segments - 1) * part < info.units + info.segments
            assert info.units <= info.segments * part


class TestToGsm:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("“quoted”", '"quoted"'),
            ("it’s", "it's"),
            ("‘x’ and ‚y‛", "'x' and 'y'"),
            ("«fr»", '"fr"'),
            ("a – b — c", "a - b - c"),
            ("−5 and ‐x", "-5 and -x"),
            ("wait…", "wait..."),
            ("a\u00a0b\u2009c\u202fd\u3000e", "a b c d e"),
            ("• item", "* item"),
            ("`make deploy`", "'make deploy'"),
            ("3×", "3x"),
            ("≥ 90% ≤ 5 ≠ 0", ">= 90% <= 5 != 0"),
            ("a → b ← c", "a -> b <- c"),
            ("p99 350µs", "p99 350us"),
            ("façade naïve São Łódź", "facade naive Sao Lodz"),
            ("ﬁle ½ ①", "file 1/2 1"),
            ("é è ñ ü Ä Ö Ü à ù ì ò É Ç ß Ø", "é è ñ ü Ä Ö Ü à ù ì ò É Ç ß Ø"),
            ("e\u0301", "é"),
            ("^{[~]}|\\€", "^{[~]}|\\€"),
            ("CPU ↑ 20%", "CPU up 20%"),
        ],
    )
    def test_lookalikes(self, text: str, expected: str) -> None:
        """Lookalikes become their GSM-7 twins; GSM-7's own accented letters stay."""
        assert to_gsm(text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("a\tb", "a b"),
            ("a\r\nb\rc", "a\nb\nc"),
            ("a\u2028b\fc", "a\nb\nc"),
            ("a\x07b\x1bc\x00d", "abcd"),
            ("zero\u200bwidth\u00adsoft", "zerowidthsoft"),
            ("\ufeffBOM", "BOM"),
        ],
    )
    def test_control_characters(self, text: str, expected: str) -> None:
        """Line separators become \\n, tabs spaces, other control and format characters go."""
        assert to_gsm(text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("✅ api", "ok api"),
            ("❌ loki: timeout", "DOWN loki: timeout"),
            ("⚠️ disk 91%", "! disk 91%"),
            ("🚨 2 firing", "!! 2 firing"),
            ("api:✅", "api:ok"),
            ("(✅)", "(ok)"),
            ("✅api", "ok api"),
            ("api ✔\nweb ✖", "api ok\nweb DOWN"),
            ("Deploy 🚀 done", "Deploy done"),
            ("✨ start\nend ✨", "start\nend"),
            ("📊 System Status", "System Status"),
            ("👨‍💻 on call", "on call"),
            ("🇺🇸 us-east-1", "us-east-1"),
        ],
    )
    def test_emoji_dropped_or_worded(self, text: str, expected: str) -> None:
        """Status emoji become words, others vanish without leaving doubled or edge spaces."""
        assert to_gsm(text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("✅ api ok", "✅ api ok"),
            ("⚠️ disk", "⚠️ disk"),
            ("👨‍💻 “hi”…", '👨‍💻 "hi"...'),
            ("🇺🇸 a – b", "🇺🇸 a - b"),
            ("1️⃣ first", "1 first"),  # keycap parts only follow an emoji
            ("a\u200db", "ab"),
            ("x → y", "x -> y"),
        ],
    )
    def test_emoji_kept(self, text: str, expected: str) -> None:
        """With emoji on, emoji stay as they are and everything else is still normalised."""
        assert to_gsm(text, emoji=True) == expected

    @given(st.text(max_size=300))
    def test_output_is_gsm7(self, text: str) -> None:
        """Whatever comes in, what goes out is GSM-7 without control characters but \\n."""
        out = to_gsm(text)
        assert set(out) <= GSM7 - {"\r", "\f"}
        assert segment_info(out).encoding == G
        assert to_gsm(out) == out

    @given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
    def test_emoji_mode_never_raises(self, text: str) -> None:
        """Emoji mode copes with any text and still removes non-emoji lookalikes."""
        out = to_gsm(text, emoji=True)
        assert not set(out) & {"\r", "\t", "’", "—", "\u00a0"}


def _bodies(pages: list[str]) -> list[str]:
    return [page.rsplit("\n", 1)[0] for page in pages] if len(pages) > 1 else pages


def _check_pages(pages: list[str], max_segments: int) -> None:
    """Every page fits, and markers count 1..n with MORE on all but the last."""
    assert pages
    for page in pages:
        assert len(page) <= MAX_BODY
        assert segment_info(page).segments <= max_segments
    n = len(pages)
    if n > 1:
        for i, page in enumerate(pages, 1):
            assert page.endswith(f"\n({i}/{n} MORE)" if i < n else f"\n({n}/{n})")


class TestPaginate:
    def test_empty(self) -> None:
        """Empty or blank text is one empty page."""
        assert paginate("") == [""]
        assert paginate(" \n ✨ ") == [""]

    def test_short_has_no_marker(self) -> None:
        """A reply that fits is one sanitised page without a marker."""
        assert paginate("✅ api ok\n❌ loki DOWN") == ["ok api ok\nDOWN loki DOWN"]

    def test_emoji_kept_when_asked(self) -> None:
        """The emoji flag reaches the sanitiser."""
        assert paginate("✅ api", emoji=True) == ["✅ api"]

    def test_exact_fill_one_segment(self) -> None:
        """Three 49-char lines plus a 10-char marker line fill 160 septets: 10 lines make 4 pages."""
        lines = [f"{i}" + "x" * 48 for i in range(10)]
        pages = paginate("\n".join(lines), 1)
        assert [p.split("\n")[:-1] for p in pages] == [lines[0:3], lines[3:6], lines[6:9], lines[9:]]
        _check_pages(pages, 1)

    def test_one_more_char_per_line(self) -> None:
        """At 50 chars a line, three lines and the marker make 163 septets: two lines a page."""
        lines = ["y" * 50] * 10
        pages = paginate("\n".join(lines), 1)
        assert len(pages) == 5
        _check_pages(pages, 1)

    def test_two_segment_pages(self) -> None:
        """Two segments hold 306 septets: five 58-char lines (294) plus an 11-char marker, not six."""
        pages = paginate("\n".join(["z" * 58] * 11), 2)
        assert [p.count("z" * 58) for p in pages] == [5, 5, 1]
        _check_pages(pages, 2)

    def test_long_line_cut_at_words(self) -> None:
        """One long line is cut between words, never inside one."""
        text = " ".join(f"word{i}" for i in range(200))
        pages = paginate(text, 1)
        _check_pages(pages, 1)
        assert " ".join(_bodies(pages)).split() == text.split()
        assert len(pages) == 11

    def test_long_line_after_short_fills_page(self) -> None:
        """A line too long for any page starts on the current page instead of leaving it half empty."""
        text = "short\n" + " ".join(["abcdefghi"] * 40)
        pages = paginate(text, 1)
        assert pages[0].startswith("short\nabcdefghi abcdefghi")
        _check_pages(pages, 1)

    def test_giant_word_is_split(self) -> None:
        """A single word longer than a page is the one case cut mid-word."""
        pages = paginate("x" * 500, 1)
        _check_pages(pages, 1)
        assert "".join(_bodies(pages)) == "x" * 500

    def test_extension_characters_counted(self) -> None:
        """Pages of two-septet characters still fit their segments."""
        pages = paginate("\n".join(["{json} [1,2] ~ | €"] * 40), 1)
        _check_pages(pages, 1)

    def test_max_body(self) -> None:
        """No page exceeds 1600 characters even when many segments are allowed."""
        text = "\n".join(f"line {i} " + "q" * 60 for i in range(100))
        pages = paginate(text, 20)
        _check_pages(pages, 20)
        assert max(len(p) for p in pages) > 1500

    def test_ucs2_pages(self) -> None:
        """With emoji kept, pages are counted in UCS-2."""
        text = "\n".join(f"✅ service-{i} ok" for i in range(30))
        pages = paginate(text, 2, emoji=True)
        _check_pages(pages, 2)
        assert all(segment_info(p).encoding == U for p in pages)

    def test_marker_width_ten_pages(self) -> None:
        """Two-digit page numbers are budgeted for on every page."""
        pages = paginate("\n".join(["w" * 70] * 25), 1)
        assert len(pages) >= 10
        _check_pages(pages, 1)
        assert pages[0].endswith(f"\n(1/{len(pages)} MORE)")

    def test_rejects_zero_segments(self) -> None:
        """A page budget below one segment is a programming error."""
        with pytest.raises(ValueError, match="max_segments"):
            paginate("x", 0)

    @settings(max_examples=150, deadline=None)
    @given(
        st.text(
            alphabet=st.sampled_from(list("abcdefghij ABC\n\n  ,.:€{}’—…✅❌😀🚀\t")) | st.characters(),
            max_size=1500,
        ),
        st.integers(1, 4),
        st.booleans(),
    )
    def test_pages_fit(self, text: str, max_segments: int, emoji: bool) -> None:
        """Any text gives pages that fit, with correct markers, losing no visible character."""
        pages = paginate(text, max_segments, emoji=emoji)
        _check_pages(pages, max_segments)
        squash = re.compile(r"\s+")
        expected = squash.sub("", to_gsm(text, emoji=emoji))
        assert squash.sub("", "".join(_bodies(pages))) == expected

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(
            st.lists(st.text(alphabet="abcxyz0123{€-", min_size=1, max_size=25), max_size=30),
            min_size=1,
            max_size=30,
        ),
        st.integers(1, 3),
    )
    def test_words_never_split(self, lines: list[list[str]], max_segments: int) -> None:
        """Words shorter than a page come out whole and in order."""
        text = "\n".join(" ".join(words) for words in lines)
        pages = paginate(text, max_segments)
        _check_pages(pages, max_segments)
        assert " ".join(_bodies(pages)).split() == text.split()
