"""A fake of Twilio's Messages endpoint, following its documented request and response shapes.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic auth with the
account SID and auth token. Answers as Twilio does:

- 401 ``{"code": 20003, "message": "Authenticate", ...}`` for missing or wrong credentials;
- 400 with Twilio's error JSON for a bad form: 21604 (no To), 21211 (To not E.164), 21603 (neither
  From nor MessagingServiceSid), 21602 (no Body), 21617 (Body over 1600 characters), and 21610 for
  a recipient in `opted_out` (Twilio's answer once a number has texted STOP);
- 201 with the Message resource: status ``queued`` from a number, ``accepted`` (``from`` null,
  ``num_segments`` "0") through a Messaging Service, as Twilio's docs describe.

`forced` is a queue of replies served before anything else (a 503 from Twilio's edge comes
before authentication); `fault = "hang"` (from FakeServer) records a request and never answers.

For the on-call loop's delivery it also serves:
- `GET .../Messages.json?To=...&PageSize=...`: the account's messages, newest first, in Twilio's
  list shape (``messages`` plus ``next_page_uri`` etc.), filtered by To (and From);
- `down = True`: every create answers 503 (20503), as during a Twilio incident, until set back;
- `lose_next(n)`: the next n creates make the message and then reset the connection, so the
  caller cannot know it was sent (the case a blind retry turns into a duplicate SMS);
- `hang_next(n)`: the next n creates make the message and answer only after a minute (the
  caller is killed meanwhile: a replica dying mid-send);
- `GET .../Messages/{sid}.json`: one message, whose status `set_status` changes.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import re
import time
from email.utils import formatdate
from typing import Any

from tests.fakes.server import DROP, FakeServer, Reply, Request

ACCOUNT_SID = "AC" + "1f" * 16
AUTH_TOKEN = "fake-twilio-auth-token-42"
MESSAGING_SERVICE_SID = "MG" + "2e" * 16
FROM_NUMBER = "+15005550006"
_E164 = re.compile(r"\+[1-9]\d{6,14}\Z")


def error(status: int, code: int, message: str) -> Reply:
    """A Twilio error body, as the REST API returns it."""
    return Reply(
        status,
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
    )


def messages_path(account_sid: str = ACCOUNT_SID) -> str:
    return f"/2010-04-01/Accounts/{account_sid}/Messages.json"


class TwilioFake(FakeServer):
    """Tests append to `forced` / `opted_out` and read `sent` (the form of every POST to Messages)."""

    def __init__(self, account_sid: str = ACCOUNT_SID, auth_token: str = AUTH_TOKEN) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.opted_out: set[str] = set()
        self.forced: list[Reply] = []
        self.created: list[dict[str, Any]] = []  # message resources returned with 201
        self.down = False
        self.lose = 0
        self.hang = 0
        self._sids = itertools.count(1)
        self.routes[("POST", messages_path(account_sid))] = self._create
        self.routes[("GET", messages_path(account_sid))] = self._list

    def lose_next(self, times: int = 1) -> None:
        self.lose += times

    def hang_next(self, times: int = 1) -> None:
        self.hang += times

    def bodies_to(self, number: str) -> list[str]:
        """Bodies of the messages created for `number`, oldest first."""
        return [m["body"] for m in self.created if m["to"] == number]

    def _list(self, req: Request) -> Reply:
        if not self._authorized(req):
            return error(401, 20003, "Authenticate")
        to, sender = (req.query.get(k, [""])[0] for k in ("To", "From"))
        size = int(req.query.get("PageSize", ["50"])[0])
        found = [m for m in reversed(self.created) if (not to or m["to"] == to) and (not sender or m["from"] == sender)]
        uri = messages_path(self.account_sid)
        return Reply(
            200,
            {
                "messages": found[:size],
                "end": min(size, len(found)) - 1,
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            },
        )

    @property
    def sent(self) -> list[Request]:
        """Every request that reached the Messages endpoint, in order (whatever the answer)."""
        return [r for r in self.requests if r.path.endswith("/Messages.json")]

    def fail_next(self, status: int, times: int = 1) -> None:
        """Queue `times` error answers with `status`: 429 (20429), 500 (20500) or 503 (20503), as Twilio words them."""
        message = {429: "Too Many Requests", 500: "An internal server error has occurred", 503: "Service Unavailable"}[
            status
        ]
        self.forced.extend([error(status, 20000 + status, message)] * times)

    async def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Request]:
        """Poll until `count` requests reached Messages (the app's late send runs on this loop)."""
        deadline = time.monotonic() + timeout_s
        while len(self.sent) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.sent)} request(s) reached the fake Twilio, expected {count}")
            await asyncio.sleep(0.02)
        return self.sent

    def _authorized(self, req: Request) -> bool:
        scheme, _, encoded = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == (self.account_sid, self.auth_token)

    def _create(self, req: Request) -> Reply:  # noqa: PLR0911 - the fake answers each documented error case of Messages.create
        if self.forced:
            return self.forced.pop(0)
        if self.down:
            return error(503, 20503, "Service Unavailable")
        if not self._authorized(req):
            reply = error(401, 20003, "Authenticate")
            reply.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return reply
        form = {name: values[0] for name, values in req.form().items()}
        to, sender, service, body = (form.get(k, "") for k in ("To", "From", "MessagingServiceSid", "Body"))
        if not to:
            return error(400, 21604, "A 'To' phone number is required.")
        if not _E164.match(to):
            return error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not sender and not service:
            return error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to in self.opted_out:
            return error(400, 21610, "Attempt to send to unsubscribed recipient")
        resource = self._resource(to, sender or None, service or None, body)
        if self.lose > 0:
            self.lose -= 1
            return Reply(DROP)
        if self.hang > 0:
            self.hang -= 1
            return Reply(201, resource, delay_s=60)
        return Reply(201, resource)

    def _resource(self, to: str, sender: str | None, service: str | None, body: str) -> dict[str, Any]:
        sid = f"SM{next(self._sids):032x}"
        now = formatdate(usegmt=True)  # RFC 2822, as Twilio formats dates
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        # Through a Messaging Service no sender is picked yet: Twilio answers "accepted", no from, 0 segments.
        segments = "0" if sender is None else str(_segments(body))
        resource = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": "0",
            "num_segments": segments,
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if sender else "accepted",
            "to": to,
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "uri": f"{uri}.json",
        }
        self.created.append(resource)
        self.routes[("GET", f"{uri}.json")] = lambda req: (
            Reply(200, resource) if self._authorized(req) else error(401, 20003, "Authenticate")
        )
        return resource

    def set_status(self, sid: str, status: str, error_code: int | None = None) -> None:
        """What the carrier made of a message, as `GET .../Messages/{sid}.json` will show it."""
        for message in self.created:
            if message["sid"] == sid:
                message.update(status=status, error_code=error_code)


def _segments(body: str) -> int:
    """A rough count (GSM-7 if ASCII, else UCS-2); the fake's figure is informative only."""
    single, part = (160, 153) if body.isascii() else (70, 67)
    return 1 if len(body) <= single else -(-len(body) // part)
