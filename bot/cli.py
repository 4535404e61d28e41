"""The `operator` command: serve the webhook, chat at a console, check the configuration."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import uuid
from collections.abc import Sequence

from pydantic import ValidationError

from bot.config import Settings, describe_validation_error
from bot.pipeline import Inbound
from bot.security import AllowList, normalize_number
from bot.services import Services
from monitors.aliases import load_aliases
from monitors.registry import build_monitors

LOOPBACK = "127.0.0.1"


def load_settings() -> Settings:
    """Settings, or exit 2 with one line naming what is malformed (values never echoed)."""
    try:
        settings = Settings()
        AllowList(settings.authorized_numbers, settings.default_region)
        load_aliases(settings)
    except ValidationError as exc:
        print(describe_validation_error(exc), file=sys.stderr)
        raise SystemExit(2) from None
    except (ValueError, OSError) as exc:
        print(f"invalid setting {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return settings


def serve(args: argparse.Namespace) -> int:
    from hypercorn.config import Config
    from hypercorn.run import run

    settings = load_settings()
    host = args.host
    if settings.twilio_auth_token is None and not args.local:
        print("TWILIO_AUTH_TOKEN is not set: refusing to start. Set it, or run with --local "
              "to try Operator on this machine (loopback only, signatures NOT checked).", file=sys.stderr)
        return 2
    if args.local:
        host = LOOPBACK
        unchecked = "; Twilio signatures are NOT checked" if settings.twilio_auth_token is None else ""
        print(f"*** LOCAL MODE: listening on 127.0.0.1 only{unchecked} ***", file=sys.stderr)
        os.environ["OPERATOR_LOCAL"] = "1"
    config = Config()
    config.application_path = "bot.asgi:app"
    config.bind = [f"{host}:{args.port}"]
    config.workers = 0 if args.workers <= 1 else args.workers
    config.accesslog = None
    config.errorlog = None  # hypercorn's messages reach the root handler once, not twice
    config.graceful_timeout = 5
    print(f"operator serving on http://{host}:{args.port} (POST /sms)", file=sys.stderr, flush=True)
    return run(config)


async def _chat(number: str) -> int:
    settings = load_settings()
    services = Services.open(settings, sms_out=False)  # the console waits for slow answers
    interactive = sys.stdin.isatty()
    try:
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
            line = line.rstrip("\n")
            reply = await services.pipeline.handle(Inbound(number, line, "CH" + uuid.uuid4().hex))
            print(reply if reply else "(no reply)", flush=True)
    finally:
        await services.aclose()
    return 0


def chat(args: argparse.Namespace) -> int:
    number = normalize_number(args.as_number)
    if number is None:
        print(f"--as {args.as_number!r} is not a valid phone number", file=sys.stderr)
        return 2
    return asyncio.run(_chat(number))


async def _check() -> int:
    settings = load_settings()
    monitors = build_monitors(settings)
    print(f"settings ok; sessions: {'redis' if settings.redis_url else 'in-memory'}")
    if not monitors.all:
        print("no monitors configured (see .env.example)")
        return 0
    try:
        results = await monitors.check_all()
        down = frozenset(h.monitor for h in results if not h.ok)
        broken = await monitors.check_aliases(skip=down)  # every alias once: bad PromQL fails now, not at 3 a.m.
    finally:
        await monitors.aclose()
    for h in results:
        state = "ok  " if h.ok else "DOWN"
        note = f" ({h.reason})" if h.reason else ""
        print(f"{state} {h.monitor:<14} {h.latency_s * 1000:6.0f} ms{note}")
    checked = monitors.checkable_aliases(down)
    for name, reason in broken:
        print(f"FAIL metric alias {name}: {reason}")
    if checked:
        print(f"{len(checked) - len(broken)}/{len(checked)} metric aliases answer")
    return 0 if not down and not broken else 1


def check(args: argparse.Namespace) -> int:
    return asyncio.run(_check())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="operator", description="An on-call ops desk over SMS.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the Twilio webhook")
    p.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a webhook must be reachable; --local binds loopback
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--local", action="store_true", help="loopback only, signatures not checked")
    p.set_defaults(func=serve)
    p = sub.add_parser("chat", help="talk to Operator at this console")
    p.add_argument("--as", dest="as_number", default="+14155550100", help="sender number to act as")
    p.set_defaults(func=chat)
    p = sub.add_parser("check", help="validate settings and health-check every monitor")
    p.set_defaults(func=check)
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
