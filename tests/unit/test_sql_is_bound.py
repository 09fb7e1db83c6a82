"""SQL is built with bound parameters: no statement text is made from values with f-strings,
`%` or `.format`, except the few reviewed places below, which splice only names of collect's
own tables and columns, an integer, or a validated snapshot id. A new place fails this test
until it is reviewed and listed."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "collect_cli"
SQL_CALLS = {"text", "execute", "exec_driver_sql", "executemany", "copy"}

REVIEWED = {
    ("store/queries/ledger_writes.py", "_insert_records"),  # table and column names from the models; batch_id an int
    ("store/queries/ledger_writes.py", "_analyze"),  # ANALYZE of table names from the models (KIND_TABLES)
    ("store/database.py", "_sqlite_pragmas"),  # a constant
    ("store/database.py", "share_snapshot"),  # the id is checked against [0-9A-F-] first
}


def built_sql() -> set[tuple[str, str]]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]:
            for call in [n for n in ast.walk(func) if isinstance(n, ast.Call) and n.args]:
                name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
                first = call.args[0]
                formatted = isinstance(first, ast.JoinedStr) or (
                    isinstance(first, ast.BinOp) and isinstance(first.op, ast.Mod | ast.Add)) or (
                    isinstance(first, ast.Call) and isinstance(first.func, ast.Attribute) and first.func.attr == "format")
                if name in SQL_CALLS and formatted:
                    found.add((path.relative_to(PACKAGE).as_posix(), func.name))
    return found


def test_no_sql_is_built_from_values():
    assert built_sql() == REVIEWED
