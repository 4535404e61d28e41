"""The reference apps of the overhead benchmark, served by hypercorn exactly as `operator serve` is.

    (a) `bare`:    POST /sms returns the `help` TwiML, nothing else.
    (b) `checked`: form parse + twilio's RequestValidator over the public URL + one Redis GET
                   and one SET (redis.asyncio, pooled, opened in before_serving) per request.

Run: python bench/refservers.py {bare,checked} PORT  (REDIS_URL, TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL
from the environment).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis.asyncio as aioredis
from quart import Quart, Response, request
from twilio.request_validator import RequestValidator

from bot import twiml
from dialogs.catalog import REGISTRY

XML = "text/xml; charset=utf-8"
REPLY = twiml.message(REGISTRY.help_text())


def bare() -> Quart:
    app = Quart("bare")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/sms")
    async def sms() -> Response:
        return Response(REPLY, content_type=XML)

    return app


def checked() -> Quart:
    app = Quart("checked")
    validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
    url = os.environ["PUBLIC_BASE_URL"].rstrip("/") + "/sms"
    holder: dict[str, aioredis.Redis] = {}

    @app.before_serving
    async def connect() -> None:
        holder["r"] = aioredis.Redis.from_url(os.environ["REDIS_URL"], max_connections=200)

    @app.after_serving
    async def close() -> None:
        await holder.pop("r").aclose()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/sms")
    async def sms() -> Response:
        form = await request.form
        if not validator.validate(url, form, request.headers.get("X-Twilio-Signature", "")):
            return Response("forbidden", status=403)
        r = holder["r"]
        key = "ref:s:" + form.get("From", "")
        await r.get(key)
        await r.set(key, form.get("MessageSid", ""), ex=1800)
        return Response(REPLY, content_type=XML)

    return app


def main() -> int:
    from hypercorn.config import Config
    from hypercorn.run import run

    name, port = sys.argv[1], int(sys.argv[2])
    config = Config()  # the same settings `operator serve` uses (bot/cli.py)
    config.application_path = f"bench.refservers:{name}_app"
    config.bind = [f"127.0.0.1:{port}"]
    config.workers = 0
    config.accesslog = None
    config.graceful_timeout = 5
    return run(config)


bare_app = bare()
checked_app = checked() if "TWILIO_AUTH_TOKEN" in os.environ else None

if __name__ == "__main__":
    raise SystemExit(main())
