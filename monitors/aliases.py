"""Metric aliases: the only queries a user can run (`metrics cpu`).

Built-in defaults work on a stock node-exporter; operators add or override aliases
with METRIC_ALIASES (inline JSON) or METRIC_ALIASES_FILE (a JSON file), shaped as
``{"name": {"query": "...", "unit": "%", "label": "instance", "source": "prometheus",
"description": "..."}}``.
"""

from __future__ import annotations

import json
from pathlib import Path

from monitors.base import MetricAlias
from monitors.config import MonitorSettings

DEFAULT_ALIASES: dict[str, MetricAlias] = {
    a.name: a
    for a in (
        MetricAlias(
            "cpu",
            '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[1m])))',
            "%",
            description="CPU busy % per instance",
        ),
        MetricAlias(
            "memory",
            "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)",
            "%",
            description="memory used % per instance",
        ),
        MetricAlias(
            "disk",
            'max by (instance) (100 * (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"}'
            ' / node_filesystem_size_bytes{fstype!~"tmpfs|overlay|squashfs"}))',
            "%",
            description="fullest filesystem % per instance",
        ),
        MetricAlias(
            "load",
            'node_load1 / on (instance) count by (instance) (node_cpu_seconds_total{mode="idle"})',
            "/core",
            description="load1 per core",
        ),
        # Not `up == 0`: that is empty when all is well, which would read as "no data".
        # One row per job, 0 when healthy, the jobs with targets down sorted to the top.
        MetricAlias("up", "sum by (job) (1 - up)", "down", label="job", description="scrape targets down"),
    )
}


def load_aliases(settings: MonitorSettings) -> dict[str, MetricAlias]:
    """Defaults, then the file, then inline JSON; a malformed entry raises ValueError naming it."""
    aliases = dict(DEFAULT_ALIASES)
    sources: list[tuple[str, str]] = []
    if settings.metric_aliases_file:
        sources.append(("METRIC_ALIASES_FILE", Path(settings.metric_aliases_file).read_text("utf-8")))
    if settings.metric_aliases:
        sources.append(("METRIC_ALIASES", settings.metric_aliases))
    for setting, text in sources:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{setting}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{setting}: expected a JSON object of aliases")
        for name, spec in data.items():
            if not isinstance(spec, dict) or not isinstance(spec.get("query"), str):
                raise ValueError(f'{setting}: alias {name!r} needs a "query" string')
            if not str(name).replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"{setting}: alias name {name!r} must be a plain word")
            aliases[str(name).lower()] = MetricAlias(
                name=str(name).lower(),
                query=spec["query"],
                unit=str(spec.get("unit", "")),
                label=str(spec.get("label", "instance")),
                source=str(spec.get("source", "prometheus")),
                description=str(spec.get("description", "")),
            )
    return aliases
