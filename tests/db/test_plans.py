"""Lookups a batch makes over tables that grow through the night are driven by the batch's
keys, never by a range that holds everything written tonight (which made each batch cost
more than the one before it). Checked on the plan SQLite chooses, which has no statistics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event

from collect_cli.store import queries as q
from collect_cli.store.database import open_engine


def plan_of(engine, run) -> str:
    """SQLite's plan of the one statement `run(conn)` executes."""
    seen = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, params, *_: seen.append((sql, params)))
    with engine.connect() as conn:
        run(conn)
        [(sql, params)] = seen
        return "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params))


def test_the_sms_count_of_a_batch_is_found_by_borrower_and_number(tmp_path):
    """WHEN-5 counts the SMS planned for a batch's borrowers and numbers on their day: by the
    outbox's borrower and recipient indexes, not by its (status, send_after) range."""
    engine = open_engine(str(tmp_path / "collect.db"))
    try:
        plan = plan_of(engine, lambda conn: q.planned(
            conn, "sms", ["B1", "B2"], ["13800000001"], datetime(2026, 11, 19, 16), datetime(2026, 11, 20, 16)))
    finally:
        engine.dispose()
    assert "MULTI-INDEX OR" in plan, plan
    assert "ix_outbox_borrower_id_channel_send_on" in plan and "ix_outbox_recipient_channel_send_after" in plan
    assert "ix_outbox_status_send_after" not in plan


def test_a_key_list_is_one_parameter_and_ignores_none(db, tmp_path):
    """`_in` on each backend, around its switch from a list to JSON on SQLite: the same rows
    for 2 keys or 1,500, a None key matches nothing (as NULL in SQL), and a key longer than
    the column is not cut to its length (PostgreSQL's cast to varchar(n) would)."""
    from sqlalchemy import select

    from collect_cli.store.queries.base import _in, loans
    from tests.conftest import Cli

    longest = "L" * 64  # a key of the column's full length
    rows = [f"L{i:04d},B{i:04d},王小明,138{i:08d},1000,2026-01-01" for i in range(1500)]
    rows.append(f"{longest},B9999,王小明,13900000000,1000,2026-01-01")
    (tmp_path / "loans.csv").write_text("\n".join(["loan_id,borrower_id,borrower_name,phone,principal,disbursed_on",
                                                   *rows]) + "\n", encoding="utf-8")
    assert Cli(db)("import", str(tmp_path / "loans.csv")).exit_code == 0
    engine = open_engine(db)
    try:
        with engine.connect() as conn:
            def found(keys):
                return sorted(conn.execute(select(loans.c.loan_id).where(_in(conn, loans.c.loan_id, keys))).scalars())
            assert found(["L0001", None, "L9999", "L0001"]) == ["L0001"]
            many = [f"L{i:04d}" for i in range(0, 3000, 2)]
            assert found([*many, None]) == [k for k in many if k < "L1500"]
            assert found([]) == [] and found([None]) == []
            assert found([longest]) == [longest] and found([longest + "9"]) == []  # never cut to the column
    finally:
        engine.dispose()


def test_the_number_lookups_take_more_points_than_a_statement_has_parameters(db):
    """At 10M loans the import's WHO-4 check met 100,000s of shared e-mails: each lookup by
    numbers or addresses is one parameter (PostgreSQL's limit is 65,535 per statement)."""
    from collect_cli.store import queries as q

    points = [f"+86138{i:08d}" for i in range(70_000)] + [f"p{i}@example.com" for i in range(5)]
    engine = open_engine(db)
    try:
        with engine.connect() as conn:
            assert q.owners_of_points(conn, points) == {}
            assert q.confirmed_owners(conn, points) == {}
            assert q.refused_persons(conn, [], points) == set()
            assert q.contacts_around(conn, [], points, datetime(2026, 1, 1)) == []
            assert q.active_holds(conn, ["L1"], ["B1"], datetime(2026, 1, 1).date(), points) == {"L1": []}
            assert q.count_shared_points(conn) == 0
    finally:
        engine.dispose()
