"""The `operator` command: serve the webhook, chat at a console, check the configuration,
ping a deployed webhook."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import socket
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.config import Settings, describe_validation_error, start_refusal
from bot.logconfig import configure_logging
from bot.security import AllowList, normalize_number
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
    refusal = start_refusal(settings, local=args.local)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    if args.local:
        host = LOOPBACK
        unchecked = "; Twilio signatures are NOT checked" if settings.twilio_auth_token is None else ""
        print(f"*** LOCAL MODE: listening on 127.0.0.1 only{unchecked} ***", file=sys.stderr)
    listener = listen(host, args.port)
    if listener is None:
        return 2
    config = Config()
    # Evaluated by hypercorn in each worker: local mode travels as an argument, not through the environment.
    config.application_path = f"bot.asgi:create_app(local={bool(args.local)})"
    config.bind = [f"fd://{listener.detach()}"]  # bound here, so "serving" below is true; hypercorn owns it now
    config.workers = 0 if args.workers <= 1 else args.workers
    config.accesslog = None
    config.errorlog = None  # hypercorn's messages reach the root handler once, not twice
    config.graceful_timeout = 5
    print(f"operator serving on http://{host}:{args.port} (POST /sms)", file=sys.stderr, flush=True)
    return run(config)


def listen(host: str, port: int) -> socket.socket | None:
    """The server's listening socket, bound now; None (after one line on stderr) when it cannot be."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        why = {
            errno.EADDRINUSE: "the port is in use (another operator serve? pick one with --port)",
            errno.EACCES: "permission denied (ports below 1024 need root)",
            errno.EADDRNOTAVAIL: "no such address on this machine",
        }.get(exc.errno or 0, exc.strerror)
        print(f"cannot listen on {host}:{port}: {why}", file=sys.stderr)
        return None
    sock.set_inheritable(True)  # hypercorn's worker processes share it
    return sock


def chat(args: argparse.Namespace) -> int:
    from bot import console

    settings = load_settings()
    raw = args.as_number or (settings.authorized_numbers[0] if settings.authorized_numbers else "+14155550100")
    number = normalize_number(raw, settings.default_region)
    if number is None:
        print(f"--as {raw!r} is not a valid phone number", file=sys.stderr)
        return 2
    return console.run(settings, number)


def ping(args: argparse.Namespace) -> int:
    from bot.ping import ping as send_ping
    from bot.ping import webhook_url

    settings = load_settings()
    if settings.twilio_auth_token is None:
        print("TWILIO_AUTH_TOKEN is not set: ping signs with the token the service uses.", file=sys.stderr)
        return 2
    base = args.url or (str(settings.public_base_url) if settings.public_base_url else None)
    if not base:
        print(
            "give the URL to ping (e.g. operator ping https://ops.example.com) or set PUBLIC_BASE_URL", file=sys.stderr
        )
        return 2
    raw = args.from_number or (settings.authorized_numbers[0] if settings.authorized_numbers else None)
    sender = normalize_number(raw, settings.default_region) if raw else None
    if sender is None:
        print("give --from (a number in the server's AUTHORIZED_NUMBERS) or set AUTHORIZED_NUMBERS", file=sys.stderr)
        return 2
    url = webhook_url(base)
    print(f"POST {url} (signed, From {sender[:3]}...{sender[-2:]}, Body {args.body!r})", flush=True)
    outcome = asyncio.run(
        send_ping(
            url,
            settings.twilio_auth_token.get_secret_value(),
            sender,
            to=settings.twilio_from_number or "+15005550006",
            account_sid=settings.twilio_account_sid or "AC" + "0" * 32,
            body=args.body,
            timeout_s=args.timeout,
            public_base_url=str(settings.public_base_url) if settings.public_base_url else None,
        )
    )
    print(outcome.text)
    return 0 if outcome.ok else 1


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
    p.add_argument(
        "--as",
        dest="as_number",
        default=None,
        help="sender number to chat as (default: the first of AUTHORIZED_NUMBERS)",
    )
    p.set_defaults(func=chat)
    p = sub.add_parser("ping", help="text help to a deployed webhook as Twilio would; say what happened")
    p.add_argument("url", nargs="?", help="the service's public URL (default: PUBLIC_BASE_URL)")
    p.add_argument(
        "--from", dest="from_number", default=None, help="sender number (default: the first of AUTHORIZED_NUMBERS)"
    )
    p.add_argument("--body", default="help", help="the message text (default: help)")
    p.add_argument("--timeout", type=float, default=15.0, help="seconds to wait (Twilio waits 15)")
    p.set_defaults(func=ping)
    p = sub.add_parser("check", help="validate settings and health-check every monitor")
    p.set_defaults(func=check)
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))  # escaped, no credentials, no URL per request
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
