"""Pager reply codes: ``4a``, ``7aa``, ``4s 2h``, ``4e``, and ``log 4``, read before anything else.

A page says "Reply 4a ack, 4s 1h silence": the number is the page's code on that phone, the
letters name the action. Which letters mean which command is the vocabulary's ``codes`` (from
the command registry); ``ref_words`` are words that name another command when a number follows
(``log 4`` is an alert's history, while ``log`` alone stays the logs command). Pure, no I/O.
"""

from __future__ import annotations

import re
from typing import Final

from nlu.slots import choice_word
from nlu.text import tokenize
from nlu.vocabulary import Vocabulary
from nlu.windows import scan_window

_CODE: Final = re.compile(r"'?(\d{1,4})\s*([a-z]{1,2})'?")


def read_code(text: str, vocabulary: Vocabulary) -> tuple[str, int, str] | None:
    """``(command, code, the rest of the text)`` when ``text`` opens with a reply code, else None.

    ``45s`` alone is a window (45 seconds), not code 45 with ``s``: a code with a letter that is
    also a time unit needs something after it (``4s 2h``), or ``silence 4`` said in words.
    """
    if not (vocabulary.codes or vocabulary.ref_words):
        return None
    words = tokenize(text)
    if not words:
        return None
    code = _CODE.fullmatch(words[0])
    if code is not None and code.group(2) in vocabulary.codes:
        if len(words) == 1 and scan_window(words, 0) is not None:
            return None
        return vocabulary.codes[code.group(2)], int(code.group(1)), " ".join(words[1:])
    if len(words) > 1 and words[0] in vocabulary.ref_words:
        number = choice_word(words[1])
        if number is not None:
            return vocabulary.ref_words[words[0]], number, " ".join(words[2:])
    return None
