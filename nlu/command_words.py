"""TEMPORARY: each command's words and phrases until they move into the registry records."""

from __future__ import annotations

WORDS: dict[str, tuple[str, ...]] = {
    "help": ("help", "?", "info", "commands", "usage", "menu", "options", "halp", "manual"),
    "status": ("status", "stat", "health", "sitrep", "healthy", "outage", "outages", "overview", "summary"),
    "alerts": ("alerts", "alert", "alarms", "alarm", "firing", "fired", "fires", "paging", "paged", "pages",
               "pager", "alerting", "triggered", "incidents", "incident", "screaming", "pagerduty", "alertmanager",
               "notifications", "critical", "ringing", "sev1", "sev2", "p1", "p2", "beeping"),
    "metrics": ("metrics", "metric", "graph", "graphs", "utilization", "utilisation", "prometheus",
                "prom"),
    "logs": ("logs", "log", "errors", "error", "erroring", "exceptions", "exception", "traces", "stacktrace",
             "stacktraces", "tail", "grep", "failures", "failing", "failed", "crashing", "crash", "crashed",
             "crashes", "throw", "threw", "throwing", "timeouts", "timeout", "broke", "panics", "panic", "loki",
             "fatal", "warnings", "logging", "traceback", "tracebacks", "stack", "trace", "500s"),
    "db": ("db", "database", "databases", "postgres", "postgresql", "pg", "psql", "pgbouncer", "bouncer", "locks",
           "lock", "deadlocks", "deadlock", "queries", "query", "replication", "replica", "replicas", "lag",
           "connections", "conns", "pool", "pools", "sql", "vacuum", "primary", "dbs"),
    "gateway": ("gateway", "gw", "api", "haproxy", "kong", "backends", "backend", "upstreams", "upstream", "lb",
                "proxy", "ingress", "edge", "rps", "traffic", "balancer", "nginx", "envoy", "routes"),
    "more": ("more", "next", "m"),
    "reset": ("reset", "cancel", "start over", "clear", "nvm", "nevermind", "never mind", "forget it",
              "skip it", "stop it", "scratch that", "abort", "start again", "forget that"),
    "again": ("again", "repeat", "refresh", "rerun", "redo", "reload"),
}

PHRASES: dict[str, tuple[str, ...]] = {
    "help": ("what can you do", "how does this work", "what do i text", "help me", "what commands",
             "how do i", "what can i ask", "what can i say", "how to use", "explain"),
    "status": ("we good", "all good", "health check", "is everything ok", "anything down", "whats broken",
               "are we up", "is prod up", "all systems go", "how are we doing", "state of things"),
    "alerts": ("what woke me up", "going off", "what fired", "why did i get paged", "whats firing",
               "anything paging"),
    "metrics": ("what metrics", "load average", "load avg", "disk left", "free space", "disk space",
                "out of memory", "how loaded"),
    "logs": ("stack traces", "error log", "error logs", "what broke", "went wrong"),
    "db": ("slow queries", "long running queries", "connection pool", "waiting clients", "pool exhausted",
           "too many connections", "blocked queries", "replication lag", "replica lag"),
    "gateway": ("load balancer", "request rate", "error rate", "bad gateway", "5xx rate", "error rates"),
    "more": ("keep going", "go on", "rest of it", "the rest"),
    "again": ("one more time", "same again", "ask again", "run it again"),
}
