"""Understanding SMS text: pure, synchronous functions with no I/O.

``parse`` turns one message into an ``Intent``; the smaller matchers are exposed for dialogs
that only need one kind of answer. Modules: ``text`` (tokens), ``vocabulary`` (the
``Vocabulary`` of commands a caller hands in), ``fuzzy`` (typo tolerance), ``commands``,
``windows``, ``slots``, ``intent``.
"""

from nlu.commands import match_command
from nlu.intent import Intent, parse
from nlu.slots import match_choice, match_name, match_yes_no
from nlu.vocabulary import CARRIER_KEYWORDS, Vocabulary
from nlu.windows import WINDOW_MAX, WINDOW_MIN, parse_window

__all__ = [
    "CARRIER_KEYWORDS",
    "WINDOW_MAX",
    "WINDOW_MIN",
    "Intent",
    "Vocabulary",
    "match_choice",
    "match_command",
    "match_name",
    "match_yes_no",
    "parse",
    "parse_window",
]
