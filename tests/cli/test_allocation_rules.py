"""Allocation rules per product through `collect import` on a real store of each backend: the
account engine (report accounts, the nightly run) and the reports' lean replay agree with
the engine fed the same ledger in the test, under every rule, with reversals."""

from __future__ import annotations

import json
import tomllib
from datetime import date, timedelta
from decimal import Decimal

from collect_cli.config import Allocation, Settings, _parse
from collect_cli.domain.allocation import INTEREST_FIRST, PENALTY_INTEREST_PRINCIPAL, Rule
from collect_cli.domain.loan_state import Installment, loan_state
from collect_cli.domain.money import fmt, to_minor
from collect_cli.services.analytics import positions_on
from collect_cli.services.portfolio import rule_for
from collect_cli.store.database import open_engine
from tests.cli.test_ledger_events import write
from tests.unit.test_allocation import FINERACT, fineract_ledger

D = date.fromisoformat


def config(tmp_path, text: str) -> str:
    path = tmp_path / "collect.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def accounts(cli, day: date) -> dict[str, dict]:
    r = cli("report", "accounts", "--as-of", day.isoformat(), "--format", "json")
    assert r.exit_code == 0, r.output
    return {row["loan_id"]: row for row in json.loads(r.stdout)}


def test_fineract_allocation_scenarios_replay_through_the_store(cli, tmp_path):
    """Each case as its own product under its rule: on every check day whose payments are all
    the case's payments made by then, and 40 days after, the account engine and the lean
    replay state what the engine fed the case's ledger states."""
    products = {}
    for n, case in enumerate(FINERACT):
        loan, product = f"F{n}", f"prod-{n}"
        products[product] = case["strategy"]
        files = [write(tmp_path / f"{loan}-loans.csv", ["loan_id", "borrower_id", "borrower_name", "phone", "principal",
                                                        "disbursed_on", "product"],
                       [[loan, f"B{n}", "王小明", f"138{n:08d}", case["loan"]["principal"],
                         case["loan"]["disbursed_on"], product]]),
                 write(tmp_path / f"{loan}-inst.csv", ["loan_id", "seq", "due_on", "principal_due", "interest_due",
                                                       "fee_due"],
                       [[loan, r["seq"], r["due_on"], r["principal_due"], r["interest_due"], r["fee_due"]]
                        for r in case["installments"]]),
                 write(tmp_path / f"{loan}-pay.csv", ["payment_id", "loan_id", "paid_on", "amount"],
                       [[f"{loan}-{p['payment_id']}", loan, p["paid_on"], p["amount"]] for p in case["payments"]])]
        assert cli("import", *files).exit_code == 0
    config(tmp_path, "[allocation]\nproducts = {" + ", ".join(f'"{p}" = "{s}"' for p, s in products.items()) + "}\n")
    settings = Settings(allocation=Allocation(products=products))
    engine = open_engine(cli.db)
    checked = 0
    for n, case in enumerate(FINERACT):
        loan = f"F{n}"
        for check in case["checks"]:
            day = D(check["as_of"])
            if set(check["payments"]) != {p["payment_id"] for p in case["payments"] if D(p["paid_on"]) <= day}:
                continue  # the store knows a day, not the order within it
            for on in (day, day + timedelta(days=40)):
                schedule, _ = fineract_ledger(case, check)
                pays = [(D(p["paid_on"]), to_minor(Decimal(p["amount"]))) for p in case["payments"]
                        if D(p["paid_on"]) <= on]
                want = loan_state(schedule, pays, on, rule=Rule(case["strategy"]))
                row = accounts(cli, on)[loan]
                assert (row["status"], row["dpd"], row["overdue"], row["outstanding"]) == \
                    (want.status, want.dpd, fmt(want.overdue), fmt(want.outstanding_principal)), (loan, on)
                with engine.connect() as conn:
                    lean = {b.loan_id: p for b, p in positions_on(conn, [on], settings=settings)}[loan][0]
                assert (lean.dpd, lean.overdue, lean.outstanding, lean.status) == \
                    (want.dpd, want.overdue, want.outstanding_principal, want.status), (loan, on)
                checked += 1
    engine.dispose()
    assert checked >= 6


LOANS = ["loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,annual_rate,product",
         "V1,B1,王小明,13800000001,3000,2026-01-01,0.06,分期",
         "V2,B2,李四,13800000002,3000,2026-01-01,0.06,分期",
         "P1,B3,张三,13800000003,1000,2026-01-01,0.20,现金贷",
         "H1,B4,赵六,13800000004,1000,2026-01-01,0.20,其他",
         "W1,B5,钱七,13800000005,3000,2026-01-01,0.06,分期"]
SCHEDULE = ["loan_id,seq,due_on,principal_due,interest_due",
            "V1,1,2026-01-31,1000,50", "V1,2,2026-02-28,1000,50", "V1,3,2026-03-31,1000,50",
            "V2,1,2026-01-31,1000,50", "V2,2,2026-02-28,1000,50", "V2,3,2026-03-31,1000,50",
            "P1,1,2026-01-31,1000,0", "H1,1,2026-01-31,1000,0",
            "W1,1,2026-01-31,1000,50", "W1,2,2026-02-28,1000,50", "W1,3,2026-03-31,1000,50"]
PAYMENTS = ["payment_id,loan_id,paid_on,amount",
            "V1-1,V1,2026-01-20,1050", "V1-2,V1,2026-03-05,300",
            "V2-1,V2,2026-03-05,1100",
            "P1-1,P1,2026-02-11,1000", "H1-1,H1,2026-02-11,1000",
            "W1-1,W1,2026-02-10,3050"]
RULES = ('[allocation]\nproducts = {"分期" = "interest_first", "现金贷" = "penalty_interest_principal"}\n'
         '[penalty.products]\n"现金贷" = "0.0005"\n"其他" = "0.0005"\n'
         '[penalty]\nlpr = [["2025-01-01", "0.10"]]\n')


def book(cli, tmp_path, *, reversal: bool = False):
    lines = {"loans": LOANS, "inst": SCHEDULE, "pay": PAYMENTS}
    for name, rows in lines.items():
        (tmp_path / f"{name}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert cli("import", "loans.csv", "inst.csv", "pay.csv").exit_code == 0
    if reversal:  # V1's prepayment bounced on 03-09
        (tmp_path / "rev.csv").write_text("payment_id,reversed_on,reason\nV1-1,2026-03-09,bounced\n", encoding="utf-8")
        assert cli("import", "rev.csv").exit_code == 0
    config(tmp_path, RULES)


def expected(loan: str, on: date, *, reversal: bool = False) -> object:
    """The engine fed the loan's ledger as the test states it."""
    schedule = [Installment(int(r.split(",")[1]), D(r.split(",")[2]), int(r.split(",")[3]) * 100,
                            int(r.split(",")[4]) * 100) for r in SCHEDULE[1:] if r.startswith(loan + ",")]
    pays = [(D(r.split(",")[2]), int(r.split(",")[3]) * 100) for r in PAYMENTS[1:] if r.split(",")[1] == loan]
    if reversal and loan == "V1" and on >= D("2026-03-09"):
        pays = [p for p in pays if p[0] != D("2026-01-20")]
    rule = rule_for(_settings(), {"V": "分期", "W": "分期", "P": "现金贷", "H": "其他"}[loan[0]],
                    200_000 if loan[0] in "PH" else 60_000, D("2026-01-01"))
    return loan_state(schedule, [p for p in pays if p[0] <= on], on, rule=rule)


def _settings() -> Settings:
    return Settings(**_parse(tomllib.loads(RULES), None))


def test_each_product_is_allocated_by_its_rule_on_every_path(cli, tmp_path):
    book(cli, tmp_path, reversal=True)
    settings = _settings()
    assert rule_for(settings, "现金贷", 60_000, D("2026-01-01")).strategy == PENALTY_INTEREST_PRINCIPAL
    assert rule_for(settings, "分期", 60_000, D("2026-01-01")).strategy == INTEREST_FIRST
    engine = open_engine(cli.db)
    days = [D("2026-02-05"), D("2026-02-11"), D("2026-02-12"), D("2026-03-06"), D("2026-03-08"), D("2026-03-09"),
            D("2026-03-20"), D("2026-04-15")]
    with engine.connect() as conn:
        lean = {b.loan_id: p for b, p in positions_on(conn, days, settings=settings)}
    engine.dispose()
    for n, on in enumerate(days):
        got = accounts(cli, on)
        for loan in ("V1", "V2", "P1", "H1", "W1"):
            want = expected(loan, on, reversal=True)
            row = got[loan]
            assert (row["status"], row["dpd"], row["overdue"], row["outstanding"]) == \
                (want.status, want.dpd, fmt(want.overdue), fmt(want.outstanding_principal)), (loan, on)
            p = lean[loan][n]
            assert (p.status, p.dpd, p.overdue, p.outstanding) == \
                (want.status, want.dpd, want.overdue, want.outstanding_principal), (loan, on)
    # the same 1,000.00 on the same day: under penalty-first it paid the penalty first and
    # leaves the loan late; under the default rule it closed it
    assert accounts(cli, D("2026-02-12"))["P1"]["status"] == "open"
    assert accounts(cli, D("2026-02-12"))["H1"]["status"] == "closed"


def test_the_queue_and_the_nightly_run_find_the_loan_the_sum_paid_calls_current(cli, tmp_path):
    """P1 paid its whole installment on 02-11, 11 days late; penalty-first took the penalty
    out of it, so it is still late: the database's set-based pick of late loans (the queue's)
    must not leave it out."""
    book(cli, tmp_path)
    r = cli("queue", "--as-of", "2026-02-12", "--now", "2026-02-12T10:00", "--format", "json")
    assert r.exit_code == 0, r.output
    assert {row["loan_id"] for row in json.loads(r.stdout)} >= {"P1"}
    # W1 paid 3,050.00 on 02-10 with #1 overdue: #1's interest, then the principal of all
    # three; #2's interest is unpaid when it falls due, though the sum covers #1 and #2
    want = expected("W1", D("2026-03-05"))
    assert (want.dpd, want.overdue) == (5, 50_00)
    r = cli("queue", "--as-of", "2026-03-05", "--now", "2026-03-05T10:00", "--format", "json")
    assert "W1" in {row["loan_id"] for row in json.loads(r.stdout)}
    r = cli("run-reminders", "--as-of", "2026-02-12", "--now", "2026-02-12T02:00", "--format", "json")
    assert r.exit_code == 0, r.output
    r = cli("outbox", "--loan", "P1", "--format", "json")
    queued = [m for m in json.loads(r.stdout) if m["status"] == "queued"]
    want = expected("P1", D("2026-02-12"))
    assert want.dpd == 12 and want.overdue > 0
    assert queued and all(m["amount_overdue"] == fmt(want.overdue) for m in queued)
    assert not [m for m in json.loads(cli("outbox", "--loan", "H1", "--format", "json").stdout)
                if m["status"] == "queued"]


def test_penalty_first_states_the_penalty_left_after_what_payments_paid(cli, tmp_path):
    book(cli, tmp_path)
    card = cli("account", "P1", "--as-of", "2026-02-12", "--format", "json")
    assert card.exit_code == 0, card.output
    (loan,) = json.loads(card.stdout)["loans"]
    assert (loan["allocation"], loan["status"], loan["dpd"], loan["overdue"]) == (
        "penalty_interest_principal", "open", 12, "5.00")
    assert "payments allocated by penalty_interest_principal" in cli("account", "P1", "--as-of", "2026-02-12").stdout
    preview = cli("templates", "preview", "m1_followup", "--loan", "P1", "--as-of", "2026-02-12")
    assert preview.exit_code == 0, preview.output
    # 1,000.00 overdue from 02-01 to 02-10 at 0.05 % a day: 5.00, paid first on 02-11; then
    # 5.00 of principal overdue on 02-11 and 02-12: 0.005 a day, 0.01 in all (rounded once)
    assert "另计罚息0.01元" in preview.stdout, preview.stdout
    assert "逾期金额5.00元" in preview.stdout


ATTACK_LOANS = ["loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,annual_rate,product",
                "X1,BX,王小明,13800000001,3000,2026-07-01,0.20,分期",
                "X2,BX,王小明,13800000001,3000,2026-07-01,0.20,消费贷",
                "X3,BY,李四,13800000003,4000,2026-07-01,0.20,分期"]
ATTACK_SCHEDULE = ["loan_id,seq,due_on,principal_due,interest_due",
                   "X1,1,2026-08-01,1000,50", "X1,2,2026-09-01,1000,50", "X1,3,2026-10-01,1000,50",
                   "X2,1,2026-08-01,1000,50", "X2,2,2026-09-01,1000,50", "X2,3,2026-10-01,1000,50",
                   "X3,1,2026-08-01,1000,50", "X3,2,2026-09-01,1000,50", "X3,3,2026-10-01,1000,50",
                   "X3,4,2026-11-01,1000,50"]
ATTACK_PAYMENTS = ["payment_id,loan_id,paid_on,amount", "X1-1,X1,2026-08-10,3050", "X3-1,X3,2026-09-01,1090"]


def attack_book(cli, tmp_path):
    """From an attack review: X1 (interest_first) is late only under its rule, on its second
    delinquency; X3 (interest_first) has been late since 08-02 without a cure."""
    for name, rows in (("loans", ATTACK_LOANS), ("inst", ATTACK_SCHEDULE), ("pay", ATTACK_PAYMENTS)):
        (tmp_path / f"{name}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert cli("import", "loans.csv", "inst.csv", "pay.csv").exit_code == 0
    config(tmp_path, '[allocation]\nproducts = {"分期" = "interest_first"}\n')


def test_the_queue_counts_a_borrowers_loans_late_under_their_rule_and_their_episodes(cli, tmp_path):
    attack_book(cli, tmp_path)
    r = cli("queue", "--as-of", "2026-09-10", "--now", "2026-09-10T10:00", "--all", "--limit", "0", "--format", "json")
    assert r.exit_code == 0, r.output
    rows = {row["loan_id"]: row for row in json.loads(r.stdout)}
    # X1 and X2 are both late: each is the other's "other loan late"
    for loan in ("X1", "X2"):
        assert "1 other loan(s) late" in rows[loan]["why"], rows[loan]
    # X1 was cured on 08-10 and is late again from 09-02: not a first-time delinquency
    assert rows["X1"]["segment"] == "standard", rows["X1"]


def test_escalation_sees_no_second_default_where_the_rule_saw_no_cure(cli, tmp_path):
    attack_book(cli, tmp_path)
    r = cli("escalations", "--as-of", "2026-10-05", "--format", "json")
    assert r.exit_code == 0, r.output
    assert "X3" not in {row["loan_id"] for row in json.loads(r.stdout)}, r.stdout


def test_the_card_reconciles_a_payment_under_penalty_first(cli, tmp_path):
    book(cli, tmp_path)
    (loan,) = json.loads(cli("account", "P1", "--as-of", "2026-02-12", "--format", "json").stdout)["loans"]
    schedule = json.loads(cli("account", "P1", "--as-of", "2026-02-12", "--format", "json").stdout)["schedule"]
    # 1,000.00 paid: 5.00 to penalty, 995.00 to the installment; 0.01 of penalty owed since
    assert (loan["penalty_paid"], loan["penalty_owed"], loan["credit"]) == ("5.00", "0.01", "0.00")
    assert schedule[0]["paid"] == "995.00"
