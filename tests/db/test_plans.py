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
        plan = plan_of(engine, lambda conn: q.sms_planned(
            conn, ["B1", "B2"], ["13800000001"], datetime(2026, 11, 19, 16), datetime(2026, 11, 20, 16)))
    finally:
        engine.dispose()
    assert "MULTI-INDEX OR" in plan, plan
    assert "ix_outbox_borrower_id_channel_send_on" in plan and "ix_outbox_recipient_channel_send_after" in plan
    assert "ix_outbox_status_send_after" not in plan
