"""The words Operator understands as commands, precomputed once at import.

``COMMANDS`` lists the canonical commands in help order; ``ALIASES`` maps each to the words
that mean it. Everything derived here (the flat alias list, the alias → command map) is built
once so that matching an SMS costs a dict lookup and, at worst, one rapidfuzz pass.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

COMMANDS: Final = ("help", "status", "alerts", "metrics", "logs", "db", "gateway", "more", "reset", "again")

ALIASES: Final[MappingProxyType[str, tuple[str, ...]]] = MappingProxyType(
    {
        "help": ("help", "?", "info"),
        "status": ("status", "stat", "health"),
        "alerts": ("alerts", "alert"),
        "metrics": ("metrics", "metric", "graph"),
        "logs": ("logs", "log"),
        "db": ("db", "database", "postgres", "pg"),
        "gateway": ("gateway", "gw", "api"),
        "more": ("more", "next", "m"),
        "reset": ("reset", "cancel", "start over", "clear"),
        "again": ("again", "repeat"),
    }
)

# Every alias (single- and multi-word) → its command; exact lookups go through this first.
ALIAS_TO_COMMAND: Final[MappingProxyType[str, str]] = MappingProxyType(
    {alias: command for command, aliases in ALIASES.items() for alias in aliases}
)

# Parallel tuples for rapidfuzz: it returns the index of the best choice, which picks the command.
WORD_ALIASES: Final = tuple(a for a in ALIAS_TO_COMMAND if " " not in a)
WORD_COMMANDS: Final = tuple(ALIAS_TO_COMMAND[a] for a in WORD_ALIASES)
PHRASE_ALIASES: Final = tuple(a for a in ALIAS_TO_COMMAND if " " in a)
PHRASE_COMMANDS: Final = tuple(ALIAS_TO_COMMAND[a] for a in PHRASE_ALIASES)

# Commands that must work in every dialog state, whatever the dialog is waiting for: an exact
# alias of these is never read as a service, metric or choice (issue 3: "in any state").
ESCAPE_COMMANDS: Final = frozenset({"reset", "help"})

# Carrier keywords (Twilio's default opt-out/opt-in list) and other real words one typo away
# from an alias: they are only ever matched exactly, never read as a typo ("start" is not "stat").
NEVER_FUZZY: Final = frozenset(
    {"start", "stop", "stopall", "unstop", "unsubscribe", "end", "quit", "revoke", "optout", "optin"}
)

# Filler that carries no meaning in an SMS command ("show me the logs for api").
STOPWORDS: Final = frozenset(
    {
        "show", "me", "get", "give", "check", "the", "for", "in", "of", "on", "from", "about",
        "please", "pls", "plz", "my", "any", "all", "what", "whats", "what's", "is", "are", "and",
        "with", "to", "at", "a", "an",
    }
)  # fmt: skip
