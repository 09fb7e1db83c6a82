"""Legal cases end to end: the lawyer's letter, stages moving forward with court, case
number, costs and awards, the stage deciding contact, SAY-8 facts, and the report."""

from __future__ import annotations

import json

from tests.cli.ledger_book import outbox, pay, run, send


def test_from_the_lawyers_letter_to_judgment(cli, book, tmp_path):
    run(cli, "2026-03-03")  # M2: the strategy's messages
    assert {m["step"] for m in outbox(cli, "L1") if m["status"] == "queued"} == {"m2_notice", "m2_letter"}
    r = cli("legal", "open", "L1", "--lawyer", "上海市浦江律师事务所", "--now", "2026-03-10T09:00")
    assert r.exit_code == 0 and "legal case 1" in r.stderr
    assert cli("legal", "open", "L1", "--now", "2026-03-10T09:01").exit_code == 2  # one open case per loan
    assert cli("legal", "letter", "1", "--now", "2026-03-10T09:10").exit_code == 0
    send(cli, "2026-03-10T10:00")
    [letter] = [m for m in outbox(cli, "L1") if m["step"] == "lawyer_letter"]
    assert letter["status"] == "sent"
    assert cli("legal", "stage", "1", "--stage", "filed", "--court", "上海市黄浦区人民法院", "--cost", "1,250",
               "--on", "2026-03-12", "--now", "2026-03-12T09:00").exit_code == 0
    run(cli, "2026-04-02")  # M3, filed: the automated reminders stop (legal.stop_automated_from)
    m3 = [m for m in outbox(cli, "L1") if m["step"] in ("m3_final", "m3_sms")]
    assert len(m3) == 2 and all(m["reason"].startswith("LEGAL") for m in m3)
    for bad in (["--stage", "letter"], ["--stage", "filed"], ["--stage", "accepted", "--on", "2026-03-01"],
                ["--stage", "hearing", "--on", "2099-01-01"], ["--stage", "won"],
                ["--stage", "judgment", "--awarded", "1e309"]):
        assert cli("legal", "stage", "1", *bad, "--now", "2026-04-10T09:00").exit_code == 2, bad
    for stage, on, extra in (("accepted", "2026-04-15", ["--case-number", "(2026)沪0101民初1234号"]),
                             ("hearing", "2026-05-20", []), ("judgment", "2026-06-10", ["--awarded", "345.60"])):
        assert cli("legal", "stage", "1", "--stage", stage, "--on", on, *extra,
                   "--now", f"{on}T09:00").exit_code == 0
    shown = json.loads(cli("legal", "show", "1", "--as-of", "2026-06-10", "--format", "json").stdout)
    assert (shown["stage"], shown["costs"], shown["awarded"]) == ("judgment", "1250.00", "345.60")
    assert [s["stage"] for s in shown["stages"]] == ["letter", "filed", "accepted", "hearing", "judgment"]
    past = json.loads(cli("legal", "show", "1", "--as-of", "2026-04-02", "--format", "json").stdout)
    assert past["stage"] == "filed"  # a past view shows what was recorded by then
    pay(cli, tmp_path, "P1,L1,2026-06-20,100")
    rep = json.loads(cli("report", "legal", "--as-of", "2026-06-30", "--format", "json").stdout)
    assert rep["stages"] == [{"stage": "judgment", "cases": 1, "avg_age_days": 112, "costs": "1250.00",
                              "awarded": "345.60", "recovered": "100.00"}]
    assert rep["cases"][0]["case_number"] == "(2026)沪0101民初1234号"
    audit = [a["action"] for a in json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)]
    assert audit.count("legal stage") == 5 and "legal open" in audit


def test_calls_stop_from_the_configured_stage_and_a_letter_claims_only_what_is_recorded(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text('[legal]\nstop_calls_from = "judgment"\n', encoding="utf-8")
    conf = ["--config", str(tmp_path / "collect.toml")]
    cli(*conf, "legal", "open", "L1", "--lawyer", "Pujiang Law Firm", "--now", "2026-04-05T09:00")
    cli(*conf, "legal", "stage", "1", "--stage", "filed", "--now", "2026-04-05T09:05")
    assert cli(*conf, "log", "L1", "--channel", "call", "--outcome", "reached",
               "--now", "2026-04-05T10:00").exit_code == 0  # calls go on until judgment
    cli(*conf, "legal", "stage", "1", "--stage", "judgment", "--now", "2026-04-06T09:00")
    r = cli(*conf, "log", "L1", "--channel", "call", "--outcome", "reached", "--now", "2026-04-06T10:00")
    assert r.exit_code == 6 and "LEGAL" in r.stderr
    (tmp_path / "bad.toml").write_text('[legal]\nstop_calls_from = "soon"\n', encoding="utf-8")
    assert cli("--config", str(tmp_path / "bad.toml"), "legal", "show", "1").exit_code == 2


def test_no_lawyers_letter_without_a_law_firm_or_on_a_time_barred_debt(cli, book):
    cli("legal", "open", "L1", "--now", "2026-04-05T09:00")
    r = cli("legal", "letter", "1", "--now", "2026-04-05T09:10")
    assert r.exit_code == 2 and "law firm" in r.stderr
    cli("legal", "open", "L3", "--lawyer", "Pujiang Law Firm", "--now", "2029-06-01T09:00")  # 3 years after due
    r = cli("legal", "letter", "2", "--now", "2029-06-01T09:10")
    assert r.exit_code == 6 and "SAY-7" in r.stderr


def test_legal_cases_only_on_debts_still_ours_letters_sent_again_and_the_report_counts_only_its_days(
        cli, book, tmp_path):
    transfer = tmp_path / "events.csv"
    transfer.write_text("loan_id,event,event_on,party\nL5,transfer,2026-03-01,华融\n", encoding="utf-8")
    assert cli("import", str(transfer)).exit_code == 0
    r = cli("legal", "open", "L5", "--lawyer", "X", "--now", "2026-04-05T09:00")
    assert r.exit_code == 6 and "XFER-1" in r.stderr
    pay(cli, tmp_path, "P0,L1,2026-03-01,100")  # before the case: not its recovery
    cli("legal", "open", "L1", "--lawyer", "Pujiang Law Firm", "--now", "2026-04-05T09:00")
    assert cli("legal", "stage", "1", "--stage", "filed", "--awarded", "100", "--now", "2026-04-05T09:01").exit_code == 2
    assert cli("legal", "letter", "1", "--now", "2026-04-05T09:10").exit_code == 0
    cli("hold", "L1", "--reason", "legal", "--note", "represented by a lawyer", "--now", "2026-04-05T09:20")
    send(cli, "2026-04-05T10:00")  # HOLD-3: the letter is cancelled
    assert cli("legal", "letter", "1", "--now", "2026-04-05T10:10").exit_code == 6  # still held
    cli("release", "L1", "--reason", "legal", "--now", "2026-04-05T10:20")
    assert cli("legal", "letter", "1", "--now", "2026-04-05T10:30").exit_code == 0  # sent again, a new letter
    rev = tmp_path / "rev.csv"
    rev.write_text("payment_id,reversed_on\nP0,2026-04-10\n", encoding="utf-8")
    assert cli("import", str(rev)).exit_code == 0
    pay(cli, tmp_path, "P1,L1,2026-04-12,50")
    rep = json.loads(cli("report", "legal", "--as-of", "2026-04-30", "--format", "json").stdout)
    assert rep["cases"][0]["recovered"] == "50.00"  # the reversal of a payment from before the case is not its
