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
    r = sample(*[a.replace("{loan}", loan) for a in args], "--format", fmt)
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
