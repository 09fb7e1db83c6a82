"""Issue 12 end to end, through the CLI on both backends: one contact policy on every path
that reaches a person (run-reminders, send through the file spool, log, the queue, the
bureau file, placements), and content judged on the text actually rendered and sent."""

from __future__ import annotations

import csv
import json

from sqlalchemy import create_engine, text

from collect_cli.store.database import database_url
from tests.cli.ledger_book import acme, outbox, pay, placed, run, send


def sql(cli, statement: str, **params):
    engine = create_engine(database_url(cli.db))
    with engine.begin() as conn:
        rows = conn.execute(text(statement), params)
        out = rows.all() if rows.returns_rows else None
    engine.dispose()
    return out


def templates(tmp_path, toml: str = "", **files: str) -> None:
    """An operator's template folder and collect.toml."""
    mine = tmp_path / "mine"
    mine.mkdir(exist_ok=True)
    for name, body in files.items():
        channel = "letter" if "letter" in name or "final" in name else "sms"
        (mine / f"{name}.zh_CN.j2").write_text(f"{{#-\nchannel: {channel}\npurpose: overdue_notice\n-#}}\n{body}\n",
                                               encoding="utf-8")
    (tmp_path / "collect.toml").write_text('[messaging]\ntemplate_dirs = ["mine"]\n' + toml, encoding="utf-8")


def by_step(cli, loan: str) -> dict[str, dict]:
    return {m["step"]: m for m in outbox(cli, loan)}


def spooled(tmp_path) -> list[dict]:
    return [json.loads(line) for f in sorted((tmp_path / "outbox").glob("sms-*.jsonl"))
            for line in f.read_text(encoding="utf-8").splitlines()]


NOTICE = ("{{ borrower_name }}您好，截至{{ as_of }}，您在{{ creditor_name }}的借款（{{ loan_ref }}）逾期金额{{ amount_overdue }}元，"
          "请通过{{ payment_channels }}还款。如有异议请通过{{ dispute_channel }}反馈，客服电话{{ service_phone }}。")


# --- 1. judged on the rendered text, at run time and again at send time ---------------------------

def test_a_threat_built_by_template_code_is_suppressed_and_never_sent(cli, book, tmp_path):
    templates(tmp_path, m1_notice=NOTICE + "否则{{ '坐' ~ '牢' }}")
    summary = run(cli, "2026-02-01", code=5)
    assert summary["exit_code"] == 5
    m = by_step(cli, "L1")["m1_notice"]
    assert m["status"] == "suppressed" and m["reason"].startswith("SAY-1") and "坐牢" in m["reason"]
    send(cli, "2026-02-01T09:00")
    assert not (tmp_path / "outbox").exists() or spooled(tmp_path) == []


def test_send_judges_the_text_again_with_todays_lexicon(cli, book, tmp_path):
    run(cli, "2026-02-01")
    # the operator adds a word after the messages were queued: what still waits is judged anew
    (tmp_path / "collect.toml").write_text('[messaging]\nforbidden_words = ["尽快"]\n', encoding="utf-8")
    result = send(cli, "2026-02-01T09:00")
    m = by_step(cli, "L1")["m1_notice"]
    assert m["status"] == "cancelled" and m["reason"].startswith("SAY-1")
    assert result["sent"] == {} and result["cancelled"]["SAY-1"] >= 1


def test_a_configured_text_is_judged_as_part_of_the_message(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text('[messaging.zh_CN]\ncreditor_name = "示例公安催收中心"\n', encoding="utf-8")
    run(cli, "2026-02-01", code=5)
    assert by_step(cli, "L1")["m1_notice"]["reason"].startswith("SAY-1")
    lint = cli("templates", "lint")
    assert lint.exit_code == 1 and "messaging.zh_CN.creditor_name" in lint.stdout


def test_required_content_as_values_and_from_the_steps_purpose(cli, book, tmp_path):
    """The amount named only in a dead branch is not stated: SAY-2; and a template that calls
    itself a pre-due reminder is held to what the overdue step that sends it must say."""
    templates(tmp_path, m1_notice=NOTICE.replace("{{ amount_overdue }}", "{% if false %}{{ amount_overdue }}{% endif %}"))
    run(cli, "2026-02-01", code=5)
    m = by_step(cli, "L1")["m1_notice"]
    assert m["reason"].startswith("SAY-2") and "amount_overdue" in m["reason"]
    mine = tmp_path / "mine" / "m1_notice.zh_CN.j2"
    mine.write_text("{#-\nchannel: sms\npurpose: predue_reminder\n-#}\n{{ borrower_name }}您好，{{ creditor_name }}提醒您"
                    "按时还款，客服{{ service_phone }}，{{ payment_channels }}。\n", encoding="utf-8")
    run(cli, "2026-02-02", code=5)
    assert by_step(cli, "L1")["m1_notice"]["reason"].startswith("SAY-2")


# --- 2. ledger fields are data ------------------------------------------------------------------

def test_a_name_holding_a_number_is_rejected_at_import_or_greeted_neutrally(cli, book, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on\n"
                   "L9,B9,老赖13912345678,13800000009,300,2025-12-31\n", encoding="utf-8")
    r = cli("import", str(bad))
    assert r.exit_code == 3
    reason = next(csv.DictReader(open(tmp_path / "bad.rejects.csv", encoding="utf-8")))["reason"]
    assert reason.startswith("borrower_name: holds digits")
    (tmp_path / "collect.toml").write_text('[ledger]\nsuspicious_names = "flag"\n', encoding="utf-8")
    r = cli("import", str(bad), str(tmp_path / "inst.csv"), "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)[0]["flagged_names"] == 1 and "greet them neutrally" in r.stderr
    sched = tmp_path / "inst9.csv"
    sched.write_text("loan_id,seq,due_on,principal_due,interest_due\nL9,1,2026-01-31,100,5\n", encoding="utf-8")
    assert cli("import", str(sched)).exit_code == 0
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T09:00")
    [sent] = [s for s in spooled(tmp_path) if s["loan_id"] == "L9"]
    assert sent["body"].startswith("客户您好") and "13912345678" not in sent["body"] and "老赖" not in sent["body"]


# --- 3. truthful messages (SAY-8) -----------------------------------------------------------------

def test_no_message_claims_a_letter_that_was_not_sent(cli, book, tmp_path):
    """The shipped M2 SMS says the formal letter went out only when it did; an operator's text
    that claims it anyway waits until it is true, per account."""
    run(cli, "2026-03-05")
    shipped = {m["loan_id"]: m for m in outbox(cli) if m["step"] == "m2_notice" and m["status"] == "queued"}
    assert "寄出书面通知" not in "".join(sql(cli, "SELECT body FROM outbox WHERE step = 'm2_notice'")[0])
    assert shipped and all(m["status"] == "queued" for m in shipped.values())

    templates(tmp_path, m2_notice=NOTICE + "我们已另函寄送正式通知。")
    sql(cli, "DELETE FROM outbox_events")
    sql(cli, "DELETE FROM outbox_versions")
    sql(cli, "DELETE FROM outbox")
    run(cli, "2026-03-05", code=5)
    assert by_step(cli, "L1")["m2_notice"]["reason"].startswith("SAY-8")
    send(cli, "2026-03-05T09:00")  # L1's M2 letter goes; L2 has no postal address: its letter never does
    assert by_step(cli, "L1")["m2_letter"]["status"] == "sent"
    assert by_step(cli, "L2")["m2_letter"]["reason"].startswith("ADDR")
    run(cli, "2026-03-06", code=5)
    assert by_step(cli, "L1")["m2_notice"]["status"] == "queued"  # now it is true
    assert by_step(cli, "L2")["m2_notice"]["reason"].startswith("SAY-8")


def test_the_final_letter_states_earlier_notices_only_when_they_went_out(cli, book, tmp_path):
    run(cli, "2026-04-05")  # a first run with the loan already in M3: nothing was ever sent
    send(cli, "2026-04-05T09:00")
    [body] = sql(cli, "SELECT body FROM outbox WHERE loan_id = 'L1' AND step = 'm3_final'")[0]
    assert "此前" not in body and "寄出" not in body and "征信" in body  # the REC-2 notice is in it


# --- 4. the borrower's day ------------------------------------------------------------------------

def test_send_waits_until_the_as_of_date_has_begun_where_the_borrower_is(cli, book):
    run(cli, "2026-02-01")
    # even a message whose planned time has passed (an older run) waits for the borrower's day
    sql(cli, "UPDATE outbox SET send_after = :t WHERE loan_id = 'L3'", t="2026-01-31 01:00:00")
    result = send(cli, "2026-02-01T09:00")  # 17:00 on 01-31 in Los Angeles
    assert by_step(cli, "L3")["m1_notice"]["status"] == "queued" and result["waiting"] >= 1
    send(cli, "2026-02-02T00:30")  # 08:30 on 02-01 there
    assert by_step(cli, "L3")["m1_notice"]["status"] == "sent"


def test_served_zones_that_miss_each_other_on_any_day_of_the_year_are_refused(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text('[contact]\nwindow = ["08:00", "20:00"]\n'
                                           'served_timezones = ["Asia/Shanghai", "America/New_York"]\n',
                                           encoding="utf-8")
    r = cli("run-reminders", "--as-of", "2026-02-01", "--now", "2026-02-01T02:00")
    assert r.exit_code == 2 and "WHEN-6" in r.stderr and "-03-" in r.stderr  # found in March, not only in July


# --- 5. one contact policy on every path ----------------------------------------------------------

def test_a_no_contact_hold_stops_calls_the_queue_the_bureau_and_placements(cli, book, tmp_path):
    assert cli("hold", "L4", "--reason", "complaint", "--note", "under review",
               "--now", "2026-02-02T09:00").exit_code == 0  # borrower-wide
    r = cli("log", "L5", "--channel", "call", "--outcome", "reached", "--now", "2026-02-02T10:00")
    assert r.exit_code == 6 and "HOLD-3" in r.stderr
    r = cli("log", "L5", "--channel", "call", "--outcome", "reached", "--now", "2026-02-02T10:00",
            "--override", "the complaint team asked us to call")
    assert r.exit_code == 0 and "override recorded: HOLD-3" in r.stderr
    assert cli("log", "L5", "--channel", "call", "--outcome", "reached", "--inbound",
               "--now", "2026-02-02T11:00").exit_code == 0  # the borrower called us: always recorded
    queue = json.loads(cli("queue", "--as-of", "2026-02-02", "--now", "2026-02-02T10:00", "--format", "json").stdout)
    assert not {"L4", "L5"} & {e["loan_id"] for e in queue}
    sup = json.loads(cli("queue", "--as-of", "2026-02-02", "--now", "2026-02-02T10:00", "--supervisor",
                         "--format", "json").stdout)
    held = {e["loan_id"]: e for e in sup}
    assert held["L5"]["call_now"] == "HOLD-3" and "complaint" in held["L5"]["hold"]
    run(cli, "2026-03-05")
    assert all(m["reason"].startswith("HOLD-3") for m in outbox(cli, "L5"))
    send(cli, "2026-03-05T09:00")
    r = cli("bureau", "export", "--as-of", "2026-03-25", "--output", str(tmp_path / "b.csv"), "--format", "json")
    assert r.exit_code == 0, r.stderr
    back = {x["loan_id"]: x["reason"] for x in json.loads(r.stdout)}
    assert back["L4"].startswith("HOLD-3") and back["L5"].startswith("HOLD-3")
    acme(cli)
    left_out = placed(cli, tmp_path, "L4", "L1", on="2026-03-10")  # L4 is not even proposed
    assert left_out["L4"].startswith("HOLD-3")
    r = cli("placements", "export", "--agency", "Acme", "--output", str(tmp_path / "a.csv"), "--as-of", "2026-03-25",
            "--now", "2026-03-25T10:00")
    assert r.exit_code == 0, r.stderr
    assert [row["loan_id"] for row in csv.DictReader(open(tmp_path / "a.csv", encoding="utf-8-sig"))] == ["L1"]


def test_repaid_accounts_are_not_placed_and_files_are_not_dated_ahead(cli, book, tmp_path):
    acme(cli)
    placed(cli, tmp_path, "L1", on="2026-02-20")
    pay(cli, tmp_path, "P1,L1,2026-03-01,315")  # repaid once placed
    r = cli("placements", "export", "--agency", "Acme", "--output", str(tmp_path / "a.csv"), "--as-of", "2026-03-05",
            "--now", "2026-03-05T10:00")
    assert list(csv.DictReader(open(tmp_path / "a.csv", encoding="utf-8-sig"))) == [] and "AGY-3" in r.stdout
    future = "2099-01-01"
    assert cli("bureau", "export", "--as-of", future, "--output", str(tmp_path / "b.csv")).exit_code == 2
    assert cli("placements", "export", "--agency", "Acme", "--output", str(tmp_path / "a.csv"),
               "--as-of", future, "--now", "2026-03-05T10:00").exit_code == 2


def test_the_bureau_counts_a_notice_only_when_the_text_sent_says_it(cli, book, tmp_path):
    """A letter whose bureau wording sits in a dead branch does not count; a dedicated notice
    step tells a borrower who is already past M2, and from its day the account is reportable."""
    templates(tmp_path, '[[strategy]]\nstep = "m2_letter"\nbucket = "M2"\nmin_days = 31\nchannel = "letter"\n'
                        'template = "m2_letter"\npurpose = "overdue_notice"\n'
                        '[[strategy]]\nstep = "notice"\nbuckets = ["M3", "M4"]\nmin_days = 61\nchannel = "letter"\n'
                        'template = "bureau_notice"\npurpose = "bureau_notice"\nallow_late_automation = true\n',
              m2_letter="<p>" + NOTICE + "</p>{% if false %}<p>我们将向征信报送</p>{% endif %}")
    run(cli, "2026-03-05")
    send(cli, "2026-03-05T09:00")
    assert by_step(cli, "L1")["m2_letter"]["status"] == "sent"
    r = cli("bureau", "export", "--as-of", "2026-03-25", "--output", str(tmp_path / "b.csv"), "--format", "json")
    assert {x["loan_id"]: x["reason"] for x in json.loads(r.stdout)}["L1"] == "REC-2: no pre-notice has been sent"
    run(cli, "2026-04-05")  # M3: the dedicated notice
    send(cli, "2026-04-05T09:00")
    assert by_step(cli, "L1")["notice"]["status"] == "sent"
    early = cli("bureau", "export", "--as-of", "2026-04-10", "--output", str(tmp_path / "b.csv"), "--format", "json")
    assert "less than 14 days" in {x["loan_id"]: x["reason"] for x in json.loads(early.stdout)}["L1"]
    cli("bureau", "export", "--as-of", "2026-04-20", "--output", str(tmp_path / "b.csv"))
    rows = list(csv.DictReader(open(tmp_path / "b.csv", encoding="utf-8-sig")))
    assert [row["loan_id"] for row in rows if row["loan_id"] == "L1"] == ["L1"]
    assert rows[0]["pre_notice_sent_on"] == "2026-04-05"
    audit = [a["action"] for a in json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)]
    assert "bureau report" in audit


def test_a_step_past_the_handover_needs_late_automation_allowed(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text('[[strategy]]\nstep = "late"\nbucket = "M4"\nmin_days = 91\n'
                                           'channel = "sms"\ntemplate = "m3_notice"\n', encoding="utf-8")
    r = cli("run-reminders", "--as-of", "2026-02-01", "--now", "2026-02-01T02:00")
    assert r.exit_code == 2 and "allow_late_automation" in r.stderr and "LIM-1" in r.stderr


# --- 6. holds as instances --------------------------------------------------------------------

def test_releasing_one_of_two_disputes_leaves_the_other(cli, book):
    """Each dispute is a case with its own hold instance: closing one (after its answer went)
    releases that instance only."""
    for note in ("payment of 01-05 missing", "interest wrong"):
        assert cli("hold", "L1", "--reason", "dispute", "--note", note, "--now", "2026-01-31T10:00").exit_code == 0
    r = cli("release", "L1", "--reason", "dispute")
    assert r.exit_code == 2 and "--id" in r.stderr  # which one?
    assert cli("release", "L1", "--id", "1").exit_code == 6  # the case's: it ends with the case
    for n in ("1", "2"):
        assert cli("case", "answer", n, "--text", "经核实，已为您更正。", "--now", "2026-01-31T10:30").exit_code == 0
    send(cli, "2026-01-31T11:00")
    assert cli("case", "close", "1", "--note", "payment found", "--now", "2026-01-31T11:10").exit_code == 0
    run(cli, "2026-02-01")
    assert by_step(cli, "L1")["m1_notice"]["reason"].startswith("HOLD-1")
    assert cli("case", "close", "1").exit_code == 2  # closed already
    assert cli("case", "close", "2", "--now", "2026-02-01T11:00").exit_code == 0
    run(cli, "2026-02-02")
    assert by_step(cli, "L1")["m1_notice"]["status"] == "queued"
    card = json.loads(cli("account", "L1", "--as-of", "2026-02-02", "--format", "json").stdout)
    assert [(h["hold"], h["action"]) for h in card["holds"]] == [(1, "place"), (2, "place"), (1, "release"),
                                                                  (2, "release")]


# --- 7. people by number (WHO-4) -----------------------------------------------------------------

def test_a_stop_reply_opts_out_the_borrower_and_their_number(cli, book, tmp_path):
    r = cli("log", "L1", "--channel", "sms-reply", "--outcome", "reached", "--note", "回复TD退订",
            "--now", "2026-01-31T10:00")
    assert r.exit_code == 0 and "opt-out hold" in r.stderr
    # another borrower id with the same number (a re-registration, a family phone)
    extra = tmp_path / "more.csv"
    extra.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address\n"
                     "L8,B8,王晓明,+86 138-0000-0001,300,2025-12-31,上海市1号\n", encoding="utf-8")
    assert cli("import", str(extra)).exit_code == 0
    sched = tmp_path / "inst8.csv"
    sched.write_text("loan_id,seq,due_on,principal_due,interest_due\nL8,1,2026-01-31,100,5\n", encoding="utf-8")
    assert cli("import", str(sched)).exit_code == 0
    run(cli, "2026-02-01")
    assert by_step(cli, "L1")["m1_notice"]["reason"].startswith("HOLD-2")
    assert by_step(cli, "L8")["m1_notice"]["reason"].startswith("HOLD-2")  # the number opted out
    run(cli, "2026-03-05")
    assert by_step(cli, "L1")["m2_letter"]["status"] == "queued"  # a letter is no SMS


def test_a_shared_number_gets_no_debt_message_until_confirmed(cli, book, tmp_path):
    extra = tmp_path / "more.csv"
    extra.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on\n"
                     "L8,B8,王晓明,13800000001,300,2025-12-31\n", encoding="utf-8")
    r = cli("import", str(extra))
    assert "1 phone number(s), e-mail(s) or push id(s) are on file for several borrower ids" in r.stderr  # flagged at import
    sched = tmp_path / "inst8.csv"
    sched.write_text("loan_id,seq,due_on,principal_due,interest_due\nL8,1,2026-01-31,100,5\n", encoding="utf-8")
    cli("import", str(sched))
    run(cli, "2026-02-01")
    assert by_step(cli, "L1")["m1_notice"]["reason"].startswith("WHO-4")
    assert by_step(cli, "L8")["m1_notice"]["reason"].startswith("WHO-4")
    shared = json.loads(cli("numbers", "shared", "--format", "json").stdout)
    assert shared == [{"point": "+86 138****0001", "borrowers": "B1, B8", "confirmed_for": None}]
    card = json.loads(cli("account", "L1", "--as-of", "2026-02-01", "--format", "json").stdout)
    assert card["borrower"]["shared_phone"] == ["B8"]
    assert cli("numbers", "confirm", "138 0000 0001", "--borrower", "B1", "--note", "asked on a call").exit_code == 0
    run(cli, "2026-02-02")
    assert by_step(cli, "L1")["m1_notice"]["status"] == "queued"
    assert by_step(cli, "L8")["m1_notice"]["reason"].startswith("WHO-4")


def test_the_daily_sms_cap_follows_the_number_and_the_borrowers_day(cli, book, tmp_path):
    """Texted on the number under one id, the number gets no second SMS that day under another;
    and a zone changed during the day opens no second slot."""
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T09:00")  # L2 (B2) is texted on 13800000002
    moved = tmp_path / "moved.csv"  # B2's number is now also B1's, and confirmed as B1's
    moved.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address\n"
                     "L1,B1,王小明,13800000002,300,2025-12-31,上海市黄浦区1号\n", encoding="utf-8")
    assert cli("import", str(moved)).exit_code == 0
    assert cli("numbers", "confirm", "13800000002", "--borrower", "B1").exit_code == 0
    sql(cli, "DELETE FROM outbox_events WHERE message_id IN (SELECT id FROM outbox WHERE loan_id = 'L1')")
    sql(cli, "DELETE FROM outbox_versions WHERE message_id IN (SELECT id FROM outbox WHERE loan_id = 'L1')")
    sql(cli, "DELETE FROM outbox WHERE loan_id = 'L1'")
    r = cli("run-reminders", "--as-of", "2026-02-01", "--now", "2026-02-01T10:00", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert by_step(cli, "L1")["m1_notice"]["reason"].startswith("WHEN-5")


def test_a_zone_change_during_the_day_opens_no_second_slot(cli, book, tmp_path):
    run(cli, "2026-02-06")
    send(cli, "2026-02-07T12:00")  # L3 in Los Angeles: texted at 20:00 on 02-06 there, 12:00 on 02-07 in Shanghai
    assert by_step(cli, "L3")["m1_notice"]["status"] == "sent"
    moved = tmp_path / "moved.csv"  # the borrower now lives in Shanghai
    moved.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,locale,timezone\n"
                     "L3,B3,Amy Chen,13800000003,300,2025-12-31,en,Asia/Shanghai\n", encoding="utf-8")
    assert cli("import", str(moved)).exit_code == 0
    r = cli("run-reminders", "--as-of", "2026-02-07", "--now", "2026-02-07T13:00", "--format", "json")
    assert r.exit_code == 0
    assert by_step(cli, "L3")["m1_followup"]["reason"].startswith("WHEN-5")


# --- 8. the recipient at send time (WHO-1) -------------------------------------------------------

def test_a_corrected_number_is_used_and_a_removed_address_cancels(cli, book, tmp_path):
    run(cli, "2026-03-05")
    moved = tmp_path / "moved.csv"
    moved.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address\n"
                     "L1,B1,王小明,13900000001,300,2025-12-31,\n", encoding="utf-8")
    assert cli("import", str(moved)).exit_code == 0
    send(cli, "2026-03-05T09:00")
    [sms] = [s for s in spooled(tmp_path) if s["loan_id"] == "L1"]
    assert sms["to"] == "+8613900000001"
    letter = by_step(cli, "L1")["m2_letter"]
    assert letter["status"] == "cancelled" and letter["reason"].startswith("ADDR")


# --- 10. WHEN-4 under the us rules -----------------------------------------------------------------

def test_when4_seven_calls_in_seven_days_and_quiet_after_a_conversation(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text('[contact]\nrules = "us"\nwindow = ["08:00", "21:00"]\n', encoding="utf-8")

    def call(outcome, at, code=0):
        r = cli("log", "L1", "--channel", "call", "--outcome", outcome, "--now", at, "--agent", "wang")
        assert r.exit_code == code, r.stderr
        return r

    for day in range(2, 9):  # seven unanswered calls in seven days
        call("no-answer", f"2026-02-{day:02d}T10:00")
    assert "WHEN-4" in call("no-answer", "2026-02-08T15:00", code=6).stderr
    call("no-answer", "2026-02-09T10:00")  # the call of 02-02 is out of the 7 days now
    call("reached", "2026-02-10T11:00")  # a conversation: the day it happened is the first of seven quiet days
    r = call("no-answer", "2026-02-16T10:00", code=6)
    assert "WHEN-4" in r.stderr and "conversation" in r.stderr
    call("no-answer", "2026-02-17T10:00")
    assert call("no-answer", "2026-02-12T10:00", code=6)  # (a late entry, still judged by the rules)


# --- 11. figures at send time (AMT-3) ---------------------------------------------------------------

def test_a_figure_that_changed_by_the_sending_day_cancels(cli, book, tmp_path):
    """The M2 letter states the penalty as of 03-05; sent on 03-06 it would state yesterday's
    penalty: AMT-3 (the overdue amount itself is unchanged, so AMT-1 alone would let it go)."""
    (tmp_path / "collect.toml").write_text('[penalty.products]\ndefault = "0.0005"\n'
                                           '[penalty]\nlpr = [["2025-01-01", "0.10"]]\n', encoding="utf-8")
    run(cli, "2026-03-05")
    letter = by_step(cli, "L1")["m2_letter"]
    assert letter["status"] == "queued"
    result = send(cli, "2026-03-06T09:00")
    letter = by_step(cli, "L1")["m2_letter"]
    assert letter["status"] == "cancelled" and letter["reason"].startswith("AMT-3") and "penalty" in letter["reason"]
    assert result["cancelled"]["AMT-3"] >= 1


def test_the_penalty_needs_its_dated_cap(cli, book, tmp_path):
    for toml, words in (('[penalty.products]\ndefault = "0.0005"\n', "LPR table"),
                        ('[penalty.products]\ndefault = "0.0005"\n[penalty]\nlpr = [["2025-01-01", "0.03"]]\n'
                         'lpr_multiple = "10"\n', "4")):
        (tmp_path / "collect.toml").write_text(toml, encoding="utf-8")
        r = cli("run-reminders", "--as-of", "2026-02-01", "--now", "2026-02-01T02:00")
        assert r.exit_code == 2 and "AMT-2" in r.stderr and words in r.stderr


# --- 12. limitation (LIM-1, SAY-7) ----------------------------------------------------------------

def test_no_legal_wording_on_a_time_barred_debt(cli, tmp_path):
    (tmp_path / "loans.csv").write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address\n"
                                        "OLD,B1,王小明,13800000001,300,2021-12-31,上海市1号\n"
                                        "NEW,B2,李四,13800000002,300,2021-12-31,北京市1号\n", encoding="utf-8")
    (tmp_path / "inst.csv").write_text("loan_id,seq,due_on,principal_due,interest_due\n"
                                       "OLD,1,2022-01-31,300,5\nNEW,1,2022-01-31,300,5\n", encoding="utf-8")
    (tmp_path / "pay.csv").write_text("payment_id,loan_id,paid_on,amount\nP1,NEW,2024-06-01,5\n", encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv"), str(tmp_path / "pay.csv")).exit_code == 0
    (tmp_path / "collect.toml").write_text('[[strategy]]\nstep = "late_letter"\nbucket = "M7+"\nmin_days = 181\n'
                                           'channel = "letter"\ntemplate = "m3_final"\npurpose = "final_demand"\n'
                                           'allow_late_automation = true\n', encoding="utf-8")
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T09:00")
    bodies = dict(sql(cli, "SELECT loan_id, body FROM outbox WHERE status = 'sent'"))
    assert "合法途径" not in bodies["OLD"]  # 4 years since it fell due, nothing renewed it
    assert "合法途径" in bodies["NEW"]  # a payment in 2024, while the period ran, renewed it
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "m3_final.zh_CN.j2").write_text("{#-\nchannel: letter\npurpose: final_demand\n-#}\n<p>" + NOTICE +
                                            "</p><p>我们将向法院起诉。</p>\n", encoding="utf-8")
    with open(tmp_path / "collect.toml", "a", encoding="utf-8") as fh:
        fh.write('[messaging]\ntemplate_dirs = ["mine"]\n')
    sql(cli, "DELETE FROM outbox_events")
    sql(cli, "DELETE FROM outbox_versions")
    sql(cli, "DELETE FROM outbox")
    run(cli, "2026-02-01", code=5)
    reasons = dict(sql(cli, "SELECT loan_id, reason FROM outbox"))
    assert reasons["OLD"].startswith("SAY-7") and reasons["NEW"] is None


# --- the nightly run and send on sample.db, with the shipped templates ------------------------------

def test_sample_db_nights_deliver_no_claim_the_records_do_not_prove(tmp_path):
    """Six nights of run-reminders and send on sample.db: every statement of fact in a sent
    message ("we wrote before", "a letter was sent") is held against the messages sent before
    it in its episode, computed here from the outbox itself."""
    import shutil
    from datetime import date, timedelta
    from pathlib import Path

    from collect_cli.domain.content import _CLAIMS
    from collect_cli.domain.lexicon import Forms
    from tests.conftest import Cli

    shutil.copy(Path(__file__).parents[2] / "sample.db", tmp_path / "sample.db")
    c = Cli(str(tmp_path / "sample.db"))
    day = date(2026, 11, 20)
    for _ in range(6):
        run(c, day.isoformat())
        for at in (f"{day}T09:00", f"{day}T20:00", f"{day + timedelta(days=1)}T00:30"):
            send(c, at)
        day += timedelta(days=1)
    rows = sql(c, "SELECT m.loan_id, m.episode, m.channel, m.purpose, m.body, min(e.at) FROM outbox m "
                  "JOIN outbox_events e ON e.message_id = m.id AND e.status = 'sent' WHERE m.status = 'sent' "
                  "GROUP BY m.id, m.loan_id, m.episode, m.channel, m.purpose, m.body")
    claims = 0
    for loan, episode, channel, purpose, body, at in rows:
        before = [r for r in rows if (r[0], r[1]) == (loan, episode) and r[5] < at and r[3] != "predue_reminder"]
        proven = {"a letter was sent": any(r[2] == "letter" for r in before),
                  "we wrote before": len(before) >= 1, "notices were sent several times": len(before) >= 2}
        for name, pattern, _, _ in _CLAIMS:
            if pattern.search(Forms.of(body).letters):
                claims += 1
                assert proven.get(name), (loan, name, body)
    assert len(rows) > 500 and claims >= 20  # the shipped templates do state facts, when they hold


def test_a_message_queued_before_a_reversal_is_cancelled_at_send(cli, book):
    """L1 paid 50 of its first installment: the M1 notice of 02-05 states 55.00 overdue. The
    payment bounces that day; at send the engine's figure is 105.00: cancelled (AMT-1), and
    the next run queues the true one."""
    pay(cli, book, "P1,L1,2026-01-31,50")
    run(cli, "2026-02-05")
    notice = by_step(cli, "L1")["m1_notice"]
    assert (notice["status"], notice["amount_overdue"]) == ("queued", "55.00")
    (book / "rev.csv").write_text("payment_id,reversed_on\nP1,2026-02-05\n", encoding="utf-8")
    assert cli("import", str(book / "rev.csv")).exit_code == 0
    send(cli, "2026-02-05T09:00")
    notice = by_step(cli, "L1")["m1_notice"]
    assert notice["status"] == "cancelled" and notice["reason"].startswith("AMT-1") and "105.00" in notice["reason"]
