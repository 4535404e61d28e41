"""Commands about the machine Operator runs on (the host monitor): `top`."""

from __future__ import annotations

from dialogs.answer import Answer
from dialogs.context import CommandContext
from dialogs.query import Query
from dialogs.registry import command
from monitors.base import HOST, MonitorError
from monitors.host import HostMonitor


@command(
    "top",
    usage="top",
    help="top: the busiest processes on this host, by CPU and by memory.",
    words=("procs", "processes", "process", "hogging", "hogs", "pids"),
    # Matched after leading filler ("what's", "what is") is dropped by the parser.
    phrases=(
        "eating cpu",
        "eating the cpu",
        "using cpu",
        "using the cpu",
        "eating memory",
        "using memory",
        "hogging cpu",
        "hogging the cpu",
        "who is hogging the cpu",
        "busiest processes",
        "top processes",
        "processes by memory",
        "processes by cpu",
        "procs by memory",
        "procs by cpu",
    ),
    needs=frozenset({HOST}),
    configure="No host monitor (set HOST_MONITOR=on).",
    stateless=True,
    doc="the busiest processes of the host Operator runs on, by CPU and by memory",
)
async def top(ctx: CommandContext, query: Query) -> Answer:
    host = next(m for m in ctx.monitors.with_capability(HOST) if isinstance(m, HostMonitor))
    try:
        text = await host.top()
    except MonitorError as exc:
        text = f"top: host DOWN: {exc.reason}"
    return Answer(text, query=Query("top"))
