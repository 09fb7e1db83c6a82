"""`collect replies import`: a reply acts by what it says, on the person at the number it came
from (WHO-4), once, and no row of the file is lost to a bad one."""

from __future__ import annotations

import csv
import json

from tests.cli.ledger_book import outbox, run, steps
from tests.cli.test_channels import INSTALLMENTS, LOANS

SHARED = "L7,B7,孙八,13800000007,300,2025-12-31,,,zh_CN\nL8,B8,周九,13800000007,300,2025-12-31,,,zh_CN\n"


def book(cli, tmp_path):
    (tmp_path / "loans.csv").write_text(LOANS + SHARED, encoding="utf-8")
    (tmp_path / "inst.csv").write_text(INSTALLMENTS + "L7,1,2026-01-31,100,5,\nL8,1,2026-01-31,100,5,\n",
                                       encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv")).exit_code == 0


def replies(cli, tmp_path, rows: str, name: str = "inbound.csv", code: int = 0) -> dict:
    f = tmp_path / name
    f.write_text("号码,时间,内容\n" + rows, encoding="utf-8")
    r = cli("replies", "import", str(f), "--now", "2026-02-01T20:00", "--format", "json")
    assert r.exit_code == code, r.stderr + r.stdout
    return json.loads(r.stdout)


def test_each_reply_acts_by_what_it_says(cli, tmp_path):
    book(cli, tmp_path)
    done = replies(cli, tmp_path, "13800000001,2026-02-01 09:00,ＳＴＯＰ\n"
                                  "ming@example.com,2026-02-01 09:05,Please unsubscribe me\n"
                                  "+86 138 0000 0003,2026-02-01 09:10,金额不对，我有异议\n"
                                  "13800000004,2026-02-01 09:15,我昨天已经还了\n"
                                  "13800000006,2026-02-01 09:20,好的，下周发工资就还\n")
    assert done["logged"] == 5 and done["rejected"] == []
    assert done["taken"] == {"opt-out": 2, "case": 1, "paid-claim": 1, "logged for a collector": 1}
    assert done["paid_claims"] == ["L4: no payment in the ledger in the 7 days to 2026-02-01: verify the claim"]
    run(cli, "2026-02-02")
    # B1 opted out of SMS by text and of e-mail by e-mail: the push still goes, nothing else
    assert steps(cli, "L1") == {("m1_notice", "suppressed"), ("m1_email", "suppressed"), ("m1_push", "queued")}
    assert {m["reason"][:6] for m in outbox(cli, "L1") if m["status"] == "suppressed"} == {"HOLD-2"}
    # B3 disputed the debt: a case and its hold (HOLD-1), no collection message
    assert {s for _, s in steps(cli, "L3")} == {"suppressed"}
    cases = json.loads(cli("cases", "--as-of", "2026-02-02", "--format", "json").stdout)
    assert [(c["loan_id"], c["kind"]) for c in cases] == [("L3", "dispute")]


def test_a_paid_claim_is_checked_against_the_ledger(cli, tmp_path):
    book(cli, tmp_path)
    (tmp_path / "pay.csv").write_text("payment_id,loan_id,paid_on,amount\nP1,L4,2026-01-30,50\n", encoding="utf-8")
    assert cli("import", str(tmp_path / "pay.csv")).exit_code == 0
    done = replies(cli, tmp_path, "13800000004,2026-02-01 09:15,已还款，请查收\n13800000006,2026-02-01 09:20,还没还\n")
    assert done["paid_claims"] == ["L4: the ledger has 50.00 paid from 2026-01-30 to 2026-02-01"]
    assert done["taken"] == {"paid-claim": 1, "logged for a collector": 1}  # "还没还" claims nothing


def test_bad_rows_unknown_and_shared_numbers_go_to_the_rejects_file_the_rest_is_taken_in(cli, tmp_path):
    book(cli, tmp_path)
    done = replies(cli, tmp_path, "13800000001,2026-02-01 09:00,退订\n"
                                  "13999999999,2026-02-01 09:01,退订\n"
                                  "13800000002,2026-02-01,hello\n"
                                  "13800000002,2026-02-02 09:00,from tomorrow\n"
                                  "not-a-number,2026-02-01 09:02,STOP\n"
                                  "13800000007,2026-02-01 09:03,T\n"
                                  "13800000007,2026-02-01 09:04,我有异议\n", code=3)
    assert done["logged"] == 1 and done["taken"]["opt-out of a shared number"] == 1
    reasons = {x["line"]: x["reason"].split(":")[0] for x in done["rejected"]}
    assert reasons == {3: "number", 4: "at", 5: "at", 6: "number", 8: "number"}
    with open(tmp_path / "inbound.rejects.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["line"]) for r in rows] == [3, 4, 5, 6, 8] and "WHO-4" in rows[-1]["reason"]
    assert oct((tmp_path / "inbound.rejects.csv").stat().st_mode & 0o777) == "0o600"
    # the shared number's STOP holds for both borrower ids; its dispute is on no one's account
    run(cli, "2026-02-02")
    for loan in ("L7", "L8"):
        [sms] = [m for m in outbox(cli, loan) if m["channel"] == "sms"]
        assert sms["reason"].startswith("HOLD-2"), sms
    assert json.loads(cli("cases", "--as-of", "2026-02-02", "--format", "json").stdout) == []


def test_the_same_file_again_takes_nothing_in_twice(cli, tmp_path):
    book(cli, tmp_path)
    rows = "13800000003,2026-02-01 09:10,我有异议\n13800000006,2026-02-01 09:20,好的\n"
    assert replies(cli, tmp_path, rows)["logged"] == 2
    again = replies(cli, tmp_path, rows)
    assert (again["logged"], again["before"]) == (0, 2)
    assert len(json.loads(cli("cases", "--as-of", "2026-02-02", "--format", "json").stdout)) == 1


def test_a_file_that_is_no_replies_file_is_refused_whole(cli, tmp_path):
    book(cli, tmp_path)
    f = tmp_path / "x.csv"
    f.write_text("loan_id,amount\nL1,5\n", encoding="utf-8")
    r = cli("replies", "import", str(f))
    assert r.exit_code == 2 and "line 1" in r.stderr and "number" in r.stderr


def test_only_the_borrowers_own_words_count_not_the_message_they_quote(cli, tmp_path):
    book(cli, tmp_path)
    f = tmp_path / "mail.csv"
    with f.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["from", "received_at", "subject", "text"])
        # a reply that quotes our notice ("dispute", "Reply STOP", "paid" are in the quote only)
        w.writerow(["Amy Chen <AMY@example.com>", "2026-02-01 09:00", "Re: Your account", "Thanks, will do.\n\n"
                    "On Sun, 1 Feb 2026, collections@lender.example wrote:\n> If you dispute it... Reply STOP to "
                    "opt out. If you have already paid, please ignore this e-mail."])
        # the List-Unsubscribe mail: STOP in its subject, no text
        w.writerow(["ming@example.com", "2026-02-01 09:05", "STOP", ""])
        # a shared number's STOP that also disputes: the opt-out for both, no case on either
        w.writerow(["13800000007", "2026-02-01 09:10", "", "STOP，我有异议"])
    r = cli("replies", "import", str(f), "--now", "2026-02-01T20:00", "--format", "json")
    assert r.exit_code == 3, r.stderr  # the shared number's dispute is for a person to attribute
    done = json.loads(r.stdout)
    assert done["taken"] == {"logged for a collector": 1, "opt-out": 1, "opt-out of a shared number": 1}
    assert json.loads(cli("cases", "--as-of", "2026-02-02", "--format", "json").stdout) == []
    run(cli, "2026-02-02")
    assert steps(cli, "L3") >= {("m1_email", "queued"), ("m1_notice", "queued")}  # Amy opted out of nothing
    assert ("m1_email", "suppressed") in steps(cli, "L1")
