"""Placements end to end (AGY-1..3): the borrower is told first, placed only after the notice
period, automated messages stop while placed, payments during the placement are the agency's
(the recall day is the lender's), recalls by date, hold, repayment or hand, and the statement."""

from __future__ import annotations

import csv
import json

from tests.cli.ledger_book import outbox, pay, run, send


def agency(cli, name: str = "Acme", on: str = "2026-03-01") -> None:
    assert cli("agencies", "add", name, "--contract-start", "2026-01-01", "--contract-end", "2026-12-31",
               "--commission", "M1=10%,M2=15%,M3=20%,M4=25%,M5=25%,M6=25%,M7+=30%",
               "--now", f"{on}T09:00").exit_code == 0
    assert cli("agencies", "evaluate", name, "--compliance", "pass", "--results", "pass", "--security", "pass",
               "--now", f"{on}T09:05").exit_code == 0


def placements(cli, as_of: str) -> dict[str, dict]:
    r = cli("placements", "list", "--as-of", as_of, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return {p["loan_id"]: p for p in json.loads(r.stdout)}


def test_told_first_placed_after_the_notice_period_paid_to_the_agency_until_recalled(cli, book, tmp_path):
    agency(cli)
    for loan in ("L1", "L2"):
        assert cli("escalate", loan, "--stage", "agency", "--agency", "Acme",
                   "--now", "2026-04-05T09:00").exit_code == 0
    r = cli("placements", "propose", "--agency", "Acme", "--as-of", "2026-04-05", "--now", "2026-04-05T09:05",
            "--format", "json")
    assert r.exit_code == 0, r.stderr
    got = {x["loan_id"]: x for x in json.loads(r.stdout)}
    assert got["L1"]["notice"] and "ADDR" in got["L2"]["left_out"]  # L2 has no address for the letter
    out = tmp_path / "acme.csv"
    r = cli("placements", "place", "--agency", "Acme", "--output", str(out), "--now", "2026-04-06T09:00")
    assert r.exit_code == 0 and "not sent" in r.stdout  # AGY-1: told first
    send(cli, "2026-04-05T10:00")
    r = cli("placements", "place", "--agency", "Acme", "--output", str(out), "--now", "2026-04-11T09:00")
    assert "less than 7 days" in r.stdout
    r = cli("placements", "place", "--agency", "Acme", "--output", str(out), "--now", "2026-04-12T09:00")
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(open(out, encoding="utf-8-sig")))
    assert [x["loan_id"] for x in rows] == ["L1"] and "address" not in rows[0]  # AGY-3: only what it needs
    p = placements(cli, "2026-04-12")["L1"]
    assert (p["status"], p["placed_on"], p["bucket"], p["rate"], p["recall_on"]) == \
        ("placed", "2026-04-12", "M3", "20%", "2026-07-11")
    run(cli, "2026-04-13")
    assert all(m["reason"].startswith("PLACED") for m in outbox(cli, "L1") if m["as_of"] == "2026-04-13")
    pay(cli, tmp_path, "P1,L1,2026-04-12,50", "P2,L1,2026-04-20,30", "P3,L1,2026-04-25,20")
    assert cli("placements", "recall", "L1", "--reason", "borrower asked", "--now", "2026-04-20T09:00").exit_code == 0
    st = json.loads(cli("placements", "statement", "--agency", "Acme", "--month", "2026-04", "--format", "json").stdout)
    # the placement day's payment is the agency's; the recall day's and later are the lender's
    assert st["accounts"] == [{"loan_id": "L1", "placed_on": "2026-04-12", "bucket": "M3", "dpd": 71, "rate": "20%",
                               "recovered": "50.00", "commission": "10.00"}]
    assert st["total"] == {"recovered": "50.00", "commission": "10.00"}
    # recalled, it may be placed again, with another agency
    agency(cli, "Beta")
    assert cli("escalate", "L1", "--stage", "agency", "--agency", "Beta", "--now", "2026-04-21T09:00").exit_code == 0
    r = cli("placements", "propose", "--agency", "Beta", "--as-of", "2026-04-21", "--now", "2026-04-21T09:05")
    assert r.exit_code == 0 and "1 notices queued" in r.stdout


def test_the_nightly_run_recalls_on_a_hold_and_on_repayment(cli, book, tmp_path):
    agency(cli)
    for loan in ("L1", "L3"):
        cli("escalate", loan, "--stage", "agency", "--agency", "Acme", "--now", "2026-04-05T09:00")
    cli("placements", "propose", "--agency", "Acme", "--as-of", "2026-04-05", "--now", "2026-04-05T09:05")
    send(cli, "2026-04-06T10:00")  # in Shanghai: 19:00 on 04-05 in Los Angeles (L3)
    r = cli("placements", "place", "--agency", "Acme", "--output", str(tmp_path / "a.csv"), "--now", "2026-04-13T09:00")
    assert r.exit_code == 0 and "2 placed" in r.stderr, r.stdout + r.stderr
    assert cli("log", "L1", "--channel", "sms-reply", "--outcome", "reached", "--note", "金额不对",
               "--now", "2026-04-14T09:00").exit_code == 0  # a dispute: a case and its hold
    pay(cli, tmp_path, "P9,L3,2026-04-14,315")  # L3 repaid in full
    summary = run(cli, "2026-04-15")
    assert summary["placements_recalled"] == 2
    got = placements(cli, "2026-04-15")
    assert got["L1"]["status"] == "recalled"
    assert got["L1"]["reason"].startswith("it may no longer go to an agency: HOLD-1")
    assert got["L3"]["status"] == "recalled" and got["L3"]["reason"] == "repaid: no longer past due"


def test_no_proposal_to_an_agency_not_allowed_new_placements_and_no_second_placement(cli, book):
    r = cli("placements", "propose", "--agency", "Acme", "--now", "2026-04-05T09:05")
    assert r.exit_code == 6 and "AGY-2" in r.stderr
    agency(cli)
    cli("escalate", "L1", "--stage", "agency", "--agency", "Acme", "--now", "2026-04-05T09:00")
    cli("placements", "propose", "--agency", "Acme", "--as-of", "2026-04-05", "--now", "2026-04-05T09:05")
    r = cli("placements", "propose", "--agency", "Acme", "--as-of", "2026-04-06", "--now", "2026-04-06T09:05",
            "--format", "json")
    assert json.loads(r.stdout) == [{"loan_id": "L1", "placement": None, "notice": None,
                                     "left_out": "proposed with Acme already"}]


def test_the_agencies_report_evaluates_results_commission_and_complaints(cli, book, tmp_path):
    agency(cli)
    for loan in ("L1", "L3"):
        cli("escalate", loan, "--stage", "agency", "--agency", "Acme", "--now", "2026-04-05T09:00")
    cli("placements", "propose", "--agency", "Acme", "--as-of", "2026-04-05", "--now", "2026-04-05T09:05")
    send(cli, "2026-04-06T10:00")
    cli("placements", "place", "--agency", "Acme", "--output", str(tmp_path / "a.csv"), "--now", "2026-04-13T09:00")
    pay(cli, tmp_path, "P1,L1,2026-04-14,100")
    assert cli("case", "open", "L3", "--kind", "complaint", "--summary", "agency called at night",
               "--now", "2026-04-15T09:00").exit_code == 0
    r = cli("report", "agencies", "--from", "2026-04-01", "--to", "2026-04-30", "--format", "json")
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.stdout)
    [acme] = got["agencies"]
    # L1 M3 (75 days: 3 x 105 overdue = 315), L3 M3 too: 630 placed; 100 recovered at 20%
    assert (acme["placed"], acme["amount_placed"], acme["recovered"], acme["commission"], acme["complaints"]) == \
        (2, "630.00", "100.00", "20.00", 1)
    assert got["buckets"] == [{"agency": "Acme", "bucket": "M3", "placed": 2, "amount_placed": "630.00",
                               "recovered": "100.00", "recovery_rate": "15.87"}]


def test_placements_end_with_the_agency_and_never_overlap(cli, book, tmp_path):
    agency(cli)  # contract to 2026-12-31
    agency(cli, "Beta")
    assert cli("escalate", "L3", "--stage", "agency", "--agency", "Beta", "--now", "2026-04-05T08:00").exit_code == 0
    cli("legal", "open", "L4", "--lawyer", "Pujiang Law Firm", "--now", "2026-04-05T08:00")
    cli("escalate", "L1", "--stage", "agency", "--agency", "Acme", "--now", "2026-04-05T08:30")
    r = cli("placements", "propose", "--agency", "Acme", "--as-of", "2026-04-05", "--now", "2026-04-05T09:05",
            "--loan", "L1", "--loan", "L3", "--loan", "L4", "--format", "json")
    got = {x["loan_id"]: x["left_out"] for x in json.loads(r.stdout)}
    assert got["L1"] is None and got["L3"] == "escalated to Beta" and got["L4"] == "a legal case is open"
    send(cli, "2026-04-05T10:00")
    cli("placements", "place", "--agency", "Acme", "--output", str(tmp_path / "a.csv"), "--now", "2026-12-01T09:00")
    assert placements(cli, "2026-12-01")["L1"]["recall_on"] == "2027-01-01"  # not after the contract
    assert cli("agencies", "edit", "Acme", "--status", "removed", "--now", "2026-12-02T09:00").exit_code == 0
    run(cli, "2026-12-03")
    got = placements(cli, "2026-12-03")["L1"]
    assert got["status"] == "recalled" and "no contract in force (removed)" in got["reason"]
    r = cli("placements", "statement", "--agency", "Acme", "--month", "9999-12")
    assert r.exit_code == 2 and "Traceback" not in r.stderr


def test_a_proposal_whose_notice_was_cancelled_is_proposed_again_and_views_keep_their_day(cli, book, tmp_path):
    agency(cli)
    cli("escalate", "L1", "--stage", "agency", "--agency", "Acme", "--now", "2026-04-05T08:00")
    cli("placements", "propose", "--agency", "Acme", "--as-of", "2026-04-05", "--now", "2026-04-05T09:05")
    send(cli, "2026-04-08T10:00")  # three days late: the figures are too old (AMT-1), cancelled
    assert placements(cli, "2026-04-05")["L1"]["notice"] == "queued"  # as it stood that day
    assert placements(cli, "2026-04-08")["L1"]["notice"] == "cancelled"
    r = cli("placements", "propose", "--agency", "Acme", "--as-of", "2026-04-08", "--now", "2026-04-08T10:05",
            "--format", "json")
    assert json.loads(r.stdout)[0]["notice"] is not None  # a new proposal, the old one cancelled
    statuses = sorted(p["status"] for p in json.loads(cli("placements", "list", "--format", "json").stdout))
    assert statuses == ["cancelled", "proposed"]


def test_a_reversal_after_the_recall_claws_back_the_commission(cli, book, tmp_path):
    from tests.cli.ledger_book import placed

    agency(cli)
    placed(cli, tmp_path, "L1", on="2026-04-05")  # placed on 04-12, M3: 20%
    pay(cli, tmp_path, "X1,L1,2026-04-20,100")
    cli("placements", "recall", "L1", "--reason", "borrower asked", "--now", "2026-04-25T09:00")
    rev = tmp_path / "rev.csv"
    rev.write_text("payment_id,reversed_on\nX1,2026-05-03\n", encoding="utf-8")
    assert cli("import", str(rev)).exit_code == 0

    def month(m):
        return json.loads(cli("placements", "statement", "--agency", "Acme", "--month", m, "--format", "json").stdout)
    assert month("2026-04")["total"] == {"recovered": "100.00", "commission": "20.00"}
    assert month("2026-05")["total"] == {"recovered": "-100.00", "commission": "-20.00"}


def test_two_placement_commands_never_run_at_once(cli, book, tmp_path):
    from collect_cli.store.database import open_engine
    from collect_cli.store.locks import run_lock

    agency(cli)
    engine = open_engine(cli.db)
    try:
        with run_lock(engine, "placements"):
            r = cli("placements", "place", "--agency", "Acme", "--output", str(tmp_path / "a.csv"),
                    "--now", "2026-04-12T09:00")
            assert r.exit_code == 4 and "another `placements`" in r.stderr
    finally:
        engine.dispose()


def test_an_agencys_calls_count_with_ours_and_breaches_are_recorded_for_its_evaluation(cli, book, tmp_path):
    from tests.cli.ledger_book import placed

    agency(cli)
    placed(cli, tmp_path, "L1", on="2026-04-05")  # placed on 04-12
    assert cli("log", "L1", "--channel", "call", "--outcome", "reached", "--now", "2026-04-13T09:00").exit_code == 0
    f = tmp_path / "acme.csv"
    f.write_text("借据号,联系时间,方式,结果,催收员,录音编号\n"
                 "L1,2026-04-13 10:00,电话,reached,A01,REC-1\n"
                 "L1,2026-04-13 11:00,call,reached,A02,REC-2\n"
                 "L1,2026-04-13 12:00,call,reached,A01,REC-3\n"  # the 4th connected call that day: WHEN-2
                 "L1,2026-04-13 22:30,call,no-answer,A01,\n", encoding="utf-8")  # outside the window: WHEN-1
    r = cli("placements", "activity", str(f), "--agency", "Acme", "--now", "2026-04-14T09:00")
    assert r.exit_code == 0, r.stderr
    assert "4 contacts recorded, 2 breaching" in r.stderr and "WHEN-2" in r.stderr and "WHEN-1" in r.stderr
    rep = json.loads(cli("report", "agencies", "--from", "2026-04-01", "--to", "2026-04-30", "--format", "json").stdout)
    assert (rep["agencies"][0]["contacts"], rep["agencies"][0]["breaches"]) == (4, 2)
    card = json.loads(cli("account", "L1", "--as-of", "2026-04-14", "--format", "json", "--show-pii").stdout)
    assert [(c["agency"], c["agent"], c["recording"], (c["breach"] or "")[:6]) for c in card["contacts"]][-4:] == [
        ("Acme", "A01", "REC-1", ""), ("Acme", "A02", "REC-2", ""), ("Acme", "A01", "REC-3", "WHEN-2"),
        ("Acme", "A01", None, "WHEN-1")]  # REC-3: each names its recording
    r = cli("placements", "activity", str(f), "--agency", "Acme", "--now", "2026-04-14T09:30")
    assert "0 contacts recorded" in r.stderr  # the same file again records nothing twice
    # the agency's calls count against this lender's too (WHEN-2)
    r = cli("log", "L1", "--channel", "call", "--outcome", "reached", "--now", "2026-04-13T15:00")
    assert r.exit_code == 6 and "WHEN-2" in r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("loan_id,at,channel,outcome\nL3,2026-04-13 10:00,call,reached\n", encoding="utf-8")
    r = cli("placements", "activity", str(bad), "--agency", "Acme", "--now", "2026-04-14T09:00")
    assert r.exit_code == 2 and "line 2: loan_id: L3 was not placed with Acme" in r.stderr


def test_the_recall_date_brings_the_account_back(cli, book, tmp_path):
    from tests.cli.ledger_book import placed

    (tmp_path / "collect.toml").write_text("[placements]\nterm_days = 10\n", encoding="utf-8")
    conf = ["--config", str(tmp_path / "collect.toml")]
    agency(cli)
    placed(lambda *a: cli(*conf, *a), tmp_path, "L1", on="2026-04-05")  # placed on 04-12: back on 04-22
    assert placements(cli, "2026-04-12")["L1"]["recall_on"] == "2026-04-22"
    assert run(lambda *a: cli(*conf, *a), "2026-04-21")["placements_recalled"] == 0
    assert run(lambda *a: cli(*conf, *a), "2026-04-22")["placements_recalled"] == 1
    assert placements(cli, "2026-04-22")["L1"]["reason"] == "the recall date 2026-04-22 came"
    assert cli(*conf, "placements", "propose", "--agency", "Acme", "--loan", "L1", "--as-of", "2026-04-23",
               "--now", "2026-04-23T09:05").exit_code == 0  # and it may be placed again


def test_an_agencys_dispute_opens_a_case_and_its_calls_are_judged_on_what_came_before(cli, book, tmp_path):
    from tests.cli.ledger_book import placed

    agency(cli)
    placed(cli, tmp_path, "L1", "L4", on="2026-04-05")
    for at in ("15:00", "15:10", "15:20"):  # this lender's calls, after the agency's morning call
        cli("log", "L4", "--channel", "call", "--outcome", "reached", "--now", f"2026-04-13T{at}")
    f = tmp_path / "acme.csv"
    f.write_text("loan_id,at,channel,outcome,number,note\n"
                 "L1,2026-04-13 10:00,call,dispute,,says it is not her loan\n"
                 "L4,2026-04-13 10:00,call,reached,,\n"  # the first call of L4's day: no breach
                 "L4,2026-04-13 10:30,call,no-answer,13912345678,called her mother\n", encoding="utf-8")
    r = cli("placements", "activity", str(f), "--agency", "Acme", "--now", "2026-04-14T09:00")
    assert r.exit_code == 0, r.stderr
    assert "3 contacts recorded, 1 breaching" in r.stderr and "WHO-3" in r.stderr  # not the borrower's number
    [c] = json.loads(cli("cases", "--as-of", "2026-04-14", "--format", "json").stdout)
    assert (c["loan_id"], c["kind"], c["received_on"]) == ("L1", "dispute", "2026-04-13")  # HOLD-1 with it
