"""Contact-policy defects an attacker review reproduced, end to end through the CLI on both
backends: each test fails when the mechanism it names is removed."""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from collect_cli.domain.limitation import limitation_ends
from tests.cli.ledger_book import acme, outbox, pay, placed, run, send
from tests.cli.test_contact_policy import sql


def log(cli, *args: str, at: str = "2026-02-02T10:00", code: int = 0):
    """`collect log` at `at` (the configured zone, Asia/Shanghai)."""
    r = cli("log", *args, "--now", at, "--agent", "wang")
    assert r.exit_code == code, r.stderr + r.stdout
    return r


def borrower(cli, tmp_path, row: str, loan: str, header: str = "") -> None:
    """Another loan (and its one installment, due 2026-01-31) in the ledger."""
    f = tmp_path / f"more-{loan}.csv"
    f.write_text((header or "loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address") + "\n"
                 + row + "\n", encoding="utf-8")
    assert cli("import", str(f)).exit_code == 0
    s = tmp_path / f"inst-{loan}.csv"
    s.write_text(f"loan_id,seq,due_on,principal_due,interest_due\n{loan},1,2026-01-31,100,5\n", encoding="utf-8")
    assert cli("import", str(s)).exit_code == 0


def first_notice(cli, loan: str) -> dict:
    return {m["step"]: m for m in outbox(cli, loan)}["m1_notice"]


def person(cli, loan: str, name: str, phone: str, code: int = 0, source: str = "loan application form"):
    r = cli("people", "add", loan, "--name", name, "--phone", phone, "--relation", "friend", "--source", source)
    assert r.exit_code == code, r.stderr
    return r


# --- 1. HOLD-2 / WHO-4: an opt-out without a channel binds to the phone, the e-mail and the push id --

def test_an_opt_out_without_a_channel_binds_to_the_number_under_every_id(cli, book, tmp_path):
    r = cli("hold", "L1", "--reason", "opt-out", "--note", "said so on a call")
    assert r.exit_code == 0, r.stderr
    assert "holds 1 (sms), 2 (email), 3 (push)" in r.stderr  # the user is told which ids were placed
    borrower(cli, tmp_path, "L8,B8,王晓明,13800000001,300,2025-12-31,上海市1号", "L8")  # the same phone
    assert cli("numbers", "confirm", "13800000001", "--borrower", "B8").exit_code == 0
    run(cli, "2026-02-01")
    assert first_notice(cli, "L1")["reason"].startswith("HOLD-2")
    assert first_notice(cli, "L8")["reason"].startswith("HOLD-2")  # the number opted out, whoever has it
    [(point,)] = sql(cli, "SELECT point FROM holds WHERE id = 1")
    assert point == "+8613800000001"
    # release stays usable: which of the two?
    r = cli("release", "L1", "--reason", "opt-out")
    assert r.exit_code == 2 and "--channel" in r.stderr and "1 (sms)" in r.stderr
    assert cli("release", "L8", "--id", "1").exit_code == 2  # not B8's own opt-out to release
    r = cli("release", "L1", "--reason", "opt-out", "--channel", "sms")
    assert r.exit_code == 0 and "hold 1 released" in r.stderr
    r = cli("release", "L1", "--reason", "opt-out", "--channel", "email")
    assert r.exit_code == 0 and "hold 2 released" in r.stderr
    r = cli("release", "L1", "--reason", "opt-out")  # the push one is the only one left
    assert r.exit_code == 0 and "hold 3 released" in r.stderr


# --- 2. LIM-1: nothing revives a time-barred debt ---------------------------------------------------

def test_limitation_renewals_count_only_while_the_period_runs():
    due = date(2022, 1, 31)  # the period runs 2022-02-01 .. 2025-01-31
    renewed_by = ("payment", "promise", "demand")
    assert limitation_ends(due, {}, years=3, renewed_by=renewed_by) == date(2025, 1, 31)
    late = {"demand": [date(2026, 1, 20)], "payment": [date(2025, 6, 1)], "promise": [date(2025, 2, 1)]}
    assert limitation_ends(due, late, years=3, renewed_by=renewed_by) == date(2025, 1, 31)
    # walked in date order: 2024-06-01 restarts it (to 2027-05-31), 2027-05-31 (its last day) again,
    # and 2030-06-01 comes after that period ended
    chain = {"demand": [date(2030, 6, 1), date(2027, 5, 31)], "payment": [date(2024, 6, 1)]}
    assert limitation_ends(due, chain, years=3, renewed_by=renewed_by) == date(2030, 5, 30)
    assert limitation_ends(due, {"payment": [date(2025, 1, 31)]}, years=3, renewed_by=renewed_by) == date(2028, 1, 30)
    assert limitation_ends(due, {"payment": [date(2024, 6, 1)]}, years=3, renewed_by=("demand",)) == date(2025, 1, 31)


def test_a_call_logged_after_expiry_does_not_revive_a_time_barred_debt(cli, tmp_path):
    (tmp_path / "loans.csv").write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address\n"
                                        "OLD,B1,王小明,13800000001,300,2021-12-31,上海市1号\n", encoding="utf-8")
    (tmp_path / "inst.csv").write_text("loan_id,seq,due_on,principal_due,interest_due\nOLD,1,2022-01-31,300,5\n",
                                       encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv")).exit_code == 0
    (tmp_path / "collect.toml").write_text('[[strategy]]\nstep = "late_letter"\nbucket = "M7+"\nmin_days = 181\n'
                                           'channel = "letter"\ntemplate = "m3_final"\npurpose = "final_demand"\n'
                                           'allow_late_automation = true\n', encoding="utf-8")
    log(cli, "OLD", "--channel", "call", "--outcome", "reached", at="2026-01-20T10:00")  # years after expiry
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T09:00")
    [(body,)] = sql(cli, "SELECT body FROM outbox WHERE loan_id = 'OLD' AND status = 'sent'")
    assert "合法途径" not in body  # still time-barred: no legal wording (SAY-7)


# --- 3. WHO-5: when the borrower counts as unreachable --------------------------------------------

def _three_days_of_no_answer(cli, loan: str) -> None:
    for day in ("02", "03", "04"):
        log(cli, loan, "--channel", "call", "--outcome", "no-answer", at=f"2026-02-{day}T09:00")


def test_contact_the_borrower_initiated_counts_as_reaching_them(cli, book):
    person(cli, "L1", "张伟", "13900000009")
    _three_days_of_no_answer(cli, "L1")
    log(cli, "L1", "--channel", "sms-reply", "--outcome", "reached", "--note", "我下周还", at="2026-02-05T09:00")
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", "张伟", at="2026-02-05T10:00", code=6)
    assert "WHO-5" in r.stderr and "reached" in r.stderr


def test_a_wrong_number_right_after_the_borrower_answered_does_not_make_them_unreachable(cli, book):
    person(cli, "L1", "张伟", "13900000009")
    log(cli, "L1", "--channel", "visit", "--outcome", "reached", at="2026-02-05T09:00")
    log(cli, "L1", "--channel", "call", "--outcome", "wrong-number", at="2026-02-05T09:30")
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", "张伟", at="2026-02-05T09:40", code=6)
    assert "WHO-5" in r.stderr and "reached" in r.stderr


def test_a_wrong_number_counts_only_on_the_number_on_file_and_never_for_a_visit(cli, book, tmp_path):
    person(cli, "L1", "张伟", "13900000009")
    log(cli, "L1", "--channel", "call", "--outcome", "wrong-number", at="2026-02-02T09:00")
    moved = tmp_path / "moved.csv"  # a new number came in with the ledger: it was never tried
    moved.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address\n"
                     "L1,B1,王小明,13900000001,300,2025-12-31,上海市黄浦区1号\n", encoding="utf-8")
    assert cli("import", str(moved)).exit_code == 0
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", "张伟", at="2026-02-02T10:00", code=6)
    assert "WHO-5" in r.stderr
    person(cli, "L2", "李娜", "13900000008")
    log(cli, "L2", "--channel", "visit", "--outcome", "wrong-number", at="2026-02-02T09:00")
    r = log(cli, "L2", "--channel", "call", "--outcome", "reached", "--party", "李娜", at="2026-02-02T10:00", code=6)
    assert "WHO-5" in r.stderr
    # the number on file found wrong: now the contact person may be asked
    log(cli, "L1", "--channel", "call", "--outcome", "wrong-number", at="2026-02-02T11:00")
    log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", "张伟", at="2026-02-02T12:00")


# --- 4. HOLD-2: STOP replies read as a person reads them; an opt-out outcome on any channel -------

STOPS = ("退訂", "取消订阅", "请不要再给我发短信", "停止", "请停止", "no more texts", "do not text me", "stop texting",
         "remove me", "ＳＴＯＰ", "Unsubscribe!")


def test_stop_replies_in_every_spelling_place_an_opt_out(cli, book):
    for i, text in enumerate(STOPS):
        r = log(cli, "L1", "--channel", "sms-reply", "--outcome", "reached", "--note", text,
                at=f"2026-01-31T{i + 1:02d}:00")
        assert "opt-out hold" in r.stderr, text
    r = log(cli, "L2", "--channel", "sms-reply", "--outcome", "reached", "--note", "好的，我明天还款",
            at="2026-01-31T09:00")
    assert "opt-out" not in r.stderr


def test_an_opt_out_on_a_call_or_visit_places_hold2_on_every_messaging_channel(cli, book):
    r = log(cli, "L1", "--channel", "call", "--outcome", "opt-out", "--note", "asked for no more texts",
            at="2026-01-31T10:00")
    assert "opt-out holds" in r.stderr and "HOLD-2" in r.stderr
    r = log(cli, "L2", "--channel", "visit", "--outcome", "opt-out", at="2026-01-31T10:00")
    assert "opt-out holds" in r.stderr
    assert sorted(sql(cli, "SELECT loan_id, channel FROM holds WHERE reason = 'opt-out'")) == [
        ("L1", "email"), ("L1", "push"), ("L1", "sms"), ("L2", "email"), ("L2", "push"), ("L2", "sms")]
    run(cli, "2026-02-01")
    assert first_notice(cli, "L1")["reason"].startswith("HOLD-2")
    assert first_notice(cli, "L2")["reason"].startswith("HOLD-2")


# --- 5. WHO-4: e-mail addresses are one address however they are spelled -------------------------

def test_emails_are_parsed_and_normalised_at_import(cli, tmp_path):
    f = tmp_path / "loans.csv"
    f.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,email\n"
                 "L6,B6,王小明,13800000006,300,2025-12-31, B6@Example.COM \n"
                 "L7,B7,李四,13800000007,300,2025-12-31,b6@example.com\n"
                 "L8,B8,张三,13800000008,300,2025-12-31,b8 @example.com\n"
                 "L9,B9,赵六,13800000009,300,2025-12-31,not-an-address\n", encoding="utf-8")
    r = cli("import", str(f))
    assert r.exit_code == 3
    with open(tmp_path / "loans.rejects.csv", encoding="utf-8") as fh:
        reasons = {row["loan_id"]: row["reason"] for row in csv.DictReader(fh)}
    assert set(reasons) == {"L8", "L9"} and all(x.startswith("email:") for x in reasons.values())
    [(email,)] = sql(cli, "SELECT email FROM borrowers WHERE borrower_id = 'B6'")
    assert email == "b6@example.com"
    shared = json.loads(cli("numbers", "shared", "--format", "json", "--show-pii").stdout)
    assert shared == [{"point": "b6@example.com", "borrowers": "B6, B7", "confirmed_for": None}]
    assert cli("numbers", "confirm", " B6@EXAMPLE.com", "--borrower", "B6").exit_code == 0


# --- 6. WHEN-6: a call to a borrower of unknown zone holds the window in every served zone ---------

def test_calls_to_a_borrower_of_unknown_zone_respect_every_served_zone(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text('[contact]\nserved_timezones = ["Asia/Shanghai", "Asia/Urumqi"]\n',
                                           encoding="utf-8")
    at = "2026-02-02T09:00"  # 09:00 in Shanghai, 07:00 in Urumqi
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", at=at, code=6)
    assert "WHEN-6" in r.stderr and "Asia/Urumqi" in r.stderr
    queue = {e["loan_id"]: e for e in json.loads(cli("queue", "--as-of", "2026-02-02", "--now", at,
                                                     "--format", "json").stdout)}
    assert queue["L1"]["call_now"] == "WHEN-6"
    assert queue["L3"]["call_now"] != "WHEN-6"  # Los Angeles is known: its own window decides
    log(cli, "L1", "--channel", "call", "--outcome", "reached", at="2026-02-02T11:00")  # 09:00 in Urumqi


# --- 7. WHO-2 / WHO-3: a contact person has a number; a refusal binds to the name however spelled ---

def test_a_refused_person_is_found_under_any_spelling_and_every_person_has_a_number(cli, book):
    person(cli, "L1", "张伟", "13900000009")
    log(cli, "L1", "--channel", "call", "--outcome", "wrong-number", at="2026-02-02T09:00")
    log(cli, "L1", "--channel", "call", "--outcome", "refused", "--party", "张伟", at="2026-02-02T10:00")
    r = cli("people", "add", "L1", "--name", "張偉", "--relation", "friend", "--source", "loan application form")
    assert r.exit_code == 2 and "WHO-3" in r.stderr  # no number: not recorded
    r = person(cli, "L1", "張偉", "13900000010", code=6)
    assert "WHO-2" in r.stderr and "never contacted again" in r.stderr
    for spelled in ("張偉", "Zhang Wei"):
        r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", spelled, at="2026-02-02T11:00",
                code=6)
        assert "never contacted again" in r.stderr
    assert sql(cli, "SELECT count(*) FROM contact_persons") == [(1,)]


# --- 8. WHO-3: no number from an address book, however it is written ------------------------------

@pytest.mark.parametrize("source", ["通 讯 录", "通訊錄", "Address-Book", "address_book", "ａｄｄｒｅｓｓ ｂｏｏｋ",
                                    "手机联系人", "通讯簿", "contacts app", "phone contacts", "tongxunlu"])
def test_an_address_book_source_is_refused_in_any_spelling(cli, book, source):
    r = person(cli, "L1", "张伟", "13900000009", code=2, source=source)
    assert "WHO-3" in r.stderr and "address book" in r.stderr


def test_a_named_source_is_accepted(cli, book):
    person(cli, "L1", "张伟", "13900000009", source="借款申请表上的紧急联系人")


# --- 9. AGY-3: an agency gets only accounts delinquent today, and no number it may not use --------

def test_placements_leave_out_repaid_accounts_and_numbers_that_are_shared_or_opted_out(cli, book, tmp_path):
    acme(cli)
    assert placed(cli, tmp_path, "L1", "L2", "L3", "L4", on="2026-02-20", channel="sms") == {}
    pay(cli, tmp_path, "P1,L1,2026-03-10,315")  # L1 repaid in full after the file's date
    borrower(cli, tmp_path, "L8,B8,王晓明,13800000002,300,2025-12-31,上海市1号", "L8")  # L2's number too
    assert cli("hold", "L4", "--reason", "opt-out", "--channel", "sms", "--now", "2026-03-01T09:00").exit_code == 0
    r = cli("placements", "export", "--agency", "Acme", "--output", str(tmp_path / "a.csv"), "--as-of", "2026-03-05",
            "--now", "2026-03-10T10:00")
    assert r.exit_code == 0, r.stderr
    with open(tmp_path / "a.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["loan_id"] for row in rows] == ["L3"]
    assert "13800000002" not in (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    assert "AGY-3" in r.stdout and "today" in r.stdout  # L1
    assert "WHO-4" in r.stdout and "HOLD-2" in r.stdout  # L2, L4
    shared = [a for a in json.loads(cli("audit", "--format", "json").stdout) if a["action"] == "placement export"]
    assert [a["loan_id"] for a in shared] == ["L3"]


# --- 10. WHEN-4 (us): a conversation the borrower started counts -----------------------------------

def test_when4_quiet_days_follow_a_conversation_the_borrower_started(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text('[contact]\nrules = "us"\n', encoding="utf-8")
    log(cli, "L1", "--channel", "call", "--outcome", "reached", "--inbound", at="2026-02-10T11:00")
    r = log(cli, "L1", "--channel", "call", "--outcome", "no-answer", at="2026-02-12T10:00", code=6)
    assert "WHEN-4" in r.stderr and "conversation" in r.stderr
    log(cli, "L1", "--channel", "call", "--outcome", "no-answer", at="2026-02-17T10:00")


# --- 11. an override needs a reason; --party "" is not the borrower -------------------------------

def test_an_override_needs_a_real_reason_and_an_empty_party_is_an_error(cli, book):
    late = "2026-02-02T21:30"  # outside the window
    for blank in (" ", "", "ok", "。"):
        r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--override", blank, at=late, code=2)
        assert "--override" in r.stderr
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--override", "借款人要求晚上回电", at=late)
    assert "override recorded: WHEN-1: 借款人要求晚上回电" in r.stderr
    for empty in ("", "  "):
        r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--party", empty, code=2)
        assert "--party" in r.stderr
    assert sql(cli, "SELECT count(*) FROM contacts") == [(1,)]


# --- 12. WHO-4: no call to a shared number until it is confirmed whose it is ---------------------

def test_a_call_to_a_shared_unconfirmed_number_is_refused(cli, book, tmp_path):
    borrower(cli, tmp_path, "L8,B8,王晓明,13800000001,300,2025-12-31,上海市1号", "L8")
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", code=6)
    assert "WHO-4" in r.stderr and "--override" in r.stderr
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", "--override", "confirm whose number this is")
    assert "override recorded: WHO-4" in r.stderr
    log(cli, "L2", "--channel", "call", "--outcome", "reached")  # a number of its own
    assert cli("numbers", "confirm", "13800000001", "--borrower", "B1").exit_code == 0
    log(cli, "L1", "--channel", "call", "--outcome", "reached", at="2026-02-02T11:00")
    log(cli, "L8", "--channel", "call", "--outcome", "reached", at="2026-02-02T11:00", code=6)  # not B8's


def test_the_queue_shows_who4_for_a_shared_unconfirmed_number(cli, book, tmp_path):
    borrower(cli, tmp_path, "L8,B8,王晓明,13800000001,300,2025-12-31,上海市1号", "L8")
    queue = {e["loan_id"]: e for e in json.loads(cli("queue", "--as-of", "2026-02-02", "--now", "2026-02-02T10:00",
                                                     "--format", "json").stdout)}
    assert queue["L1"]["call_now"] == "WHO-4" and queue["L8"]["call_now"] == "WHO-4"
    assert queue["L2"]["call_now"] == "yes"


# --- a second review ----------------------------------------------------------------------------

def test_a_borrowers_own_number_is_no_contact_persons(cli, book):
    """Recording the borrower's (or any borrower's) number as a contact person's would get round
    the shared-number block and the borrower's call limits."""
    r = person(cli, "L1", "张三丰", "138-0000-0001", code=2)
    assert "WHO-4" in r.stderr and "138****0001" in r.stderr and "13800000001" not in r.stderr
    assert "WHO-4" in person(cli, "L1", "李五", "13800000002", code=2).stderr  # another borrower's


def guarantor(cli, loan: str, phone: str):
    r = cli("people", "add", loan, "--name", "钱担保", "--phone", phone, "--relation", "guarantor",
            "--source", "guarantee contract")
    assert r.exit_code == 0, r.stderr


def test_calls_to_a_contact_person_count_against_them_when2(cli, book):
    guarantor(cli, "L1", "13900000077")
    for minute in ("01", "02", "03"):
        log(cli, "L1", "--party", "钱担保", "--channel", "call", "--outcome", "reached", at=f"2026-02-02T10:{minute}")
    r = log(cli, "L1", "--party", "钱担保", "--channel", "call", "--outcome", "reached", at="2026-02-02T10:04", code=6)
    assert "WHEN-2" in r.stderr
    log(cli, "L1", "--party", "钱担保", "--channel", "call", "--outcome", "reached", at="2026-02-03T10:00")  # a new day


def test_calls_to_a_contact_person_count_against_them_when4(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text('[contact]\nrules = "us"\nwindow = ["08:00", "21:00"]\n', encoding="utf-8")
    guarantor(cli, "L1", "13900000077")
    log(cli, "L1", "--party", "钱担保", "--channel", "call", "--outcome", "reached", at="2026-02-02T10:00")
    r = log(cli, "L1", "--party", "钱担保", "--channel", "call", "--outcome", "no-answer", at="2026-02-05T10:00", code=6)
    assert "WHEN-4" in r.stderr and "conversation" in r.stderr
    log(cli, "L1", "--party", "钱担保", "--channel", "call", "--outcome", "no-answer", at="2026-02-09T10:00")


def test_the_queue_keeps_a_hold_through_its_last_day_in_the_borrowers_zone(cli, book):
    """L3 is in Los Angeles: a hold until 02-01 still holds at 09:00 on 02-02 in Shanghai
    (17:00 on 02-01 there), in the queue as in `log`."""
    assert cli("hold", "L3", "--reason", "legal", "--until", "2026-02-01", "--now", "2026-02-01T10:00").exit_code == 0

    def queued(at: str) -> set[str]:
        r = cli("queue", "--as-of", "2026-02-02", "--now", at, "--format", "json")
        return {e["loan_id"] for e in json.loads(r.stdout)}

    assert "L3" not in queued("2026-02-02T09:00")
    log(cli, "L3", "--channel", "call", "--outcome", "reached", at="2026-02-02T09:00", code=6)
    assert "L3" in queued("2026-02-03T01:00")  # 09:00 on 02-02 in Los Angeles: the hold has ended
