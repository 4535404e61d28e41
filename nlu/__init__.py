"""Understanding SMS text: pure, synchronous functions with no I/O.

``parse`` turns one message into an ``Intent``; the smaller matchers are exposed for dialogs
that only need one kind of answer. Modules: ``text`` (tokens, fillers), ``vocabulary`` (the
``Vocabulary`` of commands a caller hands in, built from the command registry), ``lexicon``
(everyday language no one command owns: small talk, verbs we cannot perform, state and trouble
words, metric everyday names), ``reader`` (a whole text → what it means, tables built once),
``names`` (services and metrics typed in full, by prefix, mistyped or abbreviated), ``fuzzy``
(typo tolerance), ``commands`` (one word → a command), ``windows``, ``slots``, ``intent``.
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
