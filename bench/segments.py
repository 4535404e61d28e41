"""Segments per answer: Operator's reply style against the seed design's emoji style.

The same facts rendered twice: Operator's way (plain words, ``ok``/``DOWN``, compact lines, sent
through ``bot.sms.paginate`` like every reply, so backend text such as smart quotes is sanitised and
long answers are paged at 2 segments) and the seed design's way (emoji headings and ticks, ``•``
bullets, backend text passed through raw, one message). One character outside GSM-7 makes the whole
seed message UCS-2: 70/67 units a segment instead of 160/153.

Run ``python -m bench.segments`` from the repository root; ``segment_table()`` returns the Markdown.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.sms import paginate, segment_info
from monitors.alerting import format_alert_list
from monitors.base import Alert, Health, LogLine, LogResult
from monitors.log_format import format_logs
from monitors.rollup import format_status

NOW = datetime(2026, 11, 26, 14, 2, tzinfo=UTC)


def _ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def _alert(name: str, severity: str, subject: str, minutes: float, summary: str) -> Alert:
    return Alert(name, severity, subject, "alertmanager", _ago(minutes=minutes), summary)


def _logs() -> LogResult:
    """web over 1h: repeated messages, with the curly apostrophes and ellipses backends emit."""
    lines: list[LogLine] = []
    for minutes, message, count in [(0, "payment timeout after 30s order=88412", 12),
                                    (4, "upstream checkout-2 returned 503", 9),
                                    (21, "db pool exhausted: 20/20 in use", 7),
                                    (22, "redis READONLY: can’t write to a replica", 5),
                                    (50, "TLS handshake to api.stripe.com timed out… retrying", 4)]:
        lines += [LogLine(_ago(minutes=minutes, seconds=i), message) for i in range(count)]
    return LogResult("web", timedelta(hours=1), 37, lines)


def operator_replies() -> dict[str, str]:
    """Operator's own formatters on the facts below: what `status`, `alerts` and `logs` send."""
    health = [Health("prometheus", True, "", 0.038), Health("alertmanager", True, "", 0.021),
              Health("loki", False, "timeout after 5s", 5.0), Health("postgres", True, "", 0.004),
              Health("pgbouncer", True, "", 0.003), Health("haproxy", True, "", 0.012)]
    alerts = [_alert("HighErrorRate", "critical", "api-gateway", 12, "5xx 7.2%"),
              _alert("PostgresReplicationLag", "critical", "db-replica-2", 6, "lag 48s"),
              _alert("DiskSpaceLow", "warning", "ip-10-0-3-17", 120, "/var 91%"),
              _alert("HighLatencyP99", "warning", "checkout", 9, "p99 1.8s"),
              _alert("CertExpiringSoon", "info", "api.example.com", 600, "13d left")]
    status = format_status([], health)  # the seed's facts: monitors up/down, no problems rolled up
    return {"status": status, "alerts": format_alert_list(alerts, [], NOW),
            "logs": format_logs(_logs(), NOW)}


# (answer, Operator's reply lines or the key of a formatted reply, seed design's reply). db and
# gateway replies depend on live server rows, so they are written out in the adapters' wording.
ANSWERS: list[tuple[str, list[str] | str, list[str]]] = [
    (
        "status (6 monitors, 1 down)",
        "status",
        [
            "📊 System Status",
            "✅ prometheus: 38ms",
            "✅ alertmanager: 21ms",
            "❌ loki: timeout after 5s",
            "✅ postgres: 4ms",
            "✅ pgbouncer: 3ms",
            "✅ haproxy: 12ms",
            "🕐 14:02 UTC",
        ],
    ),
    (
        "alerts (5 firing)",
        "alerts",
        [
            "🚨 Alerts (5 firing)",
            "🔴 HighErrorRate",
            "• api-gateway: 5xx 7.2% for 12m",
            "🔴 PostgresReplicationLag",
            "• db-replica-2: lag 48s for 6m",
            "🟠 DiskSpaceLow",
            "• ip-10-0-3-17 /var: 91% for 2h",
            "🟠 HighLatencyP99",
            "• checkout: p99 1.8s for 9m",
            "🔵 CertExpiringSoon",
            "• api.example.com: 13d left",
        ],
    ),
    (
        "logs web 1h",
        "logs",
        [
            "📜 Logs: web (last 1h)",
            "❗ 37 errors",
            "• 14:02 payment timeout after 30s order=88412 (x12)",
            "• 13:58 upstream checkout-2 returned 503 (x9)",
            "• 13:41 db pool exhausted: 20/20 in use (x7)",
            "• 13:40 redis READONLY: can’t write to a replica (x5)",
            "• 13:12 TLS handshake to api.stripe.com timed out… retrying (x4)",
        ],
    ),
    (
        "db",
        [
            "db: 87/100 connections, 3 waiting",
            "longest 42s pid 31337: SELECT … FROM orders WHERE status = ‘pending’",
            "lag: replica-1 0.4s, replica-2 48s",
            "pgbouncer: 212 clients, 3 waiting, pool app 20/20",
        ],
        [
            "🐘 Database",
            "• Connections: 87/100 ⚠️",
            "• Waiting: 3",
            "• Longest: 42s pid 31337: SELECT … FROM orders WHERE status = ‘pending’",
            "• Lag: replica-1 0.4s ✅ replica-2 48s ❌",
            "• PgBouncer: 212 clients, 3 waiting, pool app 20/20",
        ],
    ),
    (
        "gateway",
        [
            "gateway (haproxy): 1.2k req/s, 5xx 0.8%",
            "ok api 4/4",
            "ok web 3/3",
            "DOWN checkout-3 (L4 timeout), checkout 2/3",
        ],
        [
            "🌐 API Gateway",
            "📈 1.2k req/s • 5xx 0.8%",
            "✅ api: 4/4",
            "✅ web: 3/3",
            "⚠️ checkout: 2/3 (❌ checkout-3: L4 timeout)",
        ],
    ),
]


def _ours(text: str) -> tuple[int, str, int, int]:
    """Chars, encoding, segments and pages of a reply as Operator sends it (paged at 2 segments)."""
    pages = paginate(text, 2)
    infos = [segment_info(page) for page in pages]
    encoding = "UCS-2" if any(i.encoding == "UCS-2" for i in infos) else "GSM-7"
    return sum(map(len, pages)), encoding, sum(i.segments for i in infos), len(pages)


def segment_table() -> str:
    """The comparison as a Markdown table, one row per answer and a total."""
    rows = [
        "| answer | ours chars | ours encoding | ours segments | seed chars | seed encoding | seed segments | saving |",
        "|---|---:|---|---:|---:|---|---:|---:|",
    ]
    total_ours = total_seed = 0
    formatted = operator_replies()
    for name, ours, seed_lines in ANSWERS:
        chars, encoding, segments, pages = _ours(formatted[ours] if isinstance(ours, str) else "\n".join(ours))
        seed = "\n".join(seed_lines)
        info = segment_info(seed)
        total_ours, total_seed = total_ours + segments, total_seed + info.segments
        paged = f" ({pages} pages)" if pages > 1 else ""
        rows.append(
            f"| {name} | {chars} | {encoding} | {segments}{paged} | {len(seed)} | {info.encoding} "
            f"| {info.segments} | {1 - segments / info.segments:.0%} |"
        )
    rows.append(f"| **total** | | | **{total_ours}** | | | **{total_seed}** | **{1 - total_ours / total_seed:.0%}** |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(segment_table(), end="")
