"""`collect import` end to end through the CLI, on every backend."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from collect_cli.services import importer
from collect_cli.store.database import database_url
from collect_cli.store.models import InstallmentHistory, Loan, Payment

LOANS_ZH = """借据号,客户号,客户姓名,手机号,贷款本金,放款日期,年利率,产品
L1,C1,王小明,13812345678,"1,000.00",2026-01-01,0.18,消费贷
L2,C2,李四,+86 139 0000 1111,¥2000,2026/01/15,,
L3,C3,张三,12345,100,2026-01-01,,
L4,C4,赵六,13700000000,-5,2026-01-01,,
L5,C5,钱七,13600000000,500,31/01/2026,,
L6,C6,孙八,13500000000,800,2026年2月3日,,分期购
"""

INSTALLMENTS = """loan_id,seq,due_on,principal_due,interest_due,fee_due
L1,1,2026-02-01,500,10,
L1,2,2026-03-01,500,5,1
L2,1,2026-02-15,2000,20,
L9,1,2026-02-15,2000,20,
"""

PAYMENTS = """payment_id,loan_id,paid_on,amount
P1,L1,2026-02-01,510
P2,L2,2026-02-20,100
"""


@pytest.fixture(autouse=True, params=["read here", "read by a process"])
def reading(request, monkeypatch):
    """Every test twice: the file read and checked in the importing process, and by a forked
    process while the importer writes (as big files are)."""
    if request.param == "read by a process":
        monkeypatch.setattr(importer, "PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr(importer, "cores", lambda: 2)
    return request.param


def write(path: Path, content: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(content.encode(encoding))
    return path


def read_rejects(path: Path, encoding: str = "utf-8") -> list[dict]:
    with path.open(encoding=encoding, newline="") as fh:
        return list(csv.DictReader(fh))


def count(db: str, model) -> int:
    engine = create_engine(database_url(db))
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(model)).scalar_one()
    engine.dispose()
    return n


def snapshot(db: str) -> dict:
    engine = create_engine(database_url(db))
    with engine.connect() as conn:
        out = {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}"))))
               for t in ("borrowers", "loans", "installments", "installment_history", "payments")}
    engine.dispose()
    return out


def test_gb18030_chinese_headers_with_broken_rows(cli, tmp_path):
    loans = write(tmp_path / "loans.csv", LOANS_ZH, "gb18030")
    r = cli("import", str(loans), "--format", "json")
    assert r.exit_code == 3, r.stderr
    [summary] = json.loads(r.stdout)
    assert summary["encoding"] == "gb18030" and summary["kind"] == "loans"
    assert (summary["read"], summary["inserted"], summary["rejected"]) == (6, 3, 3)
    rejects = read_rejects(Path(summary["rejects"]), "gb18030")
    assert [(x["借据号"], x["line"]) for x in rejects] == [("L3", "4"), ("L4", "5"), ("L5", "6")]
    assert rejects[0]["reason"].startswith("phone:")
    assert "negative" in rejects[1]["reason"] and rejects[1]["贷款本金"] == "-5"
    assert "ambiguous" in rejects[2]["reason"]
    assert count(cli.db, Loan) == 3


def batches(db: str) -> int:
    engine = create_engine(database_url(db))
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM import_batches")).scalar_one()
    engine.dispose()
    return n


def test_reimport_is_a_noop_that_says_so(cli, tmp_path):
    files = [write(tmp_path / "loans.csv", LOANS_ZH, "gb18030"),
             write(tmp_path / "inst.csv", INSTALLMENTS), write(tmp_path / "pay.csv", PAYMENTS)]
    assert cli("import", *map(str, files)).exit_code == 3
    before, logged = snapshot(cli.db), batches(cli.db)
    rejects = (tmp_path / "loans.rejects.csv").read_bytes()
    # files with rejected rows are read again (a rejected row may pass now), found unchanged,
    # and rolled back: no new batch; the exit code still says rows are rejected
    r = cli("import", *map(str, files), "--format", "json")
    assert r.exit_code == 3
    summary = json.loads(r.stdout)
    assert {s["status"] for s in summary} == {"already imported"}
    assert [s["rejected"] for s in summary] == [3, 1, 0]
    assert "already imported" in r.stderr and "nothing changed" in r.stderr
    assert "still rejected" in r.stderr
    assert snapshot(cli.db) == before and batches(cli.db) == logged
    assert (tmp_path / "loans.rejects.csv").read_bytes() == rejects
    # --force reads even a clean file again; nothing changes, nothing is recorded
    r = cli("import", str(files[2]), "--force", "--format", "json")
    assert r.exit_code == 0
    assert [(s["status"], s["unchanged"]) for s in json.loads(r.stdout)] == [("already imported", 2)]
    assert snapshot(cli.db) == before and batches(cli.db) == logged


def test_clean_reimport_is_skipped_without_reading(cli, tmp_path):
    pay = write(tmp_path / "pay.csv", PAYMENTS)
    cli("import", str(write(tmp_path / "loans.csv", LOANS_ZH)))
    assert cli("import", str(pay)).exit_code == 0
    r = cli("import", str(pay), "--format", "json")
    assert r.exit_code == 0 and json.loads(r.stdout)[0]["read"] == 0
    assert "already imported" in r.stderr


def test_rows_rejected_for_an_unknown_loan_pass_once_the_loan_is_imported(cli, tmp_path):
    pay = write(tmp_path / "pay.csv", PAYMENTS)
    r = cli("import", str(pay), "--format", "json")
    assert r.exit_code == 3 and json.loads(r.stdout)[0]["rejected"] == 2
    r = cli("import", str(write(tmp_path / "loans.csv", LOANS_ZH)), str(pay), "--format", "json")
    assert [(s["kind"], s["inserted"]) for s in json.loads(r.stdout)] == [("loans", 3), ("payments", 2)]
    assert count(cli.db, Payment) == 2
    assert not (tmp_path / "pay.rejects.csv").exists()  # the last run had no rejects


def test_loans_go_first_whatever_the_order(cli, tmp_path):
    files = [write(tmp_path / "pay.csv", PAYMENTS), write(tmp_path / "inst.csv", INSTALLMENTS),
             write(tmp_path / "loans.csv", LOANS_ZH, "utf-8-sig")]
    r = cli("import", *map(str, files), "--format", "json")
    assert [s["kind"] for s in json.loads(r.stdout)] == ["loans", "installments", "payments"]
    assert count(cli.db, Payment) == 2
    inst = read_rejects(tmp_path / "inst.rejects.csv")
    assert [(x["loan_id"], x["line"]) for x in inst] == [("L9", "5")]
    assert "unknown loan" in inst[0]["reason"]


def test_missing_required_column_writes_nothing(cli, tmp_path):
    bad = write(tmp_path / "pay.csv", "payment_id,loan_id,amount\nP1,L1,5\n")
    r = cli("import", str(bad))
    assert r.exit_code == 2
    assert "Error: " in r.stderr and "paid_on" in r.stderr and "Traceback" not in r.stderr
    assert count(cli.db, Payment) == 0


def test_unknown_kind_and_undecodable_and_missing_file(cli, tmp_path):
    r = cli("import", str(write(tmp_path / "x.csv", "foo,bar\n1,2\n")))
    assert r.exit_code == 2 and "unknown kind" in r.stderr
    raw = tmp_path / "bin.csv"
    raw.write_bytes(b"loan_id,seq\n\x00\x01\x02\n")
    r = cli("import", str(raw))
    assert r.exit_code == 2 and "line 2" in r.stderr and "binary" in r.stderr
    r = cli("import", str(tmp_path / "nope.csv"))
    assert r.exit_code == 2 and "nope.csv" in r.stderr


def test_payment_conflict_names_both_values(cli, tmp_path):
    write(tmp_path / "loans.csv", LOANS_ZH)
    cli("import", str(tmp_path / "loans.csv"), str(write(tmp_path / "pay.csv", PAYMENTS)))
    changed = write(tmp_path / "pay2.csv", "payment_id,loan_id,paid_on,amount\nP1,L1,2026-02-02,520\nP3,L1,2026-02-03,1\n")
    r = cli("import", str(changed), "--format", "json")
    assert r.exit_code == 3
    [rej] = read_rejects(tmp_path / "pay2.rejects.csv")
    assert rej["payment_id"] == "P1" and "conflict" in rej["reason"]
    assert "2026-02-01" in rej["reason"] and "510.00" in rej["reason"]
    assert "2026-02-02" in rej["reason"] and "520.00" in rej["reason"]
    assert count(cli.db, Payment) == 3  # P1 kept as first recorded, P3 added


def test_schedule_change_updates_and_keeps_history(cli, tmp_path):
    write(tmp_path / "loans.csv", LOANS_ZH)
    cli("import", str(tmp_path / "loans.csv"), str(write(tmp_path / "inst.csv", INSTALLMENTS)))
    new = write(tmp_path / "inst2.csv", "loan_id,seq,due_on,principal_due,interest_due\n"
                                        "L1,2,2026-04-01,500,5\nL1,1,2026-02-01,500,10\n")
    r = cli("import", str(new), "--format", "json")
    [s] = json.loads(r.stdout)
    assert (s["updated"], s["unchanged"]) == (1, 1)
    assert count(cli.db, InstallmentHistory) == 1


def test_repeated_key_in_one_file_is_an_update_in_file_order(cli, tmp_path):
    write(tmp_path / "loans.csv", LOANS_ZH)
    cli("import", str(tmp_path / "loans.csv"))
    f = write(tmp_path / "inst.csv", "loan_id,seq,due_on,principal_due,interest_due\n"
                                     "L1,1,2026-02-01,500,10\nL1,1,2026-02-05,500,10\n")
    [s] = json.loads(cli("import", str(f), "--format", "json").stdout)
    assert (s["inserted"], s["updated"]) == (1, 1)
    r = cli("report", "accounts", "--as-of", "2026-02-04", "--format", "json")
    assert {a["loan_id"]: a["dpd"] for a in json.loads(r.stdout)}["L1"] == 0


def test_a_broken_quote_mid_file_rolls_back_the_whole_file(cli, tmp_path):
    write(tmp_path / "loans.csv", LOANS_ZH)
    cli("import", str(tmp_path / "loans.csv"))
    rows = "".join(f"P{i},L1,2026-02-01,1\n" for i in range(5000))
    bad = write(tmp_path / "pay.csv", "payment_id,loan_id,paid_on,amount\n" + rows + 'PX,L1,"2026-02-01\n')
    r = cli("import", str(bad))
    assert r.exit_code == 2 and "line 5002" in r.stderr
    assert count(cli.db, Payment) == 0
    assert not (tmp_path / "pay.rejects.csv").exists()


def test_a_reading_process_that_dies_is_a_clean_error_and_nothing_is_kept(cli, tmp_path, reading, monkeypatch):
    if reading != "read by a process":
        pytest.skip("only a forked reader can die apart from the importer")
    write(tmp_path / "loans.csv", LOANS_ZH)
    cli("import", str(tmp_path / "loans.csv"))
    rows = "".join(f"P{i},L1,2026-02-01,1\n" for i in range(25_000))
    pay = write(tmp_path / "pay.csv", "payment_id,loan_id,paid_on,amount\n" + rows)
    real = importer._parsed

    def dies_after_a_batch(lf, parse):
        batches = real(lf, parse)
        yield next(batches)
        os._exit(9)  # as if killed, say by the out-of-memory killer

    monkeypatch.setattr(importer, "_parsed", dies_after_a_batch)
    r = cli("import", str(pay))
    assert r.exit_code == 1 and "Error:" in r.stderr and "process reading the file stopped" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert count(cli.db, Payment) == 0


def test_extra_and_unknown_columns(cli, tmp_path):
    f = write(tmp_path / "loans.csv", "loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,branch\n"
                                      "L1,C1,A B,+14155550100,100,2026-01-01,SH\n"
                                      "L2,C2,A B,+14155550101,100,2026-01-01,SH,extra\n")
    r = cli("import", str(f), "--format", "json")
    [s] = json.loads(r.stdout)
    assert s["unknown_columns"] == ["branch"] and s["rejected"] == 1
    assert "fields" in read_rejects(tmp_path / "loans.rejects.csv")[0]["reason"]


def test_rejects_file_can_be_fixed_and_reimported_again_and_again(cli, tmp_path):
    loans = write(tmp_path / "loans.csv", LOANS_ZH)
    cli("import", str(loans))
    # round 1: fix one row; the other two come back in the new rejects file, same columns
    first = (tmp_path / "loans.rejects.csv").read_text("utf-8").replace("12345,", "13300000000,")
    r = cli("import", str(write(tmp_path / "fix1.csv", first)), "--format", "json")
    assert r.exit_code == 3 and json.loads(r.stdout)[0]["inserted"] == 1
    second = (tmp_path / "fix1.rejects.csv").read_text("utf-8")
    assert second.splitlines()[0] == first.splitlines()[0]
    assert [x["line"] for x in read_rejects(tmp_path / "fix1.rejects.csv")] == ["3", "4"]
    # round 2: fix the rest
    fixed = second.replace(",-5,", ",5,").replace("31/01/2026", "2026-01-31")
    r = cli("import", str(write(tmp_path / "fix2.csv", fixed)), "--format", "json")
    assert r.exit_code == 0, r.stdout
    assert json.loads(r.stdout)[0]["inserted"] == 2
    assert count(cli.db, Loan) == 6


def test_rejects_never_overwrite_an_input_or_each_other(cli, tmp_path):
    pay = write(tmp_path / "pay.csv", PAYMENTS)
    r = cli("import", str(pay), "--rejects", str(pay))
    assert r.exit_code == 2 and "overwrite" in r.stderr
    assert pay.read_text() == PAYMENTS
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "rj").mkdir()
    a, b = write(tmp_path / "a" / "p.csv", PAYMENTS), write(tmp_path / "b" / "p.csv", PAYMENTS)
    r = cli("import", str(a), str(b), "--rejects", str(tmp_path / "rj"))
    assert r.exit_code == 2 and "share" in r.stderr
    assert count(cli.db, Payment) == 0


def test_loans_file_with_a_maturity_date_column_is_a_loans_file(cli, tmp_path):
    f = write(tmp_path / "loans.csv", "借据号,客户号,客户姓名,手机号,贷款本金,放款日期,到期日\n"
                                      "L1,C1,王小明,13812345678,1000,2026-01-01,2026-12-31\n")
    r = cli("import", str(f), "--format", "json")
    assert r.exit_code == 0, r.stderr
    [s] = json.loads(r.stdout)
    assert s["kind"] == "loans" and s["unknown_columns"] == ["到期日"]


def test_borrower_details_last_row_wins_and_counts_honestly(cli, tmp_path):
    head = "loan_id,borrower_id,borrower_name,phone,principal,disbursed_on\n"
    cli("import", str(write(tmp_path / "b1.csv", head + "L1,B1,Old,13800000001,1,2026-01-01\n"
                                                         "L2,B1,Old,13800000001,1,2026-01-01\n")))
    b2 = write(tmp_path / "b2.csv", head + "L1,B1,New,13800000001,1,2026-01-01\n"
                                          "L2,B1,Old,13800000001,1,2026-01-01\n")
    r = cli("import", str(b2), "--format", "json")
    assert json.loads(r.stdout)[0]["updated"] == 0  # the row written (the last) changes nothing


@pytest.mark.parametrize("value,why", [("1000000000000000000000000000000", "too large"),
                                       ("1e999999", "not an amount")])
def test_absurd_amounts_are_rejected_rows(cli, tmp_path, value, why):
    f = write(tmp_path / "loans.csv", "loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,annual_rate\n"
                                      f"L1,B1,A,13800000001,{value},2026-01-01,\n"
                                      "L2,B1,A,13800000001,1,2026-01-01,1e999999%\n"
                                      "L3,B1,A,13800000001,1,2026-01-01,300000%\n")
    r = cli("import", str(f))
    assert r.exit_code == 3, r.stderr
    reasons = [x["reason"] for x in read_rejects(tmp_path / "loans.rejects.csv")]
    assert len(reasons) == 3 and why in reasons[0]
    assert reasons[1].startswith("annual_rate") and reasons[2].startswith("annual_rate")


def test_mixed_encodings_in_one_file_are_refused(cli, tmp_path):
    head = "loan_id,borrower_id,borrower_name,phone,principal,disbursed_on\n"
    utf8 = "L1,C1,王小明,13812345678,1,2026-01-01\nL2,C2,李四,13812345679,1,2026-01-01\n"
    gbk = "L3,C3,张三,13812345670,1,2026-01-01\n"
    f = tmp_path / "mixed.csv"
    f.write_bytes(head.encode() + utf8.encode("utf-8") + gbk.encode("gbk"))
    r = cli("import", str(f))
    assert r.exit_code == 2 and "line 4" in r.stderr and "mixed encodings" in r.stderr
    assert count(cli.db, Loan) == 0


def test_encoding_can_be_forced(cli, tmp_path):
    f = write(tmp_path / "loans.csv", LOANS_ZH.replace("¥", "￥"), "gbk")  # ¥ is not in GBK
    r = cli("import", str(f), "--encoding", "gbk", "--format", "json")
    assert json.loads(r.stdout)[0]["inserted"] == 3
    r = cli("import", str(f), "--encoding", "latin-9")
    assert r.exit_code == 2 and "--encoding" in r.stderr


def test_phone_numbers_are_masked_unless_show_pii(cli, tmp_path):
    cli("import", str(write(tmp_path / "loans.csv", LOANS_ZH)))
    for fmt in ("table", "json", "csv"):
        out = cli("report", "accounts", "--as-of", "2026-03-01", "--format", fmt).stdout
        assert "+86 138****5678" in out and "13812345678" not in out, fmt
    out = cli("report", "accounts", "--as-of", "2026-03-01", "--show-pii", "--format", "csv").stdout
    assert "+8613812345678" in out


def test_the_import_summary_as_csv_has_the_jsons_fields(cli, tmp_path):
    pay = write(tmp_path / "pay.csv", PAYMENTS)
    loans = write(tmp_path / "loans.csv", LOANS_ZH)
    as_json = json.loads(cli("import", str(loans), "--format", "json").stdout)
    r = cli("import", str(pay), "--format", "csv")
    assert r.exit_code in (0, 3), r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == list(as_json[0]) and rows[0]["kind"] == "payments" and rows[0]["read"] == "2"
