"""One sender's conversation: an understood message in, the whole answer out.

Knows nothing of SMS or HTTP: `bot/` parses with the context `expecting()` gives,
calls `reply()`, and cuts the answer into pages. Everything that must survive to
the next message is written into the `Session`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dialogs import commands
from dialogs.answer import Answer
from dialogs.forms import FORMS, Step, advance, slot_of
from dialogs.session import IDLE, Session
from monitors.registry import Monitors
from nlu import Intent

WINDOW_OPTIONS = ("15m", "1h", "6h", "24h")
_WINDOW_VALUES = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6), timedelta(hours=24))
MAX_MISSES = 3


def fmt_window(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class Conversation:
    def __init__(self, monitors: Monitors) -> None:
        self.monitors = monitors

    # -- what the dialog waits for -------------------------------------------------

    def expecting(self, session: Session) -> str | None:
        """The slot the current question asks for, so the parser reads "api" as a service."""
        slot = slot_of(session.state)
        if slot is None and session.items:
            return "choice"
        return slot

    def _options(self, session: Session) -> list[str]:
        slot = slot_of(session.state)
        if slot == "service":
            return list(self.monitors.log_services)
        if slot == "metric":
            return list(self.monitors.metric_aliases)
        if slot == "window":
            return list(WINDOW_OPTIONS)
        return []

    def _prompt(self, session: Session) -> str:
        """The open question with its options; it names `reset` (CANCEL may be a carrier opt-out)."""
        return f"{self._question(session)} (or reset)"

    def _question(self, session: Session) -> str:
        command = session.slots.get("command", "")
        slot = slot_of(session.state)
        options = self._options(session)
        if slot == "window":
            who = session.slots.get("service", command)
            return f"{who}: which window? {', '.join(options)}"
        numbered = ", ".join(f"{i} {name}" for i, name in enumerate(options, 1))
        if slot == "service":
            return f"{command.capitalize()} for which service? {numbered}"
        return f"Which {slot}? {numbered}"

    # -- the dialog machine's callbacks ------------------------------------------

    async def _ask(self, step: Step) -> None:
        session = step.session
        session.items = [{"name": o} for o in self._options(session)]
        session.list_kind = slot_of(session.state) or ""
        if session.state.endswith("service") and not session.items:
            session.clear()
            step.reply = "No services configured for logs (set LOG_SERVICES)."
            return
        step.reply = self._prompt(session)

    async def _run(self, step: Step) -> None:
        slots = step.session.slots
        step.session.slots, step.session.items, step.session.list_kind = {}, [], ""
        step.reply = self._remember(step.session, await self._execute(slots))

    # -- replying ------------------------------------------------------------------

    async def reply(self, session: Session, intent: Intent, *, expired: bool = False) -> str:
        command = intent.command
        if command == "reset":
            session.clear()
            return "OK, cleared."
        if session.state != IDLE:
            if command == "help":
                return self._dialog_help(session)
            # `more`/`again` mean nothing while a question is open: read them as a miss, re-ask.
            if command in (None, "more", "again", session.slots.get("command")):
                return await self._fill(session, intent)
            # A new command abandons the dialog, and the list it offered with it.
            session.state, session.slots, session.items, session.list_kind = IDLE, {}, [], ""
        session.misses = 0
        if command is None:
            return await self._follow_up(session, intent, expired)
        if command == "help":
            return commands.help_text(intent.topic)
        if command == "again":
            if session.last_query:
                return self._remember(session, await self._execute(session.last_query))
            return self._expired(session) if expired else "Nothing to repeat yet. Try help."
        if command in FORMS:
            session.slots = {"command": command, **self._slots(intent)}
            session.last_command = command
            return await self._advance(session, command)
        answer = await self._execute({"command": command, **self._slots(intent)})
        if command == "alerts" and intent.choice is not None:
            self._remember(session, answer)
            return self._pick(session, intent.choice)
        return self._remember(session, answer)

    async def _fill(self, session: Session, intent: Intent) -> str:
        before = dict(session.slots)
        slot = slot_of(session.state)
        session.slots.update(self._slots(intent))
        if slot is not None and not self._has(session, slot):
            self._fill_from_choice(session, intent)
        if session.slots == before:
            session.misses += 1
            if session.misses >= MAX_MISSES:
                session.clear()
                return "Still not sure what you meant, so I reset. Send help for commands."
            if intent.window_rejected:
                return f"Windows go from 1m to 7d. {self._prompt(session)}"
            return f"Didn't get that. {self._prompt(session)}"
        session.misses = 0
        return await self._advance(session, session.slots["command"])

    def _fill_from_choice(self, session: Session, intent: Intent) -> None:
        if intent.choice is None:
            return
        options = self._options(session)
        if not 1 <= intent.choice <= len(options):
            return
        slot = slot_of(session.state)
        if slot == "window":
            session.slots["window_s"] = int(_WINDOW_VALUES[intent.choice - 1].total_seconds())
        elif slot is not None:
            session.slots[slot] = options[intent.choice - 1]

    async def _advance(self, session: Session, command: str) -> str:
        step = Step(session, self._ask, self._run)
        await advance(step, command)
        return step.reply

    async def _follow_up(self, session: Session, intent: Intent, expired: bool) -> str:
        if intent.window is not None or (intent.service and session.last_query):
            last = session.last_query
            if last and last.get("command") == "logs":
                query = dict(last)
                if intent.window is not None:
                    query["window_s"] = int(intent.window.total_seconds())
                if intent.service:
                    query["service"] = intent.service
                return self._remember(session, await self._execute(query))
            if expired:
                return self._expired(session)
            return "A window for what? Try: logs api 1h"
        if intent.choice is not None:
            if session.items:
                return await self._pick_and_run(session, intent.choice)
            return self._expired(session) if expired else "Nothing to pick from. Send alerts or metrics first."
        if intent.window_rejected:
            return "Windows go from 1m to 7d, e.g. 15m, 1h, 6h, 24h."
        if intent.yes is not None:
            return "Nothing to confirm. Try help."
        if intent.ambiguous:
            return f"Did you mean {' or '.join(intent.ambiguous)}?"
        return "I don't know that. Try help."

    async def _pick_and_run(self, session: Session, choice: int) -> str:
        if session.list_kind in ("metrics", "metric") and 1 <= choice <= len(session.items):
            metric = session.items[choice - 1]["name"]
            return self._remember(session, await self._execute({"command": "metrics", "metric": metric}))
        return self._pick(session, choice)

    def _pick(self, session: Session, choice: int) -> str:
        if not 1 <= choice <= len(session.items):
            return f"Pick 1-{len(session.items)}." if session.items else "That list is empty."
        item = session.items[choice - 1]
        return str(item.get("detail") or item.get("name") or item.get("label"))

    def _dialog_help(self, session: Session) -> str:
        return f"{self._question(session)} Reply with a number or a name, or reset to stop."

    @staticmethod
    def _has(session: Session, slot: str) -> bool:
        return ("window_s" if slot == "window" else slot) in session.slots

    def expired_text(self, session: Session) -> str:
        return self._expired(session)

    @staticmethod
    def _expired(session: Session) -> str:
        again = session.last_command or "help"
        return f"That conversation expired. Send {again} again."

    @staticmethod
    def _slots(intent: Intent) -> dict[str, Any]:
        slots: dict[str, Any] = {}
        if intent.service:
            slots["service"] = intent.service
        if intent.window is not None:
            slots["window_s"] = int(intent.window.total_seconds())
        if intent.metric:
            slots["metric"] = intent.metric
        return slots

    async def _execute(self, query: dict[str, Any]) -> Answer:
        command = query.get("command")
        m = self.monitors
        if command == "status":
            return await commands.run_status(m)
        if command == "alerts":
            return await commands.run_alerts(m)
        if command == "metrics":
            return await commands.run_metrics(m, query["metric"])
        if command == "logs":
            return await commands.run_logs(m, query["service"], timedelta(seconds=query["window_s"]))
        if command in commands.REPORTS:
            return await commands.run_report(m, commands.REPORTS[command])
        return Answer("I don't know that. Try help.")

    @staticmethod
    def _remember(session: Session, answer: Answer) -> str:
        if answer.items or answer.list_kind:
            session.items, session.list_kind = answer.items, answer.list_kind
        if answer.query:
            session.last_query = answer.query
            session.last_command = str(answer.query.get("command", ""))
        return answer.text
