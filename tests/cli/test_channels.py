"""E-mail and app push beside the SMS: the default strategy queues them where the borrower has
an address for them, each channel with its own opt-out (HOLD-2), caps (WHEN-5) and shared-
address check (WHO-4); delivered through a real SMTP server and a real HTTP push gateway."""

from __future__ import annotations

import csv
import email
from datetime import datetime
from email import policy

from tests.cli.ledger_book import outbox, run, steps
from tests.servers import Gateway
from tests.unit.test_senders import smtp_server

LOANS = """loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,email,推送ID,locale
L1,B1,王小明,13800000001,300,2025-12-31,ming@example.com,u0001,zh_CN
L2,B2,李四,13800000002,300,2025-12-31,,,zh_CN
L3,B3,Amy Chen,13800000003,300,2025-12-31,amy@example.com,u0003,en
L4,B4,赵六,13800000004,300,2025-12-31,,u0004,zh_CN
L5,B4,赵六,13800000004,300,2025-12-31,,u0004,zh_CN
L6,B6,钱七,13800000006,300,2025-12-31,,u0003,zh_CN
"""
INSTALLMENTS = "loan_id,seq,due_on,principal_due,interest_due,fee_due\n" + "".join(
    f"L{i},1,2026-01-31,100,5,\nL{i},2,2026-02-28,100,5,\n" for i in range(1, 7))


def channel_book(cli, tmp_path):
    (tmp_path / "loans.csv").write_text(LOANS, encoding="utf-8")
    (tmp_path / "inst.csv").write_text(INSTALLMENTS, encoding="utf-8")
    r = cli("import", str(tmp_path / "loans.csv"), str(tmp_path / "inst.csv"))
    assert r.exit_code == 0, r.stderr


def test_email_and_push_go_where_the_borrower_has_them_each_channel_judged_on_its_own(cli, tmp_path):
    channel_book(cli, tmp_path)
    run(cli, "2026-02-01")
    assert steps(cli, "L1") == {("m1_notice", "queued"), ("m1_email", "queued"), ("m1_push", "queued")}
    assert steps(cli, "L2") == {("m1_notice", "queued")}  # no address: left out, not suppressed
    # B3's push id is B6's too, not confirmed whose (WHO-4): no push to it, the rest goes
    assert steps(cli, "L3") == {("m1_notice", "queued"), ("m1_email", "queued"), ("m1_push", "suppressed")}
    assert [m["reason"][:5] for m in outbox(cli, "L6") if m["channel"] == "push"] == ["WHO-4"]
    # B4 has two loans in M1: one push a day (WHEN-5, push), as one SMS a day
    b4 = [m for loan in ("L4", "L5") for m in outbox(cli, loan) if m["channel"] in ("push", "sms")]
    assert sorted((m["channel"], m["status"]) for m in b4) == [
        ("push", "queued"), ("push", "suppressed"), ("sms", "queued"), ("sms", "suppressed")]
    assert all(m["reason"].startswith("WHEN-5") for m in b4 if m["status"] == "suppressed")
    [push] = [m for m in outbox(cli, "L1") if m["channel"] == "push"]
    assert push["recipient"] == "****0001"  # masked: --show-pii shows it


def test_an_opt_out_of_push_stops_push_only_and_one_without_a_channel_stops_all(cli, tmp_path):
    channel_book(cli, tmp_path)
    r = cli("hold", "L1", "--reason", "opt-out", "--channel", "push", "--now", "2026-02-01T01:00")
    assert r.exit_code == 0, r.stderr
    r = cli("hold", "L3", "--reason", "opt-out", "--now", "2026-02-01T01:00")
    assert r.exit_code == 0 and "(sms)" in r.stderr and "(email)" in r.stderr and "(push)" in r.stderr
    run(cli, "2026-02-01")
    assert steps(cli, "L1") == {("m1_notice", "queued"), ("m1_email", "queued"), ("m1_push", "suppressed")}
    assert {m["reason"][:6] for m in outbox(cli, "L1") if m["status"] == "suppressed"} == {"HOLD-2"}
    assert {s for _, s in steps(cli, "L3")} == {"suppressed"}
    # the opt-out follows the push id (WHO-4): B6 has B3's, and it is no longer pushed to either
    assert cli("numbers", "confirm", "u0003", "--borrower", "B6").exit_code == 0
    run(cli, "2026-02-02")
    [l6] = [m for m in outbox(cli, "L6") if m["channel"] == "push"]
    assert l6["status"] == "suppressed" and l6["reason"].startswith("HOLD-2")


def test_push_and_email_are_delivered_through_a_real_gateway_and_a_real_smtp_server(cli, tmp_path):
    from collect_cli.config import Delivery, Settings
    from collect_cli.services.delivery import send_due
    from collect_cli.store.database import open_engine

    channel_book(cli, tmp_path)
    run(cli, "2026-02-01")
    gateway, (smtp, port, mails) = Gateway([503]), smtp_server()  # the gateway fails once, then answers
    try:
        settings = Settings(delivery=Delivery(
            senders={"sms": "file", "letter": "file", "email": "smtp", "push": "http"}, spool_dir=tmp_path / "spool",
            push_url=gateway.url, http_max_attempts=3, http_backoff_ms=10, smtp_port=port,
            smtp_sender="collections@lender.example"))
        engine = open_engine(cli.db)
        summary = send_due(engine=engine, settings=settings, clock=lambda: datetime(2026, 2, 1, 2, 0))
        engine.dispose()
    finally:
        gateway.close()
        smtp.stop()
    pushes = [m for m in outbox(cli) if m["channel"] == "push" and m["status"] == "sent"]
    emails = [m for m in outbox(cli) if m["channel"] == "email" and m["status"] == "sent"]
    assert summary.sent["push"] == len(pushes) == 2 and summary.sent["email"] == len(emails) == 2
    posted = [body for _, body in gateway.requests]
    assert len(posted) == 3 and posted[0] == posted[1]  # the retry after the 503 is the same request
    by_to = {b["to"]: b for b in posted}
    assert set(by_to) == {"u0001", "u0004"}
    assert by_to["u0001"]["title"] == "示例消费金融有限公司"  # a lock screen: no amount, no debt (WHO-1)
    pushed = by_to["u0001"]["text"]
    assert pushed.startswith("王小明您好，您有一条重要的账户消息") and "105" not in pushed
    assert len({h["Idempotency-Key"] for h, _ in gateway.requests}) == 2
    got = {e.rcpt_tos[0]: email.message_from_bytes(e.content, policy=policy.default) for e in mails}
    assert set(got) == {"ming@example.com", "amy@example.com"}
    amy = got["amy@example.com"]
    assert amy["Subject"] == "Your Example Consumer Finance account, loan ****L3"
    assert "105.00 overdue" in amy.get_body(("plain",)).get_content()
    assert "105.00 overdue" in amy.get_body(("html",)).get_content()
    assert amy["List-Unsubscribe"] == "<mailto:collections@lender.example?subject=STOP>"


def test_a_push_id_that_is_no_address_is_rejected_at_import_with_its_line(cli, tmp_path):
    f = tmp_path / "loans.csv"
    f.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,push_id\n"
                 "L1,B1,王小明,13800000001,300,2025-12-31,u 0001\n"
                 "L2,B2,李四,13800000002,300,2025-12-31,<script>\n"
                 "L3,B3,张三,13800000003,300,2025-12-31, u0003 \n", encoding="utf-8")
    assert cli("import", str(f)).exit_code == 3
    with open(tmp_path / "loans.rejects.csv", encoding="utf-8") as fh:
        reasons = {row["loan_id"]: row["reason"] for row in csv.DictReader(fh)}
    assert set(reasons) == {"L1", "L2"} and all(r.startswith("push_id:") for r in reasons.values())


def test_a_payment_link_in_each_message_and_the_payments_through_it_attributed_to_it(cli, tmp_path, monkeypatch):
    import json

    (tmp_path / "collect.toml").write_text('[messaging]\npayment_url = "https://pay.lender.example/p"\n',
                                           encoding="utf-8")
    channel_book(cli, tmp_path)
    r = cli("run-reminders", "--as-of", "2026-02-01", "--now", "2026-02-01T02:00")
    assert r.exit_code == 2 and "COLLECT_PAYMENT_SECRET" in r.stderr  # no secret: nothing is queued
    assert outbox(cli) == []
    monkeypatch.setenv("COLLECT_PAYMENT_SECRET", "a-secret-of-the-lender-32-bytes!")
    run(cli, "2026-02-01")
    [mail] = [m for m in outbox(cli, "L1") if m["channel"] == "email"]
    r = cli("outbox", "show", str(mail["id"]), "--format", "json", "--show-pii")
    body = json.loads(r.stdout)["body"]
    link = next(w for w in body.split() if "https://pay.lender.example/p/" in w).split("在线还款：")[-1]
    token = link.rpartition("/")[2]
    assert len(token) == 24 and "L1" not in link and "13800000001" not in link
    from datetime import date

    from collect_cli.domain.links import verify
    assert verify(b"a-secret-of-the-lender-32-bytes!", token, date(2026, 2, 8))  # 7 days (payment_link_days)
    assert not verify(b"a-secret-of-the-lender-32-bytes!", token, date(2026, 2, 9))
    # the payment page asks what the link is for: genuine, valid, which loan, what is owed today
    r = cli("links", "check", link, "--now", "2026-02-03T10:00", "--format", "json")
    assert r.exit_code == 0, r.stderr
    assert {k: v for k, v in json.loads(r.stdout).items() if k != "message"} == {
        "reference": token[:10], "valid_through": "2026-02-08", "loan_id": "L1", "step": "m1_email",
        "channel": "email", "overdue": "105.00", "next_due_on": "2026-02-28", "next_due_amount": "105.00"}
    assert cli("links", "check", link, "--now", "2026-02-09T10:00").exit_code == 6  # expired
    forged = link[:-1] + ("B" if link[-1] != "B" else "C")
    r = cli("links", "check", forged, "--now", "2026-02-03T10:00")
    assert r.exit_code == 6 and "signed" in r.stderr
    (tmp_path / "pay.csv").write_text("payment_id,loan_id,paid_on,amount,payment_link\n"
                                      f"P1,L1,2026-02-03,105,{link}\nP2,L3,2026-02-03,50,\n"
                                      "P3,L4,2026-02-04,10,BCDFGHJKLM\n", encoding="utf-8")
    assert cli("import", str(tmp_path / "pay.csv")).exit_code == 0
    r = cli("report", "collections", "--from", "2026-02-01", "--to", "2026-02-28", "--format", "json")
    by_link = json.loads(r.stdout)["by_link"]
    assert [(x["channel"], x["step"], x["payments"], x["amount"]) for x in by_link] == [
        ("email", "m1_email", 1, "105.00"), ("-", "(a link of no message on file)", 1, "10.00")]


def test_each_channel_has_its_cost_in_the_send_summary_and_the_collections_report(cli, tmp_path):
    import json

    (tmp_path / "collect.toml").write_text('[delivery.cost]\nsms = "0.045"\npush = 0.001\nletter = 3\n',
                                           encoding="utf-8")
    channel_book(cli, tmp_path)
    run(cli, "2026-02-01")
    r = cli("send", "--now", "2026-02-01T10:00", "--format", "json")
    assert r.exit_code == 0, r.stderr
    got = json.loads(r.stdout)
    sent = got["sent"]
    assert sent["sms"] == 5 and sent["push"] == 2 and sent["email"] == 2
    from decimal import ROUND_HALF_UP, Decimal

    from sqlalchemy import create_engine, text

    from collect_cli.domain.sms import signed, sms_length
    from collect_cli.store.database import database_url
    engine = create_engine(database_url(cli.db))
    with engine.connect() as conn:
        bodies = conn.execute(text("SELECT body FROM outbox WHERE channel = 'sms' AND status = 'sent'")).scalars().all()
    engine.dispose()
    # an SMS is billed by its parts, the signature counted (SAY-5): these take more than one each
    parts = sum(sms_length(signed(b, "示例消费金融", "cn")).parts for b in bodies)
    assert len(bodies) == 5 and parts > 5
    sms = str((Decimal("0.045") * parts).quantize(Decimal("0.01"), ROUND_HALF_UP))
    # 2 pushes × 0.001 = 0.002 -> 0.00 (half up, per channel); e-mail costs nothing configured
    assert got["cost"] == {"sms": sms, "push": "0.00", "email": "0.00", "total": sms}
    r = cli("report", "collections", "--from", "2026-02-01", "--to", "2026-02-28", "--format", "json")
    by_channel = {x["channel"]: (x["sent"], x["parts"], x["cost"]) for x in json.loads(r.stdout)["by_channel"]}
    assert by_channel == {"email": (2, 2, "0.00"), "push": (2, 2, "0.00"), "sms": (5, parts, sms)}


def test_a_cost_that_is_no_amount_is_refused_naming_its_key(cli, tmp_path):
    for bad in ('sms = "-1"', 'sms = "0.00001"', 'sms = "abc"', "sms = true", 'fax = "1"'):
        (tmp_path / "collect.toml").write_text(f"[delivery.cost]\n{bad}\n", encoding="utf-8")
        r = cli("outbox")
        assert r.exit_code == 2 and "delivery.cost" in r.stderr, (bad, r.stderr)


def test_on_sample_db_email_and_push_go_where_the_borrower_has_them_and_not_where_they_opted_out(tmp_path):
    import shutil
    from pathlib import Path

    from sqlalchemy import create_engine, text

    from collect_cli.store.database import database_url
    from tests.conftest import Cli

    db = tmp_path / "sample.db"
    shutil.copy(Path(__file__).parents[2] / "sample.db", db)
    engine = create_engine(database_url(str(db)))
    with engine.connect() as conn:  # every borrower's e-mail and push id
        reach = {r.loan_id: (r.email, r.push_id) for r in conn.execute(text(
            "SELECT l.loan_id, b.email, b.push_id FROM loans l JOIN borrowers b USING (borrower_id)"))}
    c = Cli(str(db))
    quiet = "L00000039"  # in M1, with both; opts out of e-mail and push ("no more e-mails or app messages")
    assert all(reach[quiet])
    for channel in ("email", "push"):
        assert c("hold", quiet, "--reason", "opt-out", "--channel", channel, "--now", "2026-11-19T10:00").exit_code == 0
    run(c, "2026-11-20")
    rows = outbox(c)
    engine.dispose()
    for m in rows:
        email, push_id = reach[m["loan_id"]]
        if m["channel"] == "email":
            assert email, m  # no e-mail step for a borrower without an address: not even suppressed
        if m["channel"] == "push":
            assert push_id, m
    mine = {(m["channel"], m["status"]) for m in rows if m["loan_id"] == quiet}
    assert ("email", "queued") not in mine and ("push", "queued") not in mine
    assert mine >= {("email", "suppressed"), ("push", "suppressed"), ("sms", "queued")}
    queued = {m["channel"] for m in rows if m["status"] == "queued"}
    assert {"sms", "letter", "email", "push"} <= queued
