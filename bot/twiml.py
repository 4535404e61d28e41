"""TwiML replies. Escaped by hand: same output as twilio's MessagingResponse, without
building an element tree per message on the hot path (tests compare the two)."""

from __future__ import annotations

from xml.sax.saxutils import escape

_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY = _HEAD + "<Response />"


def message(text: str) -> str:
    if not text:
        return EMPTY
    return f"{_HEAD}<Response><Message>{escape(text)}</Message></Response>"
