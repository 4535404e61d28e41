"""The corpus through the real ``/sms`` route: every text a signed Twilio request, judged as the driver's.

Each case is played by one sender (tests/phone.py signs every request with twilio's
RequestValidator) against ``create_app(...)`` served by ``app.test_app()``, so the start-up hook
opens the real store, monitors and pipeline. Between cases the sender's session is deleted
through the app's own store (``begin`` + ``finish`` with no session): the next case starts as a
new conversation, as the driver's fresh ``Session`` does.

What ran is read exactly as tests/nlu/conversation_run.py reads it (``outcome``): its recorder
wraps the dispatcher of the app's own ``Conversation`` (reached through the app's services
after start-up) and calls straight through; the session the rules look at is the one the
pipeline saved to the store after the reply. Cost: one request per turn plus two store calls
per case (~830 cases: tens of seconds against a loopback Redis).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from quart import Quart

from bot.app_state import SERVICES
from bot.services import Services
from dialogs.session import Session
from tests.nlu.conversation_run import Recorder, outcome
from tests.nlu.corpus import Case, Tally, Verdict, judge
from tests.phone import Phone

_resets = itertools.count(1)


class SmsSender:
    """One phone texting ``/sms``; ``session`` is what the store holds after the last reply."""

    def __init__(self, app: Quart, number: str) -> None:
        self.services: Services = app.extensions[SERVICES]
        self.phone = Phone(app.test_client(), number)
        self.session = Session()

    async def push(self, text: str) -> str:
        reply = await self.phone.text(text)
        self.session = await self.services.store.load(self.phone.number) or Session()
        return reply

    async def reset(self) -> None:
        """Delete this sender's session through the store's own calls (None deletes it)."""
        store, number, sid = self.services.store, self.phone.number, f"reset-{next(_resets)}"
        policy = self.services.pipeline.policy
        begin = await store.begin(number, sid, rate_limit=policy.rate_limit_per_min, lock_wait_s=policy.lock_wait_s)
        assert begin.lock is not None, "the corpus sender's lock is held by another message"
        await store.finish(number, sid, begin.lock, None, "")
        self.session = Session()


async def sms_tally(app: Quart, number: str, cases: list[Case], commands: tuple[str, ...]) -> Tally:
    """Play every case through ``/sms`` of a started ``app`` and judge it; the app's conversation records."""
    sender = SmsSender(app, number)
    recorder = Recorder(sender.services.pipeline.conversation)
    result = Tally()
    for case in cases:
        await sender.reset()
        now = datetime.now(UTC)  # the pipeline's clock: what "since 2am" is measured from
        got = await outcome(sender, recorder, case)
        result.add(case, judge(case.want, got, now, commands), got)
    return result


def verdicts(tally: Tally, cases: list[Case]) -> dict[str, Verdict]:
    """Each case's verdict by label (a case neither wrong nor asked was understood)."""
    wrong = {c.label for c, _ in tally.wrong}
    asked = {c.label for c, _ in tally.missed}
    return {c.label: "wrong" if c.label in wrong else "asked" if c.label in asked else "understood" for c in cases}
