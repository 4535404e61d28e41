"""`SignatureCheck` against twilio's own `RequestValidator.validate`: the same verdict on every case."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from twilio.request_validator import RequestValidator, add_port, remove_port
from werkzeug.datastructures import MultiDict

from bot.security import SignatureCheck
from bot.webhook import Form
from tests.phone import BASE_URL, NUMBERS, TOKEN, sign

URLS = [
    BASE_URL + "/sms",
    "https://ops.example.com:443/sms",
    "http://ops.example.com:8080/sms?tenant=a%20b",
    BASE_URL + "/sms?x=1&x=2",
]
PAIRS = [("From", NUMBERS[0]), ("Body", "héllo ✓"), ("MediaUrl0", "a"), ("MediaUrl0", "b"), ("MessageSid", "SM1")]


def forms() -> list[Any]:
    return [Form(PAIRS), MultiDict(PAIRS), dict(PAIRS)]


def signatures(url: str, form: Any) -> dict[str, str]:
    parsed = urlparse(url)
    return {
        "as called": sign(url, form),
        "without port": sign(remove_port(parsed), form),
        "with port": sign(add_port(parsed), form),
        "other token": sign(url, form, "another-token"),
        "other url": sign("https://evil.example.com/sms", form),
        "other form": sign(url, {**dict(PAIRS), "Body": "help"}),
        "garbage": "bm90IGEgc2lnbmF0dXJl",
        "not ascii": "é" * 28,
        "empty": "",
    }


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("form", forms(), ids=["Form", "MultiDict", "dict"])
def test_same_verdict_as_request_validator(url: str, form: Any) -> None:
    """Whatever the URL, form type and signature, `valid` agrees with `RequestValidator.validate`."""
    check = SignatureCheck(TOKEN, None)
    validator = RequestValidator(TOKEN)
    for case, signature in signatures(url, form).items():
        expected = bool(signature) and validator.validate(url, form, signature)
        assert check.valid(url, form, signature) is expected, case
    assert check.valid(url, form, sign(url, form))  # the table is not all refusals


def test_the_form_hands_the_validator_every_value_of_a_key() -> None:
    """`Form.getall`, the validator's first choice, is `getlist`: repeated keys are all signed."""
    assert Form(PAIRS).getall("MediaUrl0") == ["a", "b"]
    url = BASE_URL + "/sms"
    assert RequestValidator(TOKEN).compute_signature(url, Form(PAIRS)) == sign(url, MultiDict(PAIRS))


def test_a_malformed_url_is_refused_not_raised() -> None:
    """A URL urllib cannot parse (a bad port) is a forgery, not a crash."""
    assert not SignatureCheck(TOKEN, None).valid("https://ops.example.com:99999999/sms", Form(PAIRS), "x")
