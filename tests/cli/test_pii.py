"""Personal data on sample.db: no full phone number in any command's output, table, JSON, CSV
or file, unless --show-pii, which the audit records."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import Cli

SAMPLE = Path(__file__).parents[2] / "sample.db"
FULL_PHONE = re.compile(r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d{9}(?!\d)")
AS_OF = "2026-11-20"


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Cli:
    folder = tmp_path_factory.mktemp("pii")
    shutil.copy(SAMPLE, folder / "sample.db")
    cli = Cli(str(folder / "sample.db"))
    assert cli("run-reminders", "--as-of", AS_OF, "--now", f"{AS_OF}T02:00").exit_code in (0, 5)
    return cli


def a_late_loan(cli: Cli) -> str:
    return json.loads(cli("queue", "--as-of", AS_OF, "--limit", "1", "--format", "json").stdout)[0]["loan_id"]


COMMANDS = [
    ["queue", "--as-of", AS_OF, "--limit", "0"],
    ["queue", "--as-of", AS_OF, "--limit", "0", "--all"],
    ["outbox", "--limit", "0"],
    ["account", "{loan}", "--as-of", AS_OF],
    ["promises"],
    ["audit"],
    ["escalations", "--as-of", AS_OF],
    ["plan", "{loan}", "--installments", "6", "--as-of", AS_OF],
    ["report", "accounts", "--as-of", AS_OF],
    ["report", "watchlist", "--as-of", AS_OF],
    ["report", "buckets", "--as-of", AS_OF],
    ["report", "contacts", "--from", "2026-11-01", "--to", AS_OF],
    ["report", "promises", "--from", "2026-11-01", "--to", AS_OF],
    ["report", "collections", "--from", "2026-11-01", "--to", AS_OF],
]


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_no_command_prints_a_full_phone_number(sample, args, fmt):
    loan = a_late_loan(sample)
    extra = ["--section", "borrower"] if args[0] == "account" and fmt == "csv" else []  # a card's CSV is a section
    r = sample(*[a.replace("{loan}", loan) for a in args], "--format", fmt, *extra)
    assert r.exit_code in (0, 6), r.stderr  # 6: a plan refused by a rule still prints why
    shown = FULL_PHONE.findall(r.stdout + r.stderr)
    assert not shown, shown[:3]


def test_files_written_for_others_hold_no_full_phone_unless_they_need_it(sample, tmp_path):
    bureau = tmp_path / "bureau.csv"
    assert sample("bureau", "export", "--as-of", AS_OF, "--output", str(bureau)).exit_code == 0
    assert not FULL_PHONE.findall(bureau.read_text(encoding="utf-8-sig"))  # the bureau needs no phone
    html = tmp_path / "all.html"
    assert sample("report", "all", "--as-of", AS_OF, "--html", str(html)).exit_code == 0
    assert not FULL_PHONE.findall(html.read_text(encoding="utf-8"))


def test_show_pii_shows_the_numbers_and_the_audit_records_who_asked(sample):
    before = json.loads(sample("audit", "--format", "json").stdout)
    r = sample("queue", "--as-of", AS_OF, "--limit", "3", "--show-pii", "--format", "json")
    assert FULL_PHONE.findall(r.stdout)
    after = json.loads(sample("audit", "--format", "json").stdout)
    new = [e for e in after if e not in before]
    assert [e["action"] for e in new] == ["show-pii"]
    assert "queue --as-of 2026-11-20 --limit 3 --show-pii" in new[0]["detail"]
    assert "sample.db" not in new[0]["detail"]  # the global options (--db) are not recorded


def test_files_holding_personal_data_are_owner_only(tmp_path):
    cli = Cli(str(tmp_path / "new.db"))
    loans = tmp_path / "loans.csv"
    loans.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on\n"
                     "L1,B1,王小明,13812345678,1000,2026-01-01\nL2,B2,李四,12345,1000,2026-01-01\n", encoding="utf-8")
    assert cli("import", str(loans)).exit_code == 3
    for made in (tmp_path / "new.db", tmp_path / "loans.rejects.csv"):
        assert made.stat().st_mode & 0o077 == 0, made


def test_show_pii_is_audited_before_anything_is_printed_even_into_a_cut_pipe(tmp_path):
    """`… --show-pii | head -1`: the pipe closes after a line, the command dies of it, and the
    audit still says who asked to see the numbers (it is written before the first line)."""
    import shutil
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    db = tmp_path / "s.db"
    shutil.copy(Path(__file__).resolve().parents[2] / "sample.db", db)
    command = (f"'{sys.executable}' -m collect_cli --db '{db}' queue --as-of {AS_OF} --all --show-pii --format csv "
               "| head -1")
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120)
    assert out.stdout.count("\n") == 1
    with sqlite3.connect(db) as con:
        shown = con.execute("SELECT detail FROM audit WHERE action = 'show-pii'").fetchall()
    assert len(shown) == 1 and "queue" in shown[0][0] and str(db) not in shown[0][0]


def test_numbers_in_free_text_addresses_and_provider_errors_are_masked(cli, tmp_path):
    """Issue 13, item 5: a number typed into a note or a party label, a letter's or an e-mail's
    recipient and the account card's address are masked unless --show-pii; a provider's error
    body is scrubbed before it is stored."""
    from datetime import datetime

    from collect_cli.config import Delivery, Settings
    from collect_cli.services.delivery import send_due
    from collect_cli.store.database import open_engine
    from tests.cli.ledger_book import INSTALLMENTS, LOANS, run
    from tests.servers import Gateway

    for name, content in (("loans.csv", LOANS), ("inst.csv", INSTALLMENTS)):
        (tmp_path / name).write_text(content, encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv")).exit_code == 0
    assert cli("log", "L1", "--channel", "call", "--outcome", "no-answer", "--now", "2026-03-05T10:00",
               "--note", "wife says new number 139-1234-5678, id 11010519491231002X，新号码13712340000").exit_code == 0
    card = cli("account", "L1", "--as-of", "2026-03-05", "--format", "json")
    data = json.loads(card.stdout)
    assert "139-1234-5678" not in card.stdout and "5678" in data["contacts"][0]["note"]
    assert "11010519491231002X" not in card.stdout and "13712340000" not in card.stdout
    assert "，新号码" in data["contacts"][0]["note"]  # the text itself is shown as typed
    assert data["borrower"]["address"] != "上海市黄浦区1号" and data["borrower"]["address"].endswith("****")
    assert cli("people", "add", "L1", "--name", "钱七", "--phone", "13900000077", "--relation", "friend",
               "--source", "the borrower said, from 13912340000").exit_code == 0
    listed = cli("people", "list", "L1", "--format", "json")
    assert "13912340000" not in listed.stdout and "*******0000" in listed.stdout  # a number's source is free text
    shown = json.loads(cli("account", "L1", "--as-of", "2026-03-05", "--format", "json", "--show-pii").stdout)
    assert "139-1234-5678" in shown["contacts"][0]["note"] and shown["borrower"]["address"] == "上海市黄浦区1号"
    assert cli("hold", "L2", "--reason", "complaint", "--note", "complained from 13712345678").exit_code == 0
    audit = cli("audit", "--format", "csv")
    assert audit.exit_code == 0 and "13712345678" not in audit.stdout and "5678" in audit.stdout
    assert "13712345678" in cli("audit", "--format", "csv", "--show-pii").stdout
    run(cli, "2026-03-05")
    letters = [m for m in json.loads(cli("outbox", "--format", "json", "--limit", "0").stdout) if m["channel"] == "letter"]
    assert letters and all("上海市黄浦区1号" not in (m["recipient"] or "") for m in letters)
    gw = Gateway([400] * 20, error={"error": "number +8613800000001 is blocked"})
    try:
        settings = Settings(delivery=Delivery(senders={"sms": "http", "letter": "file", "email": "file"},
                                              http_url=gw.url, http_max_attempts=1, http_backoff_ms=10,
                                              spool_dir=tmp_path / "spool"))
        engine = open_engine(cli.db)
        send_due(engine=engine, settings=settings, clock=lambda: datetime(2026, 3, 5, 2, 0))
        engine.dispose()
    finally:
        gw.close()
    from sqlalchemy import create_engine, text

    from collect_cli.store.database import database_url

    check = create_engine(database_url(cli.db))
    with check.connect() as conn:
        stored = [r for (r,) in conn.execute(text("SELECT reason FROM outbox WHERE status = 'failed'"))]
        events = [r for (r,) in conn.execute(text("SELECT reason FROM outbox_events WHERE status = 'failed'"))]
    check.dispose()
    assert stored and all("8613800000001" not in r and "0001" in r for r in stored + events)
