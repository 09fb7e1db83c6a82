"""The contact log (WHEN-1..3, overrides), promises (HOLD-4, kept / partly kept / broken
against real ledger payments) and the audit trail."""

from __future__ import annotations

import json

import pytest

from tests.cli.ledger_book import acme, outbox, pay, placed, run, send


def log(cli, *args: str, at: str = "2026-02-02T10:00", code: int = 0):
    r = cli("log", *args, "--now", at, "--agent", "wang")
    assert r.exit_code == code, r.stderr
    return r


def test_calls_outside_the_window_are_refused_unless_overridden(cli, book):
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", at="2026-02-02T21:30", code=6)
    assert "WHEN-1" in r.stderr
    log(cli, "L1", "--channel", "call", "--outcome", "reached", "--override", "borrower asked for an evening call",
        at="2026-02-02T21:30")
    audit = json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)
    assert [a["action"] for a in audit] == ["refused", "contact"]  # every block leaves a record
    assert audit[0]["detail"].startswith("call: WHEN-1")
    assert "override WHEN-1: borrower asked for an evening call" in audit[1]["detail"]


def test_when2_three_connected_calls_a_day(cli, book):
    for hour in (9, 10, 11):
        log(cli, "L1", "--channel", "call", "--outcome", "reached", at=f"2026-02-02T{hour:02d}:00")
    r = log(cli, "L1", "--channel", "call", "--outcome", "refused", at="2026-02-02T12:00", code=6)
    assert "WHEN-2" in r.stderr
    log(cli, "L1", "--channel", "call", "--outcome", "no-answer", at="2026-02-02T13:00")  # an attempt is fine
    log(cli, "L1", "--channel", "call", "--outcome", "reached", at="2026-02-03T09:00")  # a new day


def test_when3_six_dial_attempts_a_day(cli, book):
    for minute in range(6):
        log(cli, "L1", "--channel", "call", "--outcome", "no-answer", at=f"2026-02-02T09:{minute:02d}")
    r = log(cli, "L1", "--channel", "call", "--outcome", "no-answer", at="2026-02-02T15:00", code=6)
    assert "WHEN-3" in r.stderr


def test_a_promise_holds_reminders_until_its_date_plus_grace(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text("[promises]\ngrace_days = 2\n", encoding="utf-8")
    log(cli, "L1", "--channel", "call", "--outcome", "promise", "--promise", "105", "--on", "2026-02-05",
        at="2026-02-01T09:00")
    run(cli, "2026-02-01")
    [m] = outbox(cli, "L1")
    assert m["status"] == "suppressed" and m["reason"].startswith("HOLD-4")
    run(cli, "2026-02-07")  # 02-05 + 2 days grace: still held
    assert "queued" not in {m["status"] for m in outbox(cli, "L1")}


@pytest.mark.parametrize("payment,verdict", [
    ("P1,L1,2026-02-06,105", "kept"),       # paid in the grace days
    ("P1,L1,2026-02-03,50", "partly_kept"),
    ("P1,L1,2026-01-30,105", "broken"),     # paid before the promise was made: not for it
    (None, "broken"),
])
def test_promises_are_settled_against_the_ledger(cli, book, tmp_path, payment, verdict):
    (tmp_path / "collect.toml").write_text("[promises]\ngrace_days = 2\n", encoding="utf-8")
    log(cli, "L1", "--channel", "call", "--outcome", "promise", "--promise", "105", "--on", "2026-02-05",
        at="2026-02-01T09:00")
    if payment:
        pay(cli, tmp_path, payment)
    summary = run(cli, "2026-02-08")
    assert summary["promises_settled"] == {verdict: 1}
    [p] = json.loads(cli("promises", "--format", "json").stdout)
    assert (p["status"], p["evaluated_on"]) == (verdict, "2026-02-08")
    if payment is None:  # reminders resume the night after
        assert any(m["status"] == "queued" for m in outbox(cli, "L1"))


def test_a_promise_made_after_queueing_cancels_at_send(cli, book):
    run(cli, "2026-02-01")
    log(cli, "L1", "--channel", "call", "--outcome", "promise", "--promise", "105", "--on", "2026-02-03",
        at="2026-02-01T08:30")
    send(cli, "2026-02-01T09:00")
    [m] = outbox(cli, "L1")
    assert m["status"] == "cancelled" and m["reason"].startswith("HOLD-4")


@pytest.mark.parametrize("args", [
    ["--outcome", "promise"],                                            # no amount
    ["--outcome", "reached", "--promise", "10", "--on", "2026-02-05"],   # amount without a promise
    ["--outcome", "promise", "--promise", "10", "--on", "2026-01-01"],   # in the past
    ["--outcome", "promise", "--promise", "10", "--on", "2026-06-01"],   # too far: a plan
    ["--outcome", "promise", "--promise", "-10", "--on", "2026-02-05"],
    ["--outcome", "shouted"],
])
def test_bad_contacts_are_refused(cli, book, args):
    assert log(cli, "L1", "--channel", "call", *args, code=2)


def test_a_dispute_on_a_call_holds_the_loan(cli, book):
    log(cli, "L1", "--channel", "call", "--outcome", "dispute", "--note", "says 01-31 was paid")
    run(cli, "2026-02-02")
    assert outbox(cli, "L1")[0]["reason"].startswith("HOLD-1")
    actions = [a["action"] for a in json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)]
    # the dispute is a case, whose hold it placed (and the suppressed message's events)
    assert [a for a in actions if a != "message"] == ["contact", "hold", "case open"]


def test_a_broken_promise_raises_the_account_in_the_queue(cli, book):
    """The collector's day of the README: promise, reminders held, promise date + 1 with no
    payment, the promise is broken and the account rises."""
    def rank(day: str) -> int:
        q = json.loads(cli("queue", "--as-of", day, "--now", f"{day}T10:00", "--limit", "0", "--format", "json").stdout)
        return {e["loan_id"]: e["rank"] for e in q}["L1"]

    log(cli, "L1", "--channel", "call", "--outcome", "reached", at="2026-02-03T10:00")
    log(cli, "L2", "--channel", "call", "--outcome", "reached", at="2026-02-03T10:05")
    log(cli, "L1", "--channel", "call", "--outcome", "promise", "--promise", "105", "--on", "2026-02-05",
        at="2026-02-03T10:10")
    before = rank("2026-02-05")
    run(cli, "2026-02-05")
    assert outbox(cli, "L1")[0]["reason"].startswith("HOLD-4")
    summary = run(cli, "2026-02-06")  # the promise date + 1, nothing paid
    assert summary["promises_settled"] == {"broken": 1}
    q = json.loads(cli("queue", "--as-of", "2026-02-06", "--now", "2026-02-06T10:00", "--format", "json").stdout)
    top = q[0]
    assert top["loan_id"] == "L1" and "promise broken 0 day(s) ago +20.0" in top["why"]
    assert rank("2026-02-06") < before or before == 1


def test_account_card_shows_every_loan_of_the_borrower_and_what_was_done(cli, book, tmp_path):
    pay(cli, tmp_path, "P1,L4,2026-01-31,105")
    log(cli, "L4", "--channel", "call", "--outcome", "promise", "--promise", "105", "--on", "2026-02-05",
        at="2026-02-02T09:00")
    cli("hold", "L5", "--reason", "opt-out", "--channel", "sms", "--now", "2026-02-02T09:00")
    r = cli("account", "L5", "--as-of", "2026-02-03", "--format", "json")
    assert r.exit_code == 0, r.stderr
    card = json.loads(r.stdout)
    assert [x["loan_id"] for x in card["loans"]] == ["L5", "L4"]  # the asked loan first
    assert card["borrower"]["phone"] == "+86 138****0004"
    assert [(s["seq"], s["paid"], s["overdue"]) for s in card["schedule"]] == [
        (1, "0.00", True), (2, "0.00", False), (3, "0.00", False)]
    assert [p["payment_id"] for p in card["payments"]] == ["P1"]
    assert card["promises"][0]["status"] == "open" and card["holds"][0]["reason"] == "opt-out"
    assert cli("account", "NOPE").exit_code == 2
    table = cli("account", "L4", "--as-of", "2026-02-03").stdout
    assert "Schedule of L4" in table and "13800000004" not in table


def test_assign_spreads_fairly_and_keeps_the_last_agent(cli, book):
    log(cli, "L4", "--channel", "call", "--outcome", "reached", at="2026-02-02T09:00")  # wang worked L4
    r = cli("queue", "assign", "--agents", "li,wang", "--capacity", "3", "--as-of", "2026-02-03",
            "--now", "2026-02-03T09:00")
    assert r.exit_code == 0, r.stderr
    mine = json.loads(cli("queue", "--agent", "wang", "--as-of", "2026-02-03", "--now", "2026-02-03T10:00",
                          "--format", "json").stdout)
    theirs = json.loads(cli("queue", "--agent", "li", "--as-of", "2026-02-03", "--now", "2026-02-03T10:00",
                            "--format", "json").stdout)
    # 5 late loans, L4 last (it was contacted yesterday): the other four alternate li, wang,
    # li, wang; then L4 goes to wang, who worked it, though li has as few
    assert {e["loan_id"] for e in mine} >= {"L4"}
    assert len(mine) == 3 and len(theirs) == 2
    assert not {e["loan_id"] for e in mine} & {e["loan_id"] for e in theirs}
    again = cli("queue", "assign", "--agents", "li,wang", "--capacity", "3", "--as-of", "2026-02-03",
                "--now", "2026-02-03T09:30")
    assert again.exit_code == 0  # every account is taken: nothing changes
    assert len(json.loads(cli("queue", "--agent", "wang", "--as-of", "2026-02-03", "--format", "json",
                              "--now", "2026-02-03T10:00").stdout)) == 3
    assert cli("queue", "assign", "--agents", "li,li").exit_code == 2


def test_bureau_export_only_after_the_pre_notice(cli, book, tmp_path):
    import csv

    run(cli, "2026-03-05")
    send(cli, "2026-03-05T09:00")  # L1's M2 letter (the REC-2 pre-notice) goes out; L2 has no address
    send(cli, "2026-03-06T00:30")  # 08:30 on 03-05 in Los Angeles: L3's letter goes
    early = cli("bureau", "export", "--as-of", "2026-03-10", "--output", str(tmp_path / "b1.csv"), "--format", "json")
    assert early.exit_code == 0, early.stderr
    held = {r["loan_id"]: r["reason"] for r in json.loads(early.stdout)}
    assert "less than 14 days" in held["L1"] and "no pre-notice" in held["L2"]
    r = cli("bureau", "export", "--as-of", "2026-03-20", "--output", str(tmp_path / "b2.csv"), "--format", "json")
    with open(tmp_path / "b2.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["loan_id"] for row in rows] == ["L1", "L3", "L4", "L5"]  # every letter but L2's went out
    assert rows[0]["pre_notice_sent_on"] == "2026-03-05" and "phone" not in rows[0]
    assert {x["loan_id"] for x in json.loads(r.stdout)} == {"L2"}
    actions = [a["action"] for a in json.loads(cli("audit", "--format", "json").stdout)]
    assert actions.count("bureau export") == 2


def test_bureau_cells_are_safe_to_open_in_excel():
    from collect_cli.cli.render import excel_safe as _cell

    assert _cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert [_cell(x) for x in ("+1", "-1", "@x", "王小明", None, 12)] == ["'+1", "'-1", "'@x", "王小明", "", "12"]


def test_escalation_candidates_escalate_and_placement_export(cli, book, tmp_path):
    import csv

    (tmp_path / "collect.toml").write_text("[escalation]\nlegal_amount = 200\nlegal_min_dpd = 30\n", encoding="utf-8")
    got = {r["loan_id"]: r for r in json.loads(cli("escalations", "--as-of", "2026-03-05", "--format", "json").stdout)}
    assert got["L1"]["stage"] == "legal" and "at or over 200" in got["L1"]["rule"]  # 210.00 overdue
    late = {r["loan_id"]: r for r in json.loads(cli("escalations", "--as-of", "2026-05-05", "--format", "json").stdout)}
    assert late["L1"]["stage"] == "legal"  # the first rule that fires wins
    acme(cli)
    assert cli("escalate", "L1", "--stage", "agency").exit_code == 2  # which agency?
    assert cli("escalate", "L3", "--stage", "agency", "--agency", "Acme").exit_code == 0  # not placed: not exported
    placed(cli, tmp_path, "L1", on="2026-02-20")
    r = cli("placements", "export", "--agency", "Acme", "--output", str(tmp_path / "acme.csv"), "--as-of", "2026-03-05",
            "--now", "2026-03-05T10:00")
    assert r.exit_code == 0, r.stderr
    with open(tmp_path / "acme.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["loan_id", "borrower_name", "phone", "dpd", "overdue", "as_of"]  # nothing more
    assert [r["loan_id"] for r in rows] == ["L1"]
    audit = [a["action"] for a in json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)]
    assert [a for a in audit if a != "message"] == ["escalate", "placement propose", "placement place",
                                                    "placement export"]


def test_who2_third_parties_only_help_reach_the_borrower(cli, book):
    """WHO-2, WHO-3, WHO-5: a third party is a recorded contact person with the source of their
    number; asked to help only once the borrower is recorded unreachable; never told of the
    debt; and once they refused, never again, however the name is typed or under another id."""
    unknown = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", "张伟", code=2)
    assert "WHO-3" in unknown.stderr and "collect people add" in unknown.stderr
    assert cli("people", "add", "L1", "--name", "张伟", "--phone", "139-0000-0009", "--relation", "friend",
               "--source", "手机通讯录").exit_code == 2  # WHO-3: no numbers from an address book
    r = cli("people", "add", "L1", "--name", "张伟", "--phone", "139-0000-0009", "--relation", "friend",
            "--source", "loan application form", "--agent", "wang")
    assert r.exit_code == 0, r.stderr
    # the borrower was never tried: nobody else may be asked yet
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", "张伟", code=6)
    assert "WHO-5" in r.stderr and "override" not in r.stderr
    assert log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", "张伟", "--override", "urgent",
               code=6)  # nobody can override it
    for day in ("02", "03", "04"):
        log(cli, "L1", "--channel", "call", "--outcome", "no-answer", at=f"2026-02-{day}T09:00")
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", "张伟", at="2026-02-04T10:00", code=6)
    assert "less than 3 days" in r.stderr
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", "张伟", at="2026-02-05T10:00")
    assert "WHO-2" in r.stderr and "Do not mention the debt" in r.stderr
    assert "105" not in r.stderr + r.stdout  # no amount is ever shown for a third party
    r = log(cli, "L1", "--channel", "call", "--outcome", "promise", "--promise", "105", "--on", "2026-02-09",
            "--party", "张伟", at="2026-02-05T10:05", code=2)
    assert "WHO-2" in r.stderr
    log(cli, "L1", "--channel", "call", "--outcome", "refused", "--party", "1", at="2026-02-05T11:00")
    for spelled in ("张 伟 ", "＃1", "+86 139 0000 0009"):
        r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", spelled, at="2026-02-06T10:00",
                code=6)
        assert "never contacted again" in r.stderr
    # the same number recorded for another borrower: the refusal binds to the number too
    assert cli("people", "add", "L2", "--name", "Wei Zhang", "--phone", "13900000009", "--relation", "friend",
               "--source", "borrower gave it").exit_code == 0
    log(cli, "L2", "--channel", "call", "--outcome", "wrong-number", at="2026-02-06T09:00")
    r = log(cli, "L2", "--channel", "call", "--outcome", "reached", "--party", "Wei Zhang", at="2026-02-06T10:00",
            code=6)
    assert "never contacted again" in r.stderr
    card = json.loads(cli("account", "L1", "--as-of", "2026-02-06", "--format", "json").stdout)
    assert {c["party"] for c in card["contacts"]} == {"borrower", "张伟"}
    listed = cli("people", "list", "L1", "--format", "json")
    [person] = json.loads(listed.stdout)
    assert person["refused"] is True and "0009" in person["phone"] and "13900000009" not in listed.stdout


def test_queue_take_and_assign_print_in_every_format(cli, book):
    import csv
    import io

    taken = json.loads(cli("queue", "take", "--agent", "wang", "--limit", "1", "--as-of", "2026-02-05", "--now",
                           "2026-02-05T10:00", "--format", "json").stdout)
    assert taken["agent"] == "wang" and len(taken["loans"]) == 1 and taken["agents"] == {"wang": taken["loans"]}
    r = cli("queue", "assign", "--agents", "li,zhao", "--capacity", "1", "--as-of", "2026-02-05", "--now",
            "2026-02-05T10:00", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert r.exit_code == 0 and {x["agent"] for x in rows} <= {"li", "zhao"} and all(x["loan_id"] for x in rows)
    table = cli("queue", "take", "--agent", "qian", "--limit", "1", "--as-of", "2026-02-05", "--now",
                "2026-02-05T10:00")
    assert table.exit_code == 0 and "Taken by qian" in table.stdout
