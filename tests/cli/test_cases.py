"""Cases end to end (CASE-1..3): opened by hand, by a hold, by a call or a reply; their hold
holds until the written answer was sent and the case closed; the answer letter is the one
letter a dispute lets through, judged at answer time and again at send."""

from __future__ import annotations

import json

from tests.cli.ledger_book import outbox, pay, run, send


def cases(cli, *args: str) -> list[dict]:
    r = cli("cases", "--format", "json", *args)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def case(cli, case_id: int, as_of: str) -> dict:
    r = cli("case", "show", str(case_id), "--as-of", as_of, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def m1(cli, loan: str = "L1") -> dict:
    return next(m for m in outbox(cli, loan) if m["step"] == "m1_notice")


def test_a_disputing_reply_holds_collection_until_the_answer_letter_was_sent(cli, book):
    r = cli("log", "L1", "--channel", "sms-reply", "--outcome", "reached", "--note", "这笔钱不是我借的",
            "--now", "2026-02-01T09:00")
    assert r.exit_code == 0 and "case 1 opened" in r.stderr
    [c] = cases(cli, "--as-of", "2026-02-01")
    assert (c["kind"], c["rule"], c["source"], c["received_on"], c["due_on"]) == \
        ("dispute", "CASE-3", "reply", "2026-02-01", "2026-02-21")
    run(cli, "2026-02-01")
    assert m1(cli)["status"] == "suppressed" and m1(cli)["reason"].startswith("HOLD-1")
    # nobody ends the hold but the case, and the case not before its answer went out
    assert cli("release", "L1", "--id", str(c["hold"]), "--now", "2026-02-01T09:10").exit_code == 6
    r = cli("case", "close", "1", "--now", "2026-02-01T09:11")
    assert r.exit_code == 6 and "no answer was written" in r.stderr
    r = cli("case", "answer", "1", "--text", "经核实，该笔借款由您本人于2025年12月31日申请并放款至您的银行卡。",
            "--now", "2026-02-01T09:20")
    assert r.exit_code == 0, r.stderr
    [letter] = [m for m in outbox(cli, "L1") if m["step"] == "case_answer"]
    assert letter["status"] == "queued" and letter["channel"] == "letter"
    r = cli("case", "close", "1", "--now", "2026-02-01T09:21")
    assert r.exit_code == 6 and "queued" in r.stderr
    send(cli, "2026-02-01T10:00")
    statuses = {m["step"]: m["status"] for m in outbox(cli, "L1")}
    assert statuses["case_answer"] == "sent" and statuses["m1_notice"] == "suppressed"  # the answer, nothing else
    assert cli("case", "close", "1", "--note", "answered", "--now", "2026-02-01T10:30").exit_code == 0
    closed = case(cli, 1, "2026-02-01")
    assert closed["status"] == "closed" and closed["answered_on"] == "2026-02-01" and not closed["late"]
    assert [e["action"] for e in closed["events"]] == ["open", "answer", "close"]
    run(cli, "2026-02-02")
    assert m1(cli)["status"] == "queued"  # collection resumes after the answer


def test_a_call_dispute_and_a_hold_open_cases_and_closing_one_leaves_the_other(cli, book):
    assert cli("log", "L1", "--channel", "call", "--outcome", "dispute", "--note", "says 01-31 was paid",
               "--inbound", "--now", "2026-02-01T09:00").exit_code == 0
    r = cli("hold", "L1", "--reason", "dispute", "--note", "second dispute", "--now", "2026-02-01T09:05")
    assert r.exit_code == 0 and "for case 2" in r.stderr
    assert cli("hold", "L1", "--reason", "dispute", "--until", "2026-03-01").exit_code == 2  # a case holds, not a day
    both = cases(cli, "--as-of", "2026-02-01")
    assert [(c["case"], c["source"]) for c in both] == [(1, "log"), (2, "hold")]
    for n in (1, 2):
        assert cli("case", "answer", str(n), "--text", "您1月31日的还款未到账，请核对转账凭证。",
                   "--now", "2026-02-01T09:30").exit_code == 0
    send(cli, "2026-02-01T10:00")
    assert cli("case", "close", "1", "--now", "2026-02-01T11:00").exit_code == 0
    run(cli, "2026-02-01")
    assert m1(cli)["reason"].startswith(f"HOLD-1: the account is disputed (hold {both[1]['hold']})")


def test_the_answer_letter_is_judged_before_it_is_queued(cli, book):
    for loan in ("L1", "L2"):
        assert cli("case", "open", loan, "--kind", "dispute", "--now", "2026-02-01T09:00").exit_code == 0
    r = cli("case", "answer", "1", "--text", "再不还钱就让你坐牢", "--now", "2026-02-01T09:10")
    assert r.exit_code == 6 and "SAY-1" in r.stderr
    r = cli("case", "answer", "1", "--text", "请致电13812345678核对", "--now", "2026-02-01T09:10")
    assert r.exit_code == 6 and "SAY-4" in r.stderr
    r = cli("case", "answer", "2", "--text", "经核实无误。", "--now", "2026-02-01T09:10")  # L2 has no address
    assert r.exit_code == 6 and "ADDR" in r.stderr
    assert all(c["status"] == "open" and c["letter"] is None for c in cases(cli, "--as-of", "2026-02-01"))
    assert not [m for m in outbox(cli) if m["step"] == "case_answer"]


def test_an_answer_whose_figures_changed_is_cancelled_at_send_and_answered_again(cli, book, tmp_path):
    assert cli("case", "open", "L1", "--kind", "dispute", "--now", "2026-02-02T09:00").exit_code == 0
    assert cli("case", "answer", "1", "--text", "经核实，逾期金额无误。", "--now", "2026-02-02T09:10").exit_code == 0
    pay(cli, tmp_path, "P1,L1,2026-02-02,50")  # the letter states the overdue amount before this payment
    send(cli, "2026-02-02T10:00")
    [letter] = [m for m in outbox(cli, "L1") if m["step"] == "case_answer"]
    assert letter["status"] == "cancelled" and letter["reason"].startswith("AMT-3")
    r = cli("case", "close", "1", "--now", "2026-02-02T10:10")
    assert r.exit_code == 6 and "answer again" in r.stderr
    again = cli("case", "answer", "1", "--text", "经核实，已收到您2月2日的还款50元。", "--now", "2026-02-02T10:20")
    assert again.exit_code == 0
    send(cli, "2026-02-02T10:30")
    assert cli("case", "close", "1", "--now", "2026-02-02T10:40").exit_code == 0


def test_a_superseded_answer_letter_is_not_sent(cli, book):
    assert cli("case", "open", "L1", "--kind", "complaint", "--now", "2026-02-01T09:00").exit_code == 0
    for text, at in (("第一稿答复。", "2026-02-01T09:10"), ("经核实，催收员已停岗培训。", "2026-02-01T09:20")):
        assert cli("case", "answer", "1", "--text", text, "--now", at).exit_code == 0
    send(cli, "2026-02-01T10:00")
    letters = sorted((m["id"], m["status"], m["reason"] or "") for m in outbox(cli, "L1") if m["step"] == "case_answer")
    assert [s for _, s, _ in letters] == ["cancelled", "sent"] and "later answer" in letters[0][2]


def test_a_complaint_holds_every_loan_of_the_borrower_and_its_answer_passes_only_its_own_hold(cli, book):
    r = cli("log", "L4", "--channel", "sms-reply", "--outcome", "reached", "--note", "我要投诉你们",
            "--now", "2026-02-01T09:00")
    assert "case 1 opened" in r.stderr
    run(cli, "2026-02-01")
    for loan in ("L4", "L5"):
        assert m1(cli, loan)["reason"].startswith("HOLD-3")
    r = cli("log", "L4", "--channel", "call", "--outcome", "reached", "--now", "2026-02-01T10:00")
    assert r.exit_code == 6 and "HOLD-3" in r.stderr  # no call either while it is under review
    # a dispute of L5 is answered only once the complaint (another case's no-contact hold) is
    assert cli("case", "open", "L5", "--kind", "dispute", "--now", "2026-02-01T10:05").exit_code == 0
    r = cli("case", "answer", "2", "--text", "经核实，金额无误。", "--now", "2026-02-01T10:10")
    assert r.exit_code == 6 and "HOLD-3" in r.stderr
    assert cli("case", "answer", "1", "--text", "经核实，已对催收员进行处理。", "--now", "2026-02-01T10:20").exit_code == 0
    send(cli, "2026-02-01T11:00")
    assert cli("case", "close", "1", "--now", "2026-02-01T11:10").exit_code == 0
    assert cli("case", "answer", "2", "--text", "经核实，金额无误。", "--now", "2026-02-01T11:20").exit_code == 0


def test_the_answer_states_only_amounts_the_records_prove(cli, book, tmp_path):
    assert cli("case", "open", "L1", "--kind", "dispute", "--now", "2026-02-01T09:00").exit_code == 0
    for text in ("经核实，您的逾期金额为1.00元，无误。", "We checked: you owe ¥9,999.00.", "逾期金额为 1,000 元"):
        r = cli("case", "answer", "1", "--text", text, "--now", "2026-02-01T09:10")
        assert r.exit_code == 6 and "AMT-3" in r.stderr, text
    pay(cli, tmp_path, "P1,L1,2026-01-20,60")
    for text in ("经核实，已收到您1月20日的还款60元，剩余逾期金额45.00元。",  # a payment; the engine's overdue
                 "您的借款本金为300元，每期应还105.00元。",  # the principal; an installment
                 "经核实，信息无误。"):  # 实，信 does not sound like 失信 (SAY-1) here
        r = cli("case", "answer", "1", "--text", text, "--now", "2026-02-01T09:20")
        assert r.exit_code == 0, (text, r.stderr)


def test_a_case_closes_without_an_answer_only_when_none_can_reach_the_borrower(cli, book, tmp_path):
    for loan in ("L1", "L4"):
        assert cli("case", "open", loan, "--kind", "dispute", "--now", "2026-02-01T09:00").exit_code == 0
    r = cli("case", "close", "1", "--without-answer", "borrower stopped answering", "--now", "2026-02-01T09:10")
    assert r.exit_code == 6 and "an answer letter can go" in r.stderr
    assert cli("hold", "L4", "--reason", "deceased", "--now", "2026-02-01T09:20").exit_code == 0
    r = cli("case", "close", "2", "--without-answer", "borrower died; estate informed", "--now", "2026-02-01T09:30")
    assert r.exit_code == 0, r.stderr
    closed = case(cli, 2, "2026-02-01")
    assert closed["status"] == "closed" and "without a written answer (HOLD-3" in closed["events"][-1]["reason"]


def test_a_case_is_received_on_a_day_the_loan_existed_and_operators_names_are_masked(cli, book):
    r = cli("case", "open", "L1", "--kind", "dispute", "--received-on", "0001-01-01")
    assert r.exit_code == 2 and "before L1 was disbursed" in r.stderr
    assert cli("case", "open", "L1", "--kind", "dispute", "--received-on", "2026-01-05", "--owner", "13912345678",
               "--reference", "110101199003071234", "--now", "2026-02-01T09:00").exit_code == 0
    listed = cli("cases", "--as-of", "2026-02-01", "--format", "csv").stdout
    shown = cli("case", "show", "1", "--as-of", "2026-02-01", "--format", "json").stdout
    for out in (listed, shown):
        assert "13912345678" not in out and "110101199003071234" not in out
    assert ",-7," in listed or ",-7\r" in listed or ",-7\n" in listed  # days past the deadline, as a number
    assert "13912345678" in cli("cases", "--as-of", "2026-02-01", "--format", "csv", "--show-pii").stdout
    assert cli("case", "assign", "1", "--owner", " ", "--now", "2026-02-01T09:10").exit_code == 2


def test_a_bureau_dispute_keeps_collection_going_and_the_loan_out_of_the_bureau_file(cli, book, tmp_path):
    r = cli("case", "open", "L1", "--kind", "bureau-dispute", "--reference", "PBOC-2026-0001",
            "--now", "2026-02-01T09:00")
    assert r.exit_code == 0 and "due 2026-02-21" in r.stderr
    run(cli, "2026-03-05")
    assert {m["step"]: m["status"] for m in outbox(cli, "L1")}["m2_letter"] == "queued"  # collection goes on
    send(cli, "2026-03-05T10:00")
    out = tmp_path / "bureau.csv"
    r = cli("bureau", "export", "--as-of", "2026-03-20", "--output", str(out), "--format", "json")
    assert r.exit_code == 0, r.stderr
    held = {x["loan_id"]: x["reason"] for x in json.loads(r.stdout)}
    assert held["L1"].startswith("REC-2: the borrower disputes the credit information")
    assert "L1" not in out.read_text(encoding="utf-8-sig") and "L4" in out.read_text(encoding="utf-8-sig")


def test_deadlines_listed_and_reported_by_the_nightly_run(cli, book):
    cli("case", "open", "L1", "--kind", "complaint", "--received-on", "2026-01-10", "--owner", "li",
        "--now", "2026-02-01T09:00")
    cli("case", "open", "L3", "--kind", "dispute", "--received-on", "2026-01-13", "--owner", "wang",
        "--now", "2026-02-01T09:00")
    cli("case", "open", "L4", "--kind", "bureau-dispute", "--now", "2026-02-01T09:00")
    assert cli("case", "open", "L2", "--kind", "dispute", "--received-on", "2026-02-02",
               "--now", "2026-02-01T09:00").exit_code == 2  # received on a day to come
    assert [c["case"] for c in cases(cli, "--as-of", "2026-02-01", "--overdue")] == [1]  # due 01-25
    assert [c["case"] for c in cases(cli, "--as-of", "2026-02-01", "--due-within", "3")] == [1, 2]  # 2: due 02-02
    assert [c["case"] for c in cases(cli, "--as-of", "2026-02-01", "--owner", "WANG")] == [2]
    assert cases(cli, "--as-of", "2026-01-31") == []  # nothing of it was recorded by then
    r = cli("run-reminders", "--as-of", "2026-02-01", "--now", "2026-02-01T02:00", "--format", "json")
    assert json.loads(r.stdout)["cases"] == {"overdue": [1], "due_soon": [2]}
    assert "case 1 overdue: complaint (CASE-2)" in r.stderr and "case 2 due within 3 days" in r.stderr
    # an extension after the deadline passed is refused; the dispute's deadline is not extended
    assert cli("case", "extend", "1", "--reason", "complex", "--now", "2026-02-01T09:00").exit_code == 6
    assert cli("case", "extend", "2", "--reason", "complex", "--now", "2026-02-01T09:00").exit_code == 6


def test_a_complaint_extended_with_approval_and_every_step_audited(cli, book):
    cli("case", "open", "L1", "--kind", "complaint", "--agent", "li", "--now", "2026-02-01T09:00")
    first = cli("case", "extend", "1", "--reason", "需调取录音", "--agent", "li", "--now", "2026-02-10T09:00")
    assert first.exit_code == 0
    assert cli("case", "extend", "1", "--reason", "more", "--agent", "li", "--now", "2026-02-20T09:00").exit_code == 6
    assert cli("case", "extend", "1", "--reason", "more", "--agent", "li", "--approved-by", "li",
               "--now", "2026-02-20T09:00").exit_code == 6
    assert cli("case", "extend", "1", "--reason", "外部调查", "--agent", "li", "--approved-by", "zhao",
               "--now", "2026-02-20T09:00").exit_code == 0
    assert cli("case", "assign", "1", "--owner", "wang", "--agent", "li", "--now", "2026-02-20T09:05").exit_code == 0
    shown = case(cli, 1, "2026-02-20")
    assert (shown["due_on"], shown["extensions"], shown["owner"]) == ("2026-04-02", 2, "wang")
    audit = json.loads(cli("audit", "--loan", "L1", "--format", "json").stdout)
    assert [a["action"] for a in audit if a["action"].startswith("case")] == \
        ["case open", "case extend", "case extend", "case assign"]


def test_bureau_dispute_files_open_cases_once_and_refuse_bad_rows_whole(cli, book, tmp_path):
    f = tmp_path / "disputes.csv"
    f.write_bytes("借据号,异议编号,受理日期,异议内容\nL1,ZX-001,2026-01-31,对逾期记录有异议\nL3,ZX-002,2026/02/01,\n"
                  .encode("gb18030"))
    r = cli("case", "import", str(f), "--now", "2026-02-01T09:00")
    assert r.exit_code == 0 and "2 case(s) opened" in r.stderr
    got = {c["loan_id"]: (c["kind"], c["received_on"], c["due_on"], c["source"])
           for c in cases(cli, "--as-of", "2026-02-01")}
    assert got == {"L1": ("bureau-dispute", "2026-01-31", "2026-02-20", "bureau-file"),
                   "L3": ("bureau-dispute", "2026-02-01", "2026-02-21", "bureau-file")}
    assert "0 case(s) opened, 2 already on record" in cli("case", "import", str(f), "--now", "2026-02-01T09:05").stderr
    for body, where in (("L2,ZX-003,2026-02-01\nNOPE,ZX-004,2026-02-01\n", "line 3: loan_id: no loan 'NOPE'"),
                        ("L2,ZX-003,2026-02-01\nL3,ZX-003,2026-01-30\n", "line 3: reference: 'ZX-003' is on line 2"),
                        ("L2,ZX-003,2025-01-01\n", "line 2: received_on: --received-on 2025-01-01: before L2"),
                        ("L2,ZX-003,2026-02-30\n", "line 2: received_on"),
                        ("L2,,2026-02-01\n", "line 2: reference"),
                        ("L2,ZX-003,2026-02-02\n", "line 2: received_on: 2026-02-02 is after today")):
        bad = tmp_path / "bad.csv"
        bad.write_text("loan_id,reference,received_on\n" + body, encoding="utf-8")
        r = cli("case", "import", str(bad), "--now", "2026-02-01T09:10")
        assert r.exit_code == 2 and where in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(cases(cli, "--as-of", "2026-02-01")) == 2  # nothing of a bad file was written
