"""What a responder can do by reply: ack, silence, unsilence, escalate, resolve, log, oncall.

Each action is a plain coroutine of the sender (E.164) and a reference — a code from a page on
that phone (`4`), or None for the latest page — and returns the whole reply text. Codes are
per phone: `4` on one phone is not `4` on another. Actions move incidents through the machine
(dialogs/incidents.py) inside the store's WATCHed transactions and write an audit entry each
(who, what, when, Alertmanager's answer), which `log 4` reads back.

Roles: VIEWER_NUMBERS may ask (`log`, `silences`, `oncall`) but not act ("Your number can't
ack."). Wide actions (a bundle, `silence all`) and silences longer than 24 h ask yes/no first;
the question waits two minutes (`answer`).

Alertmanager failures come back as `MonitorError` from monitors/silences.py and are worded in
the reply; nothing here raises for a bad reference or a down Alertmanager.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from dialogs.incidents import UNACKED, fire, title
from dialogs.oncall_store import Changes
from dialogs.pager import Pager, mask
from monitors.base import MonitorError
from monitors.silences import SilenceClient

WIDE_S = 24 * 3600
MAX_SILENCES = 25  # each alert gets its own exact silence: one Alertmanager call each
NO_RESOLVED = " Note: a silenced alert sends no RESOLVED."


def fmt_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds // 60)}m"


def hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M")


class OncallDesk:
    def __init__(self, pager: Pager, silences: SilenceClient | None, clock: Callable[[], float] = time.time) -> None:
        self.pager = pager
        self.store = pager.store
        self.policy = pager.policy
        self.silences = silences
        self.clock = clock

    # -- references ---------------------------------------------------------------------

    async def _refer(self, sender: str, code: int | None) -> tuple[int, list[str], bool] | str:
        """(code, incident ids, is a bundle), or the reply explaining why there is none."""
        if code is None:
            code = await self.store.latest_code(sender)
            if code is None:
                return "No page sent to this phone in the last 24h."
        target = await self.store.code_target(sender, code)
        if target is None:
            return f"No alert {code} on this phone (codes last 24h). Send alerts for what fires now."
        return code, list(target["ids"]), bool(target["bundle"])

    def _forbidden(self, sender: str, verb: str) -> str | None:
        return f"Your number can't {verb}." if sender in self.policy.viewers else None

    async def _mine(self, sender: str) -> list[str]:
        """Open incidents paged to this phone."""
        ids = await self.store.open_ids()
        return [
            i["id"]
            for i in await self.store.load_many(ids)
            if i and i["state"] != "resolved" and any(p["n"] == sender for p in i["paged"])
        ]

    # -- ack ----------------------------------------------------------------------------

    async def ack(self, sender: str, code: int | None = None, *, every: bool = False) -> str:
        """`4a`, `ack 4`, `ack` (latest page), `7aa` (the bundle's members), `ack all` (all paged here)."""
        if (no := self._forbidden(sender, "ack")) is not None:
            return no
        if every:
            ids, label = await self._mine(sender), "all"
            if not ids:
                return "Nothing open was paged to this phone."
        else:
            ref = await self._refer(sender, code)
            if isinstance(ref, str):
                return ref
            code, ids, _ = ref
            label = str(code)
        who = self.policy.who(sender)
        acked: list[dict[str, Any]] = []
        others: list[dict[str, Any]] = []

        async def change(current: list[dict[str, Any] | None]) -> Changes:
            acked.clear()
            others.clear()
            ch = Changes.empty()
            for inc in current:
                if inc is None:
                    continue
                if fire(inc, "ack"):
                    inc["acked_by"], inc["acked_at"] = who, self.clock()
                    acked.append(inc)
                    ch.incidents.append(inc)
                    ch.audit.append((inc["id"], {"what": f"acked by {who}"}))
                else:
                    others.append(inc)
            return ch

        await self.store.update(ids, change)
        if len(acked) == 1 and not others:
            return f"Acked {title(acked[0])} ({label}). Escalation stopped."
        if acked:
            rest = f"; {len(others)} already acked, silenced or resolved" if others else ""
            return f"Acked {len(acked)} alerts ({label}){rest}. Escalation stopped."
        if len(others) == 1:  # "ack all" names the alert, not "all is already acked"
            return self._already(others[0], title(others[0]) if every else label)
        return (
            "Nothing to ack: all already acked, silenced or resolved."
            if every
            else f"Nothing to ack in {label}: already acked, silenced or resolved."
        )

    @staticmethod
    def _already(inc: dict[str, Any], label: str) -> str:
        state = inc["state"]
        if state == "acked":
            return f"{label} is already acked (by {inc.get('acked_by') or '?'} at {hhmm(inc.get('acked_at', 0))})."
        return f"{label} is already {state}." if label == title(inc) else f"{label} ({title(inc)}) is already {state}."

    # -- silence ------------------------------------------------------------------------

    async def silence(
        self, sender: str, code: int | None, duration_s: float | None, *, every: bool = False, confirmed: bool = False
    ) -> str:
        """`4s 2h`, `silence 4 for 2h`, `silence 4` (asks how long), `7ss 1h`, `silence all 1h`."""
        if (no := self._forbidden(sender, "silence")) is not None:
            return no
        if self.silences is None:
            return "No Alertmanager configured (set ALERTMANAGER_URL): cannot silence."
        if every:
            ids, label = await self._mine(sender), "all"
            if not ids:
                return "Nothing open was paged to this phone."
        else:
            ref = await self._refer(sender, code)
            if isinstance(ref, str):
                return ref
            code, ids, _ = ref
            label = str(code)
        incs = [i for i in await self.store.load_many(ids) if i and i["state"] != "resolved"]
        if not incs:
            return f"{label}: already resolved, nothing to silence."
        if len(incs) > MAX_SILENCES:  # one exact silence per alert: a storm's bundle is not for SMS
            return (
                f"{label} holds {len(incs)} open alerts: too many to silence one by one from a phone "
                f"(at most {MAX_SILENCES}). Silence them by a label in Alertmanager (amtool), or ack {label}."
            )
        if duration_s is None:
            await self.store.ask(sender, {"do": "silence", "ids": ids, "label": label, "need": "duration"})
            return f"Silence {label} ({self._names(incs)}) for how long? e.g. 1h, 4h (or reset)"
        if (len(incs) > 1 or duration_s > WIDE_S) and not confirmed:
            await self.store.ask(sender, {"do": "silence", "ids": ids, "label": label, "duration": duration_s})
            what = f"{len(incs)} alerts matching {self._names(incs)}" if len(incs) > 1 else self._names(incs)
            return f"Silence {what} for {fmt_duration(duration_s)}? yes/no"
        return await self._silence(sender, incs, duration_s, label)

    async def _silence(self, sender: str, incs: Sequence[dict[str, Any]], duration_s: float, label: str) -> str:
        assert self.silences is not None
        who = self.policy.who(sender)
        made: dict[str, str] = {}
        failures: list[str] = []
        for inc in incs:
            comment = f"SMS reply {label} from {who}: {title(inc)} for {fmt_duration(duration_s)} (operator)"
            try:
                made[inc["id"]] = await self.silences.create(
                    inc["labels"], timedelta(seconds=duration_s), f"operator: {who}", comment
                )
            except MonitorError as exc:
                failures.append(exc.reason)
                await self.store.commit(self._note(inc["id"], f"silence by {who} failed: Alertmanager {exc.reason}"))

        async def change(current: list[dict[str, Any] | None]) -> Changes:
            ch = Changes.empty()
            for inc in current:
                if inc is None or inc["id"] not in made:
                    continue
                fire(inc, "silence")
                inc["silences"] = [*inc.get("silences", []), made[inc["id"]]]
                ch.incidents.append(inc)
                ch.audit.append(
                    (
                        inc["id"],
                        {
                            "what": f"silenced {fmt_duration(duration_s)} by {who}: "
                            f"Alertmanager silence {made[inc['id']]}"
                        },
                    )
                )
            return ch

        if made:
            await self.store.update(list(made), change)
        if not made:
            return f"Silence failed: Alertmanager {failures[0]}. Nothing changed."
        warn = NO_RESOLVED if await self.store.first_time("warned:" + sender) else ""
        ids = ", ".join(".." + s[-6:] for s in made.values())
        fail = f" {len(failures)} failed: {failures[0]}." if failures else ""
        if len(made) == 1:
            only = next(i for i in incs if i["id"] in made)
            return f"Silenced {title(only)} for {fmt_duration(duration_s)} (id {ids}).{fail}{warn}"
        return f"Silenced {len(made)} alerts for {fmt_duration(duration_s)} (ids {ids}).{fail}{warn}"

    async def silence_group(self, sender: str, code: int | None, duration_s: float, *, confirmed: bool = False) -> str:
        """`silence group 4 1h`: one silence on the alert's group labels (its Alertmanager group, now
        and later; it can also mute same-labelled alerts routed elsewhere). Always asks yes/no first."""
        if (no := self._forbidden(sender, "silence")) is not None:
            return no
        if self.silences is None:
            return "No Alertmanager configured (set ALERTMANAGER_URL): cannot silence."
        ref = await self._refer(sender, code)
        if isinstance(ref, str):
            return ref
        code, ids, _ = ref
        incs = [i for i in await self.store.load_many(ids) if i]
        labels = dict(incs[0].get("group_labels") or {}) if incs else {}
        if not labels:
            return f"{code}: Alertmanager sent no group labels for it; silence {code} itself instead."
        matching = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))
        if not confirmed:
            await self.store.ask(sender, {"do": "group", "ids": ids, "label": str(code), "duration": duration_s})
            return f"Silence every alert matching {matching} for {fmt_duration(duration_s)}? yes/no"
        return await self._silence_labels(sender, incs, labels, duration_s, str(code), matching)

    async def _silence_labels(
        self,
        sender: str,
        incs: Sequence[dict[str, Any]],
        labels: dict[str, str],
        duration_s: float,
        label: str,
        matching: str,
    ) -> str:
        assert self.silences is not None
        who = self.policy.who(sender)
        comment = f"SMS reply from {who}: group {matching} for {fmt_duration(duration_s)} (operator)"
        try:
            made = await self.silences.create(labels, timedelta(seconds=duration_s), f"operator: {who}", comment)
        except MonitorError as exc:
            await self.store.commit(self._note(incs[0]["id"], f"group silence by {who} failed: {exc.reason}"))
            return f"Silence failed: Alertmanager {exc.reason}. Nothing changed."

        async def change(current: list[dict[str, Any] | None]) -> Changes:
            ch = Changes.empty()
            for inc in current:
                if inc is not None and inc["state"] != "resolved":
                    fire(inc, "silence")
                    inc["silences"] = [*inc.get("silences", []), made]
                    ch.incidents.append(inc)
                    ch.audit.append(
                        (
                            inc["id"],
                            {
                                "what": f"group silenced ({matching}) {fmt_duration(duration_s)} "
                                f"by {who}: Alertmanager silence {made}"
                            },
                        )
                    )
            return ch

        await self.store.update([i["id"] for i in incs], change)
        warn = NO_RESOLVED if await self.store.first_time("warned:" + sender) else ""
        return f"Silenced every alert matching {matching} for {fmt_duration(duration_s)} (id ..{made[-6:]}).{warn}"

    async def answer(self, sender: str, *, yes: bool | None = None, duration_s: float | None = None) -> str | None:  # noqa: PLR0911 - each pending question (silence how long, wide silence, group) answers yes/no its own way
        """The reply to a waiting question (yes/no, or how long); None when nothing waits."""
        question = await self.store.take_question(sender)
        if question is None:
            return None
        label = question["label"]
        if question.get("need") == "duration":
            if duration_s is None:
                if yes is False:
                    return f"OK, {label} not silenced."
                await self.store.ask(sender, question)
                return "How long? e.g. 30m, 1h, 4h (or reset)"
            incs = [i for i in await self.store.load_many(question["ids"]) if i and i["state"] != "resolved"]
            if not incs:
                return f"{label}: already resolved, nothing to silence."
            if len(incs) > 1 or duration_s > WIDE_S:
                await self.store.ask(sender, {**question, "need": "", "duration": duration_s})
                return f"Silence {len(incs)} alert(s) ({self._names(incs)}) for {fmt_duration(duration_s)}? yes/no"
            return await self._silence(sender, incs, duration_s, label)
        if yes is None:
            await self.store.ask(sender, question)
            return "Please answer yes or no."
        if not yes:
            return f"OK, {label} not silenced."
        if (no := self._forbidden(sender, "silence")) is not None:
            return no
        if question.get("do") == "group":
            return await self.silence_group(sender, int(label), float(question["duration"]), confirmed=True)
        incs = [i for i in await self.store.load_many(question["ids"]) if i and i["state"] != "resolved"]
        if not incs:
            return f"{label}: already resolved, nothing to silence."
        return await self._silence(sender, incs, float(question["duration"]), label)

    async def unsilence(self, sender: str, code: int | None) -> str:
        if (no := self._forbidden(sender, "unsilence")) is not None:
            return no
        if self.silences is None:
            return "No Alertmanager configured (set ALERTMANAGER_URL)."
        ref = await self._refer(sender, code)
        if isinstance(ref, str):
            return ref
        code, ids, _ = ref
        incs = [i for i in await self.store.load_many(ids) if i and i.get("silences")]
        if not incs:
            return f"{code} has no silence of ours."
        who = self.policy.who(sender)
        said: list[str] = []
        for inc in incs:
            for sid in inc["silences"]:
                try:
                    gone = not await self.silences.expire(sid)
                except MonitorError as exc:
                    await self.store.commit(self._note(inc["id"], f"unsilence by {who} failed: {exc.reason}"))
                    return f"Unsilence failed: Alertmanager {exc.reason}. Nothing changed."
                said.append(f"..{sid[-6:]} {'was already gone' if gone else 'expired'}")

        async def change(current: list[dict[str, Any] | None]) -> Changes:
            ch = Changes.empty()
            for inc in current:
                if inc is None:
                    continue
                expired = inc.get("silences", [])
                inc["silences"] = []
                fire(inc, "unsilence")
                ch.incidents.append(inc)
                ch.audit.append((inc["id"], {"what": f"unsilenced by {who}: {', '.join(expired)}"}))
            return ch

        await self.store.update([i["id"] for i in incs], change)
        return f"Silence {'; '.join(said)}. {title(incs[0])} alerts again if it still fires."

    async def silences_list(self, sender: str) -> str:
        if self.silences is None:
            return "No Alertmanager configured (set ALERTMANAGER_URL)."
        try:
            active = await self.silences.active()
        except MonitorError as exc:
            return f"Alertmanager DOWN: {exc.reason}"
        if not active:
            return "No active silences."
        lines = []
        for s in active[:8]:
            what = " ".join(v for k, v in s.matchers.items() if k in ("alertname", "instance", "service", "job"))
            until = hhmm(s.ends_at.timestamp()) if s.ends_at else "?"
            lines.append(f"..{s.id[-6:]} {what or 'custom'} until {until} by {s.created_by.removeprefix('operator: ')}")
        more = f" (+{len(active) - 8} more)" if len(active) > 8 else ""
        return f"{len(active)} active silence{'s' if len(active) != 1 else ''}{more}:\n" + "\n".join(lines)

    # -- escalate, resolve, log ---------------------------------------------------------

    async def escalate(self, sender: str, code: int | None) -> str:
        if (no := self._forbidden(sender, "escalate")) is not None:
            return no
        ref = await self._refer(sender, code)
        if isinstance(ref, str):
            return ref
        code, ids, _ = ref
        incs = [i for i in await self.store.load_many(ids) if i]
        live = [i for i in incs if i["state"] in UNACKED]
        if not live:
            return self._already(incs[0], str(code)) if incs else f"{code}: nothing to escalate."
        pages = {p["pid"] for i in live for p in i["paged"] if p["level"] == i["level"]}
        paged: list[str] = []
        for pid in pages:
            paged += await self.pager.escalate_page(pid, "escalation asked", self.policy.who(sender))
        if not paged:
            return f"{code}: nobody left to page in the chain."
        names = ", ".join(self.policy.who(n) for n in dict.fromkeys(paged))
        return f"Escalated {title(live[0])}{f' (+{len(live) - 1})' if len(live) > 1 else ''} to {names}."

    async def resolve(self, sender: str, code: int | None) -> str:
        if (no := self._forbidden(sender, "resolve")) is not None:
            return no
        ref = await self._refer(sender, code)
        if isinstance(ref, str):
            return ref
        code, ids, _ = ref
        who = self.policy.who(sender)
        closed: list[dict[str, Any]] = []

        async def change(current: list[dict[str, Any] | None]) -> Changes:
            closed.clear()
            ch = Changes.empty()
            for inc in current:
                if inc is not None and fire(inc, "resolve"):
                    closed.append(inc)
                    ch.incidents.append(inc)
                    ch.audit.append((inc["id"], {"what": f"closed here by {who}"}))
            return ch

        await self.store.update(ids, change)
        if not closed:
            return f"{code} is already resolved."
        what = title(closed[0]) if len(closed) == 1 else f"{len(closed)} alerts"
        return f"Closed {what} here. Alertmanager will fire again if it is still true."

    async def history(self, sender: str, code: int | None) -> str:
        ref = await self._refer(sender, code)
        if isinstance(ref, str):
            return ref
        code, ids, _ = ref
        incs = [i for i in await self.store.load_many(ids) if i]
        if not incs:
            return f"No history for {code}."
        parts = []
        for inc in incs[:3]:
            entries = await self.store.audit(inc["id"])
            lines = [f"{hhmm(e['t'])} {e['what']}" for e in entries[-8:]]
            parts.append(f"{title(inc)} ({inc['state']}):\n" + "\n".join(lines))
        return "\n".join(parts)

    # -- who is on call -----------------------------------------------------------------

    async def oncall(self, sender: str, *, take: bool = False) -> str:
        if take:
            if (no := self._forbidden(sender, "take the pager")) is not None:
                return no
            ends = await self.store.set_override(sender, self.policy.override_ttl_s)
            self.pager.forget_caches()
            return f"You are on call until {hhmm(ends)} UTC. Pages for new alerts come to you first."
        order = await self.pager.order(fresh=True)
        if not order:
            return "Nobody is on call (ONCALL_NUMBERS is empty)."
        over = await self.store.override()
        first = self.policy.who(order[0])
        until = f" until {hhmm(over['until'])} UTC (oncall me)" if over else ""
        then = ", ".join(self.policy.who(n) for n in order[1:])
        return f"On call: {first}{until}." + (f" Then: {then}." if then else "")

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _names(incs: Sequence[dict[str, Any]]) -> str:
        names = ", ".join(title(i) for i in incs[:3])
        return names + (f" +{len(incs) - 3}" if len(incs) > 3 else "")

    @staticmethod
    def _note(incident_id: str, what: str) -> Changes:
        ch = Changes.empty()
        ch.audit.append((incident_id, {"what": what}))
        return ch


__all__ = ["OncallDesk", "mask"]
