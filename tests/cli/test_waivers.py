"""Waivers (减免): limits per role, what may be waived, unconditional and conditional waivers
applied from their day (a replay before still sees the debt), lapsed ones, penalty waivers in
the messages, and the audit."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.cli.ledger_book import pay, run

NOW = "2026-02-05T10:00"


def waive(cli, *args, now=NOW, code=0):
    r = cli("waive", *args, "--now", now, "--format", "json")
    assert r.exit_code == code, r.stderr + r.stdout
    return json.loads(r.stdout)[0] if code == 0 else r


def l1(cli, day):
    card = json.loads(cli("account", "L1", "--as-of", day, "--format", "json").stdout)
    return card["loans"][0], card["waivers"]


def test_an_interest_waiver_takes_off_unpaid_interest_from_its_day(cli, book):
    before, _ = l1(cli, "2026-02-05")
    assert before["overdue"] == "105.00"  # installment 1: 100 + 5 interest
    w = waive(cli, "L1", "--interest", "5", "--agent", "wang")
    assert (w["component"], w["amount"], w["effective_on"]) == ("interest", "5.00", "2026-02-05")
    after, waivers = l1(cli, "2026-02-05")
    assert after["overdue"] == "100.00"
    assert waivers[0]["status"] == "in effect from 2026-02-05"
    earlier, waivers = l1(cli, "2026-02-04")  # a replay of the day before: the debt as it was
    assert earlier["overdue"] == "105.00" and waivers == []
    audit = json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)
    assert [a["action"] for a in audit] == ["waiver"] and "interest 5.00" in audit[0]["detail"]


def test_limits_per_role_and_approval(cli, book, tmp_path):
    r = waive(cli, "L1", "--interest", "300", "--agent", "wang", code=2)  # more than there is
    assert "has 15.00 of interest left to waive" in r.stderr
    pay(cli, book, "P1,L1,2026-01-31,100")  # 215 left: 5 + 100 + 5 + 100 + 5
    r = waive(cli, "L1", "--principal", "50", "--if-paid-by", "2026-02-20", "--agent", "wang", code=6)
    assert "Error: WAIVE-LIMIT" in r.stderr and "wang's limit is 0.00" in r.stderr
    (tmp_path / "collect.toml").write_text('[waivers]\nroles = {li = "supervisor"}\n', encoding="utf-8")
    w = waive(cli, "L1", "--principal", "50", "--if-paid-by", "2026-02-20", "--agent", "wang", "--approved-by", "li")
    assert (w["rest"], w["effective_on"]) == ("165.00", None)  # the rest: 215 less the 50
    r = waive(cli, "L1", "--principal", "50", "--agent", "li", code=2)
    assert "a principal waiver is a settlement: give --if-paid-by" in r.stderr
    actions = [a["action"] for a in json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)]
    assert actions.count("refused") == 1 and actions.count("waiver") == 1


def test_a_conditional_waiver_takes_effect_when_the_rest_is_paid_and_lapses_otherwise(cli, book, tmp_path):
    """L1 owes 315 (3 x 105); 15 of interest is waived if the other 300 is paid by 02-20.
    L2 gets the same offer and pays nothing: it lapses after 02-20."""
    for loan in ("L1", "L2"):
        w = waive(cli, loan, "--interest", "15", "--if-paid-by", "2026-02-20", "--agent", "wang")
        assert (w["rest"], w["effective_on"]) == ("300.00", None)
    pay(cli, book, "P1,L1,2026-02-08,200", "P2,L1,2026-02-12,100")
    run(cli, "2026-02-13")  # the nightly run settles waivers from the ledger
    loan, waivers = l1(cli, "2026-02-13")
    assert loan["status"] == "closed" and waivers[0]["status"] == "in effect from 2026-02-12"
    loan, waivers = l1(cli, "2026-02-11")  # before the rest was paid: the debt, the waiver waiting
    assert (loan["status"], loan["outstanding"]) == ("open", "110.00")  # 200 paid: 105 + 95, interest first
    assert waivers[0]["status"] == "waiting: the rest paid by 2026-02-20"
    run(cli, "2026-02-21")
    card = json.loads(cli("account", "L2", "--as-of", "2026-02-21", "--format", "json").stdout)
    assert card["waivers"][0]["status"] == "lapsed (2026-02-20 passed)"
    assert card["loans"][0]["overdue"] == "105.00"  # nothing waived
    actions = [a["action"] for a in json.loads(cli("audit", "--format", "json", "--limit", "0").stdout)]
    assert actions.count("waiver applied") == 1 and actions.count("waiver lapsed") == 1


def test_a_reversed_payment_does_not_fulfil_the_condition(cli, book, tmp_path):
    waive(cli, "L1", "--interest", "15", "--if-paid-by", "2026-02-20", "--agent", "wang")
    pay(cli, book, "P1,L1,2026-02-08,300")
    (book / "rev.csv").write_text("payment_id,reversed_on\nP1,2026-02-10\n", encoding="utf-8")
    assert cli("import", str(book / "rev.csv")).exit_code == 0
    run(cli, "2026-02-13")
    _, waivers = l1(cli, "2026-02-13")
    assert waivers[0]["status"] == "waiting: the rest paid by 2026-02-20"  # the 300 came back


def test_a_waiver_on_a_closed_or_sold_loan_is_refused(cli, book):
    pay(cli, book, "P1,L1,2026-01-31,315")
    r = waive(cli, "L1", "--interest", "5", "--agent", "wang", code=2)
    assert "L1 is closed: there is nothing of it to waive" in r.stderr
    r = cli("waive", "L1", "--agent", "wang", "--now", NOW)
    assert r.exit_code == 2 and "give one of --penalty, --interest or --principal" in r.stderr


def test_a_promise_kept_by_a_payment_that_bounced_is_broken(cli, book):
    r = cli("log", "L1", "--channel", "call", "--outcome", "promise", "--promise", "105", "--on", "2026-02-03",
            "--now", "2026-02-02T10:00", "--agent", "wang")
    assert r.exit_code == 0, r.stderr
    pay(cli, book, "P1,L1,2026-02-03,105")
    (book / "rev.csv").write_text("payment_id,reversed_on\nP1,2026-02-06\n", encoding="utf-8")
    assert cli("import", str(book / "rev.csv")).exit_code == 0  # after the promise's day, before it is judged
    run(cli, "2026-02-10")
    card = json.loads(cli("account", "L1", "--as-of", "2026-02-10", "--format", "json").stdout)
    assert [p["status"] for p in card["promises"]] == ["broken"]


def test_a_penalty_waiver_lowers_the_penalty_the_messages_state(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text('[penalty.products]\ndefault = "0.0005"\n'
                                           '[penalty]\nlpr = [["2025-01-01", "0.10"]]\n', encoding="utf-8")
    # 100 of principal overdue for 5 days at 0.05 % a day: 0.25 of penalty; 0.20 of it waived
    waive(cli, "L1", "--penalty", "0.20", "--agent", "wang")
    r = waive(cli, "L1", "--penalty", "0.10", "--agent", "wang", code=2)
    assert "has 0.05 of penalty left to waive" in r.stderr
    run(cli, "2026-02-05")
    body = json.loads(cli("outbox", "--loan", "L1", "--body", "--format", "json").stdout)[0]["body"]
    assert "另计罚息0.05元" in body


def test_the_grant_days_payments_count_once(cli, book):
    """L1 pays its first installment on 02-05, then is offered 10 of interest off if the rest
    (200 after the grant) is paid by 02-20: 150 on 02-10 is not the rest, 50 more on 02-12 is."""
    pay(cli, book, "P1,L1,2026-02-05,105")
    w = waive(cli, "L1", "--interest", "10", "--if-paid-by", "2026-02-20", "--agent", "wang")
    assert w["rest"] == "305.00"  # from the grant day on, the day's 105 included
    pay(cli, book, "P2,L1,2026-02-10,150")
    run(cli, "2026-02-11")
    assert l1(cli, "2026-02-11")[1][0]["status"] == "waiting: the rest paid by 2026-02-20"
    pay(cli, book, "P3,L1,2026-02-12,50")
    run(cli, "2026-02-13")
    loan, waivers = l1(cli, "2026-02-13")
    assert waivers[0]["status"] == "in effect from 2026-02-12" and loan["status"] == "closed"


def test_two_waivers_both_stand(cli, book):
    """A conditional interest waiver granted first and applied after an unconditional one
    does not undo it: 10 + 5 off, the borrower owes 300 and pays exactly that."""
    waive(cli, "L1", "--interest", "10", "--if-paid-by", "2026-02-20", "--agent", "wang")
    waive(cli, "L1", "--interest", "5", "--agent", "wang", now="2026-02-06T10:00")
    pay(cli, book, "P1,L1,2026-02-10,300")
    run(cli, "2026-02-11")
    card = json.loads(cli("account", "L1", "--as-of", "2026-02-11", "--format", "json").stdout)
    assert [w["status"] for w in card["waivers"]] == ["in effect from 2026-02-10", "in effect from 2026-02-06"]
    assert sum(Decimal(s["due"]) for s in card["schedule"]) == Decimal("300.00")
    assert card["loans"][0]["status"] == "closed"
