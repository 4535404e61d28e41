"""Who may talk to Operator: Twilio's signature, the sender's identity, carrier opt-out words.

Signatures are checked with twilio's own `RequestValidator` over the public URL
Twilio called (PUBLIC_BASE_URL + the raw path and query), never the URL the app
sees behind a TLS-terminating proxy.

Identity is strict: `From` must be E.164 exactly as Twilio sends it for SMS (`+` and
8-15 ASCII digits), or `<channel>:<E.164>` for a channel enabled in ALLOWED_CHANNELS
(that sender is then its own identity: its own session, rate and opt-out). Names,
national numbers, other digits, invisible characters and unknown prefixes are refused.
AUTHORIZED_NUMBERS may be written in any format; it is normalised once, at start-up.
"""

from __future__ import annotations

import functools
import hmac
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

import phonenumbers
from twilio.request_validator import RequestValidator, add_port, remove_port

log = logging.getLogger(__name__)

# Twilio's default Advanced Opt-Out words (single-word messages only). CANCEL is one
# too, but it is also our reset word: the README tells operators to drop it there.
OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})


def normalize_number(raw: str, region: str = "US") -> str | None:
    """E.164 form of a phone number, or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):  # validity metadata ages; exact match is what counts
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


E164 = re.compile(r"\+[1-9][0-9]{7,14}", re.ASCII)  # as Twilio sends SMS senders; fullmatch only
MASK_MAX = 24  # a hostile From can be 64 KiB: logs show a bounded prefix


def escape_controls(text: str) -> str:
    """`text` with every non-printable character (CR, LF, ESC, NUL, bidi marks, ...) escaped,
    so nothing user-controlled can split a log line or drive a terminal."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def mask(number: str) -> str:
    """A number as logs show it: country code and last two digits only, control characters escaped."""
    safe = escape_controls(number[:MASK_MAX])
    if len(safe) <= 6:
        return "***"
    return safe[:3] + "*" * (len(safe) - 5) + safe[-2:] + ("..." if len(number) > MASK_MAX else "")


def bearer_ok(authorization: str | None, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class AllowList:
    def __init__(
        self, numbers: Iterable[str], region: str = "US", *, accept_all: bool = False, channels: Iterable[str] = ()
    ) -> None:
        self.accept_all = accept_all  # local mode with no list: the loopback user is the operator
        self.channels = frozenset(channels)
        allowed: set[str] = set()
        for raw in numbers:
            e164 = normalize_number(raw, region)
            if e164 is None:
                raise ValueError(f"AUTHORIZED_NUMBERS: {mask(raw)} is not a valid phone number")
            allowed.add(e164)
        self.numbers = frozenset(allowed)

    def check(self, raw: str) -> str | None:
        """The sender's identity (E.164, or `channel:E.164`) when well-formed and allowed, else None."""
        number = raw
        if not E164.fullmatch(raw):
            channel, _, number = raw.partition(":")
            if channel not in self.channels or not E164.fullmatch(number):
                return None
        return raw if self.accept_all or number in self.numbers else None


class RefusalLog:
    """Refused senders, logged as one line per interval with a count: a flood of strangers
    (80k messages) writes a line a minute, not a line a message. The first is logged at once."""

    def __init__(
        self, logger: logging.Logger, interval_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self.clock = clock
        self.count = 0
        self.latest = ""
        self._next_at = float("-inf")

    def refused(self, sender: str) -> None:
        self.count += 1
        self.latest = sender
        if self.clock() >= self._next_at:
            self.flush()

    def flush(self) -> None:
        if self.count:
            self.logger.info(
                "refused %d message(s) from unknown or malformed senders (latest %s); "
                "next report in %gs at the earliest",
                self.count,
                mask(self.latest),
                self.interval_s,
            )
        self.count = 0
        self._next_at = self.clock() + self.interval_s


@functools.lru_cache(maxsize=64)  # a few URLs in practice; the query is the caller's, so bounded
def signed_urls(url: str) -> tuple[str, str]:
    """The two forms of `url` Twilio may have signed, as `RequestValidator.validate` tries them:
    without the port, then with the scheme's default port."""
    parsed = urlparse(url)
    return remove_port(parsed), add_port(parsed)


class SignatureCheck:
    """Twilio's signature: HMAC-SHA1 over the URL and the sorted form, computed by twilio's
    `RequestValidator`. `valid` accepts exactly what `RequestValidator.validate` accepts for a form
    (the URL without or with its port), but stops at the first form that matches and compares in
    constant time with `hmac.compare_digest`: `validate` computes both every time, and re-parses
    the same URL on every request."""

    def __init__(self, auth_token: str, public_base_url: str | None) -> None:
        self._validator = RequestValidator(auth_token)
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None

    def url_for(self, seen_url_base: Callable[[], str], raw_path: str, query: str) -> str:
        """The URL Twilio signed; the URL the app saw only when no public one is configured."""
        base = self.public_base_url or seen_url_base().rstrip("/")
        return base + raw_path + (f"?{query}" if query else "")

    def valid(self, url: str, form: Mapping[str, Any], signature: str | None) -> bool:
        if not signature:
            return False
        try:
            given = signature.encode()
            return any(
                hmac.compare_digest(self._validator.compute_signature(signed, form).encode(), given)
                for signed in signed_urls(url)
            )
        except Exception:  # a malformed URL or form is a forgery, not a crash
            log.warning("signature check failed on malformed input")
            return False


def keyword(body: str) -> str:
    """The message as a carrier keyword: trimmed and upper-cased."""
    return body.strip().upper()
