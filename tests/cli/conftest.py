"""Fixtures of the CLI tests."""

import pytest

from tests.cli.ledger_book import INSTALLMENTS, LOANS


@pytest.fixture
def book(cli, tmp_path):
    for name, content in (("loans.csv", LOANS), ("inst.csv", INSTALLMENTS)):
        (tmp_path / name).write_text(content, encoding="utf-8")
    r = cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv"))
    assert r.exit_code == 0, r.stderr
    return tmp_path
