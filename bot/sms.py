"""SMS reply shaping: count segments as Twilio does, keep replies in GSM-7, cut long answers into pages.

Pure functions, no I/O. The three entry points:

- ``segment_info(text)``: encoding, length in encoding units and segment count.
- ``to_gsm(text, emoji=False)``: the sanitiser run on every outgoing text. One character outside GSM-7
  switches the whole message to UCS-2 and roughly halves what fits in a segment, so lookalikes become
  their GSM-7 twins and emoji become words (``ok``/``DOWN``) or vanish.
- ``paginate(text, max_segments)``: sanitised pages of at most ``max_segments`` segments each, marker
  included, e.g. ``...\\n(1/3 MORE)`` and ``...\\n(3/3)``.

Counting follows TwilioDevEd/message-segment-calculator: a GSM-7 message of up to 160 septets is one
segment, longer ones take 153 septets a part, and an extension character (two septets, escape + code)
is never split across parts; UCS-2 takes 70 code units, or 67 a part, and a surrogate pair (a character
outside the BMP) is never split. Unlike the calculator we do not keep whole grapheme clusters (ZWJ
emoji sequences, base + combining mark) in one part: we never emit them with ``emoji=False`` and the
difference only shows when such a cluster straddles a part boundary.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

MAX_BODY = 1600  # Twilio rejects longer bodies (error 21617)

# GSM 03.38 default alphabet without ESC (0x1B), which only introduces the extension table.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")  # each costs two septets: ESC + code
GSM7 = GSM7_BASIC | GSM7_EXTENSION

_SINGLE = {"GSM-7": 160, "UCS-2": 70}
_PART = {"GSM-7": 153, "UCS-2": 67}  # a concatenated part loses 6 octets to its user data header


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """How a body travels: ``units`` are septets (GSM-7) or UTF-16 code units (UCS-2)."""

    encoding: str
    units: int
    segments: int


def segment_info(text: str) -> SegmentInfo:
    """Count ``text`` as Twilio bills it. Empty text is 0 segments: we send nothing for it, and Twilio
    rejects an empty body (error 21619) though its calculator shows 1."""
    if not text:
        return SegmentInfo("GSM-7", 0, 0)
    if GSM7.issuperset(text):
        encoding, doubles = "GSM-7", sum(map(text.count, GSM7_EXTENSION))
    else:
        encoding, doubles = "UCS-2", len(text.encode("utf-16-le", "surrogatepass")) // 2 - len(text)
    units, part = len(text) + doubles, _PART[encoding]
    if units <= _SINGLE[encoding]:
        return SegmentInfo(encoding, units, 1)
    if not doubles:
        return SegmentInfo(encoding, units, -(-units // part))
    double = GSM7_EXTENSION.__contains__ if encoding == "GSM-7" else lambda c: ord(c) > 0xFFFF
    segments, used = 1, 0
    for c in text:  # greedy, never splitting an escape pair or a surrogate pair
        size = 2 if double(c) else 1
        if used + size > part:
            segments, used = segments + 1, 0
        used += size
    return SegmentInfo(encoding, units, segments)


_LOOKALIKES: dict[str, str] = {
    **dict.fromkeys("‘’‚‛′‵´`ʹʻʼˈ＇", "'"),
    **dict.fromkeys("“”„‟″‶«»〝〞", '"'),
    **dict.fromkeys("‐‑‒–—―−﹘﹣·", "-"),
    **dict.fromkeys("•‣⁃∙●◦▪▫■□◆◇○⦁", "*"),
    # One for one: × ÷ and fraction slashes; then letters NFKD leaves alone (µ: "350µs" latencies).
    **dict(zip("×÷⁄∕µμłŁđĐðħı", "x///uulLdDdhi", strict=True)),
    **{"…": "...", "≥": ">=", "≤": "<=", "≠": "!=", "≈": "~", "±": "+/-", "©": "(c)", "®": "(R)"},
    **{"→": "->", "⟶": "->", "➔": "->", "➜": "->", "➡": "->", "⇒": "=>", "←": "<-", "↔": "<->"},
    **{"œ": "oe", "Œ": "OE", "þ": "th"},
}
# Symbols that carry meaning in monitoring text: dropped as a word, spaced off from neighbours.
_WORDS: dict[str, str] = {
    **dict.fromkeys("✅✔✓☑🟢🆗", "ok"),
    **dict.fromkeys("❌✖✗✘❎🔴⛔🛑", "DOWN"),
    **dict.fromkeys("⚠🟡🟠❗❕", "!"),
    **dict.fromkeys("🚨🔥‼", "!!"),
    "↑": "up",
    "↓": "down",
}
_PLAIN = GSM7 - {"\r", "\f"}
_LINE_BREAKS = re.compile("\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_DROP, _SOFT = "\x00", "\x01"  # markers: "something was dropped here", "space me off if next to a word"
_GAP = re.compile("[ \x00\x01]*[\x00\x01][ \x00\x01]*")
_EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2300, 0x23FF), (0x2B00, 0x2BFF))
_EMOJI_PARTS = ((0x200D, 0x200D), (0xFE0F, 0xFE0F), (0x20E3, 0x20E3), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F))


def _within(c: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= ord(c) <= hi for lo, hi in ranges)


def _fallback(c: str) -> str | None:
    """GSM-7 spelling of ``c`` via its compatibility decomposition (ç → c, ﬁ → fi, ½ → 1/2), else None."""
    kept = []
    for d in unicodedata.normalize("NFKD", c):
        if d in GSM7:
            kept.append(d)
        elif d in _LOOKALIKES:
            kept.append(_LOOKALIKES[d])
        elif not unicodedata.category(d).startswith("M"):
            return None  # a part we cannot spell: drop the whole character rather than half of it
    return "".join(kept) or None


def _close_gap(m: re.Match[str]) -> str:
    """Turn a run of drop markers and spaces into one space, or nothing at a line's start or end."""
    s, a, b = m.string, m.start(), m.end()
    if a == 0 or b == len(s) or s[a - 1] == "\n" or s[b] == "\n":
        return ""
    if " " in m.group() or (_SOFT in m.group() and s[a - 1].isalnum() and s[b].isalnum()):
        return " "
    return ""


def to_gsm(text: str, *, emoji: bool = False) -> str:
    """Sanitise an outgoing reply: pure GSM-7 unless ``emoji``, in which case emoji are kept as they are.

    Lookalikes become GSM-7 twins, letters outside GSM-7 lose their accents (GSM-7's own é, ñ, Ü ...
    stay), unicode spaces become spaces, line separators ``\\n``, other control characters go. Status
    symbols become words (✅ ok, ❌ DOWN, ⚠ !); other symbols are dropped, and so are the spaces
    their dropping would leave doubled or at a line's edge.
    """
    if _PLAIN.issuperset(text):
        return text  # the common case: already clean
    out: list[str] = []
    after_emoji = False
    # NFC first, so that e + combining acute becomes the GSM-7 é rather than a bare e.
    for c in unicodedata.normalize("NFC", _LINE_BREAKS.sub("\n", text)):
        if emoji and (_within(c, _EMOJI_RANGES) or (after_emoji and _within(c, _EMOJI_PARTS))):
            out.append(c)
            after_emoji = True
            continue
        after_emoji = False
        if c in _PLAIN:
            out.append(c)
        elif c in _LOOKALIKES:
            out.append(_LOOKALIKES[c])
        elif c in _WORDS:
            out.append(_SOFT + _WORDS[c] + _SOFT)
        elif c == "\t" or unicodedata.category(c) == "Zs":
            out.append(" ")
        elif (spelt := _fallback(c)) is not None:
            out.append(spelt)
        elif not unicodedata.category(c).startswith("M"):  # a stray combining mark just goes
            out.append(_DROP)
    return _GAP.sub(_close_gap, "".join(out))


def _fits(body: str, max_segments: int) -> bool:
    # Cheap length test first: every character costs at least one unit, so more than 160 per segment
    # never fits, and callers may hand us a whole long line.
    return len(body) <= min(MAX_BODY, 160 * max_segments) and segment_info(body).segments <= max_segments


def _last_fit(cuts: list[int], fits: Callable[[int], bool]) -> int | None:
    """The largest cut that fits (fit shrinks as the cut grows), by bisection."""
    i = bisect.bisect_left(cuts, True, key=lambda cut: not fits(cut))
    return cuts[i - 1] if i else None


def _cut(rest: str, marker: str, max_segments: int) -> int:
    """Where the page ``rest[:cut]`` ends: at the last line break that fits; inside a line only when
    that line could not fill a page of its own anyway (it is then started here, keeping pages full);
    mid-word only for a word longer than a page."""

    def fits_body(body: str) -> bool:
        return _fits(body + marker, max_segments)

    def fits(cut: int) -> bool:
        return fits_body(rest[:cut].rstrip())

    reach = min(len(rest), MAX_BODY, 160 * max_segments)  # no page is longer: look no further
    line_cut = _last_fit([i for i in range(reach) if rest[i] == "\n"], fits)
    start = 0 if line_cut is None else line_cut + 1
    end = rest.find("\n", start)
    end = len(rest) if end == -1 else end
    if line_cut is not None and fits_body(rest[start:end].strip()):
        return line_cut
    word_cut = _last_fit([i for i in range(start, min(end, reach)) if rest[i] == " "], fits)
    if word_cut is not None:
        return word_cut
    space = rest.find(" ", start, end)
    word_end = end if space == -1 else space
    if line_cut is not None and fits_body(rest[start:word_end]):
        return line_cut  # the next word fits a page of its own: do not split it
    # A word longer than any page: split it, starting on this page; always make progress.
    return _last_fit(list(range(start + 1, min(word_end, reach) + 1)), fits) or line_cut or 1


def _pages(text: str, max_segments: int, total: int) -> list[str]:
    """Greedy page bodies, each fitting with its marker as if there were ``total`` pages."""
    pages: list[str] = []
    rest = text
    while rest:
        n = len(pages) + 1
        if _fits(f"{rest}\n({n}/{total})", max_segments):
            pages.append(rest)
            break
        cut = _cut(rest, f"\n({n}/{total} MORE)", max_segments)
        pages.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return pages


def paginate(text: str, max_segments: int = 2, *, emoji: bool = False) -> list[str]:
    """Sanitise ``text`` and cut it into as few pages as possible, each at most ``max_segments``
    segments and ``MAX_BODY`` characters including its marker. A single page carries no marker;
    otherwise every page ends ``\\n(i/N MORE)``, the last ``\\n(N/N)``. Empty text gives ``[""]``."""
    if max_segments < 1:
        raise ValueError(f"max_segments must be at least 1, got {max_segments}")
    body = to_gsm(text, emoji=emoji).strip()
    if _fits(body, max_segments):
        return [body]
    width = 1
    # Cuts depend on N only through its digit count: plan with the widest N of a width (9, 99, ...)
    # and widen until the pages fit in it; real markers are then never wider than planned.
    while len(pages := _pages(body, max_segments, 10**width - 1)) >= 10**width:
        width += 1
    n = len(pages)
    return [f"{page}\n({i}/{n}{' MORE' if i < n else ''})" for i, page in enumerate(pages, 1)]
