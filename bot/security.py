"""Who may talk to Operator: Twilio's signature, the allow-list, carrier opt-out words.

Signatures are checked with twilio's own `RequestValidator` over the public URL
Twilio called (PUBLIC_BASE_URL + the raw path and query), never the URL the app
sees behind a TLS-terminating proxy.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import phonenumbers
from twilio.request_validator import RequestValidator

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


def mask(number: str) -> str:
    """A number as logs show it: country code and last two digits only."""
    if len(number) <= 6:
        return "***"
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


class AllowList:
    def __init__(self, numbers: Iterable[str], region: str = "US", *, accept_all: bool = False) -> None:
        self.region = region
        self.accept_all = accept_all  # local mode with no list: the loopback user is the operator
        allowed: set[str] = set()
        for raw in numbers:
            e164 = normalize_number(raw, region)
            if e164 is None:
                raise ValueError(f"AUTHORIZED_NUMBERS: {mask(raw)} is not a valid phone number")
            allowed.add(e164)
        self.numbers = frozenset(allowed)
        self._seen: dict[str, str | None] = {}  # raw From -> E.164, so phonenumbers runs once per sender

    def check(self, raw: str) -> str | None:
        """The sender's E.164 number when allowed, else None."""
        if raw not in self._seen:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[raw] = normalize_number(raw, self.region)
        e164 = self._seen[raw]
        return e164 if e164 in self.numbers or (self.accept_all and e164) else None


class SignatureCheck:
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
            return bool(self._validator.validate(url, form, signature))
        except Exception:  # a malformed URL or form is a forgery, not a crash
            log.warning("signature check failed on malformed input")
            return False


def keyword(body: str) -> str:
    """The message as a carrier keyword: trimmed and upper-cased."""
    return body.strip().upper()
