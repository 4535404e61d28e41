"""Segments per answer: Operator's reply style against the seed design's emoji style.

The same facts rendered twice: Operator's way (plain words, ``ok``/``DOWN``, compact lines, sent
through ``bot.sms.paginate`` like every reply, so backend text such as smart quotes is sanitised and
long answers are paged at 2 segments) and the seed design's way (emoji headings and ticks, ``•``
bullets, backend text passed through raw, one message). One character outside GSM-7 makes the whole
seed message UCS-2: 70/67 units a segment instead of 160/153.

Run ``python -m bench.segments`` from the repository root; ``segment_table()`` returns the Markdown.
"""

from __future__ import annotations

from bot.sms import paginate, segment_info

# (answer, Operator's reply, seed design's reply). Log lines carry the curly apostrophes and
# ellipses backends really emit; Operator's sanitiser fixes them, the seed sent them as they came.
ANSWERS: list[tuple[str, list[str], list[str]]] = [
    (
        "status (6 monitors, 1 down)",
        [
            "5/6 ok, 1 DOWN (14:02 UTC)",
            "DOWN loki: timeout after 5.0s",
            "ok prometheus 38ms",
            "ok alertmanager 21ms",
            "ok postgres 4ms",
            "ok pgbouncer 3ms",
            "ok haproxy 12ms",
        ],
        [
            "📊 System Status",
            "✅ prometheus: 38ms",
            "✅ alertmanager: 21ms",
            "❌ loki: timeout after 5.0s",
            "✅ postgres: 4ms",
            "✅ pgbouncer: 3ms",
            "✅ haproxy: 12ms",
            "🕐 14:02 UTC",
        ],
    ),
    (
        "alerts (5 firing)",
        [
            "5 alerts firing:",
            "1 CRIT HighErrorRate api-gateway: 5xx 7.2% for 12m",
            "2 CRIT PostgresReplicationLag db-replica-2: lag 48s for 6m",
            "3 WARN DiskSpaceLow ip-10-0-3-17 /var: 91% for 2h",
            "4 WARN HighLatencyP99 checkout: p99 1.8s for 9m",
            "5 INFO CertExpiringSoon api.example.com: 13d left",
            "Reply 1-5 for details",
        ],
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
        [
            "web, last 1h: 37 errors",
            "14:02 payment timeout after 30s order=88412 (x12)",
            "13:58 upstream checkout-2 returned 503 (x9)",
            "13:41 db pool exhausted: 20/20 in use (x7)",
            "13:40 redis READONLY: can’t write to a replica (x5)",
            "13:12 TLS handshake to api.stripe.com timed out… retrying (x4)",
        ],
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
    for name, ours_lines, seed_lines in ANSWERS:
        chars, encoding, segments, pages = _ours("\n".join(ours_lines))
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
