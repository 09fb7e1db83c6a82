"""REC-4: every record carries the real time it was recorded; --now pretends the clock only on
a demo store (or with COLLECT_ALLOW_CLOCK=1), warned and audited; a contact logged after it
happened takes --at, inside the late-entry window, judged by the rules of that moment."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect, select

from collect_cli.store.database import database_url
from collect_cli.store.models import Base
from tests.cli.ledger_book import run, send


def real_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def audit(cli, *args):
    r = cli("audit", *args, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_a_pretend_clock_is_refused_on_a_real_store(cli, book, monkeypatch):
    monkeypatch.delenv("COLLECT_ALLOW_CLOCK")
    for args in (["log", "L1", "--channel", "call", "--outcome", "reached"], ["run-reminders"], ["send"],
                 ["queue"], ["hold", "L1", "--reason", "dispute"]):
        r = cli(*args, "--now", "2026-02-02T10:00")
        assert r.exit_code == 2, (args, r.stdout, r.stderr)
        assert "demo store" in r.stderr and "Traceback" not in r.stderr
    assert cli("account", "L1", "--format", "json").exit_code == 0
    card = json.loads(cli("account", "L1", "--format", "json").stdout)
    assert card["contacts"] == [] and card["holds"] == []  # nothing was written
    assert [a["action"] for a in audit(cli, "--action", "clock")] == []


def test_a_demo_store_pretends_the_clock_with_a_warning_and_an_audit_entry(tmp_path, monkeypatch):
    from tests.cli.ledger_book import INSTALLMENTS, LOANS
    from tests.conftest import Cli

    monkeypatch.delenv("COLLECT_ALLOW_CLOCK")
    cli = Cli(str(tmp_path / "demo.db"))
    r = cli("db", "init", "--demo")
    assert r.exit_code == 0 and "demo store" in r.stdout, r.stderr
    assert cli("db", "init").exit_code == 2  # a store there already: left alone
    for name, content in (("loans.csv", LOANS), ("inst.csv", INSTALLMENTS)):
        (tmp_path / name).write_text(content, encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv")).exit_code == 0
    before = real_now()
    r = cli("log", "L1", "--channel", "call", "--outcome", "reached", "--now", "2026-02-02T10:00", "--agent", "wang")
    assert r.exit_code == 0, r.stderr
    assert "pretends the clock" in r.stderr
    [clock] = audit(cli, "--action", "clock")
    assert "--now 2026-02-02T10:00" in clock["detail"] and "collect log L1" in clock["detail"]
    [contact] = audit(cli, "--action", "contact")
    recorded = datetime.fromisoformat(contact["recorded_at"].removesuffix(" UTC"))
    assert before - timedelta(seconds=2) <= recorded <= real_now() + timedelta(seconds=2)  # the real time
    assert contact["clock"] == "2026-02-02 02:00:00 UTC"  # the pretend one, beside it
    card = json.loads(cli("account", "L1", "--as-of", "2026-02-02", "--format", "json").stdout)
    assert card["contacts"][0]["at"] == "2026-02-02 02:00 UTC"


def test_demo_data_goes_into_a_new_store_which_becomes_a_demo_store(tmp_path, cli, book, monkeypatch):
    from tests.conftest import Cli

    monkeypatch.delenv("COLLECT_ALLOW_CLOCK")
    r = cli("demo", "generate", str(tmp_path / "d"), "--loans", "20", "--as-of", "2026-11-20", "--import")
    assert r.exit_code == 2 and "not a demo store" in r.stderr  # the store of `book` is a real one
    failed = Cli(str(tmp_path / "failed.db"))  # files that cannot be written leave no demo store behind
    assert failed("demo", "generate", "/proc/nope", "--loans", "5", "--import").exit_code == 1
    r = failed("queue", "--now", "2026-11-20T10:00")
    assert r.exit_code == 2 and "pretend clock is for demo stores" in r.stderr
    demo = Cli(str(tmp_path / "fresh.db"))
    r = demo("demo", "generate", str(tmp_path / "d2"), "--loans", "20", "--as-of", "2026-11-20", "--import")
    assert r.exit_code == 0, r.stderr
    assert demo("queue", "--as-of", "2026-11-20", "--now", "2026-11-20T10:00").exit_code == 0


def test_every_record_carries_the_real_time_it_was_written(cli, book, tmp_path, db):
    """A day replayed on a pretend clock in 2026 writes every kind of record; each one's
    recorded_at is the real time of the test, whatever the clock said."""
    start = real_now() - timedelta(seconds=2)
    now = "2026-02-02T10:00"
    assert cli("log", "L1", "--channel", "call", "--outcome", "promise", "--promise", "50", "--on", "2026-02-05",
               "--now", now, "--agent", "wang").exit_code == 0
    assert cli("log", "L2", "--channel", "call", "--outcome", "dispute", "--now", now).exit_code == 0
    assert cli("people", "add", "L1", "--name", "Li Si", "--phone", "13900000001", "--relation", "spouse",
               "--source", "application form").exit_code == 0
    assert cli("hold", "L1", "--reason", "opt-out", "--now", now).exit_code == 0
    run(cli, "2026-02-02")
    send(cli, "2026-02-02T09:00")
    assert cli("queue", "take", "--agent", "wang", "--as-of", "2026-02-02", "--now", now).exit_code == 0
    end = real_now() + timedelta(seconds=2)
    engine = create_engine(database_url(db))
    seen = {}
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for name, table in Base.metadata.tables.items():
            if "recorded_at" in table.c and name in present:
                times = conn.execute(select(table.c.recorded_at)).scalars().all()
                seen[name] = len(times)
                assert all(start <= t <= end for t in times), (name, times)
    engine.dispose()
    wrote = {n for n, count in seen.items() if count}
    assert {"contacts", "promises", "holds", "audit", "outbox", "outbox_events", "assignments",
            "contact_persons", "import_batches"} <= wrote, seen


def test_the_audit_is_in_the_order_things_were_recorded(cli, book):
    """A later command on an earlier pretend clock comes after, in the real order."""
    assert cli("log", "L1", "--channel", "call", "--outcome", "reached", "--now", "2026-02-03T10:00").exit_code == 0
    assert cli("log", "L1", "--channel", "call", "--outcome", "no-answer", "--now", "2026-02-02T10:00").exit_code == 0
    details = [a["detail"] for a in audit(cli, "--loan", "L1", "--action", "contact")]
    assert details == ["call reached", "call no-answer"]


# --- late entries (--at) ------------------------------------------------------------------


def log(cli, *args, now="2026-02-02T10:00", code=0):
    r = cli("log", "L1", "--channel", "call", *args, "--now", now, "--agent", "wang")
    assert r.exit_code == code, r.stderr
    return r


def test_a_late_entry_keeps_both_times_and_shows_as_late(cli, book):
    r = log(cli, "--outcome", "reached", "--at", "2026-02-01T16:30")
    assert "late entry" in r.stderr
    card = json.loads(cli("account", "L1", "--as-of", "2026-02-02", "--format", "json").stdout)
    [c] = card["contacts"]
    assert c["at"] == "2026-02-01 08:30 UTC"  # when it happened (Asia/Shanghai 16:30)
    assert c["late_entry"] == "logged 2026-02-02 02:00 UTC"
    [entry] = audit(cli, "--action", "contact")
    assert "late entry, it happened at 2026-02-01 08:30 UTC" in entry["detail"]
    table = cli("account", "L1", "--as-of", "2026-02-02")
    assert "logged 2026-02-02 02:00 UTC" in table.stdout


@pytest.mark.parametrize("at,why", [
    ("2026-02-01T09:59", "more than 24 h ago"),
    ("2026-02-02T10:01", "still to come"),
    ("0001-01-01T00:00", "out of range"),
    ("yesterday", "not a date and time"),
])
def test_a_late_entry_is_refused_outside_the_window(cli, book, at, why):
    r = log(cli, "--outcome", "reached", "--at", at, code=2)
    assert why in r.stderr and "Traceback" not in r.stderr
    assert json.loads(cli("account", "L1", "--format", "json").stdout)["contacts"] == []


def test_the_late_entry_window_is_configurable(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text("[contact]\nlate_entry_hours = 2\n", encoding="utf-8")
    log(cli, "--outcome", "reached", "--at", "2026-02-02T07:30", code=2)
    log(cli, "--outcome", "reached", "--at", "2026-02-02T08:30")
    (tmp_path / "collect.toml").write_text("[contact]\nlate_entry_hours = 500\n", encoding="utf-8")
    r = log(cli, "--outcome", "reached", code=2)
    assert "contact.late_entry_hours" in r.stderr


def test_a_late_entry_is_judged_by_the_rules_of_its_moment(cli, book):
    # WHEN-1 at the time it happened: 22:30 the evening before is outside the window, now is not
    r = log(cli, "--outcome", "reached", "--at", "2026-02-01T22:30", code=6)
    assert "WHEN-1" in r.stderr
    # a hold placed after the call does not make the call a breach of it
    assert cli("hold", "L1", "--reason", "dispute", "--now", "2026-02-02T09:00").exit_code == 0
    log(cli, "--outcome", "reached", "--at", "2026-02-02T08:30")
    log(cli, "--outcome", "reached", "--at", "2026-02-02T09:30", code=6)  # but one after it does


def test_a_late_entry_counts_the_whole_day_toward_the_caps(cli, book):
    for hour in (11, 12, 13):
        log(cli, "--outcome", "reached", now=f"2026-02-02T{hour}:00")
    # a fourth connected call that day, logged late as if it came first, is still a fourth
    r = log(cli, "--outcome", "reached", "--at", "2026-02-02T09:00", now="2026-02-02T14:00", code=6)
    assert "WHEN-2" in r.stderr


def test_a_past_view_leaves_out_an_entry_logged_the_day_after(cli, book):
    """The call happened on 02-01, but on 02-01 nobody knew of it yet."""
    log(cli, "--outcome", "reached", "--at", "2026-02-01T16:30")
    earlier = json.loads(cli("account", "L1", "--as-of", "2026-02-01", "--format", "json").stdout)
    assert earlier["contacts"] == []
    later = json.loads(cli("account", "L1", "--as-of", "2026-02-02", "--format", "json").stdout)
    assert len(later["contacts"]) == 1


def test_a_late_entry_needs_no_pretend_clock(cli, book, monkeypatch):
    """On a real store, --at is relative to the real clock."""
    monkeypatch.delenv("COLLECT_ALLOW_CLOCK")
    an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="minutes")
    r = cli("log", "L1", "--channel", "call", "--outcome", "reached", "--inbound", "--at", an_hour_ago)
    assert r.exit_code == 0, r.stderr
    assert "late entry" in r.stderr and "pretends" not in r.stderr
