"""XFER-1: a loan sold to another creditor is told of it before (the transfer notice), and from
the transfer day gets no contact from this lender on any path: the nightly run, send, calls,
the queue."""

from __future__ import annotations

import json

from tests.cli.ledger_book import outbox, pay, run, send

SOLD = "loan_id,event,event_on,party\nL1,transfer,2026-03-05,上海浦江资产管理股份有限公司\n"


def sell(cli, book):
    (book / "events.csv").write_text(SOLD, encoding="utf-8")
    assert cli("import", str(book / "events.csv")).exit_code == 0


def test_the_borrower_is_told_before_and_nothing_else_goes_after(cli, book):
    sell(cli, book)
    run(cli, "2026-02-01")  # L1 one day past due, its sale known
    first = {m["step"]: m for m in outbox(cli, "L1")}
    assert first["transfer_sms"]["status"] == "queued"
    assert first["m1_notice"]["reason"].startswith("WHEN-5")  # the notice has the day's SMS
    assert first["transfer_letter"]["status"] == "queued"
    send(cli, "2026-02-01T09:00")
    assert {m["step"]: m["status"] for m in outbox(cli, "L1")}["transfer_sms"] == "sent"
    body = json.loads(cli("outbox", "show", str(first["transfer_sms"]["id"]), "--format", "json").stdout)["body"]
    assert "上海浦江资产管理股份有限公司" in body and "2026-03-05" in body

    run(cli, "2026-03-04")  # the day before: still this lender's, the M2 letter is queued
    letter = next(m for m in outbox(cli, "L1") if m["step"] == "m2_letter")
    assert letter["status"] == "queued"
    send(cli, "2026-03-05T09:30")  # the transfer day
    letter = next(m for m in outbox(cli, "L1") if m["step"] == "m2_letter")
    assert (letter["status"], letter["reason"].split(":")[0]) == ("cancelled", "XFER-1")

    before = len(outbox(cli, "L1"))
    run(cli, "2026-03-10")
    assert len(outbox(cli, "L1")) == before  # the run asks nothing for it, once sold
    assert "transfer_sms" not in {m["step"] for m in outbox(cli, "L1") if m["as_of"] == "2026-03-10"}


def test_no_call_about_a_sold_debt_not_even_overridden(cli, book):
    sell(cli, book)
    for extra in ([], ["--override", "the borrower called us"]):
        r = cli("log", "L1", "--channel", "call", "--outcome", "reached", "--now", "2026-03-06T10:00",
                "--agent", "wang", *extra)
        assert r.exit_code == 6 and "XFER-1" in r.stderr, r.stderr
    r = cli("log", "L1", "--channel", "call", "--outcome", "reached", "--now", "2026-03-04T10:00", "--agent", "wang")
    assert r.exit_code == 0, r.stderr  # the day before it was still ours


def test_the_queue_leaves_out_a_sold_loan(cli, book):
    sell(cli, book)

    def queued(day):
        q = json.loads(cli("queue", "--as-of", day, "--now", f"{day}T02:00", "--limit", "0", "--format", "json").stdout)
        return {e["loan_id"] for e in q}
    assert "L1" in queued("2026-03-04")
    assert "L1" not in queued("2026-03-05")


def test_a_configured_transfer_step_takes_no_bucket(cli, book, tmp_path):
    (tmp_path / "bad.toml").write_text('[[strategy]]\nstep = "t"\npurpose = "transfer_notice"\nchannel = "sms"\n'
                                       'template = "transfer_notice"\nbucket = "M1"\n', encoding="utf-8")
    r = cli("--config", str(tmp_path / "bad.toml"), "run-reminders", "--as-of", "2026-02-01", "--now",
            "2026-02-01T02:00")
    assert r.exit_code == 2 and "strategy[1].bucket" in r.stderr and "takes no bucket" in r.stderr


def test_a_current_loan_sold_is_told_too(cli, book):
    """A performing loan is sold as well: its notice states no overdue figure and goes."""
    pay(cli, book, "P1,L2,2026-01-30,105")
    (book / "events.csv").write_text("loan_id,event,event_on,party\nL2,transfer,2026-02-20,甲资产\n", encoding="utf-8")
    assert cli("import", str(book / "events.csv")).exit_code == 0
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T09:00")
    assert {m["step"]: m["status"] for m in outbox(cli, "L2")} == {"transfer_sms": "sent",
                                                                   "transfer_letter": "suppressed"}  # no address



def test_no_promise_is_taken_for_a_sold_debt(cli, book):
    sell(cli, book)
    r = cli("log", "L1", "--channel", "call", "--outcome", "promise", "--promise", "105", "--on", "2026-03-10",
            "--inbound", "--now", "2026-03-06T10:00", "--agent", "wang")
    assert r.exit_code == 6 and "XFER-1" in r.stderr, r.stderr
    r = cli("log", "L1", "--channel", "call", "--outcome", "reached", "--inbound", "--now", "2026-03-06T10:00",
            "--agent", "wang")
    assert r.exit_code == 0, r.stderr  # the borrower may call us: that is recorded
