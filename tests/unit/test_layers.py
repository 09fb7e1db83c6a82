"""The layers of CONVENTIONS.md: commands (cli/) reach the store only through services, and
the domain is pure (no store, no services, no CLI). A new import across a layer fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "collect_cli"


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("cli", ("collect_cli.store",)),
    ("domain", ("collect_cli.store", "collect_cli.services", "collect_cli.cli", "sqlalchemy")),
])
def test_no_import_across_a_layer(layer, forbidden):
    crossing = sorted(f"{path.relative_to(PACKAGE)}: {name}"
                      for path in (PACKAGE / layer).rglob("*.py") for name in imported(path)
                      if name.startswith(forbidden))
    assert crossing == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from collect_cli.store import queries as q\n")
    assert "collect_cli.store" in imported(module)
