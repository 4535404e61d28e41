"""Claims README.md makes about the code, checked against the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def postgres_bullet() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"^- PostgreSQL \(`DATABASE_URL`\):.*?(?=^- )", readme, re.MULTILINE | re.DOTALL)
    assert match, "README lists the PostgreSQL backend"
    return match[0]


def monitor_sources() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "monitors").glob("*.py"))


def test_the_catalogs_readme_says_db_queries_are_the_ones_queried() -> None:
    """Every pg_* view the README says `db` reads is in a monitor's SQL; one it says is not read is in none."""
    bullet, code = postgres_bullet().split("A role with")[0], monitor_sources()  # the role is not a view
    not_read = set(re.findall(r"`(pg_\w+)` is not read", bullet))
    named = set(re.findall(r"`(pg_\w+)`", bullet)) - not_read
    assert named, bullet
    for view in named:
        assert re.search(rf"\bFROM\s+{view}\b", code, re.IGNORECASE), f"README names {view}; no query reads it"
    for view in not_read:
        assert not re.search(rf"\b{view}\b", code), f"README says {view} is not read, but the code reads it"
