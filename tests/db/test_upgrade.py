"""A store made by the first released schema (0001, the ledger) upgrades to the current one
with its data intact, on every backend.

tests/fixtures/schema-0001.db was made once: a new SQLite file upgraded to revision 0001 with
Alembic, then the files below imported into it (`import_files`, which writes only the ledger
tables, unchanged since 0001), as of 2026-04-01.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, insert, select

from collect_cli.store.database import alembic_config, create_store_engine, current_revision, head_revision, open_engine
from collect_cli.store.models import Base
from tests.cli.ledger_book import INSTALLMENTS, LOANS
from tests.conftest import Cli

FIXTURE = Path(__file__).parents[1] / "fixtures" / "schema-0001.db"
PAYMENTS = "payment_id,loan_id,paid_on,amount\nP1,L1,2026-01-31,105\nP2,L2,2026-02-10,50\nP3,L4,2026-03-31,315\n"
LEDGER = ("import_batches", "borrowers", "loans", "installments", "installment_history", "payments")  # FK order


def ledger_rows(engine) -> dict[str, list[tuple]]:
    """The rows of the ledger tables, in the columns of the first schema."""
    with engine.connect() as conn:
        return {t: sorted(tuple(r) for r in conn.execute(select(*first_columns(t)))) for t in LEDGER}


LATER = {"recorded_at": "0008", "reverses": "0009", "reason": "0009", "push_id": "0021",
         "link_ref": "0021"}  # columns the first schema did not have


def first_columns(table: str) -> list:
    return [c for c in Base.metadata.tables[table].c if c.name not in LATER]


def fixture_ledger(conn) -> None:
    """The ledger rows of the first-schema fixture, written into a store on the server."""
    old = create_engine(f"sqlite:///{FIXTURE}")
    with old.connect() as source:
        for t in LEDGER:
            rows = [dict(r._mapping) for r in source.execute(select(*first_columns(t)))]
            if rows:
                conn.execute(insert(Base.metadata.tables[t]), rows)
    old.dispose()


def test_a_store_of_the_first_schema_upgrades_with_its_data(db, tmp_path, cli):
    first = tmp_path / "first.db"
    shutil.copy(FIXTURE, first)
    old = create_engine(f"sqlite:///{first}")
    assert current_revision(old) == "0001"
    before = ledger_rows(old)
    assert all(before[t] for t in ("loans", "installments", "payments"))
    if db.startswith("postgresql"):  # the same store, made on the server at revision 0001
        engine = create_store_engine(db)
        command.upgrade(alembic_config(engine), "0001")
        with engine.begin() as conn, old.connect() as source:
            for t in LEDGER:
                table = Base.metadata.tables[t]
                rows = [dict(r._mapping) for r in source.execute(select(*first_columns(t)))]
                if rows:
                    conn.execute(insert(table), rows)
        engine.dispose()
    else:
        shutil.copy(first, db)
    old.dispose()

    upgraded = open_engine(db)  # every command migrates on first use
    assert current_revision(upgraded) == head_revision() != "0001"
    assert ledger_rows(upgraded) == before
    upgraded.dispose()

    # and it works as a store made today: the same figures as a fresh import of the same files
    for name, text in (("loans.csv", LOANS), ("installments.csv", INSTALLMENTS), ("payments.csv", PAYMENTS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    fresh = Cli(str(tmp_path / "fresh.db"))
    assert fresh("import", *(str(tmp_path / n) for n in ("loans.csv", "installments.csv", "payments.csv"))).exit_code == 0
    for args in (["report", "buckets", "--as-of", "2026-04-01"], ["queue", "--as-of", "2026-04-01", "--limit", "0"]):
        got = cli(*args, "--format", "json")
        assert got.exit_code == 0, got.stderr
        assert json.loads(got.stdout) == json.loads(fresh(*args, "--format", "json").stdout)


def test_disputes_and_complaints_held_before_cases_become_cases(db, cli):
    """A store of before cases (0014) with a dispute and a complaint in force, a complaint
    released and an opt-out: upgraded, the two in force are cases with the rule's deadline,
    whose holds only closing the case releases (CASE-1..3)."""
    from datetime import datetime

    engine = create_store_engine(db)
    if db.startswith("postgresql"):
        command.upgrade(alembic_config(engine), "0014")
    else:
        engine.dispose()
        shutil.copy(FIXTURE, db)
        engine = create_store_engine(db)
        command.upgrade(alembic_config(engine), "0014")
    holds = Base.metadata.tables["holds"]
    with engine.begin() as conn:
        if db.startswith("postgresql"):  # the ledger of the fixture, on the server
            fixture_ledger(conn)
        at = datetime(2026, 3, 2, 2, 0)
        base = {"channel": None, "point": None, "hold_id": None, "until": None, "actor": "li", "at": at,
                "action": "place", "note": None}

        def hold(**row) -> int:  # ids from the table's own sequence, as the code of then wrote them
            return conn.execute(insert(holds).values(**{**base, **row}).returning(holds.c.id)).scalar_one()

        assert hold(loan_id="L1", borrower_id="B1", reason="dispute", note="says paid") == 1
        released = hold(loan_id="L2", borrower_id="B2", reason="complaint", note="rude calls")
        hold(loan_id="L2", borrower_id="B2", reason="complaint", action="release", hold_id=released)
        assert hold(loan_id="L4", borrower_id="B4", reason="complaint") == 4
        hold(loan_id="L3", borrower_id="B3", reason="opt-out", channel="sms")
    engine.dispose()
    upgraded = open_engine(db)
    assert current_revision(upgraded) == head_revision()
    upgraded.dispose()
    got = json.loads(cli("cases", "--as-of", "2026-03-02", "--format", "json").stdout)
    assert [(c["loan_id"], c["kind"], c["received_on"], c["due_on"], c["hold"]) for c in got] == \
        [("L4", "complaint", "2026-03-02", "2026-03-17", 4), ("L1", "dispute", "2026-03-02", "2026-03-22", 1)]
    assert cli("release", "L1", "--id", "1").exit_code == 6  # the case's hold now
    assert cli("release", "L3", "--reason", "opt-out").exit_code == 0  # not a case's


def test_an_opt_out_of_every_channel_from_before_push_holds_push_after_the_upgrade(db, cli):
    """Before 0021 an opt-out of every channel was an SMS and an e-mail instance placed at one
    moment; upgraded, each such pair in force gets its push instance, and a released pair or
    an SMS-only opt-out gets none (HOLD-2)."""
    from datetime import datetime

    engine = create_store_engine(db)
    if not db.startswith("postgresql"):
        engine.dispose()
        shutil.copy(FIXTURE, db)
        engine = create_store_engine(db)
    command.upgrade(alembic_config(engine), "0020")
    holds = Base.metadata.tables["holds"]
    with engine.begin() as conn:
        if db.startswith("postgresql"):
            fixture_ledger(conn)
        at, later = datetime(2026, 3, 2, 2, 0), datetime(2026, 3, 3, 2, 0)

        def hold(**row) -> int:
            base = {"reason": "opt-out", "point": None, "hold_id": None, "until": None, "actor": "li",
                    "action": "place", "note": "stop contacting me"}
            return conn.execute(insert(holds).values(**{**base, **row}).returning(holds.c.id)).scalar_one()

        for loan, borrower in (("L1", "B1"), ("L2", "B2")):  # every channel, then (L2) released
            ids = [hold(loan_id=loan, borrower_id=borrower, channel=c, at=at) for c in ("sms", "email")]
        for i in ids:
            hold(loan_id="L2", borrower_id="B2", channel=None, action="release", hold_id=i, at=later)
        hold(loan_id="L3", borrower_id="B3", channel="sms", at=at)  # a STOP reply: SMS only
    engine.dispose()
    open_engine(db).dispose()  # migrated on first use
    engine = create_store_engine(db)
    with engine.connect() as conn:
        push = conn.execute(select(holds.c.loan_id, holds.c.at, holds.c.actor)
                            .where(holds.c.channel == "push")).all()
    engine.dispose()
    assert [tuple(p) for p in push] == [("L1", at, "migration 0021")]
