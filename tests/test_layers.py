"""DESIGN.md's arrows: bot hands text to dialogs and never parses; nlu and monitors import none of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "bot": {"nlu"},
    "dialogs": {"bot"},
    "nlu": {"bot", "dialogs", "monitors"},
    "monitors": {"bot", "dialogs", "nlu"},
}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_down_the_table(package: str) -> None:
    """No module of ``package`` imports a package above it (or, for bot, the parser)."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & FORBIDDEN[package])
        for path in sorted((ROOT / package).glob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}
