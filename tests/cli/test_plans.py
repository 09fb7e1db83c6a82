"""`collect plan`: proposal without writing, eligibility refusals (exit 6, nothing written),
apply with the old schedule in history, month-end dates, a broken plan as an escalation rule.

The book: L1..L5, three installments of 100.00 + 5.00 due 2026-01-31, 02-28, 03-31."""

from __future__ import annotations

import json

from tests.cli.ledger_book import pay


def plan(cli, loan: str, *args: str, code: int = 0) -> dict:
    r = cli("plan", loan, *args, "--agent", "wang", "--format", "json")
    assert r.exit_code == code, r.stderr + r.stdout
    return json.loads(r.stdout)


def card(cli, loan: str, as_of: str) -> dict:
    return json.loads(cli("account", loan, "--as-of", as_of, "--format", "json").stdout)


def test_a_proposal_writes_nothing_and_apply_replaces_the_schedule(cli, book, tmp_path):
    pay(cli, tmp_path, "P1,L1,2026-02-10,50")  # part of seq 1 (fees, interest, then principal)
    p = plan(cli, "L1", "--installments", "3", "--as-of", "2026-03-05")
    assert (p["eligible"], p["applied"], p["before"]["dpd"], p["after"]["dpd"]) == (True, False, 33, 0)
    assert p["amount"] == "265.00"
    assert card(cli, "L1", "2026-03-05")["loans"][0]["dpd"] == 33  # nothing written
    assert json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout) == []

    p = plan(cli, "L1", "--installments", "3", "--as-of", "2026-03-05", "--apply", "--note", "lost job")
    assert p["applied"] and p["plan_id"]
    rows = [(s["seq"], s["due_on"], s["total"], s["paid"]) for s in p["schedule"]]
    assert rows == [(1, "2026-01-31", "50.00", "50.00"),  # the paid part stays where it was
                    (2, "2026-04-05", "88.33", "0.00"), (3, "2026-05-05", "88.33", "0.00"),
                    (4, "2026-06-05", "88.34", "0.00")]
    c = card(cli, "L1", "2026-03-05")
    assert (c["loans"][0]["dpd"], c["loans"][0]["overdue"], c["loans"][0]["next_due_on"]) == (0, "0.00", "2026-04-05")
    assert c["loans"][0]["classification"] == "关注"  # restructured: never 正常 during observation
    # a date before the plan replays the schedule of then
    before = card(cli, "L1", "2026-03-04")
    assert (before["loans"][0]["dpd"], before["loans"][0]["classification"], before["plans"][0]["status"]) == (
        32, "关注", "later")
    assert [s["due_on"] for s in before["schedule"]] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    assert [(x["plan"], x["terms"], x["status"]) for x in c["plans"]] == [(p["plan_id"], "3 installments", "active")]
    [a] = json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)
    assert (a["action"], a["agent"]) == ("plan", "wang") and "lost job" in a["detail"]
    # a payment after the plan lands on the plan's first installment
    pay(cli, tmp_path, "P2,L1,2026-04-05,88.33")
    assert card(cli, "L1", "2026-04-20")["loans"][0]["dpd"] == 0


def test_the_old_schedule_stays_in_history(cli, book, db):
    from sqlalchemy import text

    from collect_cli.store.database import open_engine

    plan(cli, "L2", "--installments", "2", "--as-of", "2026-03-05", "--apply")
    with open_engine(db).connect() as conn:
        old = conn.execute(text("select seq, due_on, principal_due from installment_history "
                                "where loan_id = 'L2' order by seq")).all()
        now = conn.execute(text("select seq from installments where loan_id = 'L2' order by seq")).scalars().all()
    assert [(s, str(d), p) for s, d, p in old] == [(1, "2026-01-31", 10_000), (2, "2026-02-28", 10_000),
                                                   (3, "2026-03-31", 10_000)]
    assert now == [1, 2]  # the third row is gone from the schedule, kept in history


def test_month_end_due_dates(cli, book):
    p = plan(cli, "L2", "--installments", "3", "--as-of", "2026-01-31", "--apply")
    assert [s["due_on"] for s in p["schedule"]] == ["2026-02-28", "2026-03-31", "2026-04-30"]


def test_refused_plans_name_the_rule_and_write_nothing(cli, book):
    r = cli("log", "L1", "--channel", "call", "--outcome", "promise", "--promise", "105", "--on", "2026-02-05",
            "--now", "2026-02-02T10:00", "--agent", "wang")
    assert r.exit_code == 0, r.stderr
    p = plan(cli, "L1", "--installments", "3", "--as-of", "2026-03-05", "--apply", code=6)
    assert [x["rule"] for x in p["refusals"]] == ["PLAN-PROMISE"] and not p["applied"]
    assert card(cli, "L1", "2026-03-05")["plans"] == []
    assert [a["action"] for a in json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)] == ["contact",
                                                                                                       "promise"]
    r = cli("plan", "L1", "--installments", "3", "--as-of", "2026-03-05", "--apply")
    assert r.exit_code == 6 and "Error: PLAN-PROMISE" in r.stderr


def test_plans_are_dated_in_order(cli, book):
    plan(cli, "L2", "--installments", "3", "--as-of", "2026-03-05", "--apply")
    for day in ("2026-03-05", "2026-03-01"):  # the same day (a second collector), or backdated before it
        p = plan(cli, "L2", "--installments", "6", "--as-of", day, "--apply", code=6)
        assert [x["rule"] for x in p["refusals"]] == ["PLAN-ORDER"]
    assert len(card(cli, "L2", "2026-03-05")["plans"]) == 1


def test_the_core_systems_schedule_overrides_a_plan(cli, book, tmp_path):
    """An export that still has the old schedule puts the plan out of force (its extra rows go
    to history: nothing is owed twice); a date before the plan replays the old schedule."""
    plan(cli, "L1", "--installments", "6", "--as-of", "2026-03-05", "--apply")
    old = tmp_path / "old.csv"
    old.write_text("loan_id,seq,due_on,principal_due,interest_due,fee_due\n"
                   "L1,1,2026-01-31,100,5,\nL1,2,2026-02-28,100,5,\nL1,3,2026-03-31,100.01,5,\n", encoding="utf-8")
    assert cli("import", str(old)).exit_code == 0
    c = card(cli, "L1", "2026-04-10")
    assert [s["due_on"] for s in c["schedule"]] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    assert (c["loans"][0]["dpd"], c["loans"][0]["outstanding"]) == (69, "300.01")
    assert c["plans"][0]["status"] == "replaced"
    before = card(cli, "L1", "2026-03-04")
    assert [(s["due_on"], s["due"]) for s in before["schedule"]] == [
        ("2026-01-31", "105.00"), ("2026-02-28", "105.00"), ("2026-03-31", "105.00")]


def test_a_plan_comes_after_installments_paid_in_advance(cli, book, tmp_path):
    pay(cli, tmp_path, "P1,L3,2026-01-20,160")  # seq 1 and half of seq 2, paid before they fell due
    p = plan(cli, "L3", "--installments", "2", "--as-of", "2026-01-25")
    assert [(s["seq"], s["due_on"], s["paid"]) for s in p["schedule"]] == [
        (1, "2026-01-31", "105.00"), (2, "2026-02-28", "55.00"), (3, "2026-03-28", "0.00"), (4, "2026-04-28", "0.00")]
    r = cli("plan", "L3", "--installments", "2", "--as-of", "2026-01-25", "--first-due", "2026-02-10")
    assert r.exit_code == 6 and "after 2026-02-28, the last installment already paid" in r.stderr


def test_out_of_range_terms_are_refused_without_a_traceback(cli, book):
    for args, code in ((["--installments", "100000"], 6), (["--installments", "3", "--first-due", "9999-12-31"], 6),
                       (["--extend-days", "99999999999"], 6), (["--installments", "3", "--as-of", "9999-12-31"], 2)):
        r = cli("plan", "L1", *(["--as-of", "2026-03-05"] if "--as-of" not in args else []), *args)
        assert r.exit_code == code and r.stderr.startswith("Error: "), (args, r.stderr)


def test_at_most_one_earlier_plan(cli, book):
    plan(cli, "L3", "--extend-days", "40", "--as-of", "2026-03-05", "--apply")
    plan(cli, "L3", "--extend-days", "40", "--as-of", "2026-04-20", "--apply")
    p = plan(cli, "L3", "--installments", "2", "--as-of", "2026-06-01", "--apply", code=6)
    assert [x["rule"] for x in p["refusals"]] == ["PLAN-COUNT"]
    assert [x["status"] for x in card(cli, "L3", "2026-04-21")["plans"]] == ["superseded", "active"]
    assert [x["status"] for x in card(cli, "L3", "2026-03-10")["plans"]] == ["active", "later"]


def test_a_broken_plan_is_an_escalation_rule(cli, book):
    plan(cli, "L4", "--installments", "3", "--as-of", "2026-03-05", "--apply")  # first due 2026-04-05
    def rules(as_of):
        rows = json.loads(cli("escalations", "--as-of", as_of, "--format", "json").stdout)
        return {r["loan_id"]: (r["stage"], r["rule"]) for r in rows}
    assert "L4" not in rules("2026-04-20")  # 15 days late: not yet broken
    assert "L4" not in rules("2026-04-21")  # broken, but 16 days past due is below legal's floor (91)
    (book / "collect.toml").write_text("[escalation]\nlegal_min_dpd = 15\n", encoding="utf-8")
    stage, rule = rules("2026-04-21")["L4"]
    assert stage == "legal" and rule.startswith("plan of 2026-03-05 broken: 16 days past due")
    assert card(cli, "L4", "2026-04-21")["plans"][0]["status"] == "broken"


def test_the_csv_is_the_installments_import_format(cli, book, tmp_path):
    r = cli("plan", "L5", "--installments", "2", "--as-of", "2026-03-05", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    (tmp_path / "plan.csv").write_text(r.stdout, encoding="utf-8")
    assert r.stdout.splitlines()[0] == "loan_id,seq,due_on,principal_due,interest_due,fee_due"
    plan(cli, "L5", "--installments", "2", "--as-of", "2026-03-05", "--apply")
    # the core system books the same plan; its export then changes nothing here
    out = json.loads(cli("import", str(tmp_path / "plan.csv"), "--format", "json").stdout)
    assert (out[0]["updated"], out[0]["inserted"], out[0]["unchanged"]) == (0, 0, 2)


def test_bad_plan_options(cli, book):
    for args in (["--installments", "3", "--extend-days", "10"], [], ["--extend-days", "10", "--first-due", "2026-04-01"],
                 ["--installments", "3", "--apply", "--dry-run"], ["--installments", "3", "--first-due", "31/02/2026"]):
        r = cli("plan", "L1", "--as-of", "2026-03-05", *args)
        assert r.exit_code == 2 and r.stderr.startswith("Error") or "Invalid value" in r.stderr, (args, r.stderr)
    assert cli("plan", "L9", "--installments", "3").exit_code == 2
    assert cli("plan", "L1", "--installments", "3", "--as-of", "2999-01-01", "--apply").exit_code == 2


def test_reports_before_a_plan_replay_the_schedule_of_then(cli, book):
    """Analyst reports of a date before a plan see the loan as it was: late, not cured."""
    plan(cli, "L1", "--installments", "3", "--as-of", "2026-03-05", "--apply")
    r = cli("report", "classification", "--as-of", "2026-03-01", "--format", "json")
    tiers = {t["tier"]: t["accounts"] for t in json.loads(r.stdout)["tiers"]}
    assert (tiers["关注"], tiers["正常"]) == (5, 0)  # all five 29 days past due, L1 included
    r = cli("report", "vintages", "--as-of", "2026-06-30", "--months", "3", "--format", "json")
    [cohort] = json.loads(r.stdout)["dpd30"]
    assert cohort["mob3"] == "100.00"  # L1 went 30+ on 03-03, before its plan: that stays
    r = cli("report", "rolls", "--from", "2026-03-01", "--to", "2026-03-06", "--format", "json")
    m1 = {row["from"]: row for row in json.loads(r.stdout)["accounts"]}["M1"]
    assert (m1["M0"], m1["M2"]) == (1, 4)  # the plan cured L1; the others rolled
