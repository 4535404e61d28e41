"""Everyday language that belongs to no one command: greetings, verbs we cannot perform, words
that only say "is it OK?", everyday names of common metrics, emoji.

A command's own words and phrases live in its registry record (``dialogs/registry.py``); this
module holds what the reader needs to tell small talk, an action we cannot do, or a bare state
question from a command. Plain data, read once when a ``Reader`` is built.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from nlu.vocabulary import CARRIER_KEYWORDS

# A text made only of these (and ``SMALLTALK_NEUTRAL``) is small talk: one short line back.
SMALLTALK: Final = frozenset(
    {
        "hi", "hey", "heya", "hello", "helo", "hiya", "yo", "sup", "wassup", "howdy", "gm", "morning",
        "evening", "afternoon", "night", "nite", "gn", "thanks", "thank", "thx", "thnx", "tx", "ty", "tyvm",
        "ta", "cheers", "merci", "ok", "okay", "k", "kk", "cool", "nice", "great", "perfect", "awesome",
        "sweet", "good", "got", "roger", "copy", "np", "lol", "lmao", "haha", "noted", "understood",
        "alright", "fine", "gotcha",
        "helps", "helped", "helpful", "useful", "brilliant", "excellent", "wow", "yay", "phew", "bye", "later", "ttyl",
        "sounds", "appreciate", "appreciated", "legend", "ace", "lovely", "ugh", "argh", "oof", "sigh", "welp", "damn",
        "yikes", "whew", "meh", "rough", "tired", "long", "shift", "day", "week", "heyo", "hai", "lifesaver",
        "hero", "star", "rockstar", "fun", "champ", "worries", "prob", "probs",
    }
)  # fmt: skip
# Words that may ride along with small talk without making it a question ("thanks bot", "hey there").
SMALLTALK_NEUTRAL: Final = frozenset(
    {"bot", "there", "you", "u", "are", "r", "alive", "much", "many", "a", "lot", "again", "it", "so", "very", "man",
     "mate", "buddy", "guys", "and", "team", "operator", "still", "for", "that", "the", "info", "thats", "really",
     "was", "this", "super", "awake", "been", "one", "of", "kind", "my", "friend", "youre", "real", "no", "have",
     "weekend", "rest", "evening", "update", "updates"}
)  # fmt: skip

# Verbs for things Operator cannot do from a phone (yet): "I can't do that (yet)", never an answer
# that looks like it acted. Two-word ones are matched first. A registry command with the same
# word (``ack`` once it exists) wins, because the vocabulary is checked before this table.
UNSUPPORTED_VERBS: Final = frozenset(
    {
        "restart", "reboot", "rollback", "revert", "kill", "deploy", "redeploy", "scale", "flush", "drop",
        "delete", "remove", "failover", "mute", "unmute", "page", "bounce", "run", "ack", "acknowledge",
        "resolve", "silence", "unsilence", "escalate", "purge", "truncate", "rotate", "promote", "drain",
        "cordon", "exec", "ssh", "fix", "shutdown", "disable", "enable", "rerun", "retry", "clear", "cancel",
        "stop", "start", "terminate", "upgrade", "downgrade", "patch", "increase", "decrease", "bump", "set",
        "add", "create", "close", "assign", "snooze", "vacuum", "reindex", "wipe", "nuke", "erase", "suspend",
        "pause", "resume", "unpause", "rebuild", "recreate", "reinstall", "install", "uninstall", "unlock",
        "requeue", "replay", "evict", "block", "unblock", "ban", "clean", "cleanup", "prune", "empty", "archive",
        "compact", "tidy", "trigger", "migrate", "rollout", "kubectl", "sudo", "renew", "reissue", "regenerate",
        "replace", "modify", "edit", "rename", "resize", "expand", "extend", "provision", "decommission",
        "rm", "del", "mv", "chmod", "chown", "systemctl", "docker", "email", "mail", "slack", "notify", "dm",
        "forward", "share", "post", "print", "export", "schedule", "remind", "ping", "call", "text", "invite",
    }
)  # fmt: skip
# Verbs that send something somewhere: an action only when they say to whom ("send the logs to bob",
# "share it with the team"); "kindly share the database status" asks Operator to send it here.
SEND_VERBS: Final = frozenset({"share", "send", "forward", "post", "text"})
SEND_TARGETS: Final = frozenset({"to", "with", "in", "on", "over"})
UNSUPPORTED_PHRASES: Final = frozenset(
    {"roll back", "turn off", "turn on", "shut down", "spin up", "spin down", "take down", "bring up",
     "bring down", "switch off", "switch over", "fail over", "hand off", "take over", "clean up", "free up",
     "roll out", "kick off"}
)  # fmt: skip

# Words that only ask whether things are fine ("is postgres ok", "any backends down?"). They mean
# ``status`` when nothing else in the text names a subject, and attach to that subject otherwise.
STATE_WORDS: Final = frozenset(
    {
        "status", "stat", "health", "healthy", "ok", "okay", "up", "down", "broken", "good", "fine", "alive",
        "dead", "problems", "problem", "issues", "issue", "outage", "outages", "running", "working", "state",
        "everything", "prod", "production", "site", "systems", "system", "overall", "sitrep", "green", "red",
        "wrong", "looking", "all", "stack", "unhealthy", "fire", "happening", "worried", "worry", "worrying",
        "concerning", "boxes", "hosts", "servers", "nodes", "infra", "cluster", "situation",
    }
)  # fmt: skip

# Words for trouble in general ("errors", "failing"): they point at logs when nothing else is
# named, and attach to the thing named otherwise ("db errors" is db, "upstream errors" the gateway).
TROUBLE_WORDS: Final = frozenset(
    {
        "errors",
        "error",
        "erroring",
        "erros",
        "failures",
        "failure",
        "failing",
        "failed",
        "fails",
        "crashing",
        "crash",
        "crashed",
        "crashes",
        "timeouts",
        "timeout",
        "broke",
        "warnings",
        "fatal",
    }
)

# Polite openers before an imperative ("can you restart web", "please reboot worker").
POLITE: Final = frozenset(
    {
        "please",
        "pls",
        "plz",
        "can",
        "could",
        "would",
        "you",
        "u",
        "just",
        "go",
        "hey",
        "ok",
        "okay",
        "now",
        "quickly",
        "then",
        "so",
        "kindly",
        "i",
        "need",
        "to",
        "want",
        "lets",
        "let",
        "us",
        "we",
        "should",
        "ahead",
        "mind",
        "it",
        "be",
        "possible",
        "is",
        "also",
        "if",
        "maybe",
        "perhaps",
    }
)

# Everyday names of the metric aliases most installs have (a configured alias of that name gets
# them). A configured name always matches itself; these only add what people text instead.
METRIC_WORDS: Final[MappingProxyType[str, tuple[str, ...]]] = MappingProxyType(
    {
        "cpu": ("cpus", "processor", "processors", "cores", "busy", "compute"),
        "memory": ("mem", "ram", "memroy", "memry", "oom", "heap"),
        "disk": ("disks", "space", "storage", "filesystem", "fs", "df", "full", "volume", "volumes", "drive"),
        "load": ("loaded", "loadavg", "load1", "uptime"),
        "up": ("targets", "target", "scrape", "scrapes", "exporters", "exporter"),
    }
)
# Everyday words that only hint at a metric: beside another command's word they are about that
# ("pool full" is the db's pool, "gateway busy?" the gateway), alone they are the metric ("disk full?").
HINT_METRIC_WORDS: Final = frozenset(
    {"full", "space", "busy", "loaded", "storage", "volume", "volumes", "drive", "compute", "cores"}
)
# A metric whose name is also an everyday state word ("up") counts as that metric only after
# an explicit metrics word; otherwise "is prod up" would graph scrape targets.
STATE_METRIC_NAMES: Final = STATE_WORDS

# Emoji that stand for a whole message; anything else emoji-only is small talk.
EMOJI: Final[MappingProxyType[str, str]] = MappingProxyType(
    {"🚨": "alerts", "🔥": "alerts", "🆘": "alerts", "❓": "help", "❔": "help", "🤔": "help", "🤷": "help"}
)

# "what does <x> do", "how does <x> work", "what is <x> for": a question about a command.
HELP_FRAMES: Final = (
    (("what", "does"), ("do", "mean", "show")),
    (("what", "do"), ("do", "mean", "show")),
    (("how", "does"), ("work",)),
    (("how", "do"), ("work",)),
    (("whats",), ("for",)),
    (("what", "is"), ("for",)),
)

# Severities an alerts list can be narrowed to ("alerts crit", "any critical alerts", "sev1s"),
# each read as the one word the alerts filter takes.
SEVERITIES: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(
            ("crit", "critical", "crits", "criticals", "sev0", "sev1", "p0", "p1", "sev-1", "sev-0"), "crit"
        ),
        **dict.fromkeys(("warn", "warning", "warnings", "warns", "sev2", "p2", "sev-2"), "warn"),
        **dict.fromkeys(("info", "sev3", "p3", "sev-3"), "info"),
    }
    | {f"{word}s": level for word, level in (("sev0", "crit"), ("sev1", "crit"), ("p0", "crit"), ("p1", "crit"),
                                             ("sev2", "warn"), ("p2", "warn"), ("sev3", "info"), ("p3", "info"))}
)  # fmt: skip

# Words between two questions in one text ("status and alerts", "status, then alerts").
JOINERS: Final = frozenset({"and", "then", "plus", "also", "n"})

# Carrier keywords (Twilio's default opt-out/opt-in list): only ever exact, never a typo of a word.
CARRIER_WORDS: Final = CARRIER_KEYWORDS

# Word pairs that ask "is it OK?" though each word alone is filler ("what's going on").
STATE_PAIRS: Final = frozenset({("going", "on"), ("goes", "on"), ("on", "fire")})

# Words as strong as "help" itself: "explain metrics" is help about metrics, not metrics.
HELP_NAMES: Final = frozenset({"help", "explain", "syntax", "howto", "halp"})

# Alerts words that say why someone texts rather than what they ask: with a state question
# ("got paged, what's up?") they ask how things are (status, which lists firing alerts first).
PAGED: Final = frozenset({"paged", "pagerduty", "page", "pages", "paging", "woke", "pinged", "buzzed"})

# Words that name what a question is about as plainly as a command's name: "which processes
# are using the most cpu" asks about processes (top), the cpu only says which ones.
SUBJECTS: Final = frozenset({"processes", "process", "procs", "pids", "hogging", "hogs", "hog"})

# News that things are fine again: after thanks or OK ("thx, all good now") it is small talk.
ALL_FINE: Final = frozenset(
    {"all", "now", "up", "working", "resolved", "fixed", "sorted", "better", "normal", "recovered", "done", "back",
     "its", "is", "we", "are", "were", "everything", "looks", "seems", "ok", "okay", "good", "fine", "green", "again",
     "and", "over", "stable", "quiet", "calm", "clean", "going", "to", "bed", "sleep", "off", "home", "out",
     "that", "was", "for", "the", "night", "i", "im", "fun", "lol", "haha", "signing", "logging", "happy", "look",
     "looking", "help", "tonight", "today", "one", "great", "drained", "cleared", "finally", "gone", "settled",
     "subsided"}
)  # fmt: skip

# Everyday words spelled right: never looked up as a typo of a command, service or metric word
# (a long chatty text has many; each fuzzy pass over 50 names costs tens of microseconds).
# Words of everyday ops talk that are no command, service or metric: a long English word is two
# edits from many others ("application" from "replication").
COMMON_WORDS: Final = frozenset(
    {"application", "applications", "app", "apps", "slow", "slowly", "very", "users", "user", "customers",
     "customer", "website", "people", "someone", "somebody", "something", "things", "thing", "think", "maybe",
     "network", "blip", "deployment", "deploy", "deployed", "release", "exactly", "besides", "tonight", "issue",
     "incident", "question", "answer", "message", "text", "phone", "yesterday", "today", "morning", "afternoon"}
)  # fmt: skip
PLAIN_WORDS: Final = (
    SMALLTALK | SMALLTALK_NEUTRAL | POLITE | ALL_FINE | UNSUPPORTED_VERBS | COMMON_WORDS
) - STATE_WORDS

# Thanks said at the end ("clean now, ty"): with news that things are fine, small talk.
THANKS: Final = frozenset({"thanks", "thank", "thx", "thnx", "ty", "tyvm", "cheers", "ta", "appreciated", "tx"})
# Who thanks are said to, after them ("thx bot", "cheers mate"): the thanks still close the text.
VOCATIVES: Final = frozenset({"bot", "mate", "man", "buddy", "dude", "team", "guys", "operator", "pal", "friend"})

# Words after "alert" that are never a label value to narrow the list by ("which alert keeps paging").
NOT_LABELS: Final = frozenset(
    {"keeps", "keep", "kept", "is", "was", "that", "which", "still", "again", "going", "came", "comes", "just",
     "woke", "fired", "firing", "paged", "paging", "for", "about", "from", "did", "do", "does", "has", "have",
     "both", "all", "too", "please", "pls", "list", "now", "only", "pending", "open", "active"}
)  # fmt: skip

# Emoji that close an acknowledgment ("all backends green now 👍").
ACK_EMOJI: Final = frozenset({"\U0001f44d", "\u2705", "\U0001f64f", "\U0001f44c", "\U0001f64c", "\U0001f4af"})

# Words asking about things as they are ("are all targets up now?"): a follow-up drops the last
# question's window where the window is optional.
NOW_WORDS: Final = frozenset({"now", "currently", "rn", "atm", "presently"})

# Statements that ask nothing ("false alarm, resolve 1"): a part made of one is left out.
NEWS: Final = frozenset({("false", "alarm"), ("false", "positive"), ("my", "bad"), ("all", "sorted")})

# "take api-3 out of the pool": a verb that is an action only with its particle, a few words on.
PARTICLE_VERBS: Final = frozenset({("take", "out"), ("take", "down"), ("take", "offline"), ("put", "back"),
                                   ("bring", "back"), ("pull", "out"), ("swap", "out"), ("spin", "down")})  # fmt: skip
# "make a rollback of web", "do a restart": a light verb before the action named as a noun.
LIGHT_VERBS: Final = frozenset({"make", "do", "perform", "execute", "trigger", "start", "run", "initiate"})
# Pleas beside a question ("who is on call? I need help"): the question is what to answer.
PLEAS: Final = frozenset({("i", "need", "help"), ("need", "help"), ("please", "help"), ("pls", "help"),
                          ("help", "please"), ("help", "pls"), ("i", "need", "some", "help")})  # fmt: skip
# An alert firing reported, not asked about ("payments memory alert just fired, show memory"):
# beside a question, such a part only says why they ask.
FIRED_NEWS: Final = frozenset({"fired", "triggered", "went", "paged", "woke", "pinged", "just"})
QUESTION_WORDS: Final = frozenset({"what", "whats", "which", "any", "anything", "show", "list", "why", "how", "hows"})

# Interjections that open news rather than a question ("phew ok, it was just the network blip").
INTERJECTIONS: Final = frozenset(
    {"phew", "whew", "ugh", "argh", "welp", "oof", "ah", "oh", "meh", "sigh", "yikes", "damn", "wow", "lol"}
)

# How a sentence that only tells opens ("I think that's the API one.", "Sorry to bother you."),
# unless it asks after all ("I need ...", "I'd like ...").
STATEMENT_OPENERS: Final = frozenset(
    {"i", "im", "ive", "it", "its", "thats", "this", "there", "theres", "we", "were", "weve", "some", "sorry",
     "they", "theyre", "these", "those", "that", "seems", "looks",
     "thank", "thanks", "thx", "hi", "hello", "hey", "ok", "okay", "great", "cool", "btw", "fyi"}
)  # fmt: skip
REQUEST_PAIRS: Final = frozenset(
    {("id", "like"), ("i", "need"), ("i", "want"), ("i", "would"), ("id", "love"), ("i", "wanna"), ("ok", "show"),
     ("ok", "give"), ("okay", "show")}
)  # fmt: skip

# A clause that only guesses aloud ("I think the alert started around then", "not sure which").
HEDGES: Final = frozenset(
    {("i", "think"), ("i", "guess"), ("i", "believe"), ("i", "suspect"), ("im", "not", "sure"), ("not", "sure"),
     ("i", "dunno"), ("no", "idea"), ("maybe",), ("probably",), ("i", "assume")}
)  # fmt: skip

# How a clause that asks for something opens ("could you check the db", "show me cpu").
REQUEST_OPENERS: Final = frozenset(
    {"can", "could", "would", "will", "please", "pls", "plz", "show", "give", "list", "tell", "check", "get", "pull",
     "send", "lets", "need", "want", "what", "whats", "which", "how", "hows", "any", "anything", "who", "whos",
     "why", "where", "when"}
)  # fmt: skip

# How a clause that only tells opens, beside one that asks ("I'm seeing errors in the api logs,
# could you check the db?"): fewer than for a sentence, "I forgot the syntax for alerts, help?" tells its topic.
CLAUSE_STATEMENT_OPENERS: Final = frozenset(
    {"im", "ive", "sorry", "hi", "hello", "hey", "thanks", "thank", "thx", "ok", "okay", "its", "thats", "btw", "fyi"}
)

# Words before the first word said that open any text ("ok resolving 4", "pls ack 2").
OPENING_TALK: Final = SMALLTALK | INTERJECTIONS | POLITE
# Words pointing back at the last question ("run that exact query again").
THAT: Final = frozenset({"that", "this", "it", "same", "exact", "previous", "last"})
