"""Reversals and loan events through `collect import`, on a real store of each backend: the
formats, what is refused and why, and the replay of any date by the engine and by the lean
replay of the reports, held to the engine fed the same ledger in the test."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import pytest

from collect_cli.config import Settings
from collect_cli.domain.loan_events import standing
from collect_cli.domain.loan_state import loan_state
from collect_cli.domain.money import fmt
from collect_cli.services.analytics import positions_on
from collect_cli.store.database import open_engine
from tests.unit.test_loan_events import CASES, case_ledger


def write(path, header, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def import_case(cli, tmp_path, case, n: int) -> str:
    """One Fineract case as the core system's files; returns its loan id."""
    loan = f"F{n:02d}"
    files = [
        write(tmp_path / f"{loan}-loans.csv", ["loan_id", "borrower_id", "borrower_name", "phone", "principal",
                                                "disbursed_on"],
              [[loan, f"B{loan}", "王小明", f"138{n:08d}", case["loan"]["principal"], case["loan"]["disbursed_on"]]]),
        write(tmp_path / f"{loan}-inst.csv", ["loan_id", "seq", "due_on", "principal_due", "interest_due", "fee_due"],
              [[loan, r["seq"], r["due_on"], r["principal_due"], r["interest_due"], r["fee_due"]]
               for r in case["installments"]]),
    ]
    if case["payments"]:
        files.append(write(tmp_path / f"{loan}-pay.csv", ["payment_id", "loan_id", "paid_on", "amount"],
                           [[f"{loan}-{p['payment_id']}", loan, p["paid_on"], p["amount"]] for p in case["payments"]]))
    if case["reversals"]:  # Chinese headers, GBK, as core systems export them
        files.append(write(tmp_path / f"{loan}-rev.csv", ["原交易流水号", "冲正日期", "冲正原因"],
                           [[f"{loan}-{r['payment_id']}", r["reversed_on"], "退票"] for r in case["reversals"]],
                           encoding="gbk"))
    if case["events"]:
        files.append(write(tmp_path / f"{loan}-events.csv", ["loan_id", "event", "event_on", "until", "amount"],
                           [[loan, e["event"], e["event_on"], e.get("until") or "", e.get("amount") or ""]
                            for e in case["events"]]))
    r = cli("import", *files, "--format", "json")
    assert r.exit_code == 0, r.output
    return loan


def test_fineract_scenarios_replay_through_the_store(cli, tmp_path):
    """Every check date of every case, by the account engine and by the reports' lean replay,
    equals the engine fed the case's ledger in the test."""
    loans = {import_case(cli, tmp_path, case, n): case for n, case in enumerate(CASES)}
    engine = open_engine(cli.db)
    checked = 0
    for loan, case in loans.items():
        settings = Settings(grace_days=case["grace_days"])
        days = sorted({date.fromisoformat(c["as_of"]) for c in case["checks"] if "known" not in c})
        days += [days[-1] + timedelta(days=40), date.fromisoformat(case["loan"]["disbursed_on"])]
        schedule, pays, events = case_ledger(case)
        with engine.connect() as conn:
            positions = {b.loan_id: p for b, p in positions_on(conn, days, settings=settings)}[loan]
        for day, position in zip(days, positions, strict=True):
            want = loan_state(schedule, pays, day, grace_days=case["grace_days"], standing=standing(events, day))
            config = tmp_path / f"grace{case['grace_days']}.toml"
            config.write_text(f"grace_days = {case['grace_days']}\n", encoding="utf-8")
            got = json.loads(cli("--config", str(config), "report", "accounts", "--as-of", day.isoformat(),
                                 "--format", "json").stdout)
            (row,) = [r for r in got if r["loan_id"] == loan]
            assert (row["status"], row["dpd"], row["bucket"], row["overdue"], row["outstanding"]) == \
                (want.status, want.dpd, want.bucket, fmt(want.overdue), fmt(want.outstanding_principal)), (loan, day)
            assert (position.dpd, position.overdue, position.outstanding, position.bucket, position.status) == \
                (want.dpd, want.overdue, want.outstanding_principal, want.bucket, want.status), (loan, day)
            checked += 1
    engine.dispose()
    assert checked == sum(len({c["as_of"] for c in case["checks"] if "known" not in c}) + 2 for case in CASES)


LOANS = ["loan_id,borrower_id,borrower_name,phone,principal,disbursed_on",
         "L1,B1,王小明,13800000001,1000,2026-01-01", "L2,B2,李四,13800000002,1000,2026-01-01"]
SCHEDULE = ["loan_id,seq,due_on,principal_due,interest_due", "L1,1,2026-02-01,1000,20", "L2,1,2026-02-01,1000,20"]
PAYMENTS = ["payment_id,loan_id,paid_on,amount", "P1,L1,2026-02-01,1020", "P2,L2,2026-02-10,100",
            "P3,L2,2026-02-11,50"]


@pytest.fixture
def book(cli, tmp_path):
    for name, lines in (("loans", LOANS), ("inst", SCHEDULE), ("pay", PAYMENTS)):
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli("import", "loans.csv", "inst.csv", "pay.csv").exit_code == 0
    return cli


def rejects(tmp_path, name: str) -> dict[str, str]:
    with open(tmp_path / f"{name}.rejects.csv", encoding="utf-8") as f:
        return {r["line"]: r["reason"] for r in csv.DictReader(f)}


def test_reversals_refused_for_what_they_cannot_be(book, tmp_path):
    (tmp_path / "rev.csv").write_text(
        "payment_id,reversed_on,loan_id,amount,reversal_id\n"
        "P1,2026-02-05,,,\n"          # 2: good
        "P9,2026-02-05,,,\n"          # 3: no such payment
        "P2,2026-02-05,,,\n"          # 4: before it was paid
        "P3,2026-02-12,L1,,\n"        # 5: on another loan
        "P3,2026-02-12,,10,\n"        # 6: a part of it
        "R-P1,2026-02-20,,,\n"        # 7: a reversal is not reversed
        "P2,2026-02-12,,,P3\n",       # 8: an id that is another payment's
        encoding="utf-8")
    r = book("import", "rev.csv")
    assert r.exit_code == 3, r.output
    why = rejects(tmp_path, "rev")
    assert set(why) == {"3", "4", "5", "6", "7", "8"}
    assert "unknown payment 'P9'" in why["3"]
    assert why["4"].startswith("reversed_on: 2026-02-05 is before the payment was made (2026-02-10)")
    assert why["5"].startswith("loan_id: payment P3 is on loan L2, not L1")
    assert why["6"].startswith("amount: payment P3 is of 50.00, not 10.00")
    assert "is itself the reversal of P1" in why["7"]
    assert why["8"].startswith("reversal_id: P3 is already the id of another payment")
    # the same reversal again changes nothing; another date for it is a conflict
    (tmp_path / "again.csv").write_text("payment_id,reversed_on\nP1,2026-02-05\nP1,2026-02-06\n", encoding="utf-8")
    r = book("import", "again.csv", "--format", "json")
    assert r.exit_code == 3
    (result,) = json.loads(r.stdout)["files"] if "files" in json.loads(r.stdout) else json.loads(r.stdout)
    assert (result["unchanged"], result["rejected"]) == (1, 1)
    assert "already reversed on 2026-02-05 (reversal R-P1" in rejects(tmp_path, "again")["3"]


def test_a_reversal_counts_from_its_day_and_the_card_shows_both_rows(book, tmp_path):
    (tmp_path / "rev.csv").write_text("原交易流水号,冲正日期,冲正原因\nP1,2026-02-05,退票\n", encoding="gbk")
    assert book("import", "rev.csv").exit_code == 0

    def l1(day):
        return next(a for a in json.loads(book("report", "accounts", "--as-of", day, "--format", "json").stdout)
                    if a["loan_id"] == "L1")
    assert (l1("2026-02-04")["status"], l1("2026-02-04")["dpd"]) == ("closed", 0)  # before: paid
    assert (l1("2026-02-05")["status"], l1("2026-02-05")["dpd"], l1("2026-02-05")["overdue"]) == ("open", 4, "1020.00")
    card = json.loads(book("account", "L1", "--as-of", "2026-02-06", "--format", "json").stdout)
    assert [(p["payment_id"], p["amount"], p["reverses"], p["reversed_by"]) for p in card["payments"]] == \
        [("P1", "1020.00", None, "R-P1"), ("R-P1", "-1020.00", "P1", None)]
    assert card["payments"][1]["reason"] == "退票"
    before = json.loads(book("account", "L1", "--as-of", "2026-02-04", "--format", "json").stdout)
    assert [p["payment_id"] for p in before["payments"]] == ["P1"]  # not yet reversed then


EVENTS = ("事件类型,借据号,事件日期,结束日期,核销金额,受让方,原因\n"
          "暂停计逾,L2,2026-02-10,2026-02-19,,,疫情减免\n"
          "核销,L2,2026-03-15,,870,,\n"
          "债权转让,L2,2026-04-01,,,甲资产管理公司,\n")


def test_loan_events_from_a_chinese_export_change_the_account_from_their_day(book, tmp_path):
    (tmp_path / "events.csv").write_text(EVENTS, encoding="gbk")
    r = book("import", "events.csv", "--format", "json")
    assert r.exit_code == 0, r.output

    def l2(day):
        card = json.loads(book("account", "L2", "--as-of", day, "--format", "json").stdout)
        return card["loans"][0], card["events"]
    loan, events = l2("2026-02-15")  # in the pause: calendar 14 days, 5 of them frozen (11..15)
    assert (loan["dpd"], loan["calendar_dpd"], loan["status"]) == (9, 14, "open")
    assert [(e["event"], e["in_force"]) for e in events] == [("pause", True), ("transfer", False)]
    loan, events = l2("2026-03-20")
    assert (loan["dpd"], loan["calendar_dpd"], loan["bucket"]) == (38, 47, "M2")
    assert [e["event"] for e in events] == ["pause", "write_off", "transfer"]
    loan, _ = l2("2026-04-01")
    assert (loan["status"], loan["bucket"]) == ("transferred", None)
    table = book("account", "L2", "--as-of", "2026-04-01").stdout
    assert "transferred to 甲资产管理公司 on 2026-04-01: no longer collected by this lender (XFER-1)" in " ".join(
        table.split())
    buckets = json.loads(book("report", "buckets", "--as-of", "2026-03-20", "--format", "json").stdout)
    assert buckets["written_off"] == {"accounts": 1, "overdue": "870.00", "outstanding": "870.00"}
    buckets = json.loads(book("report", "buckets", "--as-of", "2026-04-01", "--format", "json").stdout)
    assert (buckets["transferred_loans"], buckets["closed_loans"], buckets["total"]["accounts"]) == (1, 1, 0)


@pytest.mark.parametrize("row,reason", [
    ("L9,pause,2026-02-10,2026-02-19,,", "loan_id: unknown loan 'L9'"),
    ("L2,pause,2025-12-10,2026-02-19,,", "event_on: 2025-12-10 is before the loan was disbursed (2026-01-01)"),
    ("L2,pause,2026-02-15,2026-02-25,,", "overlaps the pause 2026-02-10..2026-02-19; pauses never overlap"),
    ("L2,resume,2026-03-01,,,", "no pause of loan L2 is in force on 2026-03-01 to resume"),
    ("L2,write_off,2026-03-20,,100,", "was already written off on 2026-03-15"),
    ("L2,settle,2026-04-05,,,", "the loan was transferred to 甲资产管理公司 on 2026-04-01"),
    ("L2,transfer,2026-03-01,,,乙", "was already transferred on 2026-04-01"),
    ("L2,pause,2026-03-01,,,", "until: a pause event needs its until"),
    ("L2,write_off,2026-03-01,,,", "amount: a write_off event needs its amount"),
    ("L2,transfer,2026-03-01,,,", "party: a transfer event needs its party"),
    ("L2,pause,2026-03-10,2026-03-01,,", "until: the pause ends (2026-03-01) before it starts (2026-03-10)"),
    ("L2,settle,2026-03-01,,50,", "amount: only a write-off has an amount, not a settle"),
    ("L2,forgive,2026-03-01,,,", "event: unknown event 'forgive'"),
    ("L2,write_off,2026-03-15,,999,", "event: conflict: loan L2 has a write_off on 2026-03-15 already"),
])
def test_loan_events_refused_for_what_they_cannot_be(book, tmp_path, row, reason):
    (tmp_path / "events.csv").write_text(EVENTS, encoding="gbk")
    assert book("import", "events.csv").exit_code == 0
    (tmp_path / "bad.csv").write_text(f"loan_id,event,event_on,until,amount,party\n{row}\n", encoding="utf-8")
    r = book("import", "bad.csv")
    assert r.exit_code == 3, r.output
    assert reason in rejects(tmp_path, "bad")["2"]


def test_the_same_events_again_change_nothing(book, tmp_path):
    (tmp_path / "events.csv").write_text(EVENTS, encoding="gbk")
    assert book("import", "events.csv").exit_code == 0
    r = book("import", "events.csv", "--force", "--format", "json")
    assert r.exit_code == 0, r.output
    assert '"unchanged": 3' in r.stdout


def test_the_next_bureau_file_corrects_a_report_a_reversal_or_a_late_payment_proved_wrong(cli, tmp_path):
    """REC-2: L1 paid 50 before the 03-20 file and the payment bounced after it; L3's payment
    of 03-18 was imported only after the file. The 04-10 file corrects both days' figures
    (as the ledger now knows them), once; L4's report was right and is not corrected."""
    from tests.cli.conftest import INSTALLMENTS, LOANS
    from tests.cli.ledger_book import pay, run, send

    for name, content in (("loans.csv", LOANS), ("inst.csv", INSTALLMENTS)):
        (tmp_path / name).write_text(content, encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv")).exit_code == 0
    run(cli, "2026-03-05")
    send(cli, "2026-03-05T09:00")  # the M2 letters, the REC-2 pre-notice
    send(cli, "2026-03-06T00:30")  # L3's, in Los Angeles
    pay(cli, tmp_path, "P1,L1,2026-03-15,50")

    def export(day):
        path = tmp_path / f"bureau-{day}.csv"
        r = cli("bureau", "export", "--as-of", day, "--output", str(path))
        assert r.exit_code == 0, r.stderr
        with open(path, encoding="utf-8-sig", newline="") as f:
            return {(row["record"], row["loan_id"]): row for row in csv.DictReader(f)}, r.stderr
    first, _ = export("2026-03-20")
    assert first[("report", "L1")]["overdue"] == "160.00"
    assert first[("report", "L3")]["overdue"] == "210.00"

    (tmp_path / "rev.csv").write_text("payment_id,reversed_on\nP1,2026-03-25\n", encoding="utf-8")
    assert cli("import", str(tmp_path / "rev.csv")).exit_code == 0
    pay(cli, tmp_path, "P2,L3,2026-03-18,105")  # dated before the file, imported after it
    second, note = export("2026-04-10")
    corrections = {k[1]: r for k, r in second.items() if k[0] == "correction"}
    assert set(corrections) == {"L1", "L3"}
    assert (corrections["L1"]["as_of"], corrections["L1"]["overdue"]) == ("2026-03-20", "210.00")
    assert (corrections["L3"]["as_of"], corrections["L3"]["overdue"], corrections["L3"]["dpd"]) == \
        ("2026-03-20", "105.00", "20")  # the first installment paid: 20 days past the second's due date
    assert second[("report", "L1")]["as_of"] == "2026-04-10"
    assert "2 corrections" in note
    third, _ = export("2026-04-20")  # what the bureau holds now is the 04-10 report: nothing to correct
    assert not [k for k in third if k[0] == "correction"]
    audit = [a["action"] for a in json.loads(cli("audit", "--format", "json", "--limit", "0").stdout)]
    assert audit.count("bureau correction") == 2


def test_a_disputed_account_waits_for_its_correction(cli, tmp_path):
    from tests.cli.conftest import INSTALLMENTS, LOANS
    from tests.cli.ledger_book import pay, run, send

    for name, content in (("loans.csv", LOANS), ("inst.csv", INSTALLMENTS)):
        (tmp_path / name).write_text(content, encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv")).exit_code == 0
    run(cli, "2026-03-05")
    send(cli, "2026-03-05T09:00")
    pay(cli, tmp_path, "P1,L1,2026-03-15,50")
    assert cli("bureau", "export", "--as-of", "2026-03-20", "--output", str(tmp_path / "b1.csv")).exit_code == 0
    (tmp_path / "rev.csv").write_text("payment_id,reversed_on\nP1,2026-03-25\n", encoding="utf-8")
    assert cli("import", str(tmp_path / "rev.csv")).exit_code == 0
    assert cli("hold", "L1", "--reason", "dispute", "--by", "li", "--now", "2026-03-26T10:00").exit_code == 0
    r = cli("bureau", "export", "--as-of", "2026-04-10", "--output", str(tmp_path / "b2.csv"), "--format", "json")
    held = {(h["record"], h["loan_id"]): h["reason"] for h in json.loads(r.stdout)}
    assert held[("correction", "L1")].startswith("HOLD-1")


def test_a_complete_schedule_retires_rows_from_its_day_and_replays_keep_the_old(cli, tmp_path):
    """An early settlement as the core system exports it: L1's schedule becomes two rows from
    02-10 (the second, the principal left and a month's interest, due on the quote's day
    02-05); its third row goes to history. Before 02-10 every path sees three rows (nothing
    overdue on 02-09), from it two."""
    from collect_cli.services.analytics import positions_on

    for name, lines in (("loans", LOANS), ("inst", ["loan_id,seq,due_on,principal_due,interest_due",
                                                     "L1,1,2026-01-31,100,5", "L1,2,2026-02-28,100,5",
                                                     "L1,3,2026-03-31,100,5", "L2,1,2026-02-01,1000,20"]),
                        ("pay", ["payment_id,loan_id,paid_on,amount", "P1,L1,2026-01-30,105", "P2,L1,2026-02-10,205"])):
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli("import", "loans.csv", "inst.csv", "pay.csv").exit_code == 0
    (tmp_path / "settled.csv").write_text("loan_id,seq,due_on,principal_due,interest_due\n"
                                          "L1,1,2026-01-31,100,5\nL1,2,2026-02-05,200,5\n", encoding="utf-8")
    assert cli("import", "settled.csv", "--effective-on", "2026-02-10").exit_code == 2  # only with the flag
    r = cli("import", "settled.csv", "--complete-schedule", "--effective-on", "2026-02-10", "--format", "json")
    assert r.exit_code == 0, r.output
    (result,) = json.loads(r.stdout)
    assert (result["inserted"], result["updated"], result["unchanged"]) == (0, 2, 1)  # seq 2 changed, seq 3 retired

    def l1(day):
        card = json.loads(cli("account", "L1", "--as-of", day, "--format", "json").stdout)
        return card["loans"][0], [(s["seq"], s["due_on"], s["due"]) for s in card["schedule"]]
    loan, schedule = l1("2026-02-09")
    assert (loan["status"], loan["dpd"], loan["outstanding"]) == ("open", 0, "200.00")
    assert schedule == [(1, "2026-01-31", "105.00"), (2, "2026-02-28", "105.00"), (3, "2026-03-31", "105.00")]
    loan, schedule = l1("2026-02-11")
    assert loan["status"] == "closed"
    assert schedule == [(1, "2026-01-31", "105.00"), (2, "2026-02-05", "205.00")]
    engine = open_engine(cli.db)
    with engine.connect() as conn:
        replay = {b.loan_id: p for b, p in positions_on(conn, [date(2026, 2, 9), date(2026, 2, 11)],
                                                        settings=Settings())}["L1"]
    engine.dispose()
    assert [(p.status, p.dpd, p.outstanding) for p in replay] == [("open", 0, 200_00), ("closed", 0, 0)]
    again = cli("import", "settled.csv", "--complete-schedule", "--effective-on", "2026-02-10")
    assert again.exit_code == 0 and "already imported" in again.stderr


def test_a_complete_schedule_with_a_rejected_row_writes_nothing(cli, tmp_path):
    for name, lines in (("loans", LOANS), ("inst", ["loan_id,seq,due_on,principal_due,interest_due",
                                                     "L1,1,2026-01-31,100,5", "L1,2,2026-02-28,100,5"])):
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert cli("import", "loans.csv", "inst.csv").exit_code == 0
    (tmp_path / "cs.csv").write_text("loan_id,seq,due_on,principal_due,interest_due\n"
                                     "L1,1,2026-01-31,100,5\nL1,2,2026-02-28,abc,5\n", encoding="utf-8")
    r = cli("import", "cs.csv", "--complete-schedule", "--effective-on", "2026-02-10")
    assert r.exit_code == 2 and "1 row(s) are rejected" in r.stderr
    card = json.loads(cli("account", "L1", "--as-of", "2026-03-01", "--format", "json").stdout)
    assert [s["seq"] for s in card["schedule"]] == [1, 2]  # seq 2 was not retired


def test_rejects_of_reversals_and_events_go_round(book, tmp_path):
    """Their own `reason` column and the rejects file's `reason` do not collide, and the old
    rejection text is not stored as the reversal's reason."""
    (tmp_path / "rev.csv").write_text("payment_id,reversed_on,reason\nP2,2026-02-05,退票\n", encoding="utf-8")
    assert book("import", "rev.csv").exit_code == 3
    fixed = (tmp_path / "rev.rejects.csv").read_text(encoding="utf-8").replace("2026-02-05", "2026-02-12")
    (tmp_path / "rev.rejects.csv").write_text(fixed, encoding="utf-8")
    r = book("import", str(tmp_path / "rev.rejects.csv"))
    assert r.exit_code == 0, r.stderr
    card = json.loads(book("account", "L2", "--as-of", "2026-02-12", "--format", "json").stdout)
    assert [p["reason"] for p in card["payments"] if p["reverses"]] == ["退票"]
    (tmp_path / "ev.csv").write_text("loan_id,event,event_on,until,原因\nL2,pause,2026-02-10,,疫情\n", encoding="utf-8")
    assert book("import", "ev.csv").exit_code == 3
    fixed = (tmp_path / "ev.rejects.csv").read_text(encoding="utf-8").replace("2026-02-10,,", "2026-02-10,2026-02-19,")
    (tmp_path / "ev.rejects.csv").write_text(fixed, encoding="utf-8")
    assert book("import", str(tmp_path / "ev.rejects.csv")).exit_code == 0


def test_a_loans_events_are_judged_in_date_order(book, tmp_path):
    (tmp_path / "ev.csv").write_text("loan_id,event,event_on,until,party\n"
                                     "L2,resume,2026-03-05,,\nL2,pause,2026-02-20,2026-03-20,\n"
                                     "L1,transfer,2026-03-15,,甲\nL1,settle,2026-03-01,,\n", encoding="utf-8")
    r = book("import", "ev.csv", "--format", "json")
    assert r.exit_code == 3, r.output
    why = rejects(tmp_path, "ev")
    assert list(why) == ["4"] and "the loan was settled early on 2026-03-01" in why["4"]  # the sale came after it
    loan = json.loads(book("account", "L2", "--as-of", "2026-03-25", "--format", "json").stdout)["loans"][0]
    assert (loan["calendar_dpd"], loan["dpd"]) == (52, 39)  # the resume, listed first, ended the pause: 02-21..03-05
