"""run-reminders and send end to end: the strategy rules, every gate by rule id, send-time
re-checks, and the outbox as the record."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from collect_cli.store.database import database_url
from tests.cli.ledger_book import outbox, pay, run, send, steps


def test_notice_then_followup_and_a_second_run_queues_nothing(cli, book):
    first = run(cli, "2026-02-01")
    assert first["queued"] > 0
    assert ("m1_notice", "queued") in steps(cli, "L1")
    again = run(cli, "2026-02-01")
    assert again["queued"] == 0
    run(cli, "2026-02-07")
    assert steps(cli, "L1") == {("m1_notice", "queued"), ("m1_followup", "queued")}


def test_predue_once_per_installment(cli, book):
    run(cli, "2026-01-29")
    run(cli, "2026-01-30")
    assert [m["step"] for m in outbox(cli, "L1")] == ["predue"]
    assert outbox(cli, "L1")[0]["episode"] == "due-2026-01-31"


def test_catch_up_after_missed_nights_queues_the_latest_and_skips_the_rest(cli, book):
    run(cli, "2026-02-10")
    assert steps(cli, "L1") == {("m1_followup", "queued"), ("m1_notice", "skipped")}
    [skipped] = [m for m in outbox(cli, "L1") if m["status"] == "skipped"]
    assert "superseded" in skipped["reason"]


def test_no_back_fill_of_older_buckets(cli, book):
    run(cli, "2026-03-10")  # first run with the loan already in M2
    assert {s for s, _ in steps(cli, "L1")} == {"m2_notice", "m2_letter"}


def test_cure_and_redefault_start_a_new_episode(cli, book, tmp_path):
    run(cli, "2026-02-02")
    pay(cli, tmp_path, "P1,L1,2026-02-05,105")  # cures the first installment
    run(cli, "2026-02-20")
    run(cli, "2026-03-02")  # the second installment is missed
    episodes = sorted({(m["step"], m["episode"]) for m in outbox(cli, "L1") if m["status"] == "queued"})
    assert episodes == [("m1_notice", "dpd-2026-02-01"), ("m1_notice", "dpd-2026-03-01")]


def test_hold1_dispute_suppresses_and_release_lets_it_go(cli, book):
    """A dispute is a case (CASE-3): its hold ends only with the case, once the answer was sent."""
    assert cli("hold", "L1", "--reason", "dispute", "--note", "says it was paid",
               "--now", "2026-02-01T09:00").exit_code == 0
    run(cli, "2026-02-01")
    [m] = outbox(cli, "L1")
    assert m["status"] == "suppressed" and m["reason"].startswith("HOLD-1")
    assert cli("release", "L1", "--reason", "dispute").exit_code == 6  # not by hand: the case answers first
    assert cli("case", "answer", "1", "--text", "经核实，1月31日的还款未到账。", "--now", "2026-02-01T09:10").exit_code == 0
    send(cli, "2026-02-01T10:00")
    assert cli("case", "close", "1", "--now", "2026-02-01T10:10").exit_code == 0
    run(cli, "2026-02-02")
    [m] = [m for m in outbox(cli, "L1") if m["step"] != "case_answer"]
    assert m["status"] == "queued" and m["as_of"] == "2026-02-02"


def test_hold2_opt_out_stops_sms_not_letters(cli, book):
    cli("hold", "L1", "--reason", "opt-out", "--channel", "sms")
    run(cli, "2026-03-05")
    got = {m["step"]: (m["status"], m["reason"]) for m in outbox(cli, "L1")}
    assert got["m2_notice"][0] == "suppressed" and got["m2_notice"][1].startswith("HOLD-2")
    assert got["m2_letter"][0] == "queued"


def test_hold3_is_borrower_wide(cli, book):
    cli("hold", "L4", "--reason", "bankruptcy")
    run(cli, "2026-02-01")
    for loan in ("L4", "L5"):
        assert all(m["reason"].startswith("HOLD-3") for m in outbox(cli, loan))


def test_hold_until_expires(cli, book):
    assert cli("hold", "L1", "--reason", "legal", "--until", "2026-02-01").exit_code == 2  # ended: refused
    assert cli("hold", "L1", "--reason", "legal", "--until", "2026-02-01", "--now", "2026-01-31T09:00").exit_code == 0
    run(cli, "2026-02-01")
    assert outbox(cli, "L1")[0]["status"] == "suppressed"
    run(cli, "2026-02-02")
    assert outbox(cli, "L1")[0]["status"] == "queued"


def test_when5_one_sms_per_borrower_per_day(cli, book):
    run(cli, "2026-02-01")
    both = {m["loan_id"]: m for m in outbox(cli) if m["loan_id"] in ("L4", "L5")}
    assert sorted(m["status"] for m in both.values()) == ["queued", "suppressed"]
    assert [m["reason"] for m in both.values() if m["status"] == "suppressed"][0].startswith("WHEN-5")
    run(cli, "2026-02-02")  # the next day the second loan's notice goes
    assert sorted(m["status"] for m in outbox(cli) if m["loan_id"] in ("L4", "L5")) == ["queued", "queued"]


def test_when5_seven_day_cap(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text("[contact]\nsms_per_7_days = 1\n", encoding="utf-8")
    run(cli, "2026-02-01")
    run(cli, "2026-02-07")
    followup = [m for m in outbox(cli, "L1") if m["step"] == "m1_followup"][0]
    assert followup["status"] == "suppressed" and "7 days" in followup["reason"]


def test_missing_postal_address_suppresses_the_letter(cli, book):
    run(cli, "2026-03-05")
    letter = [m for m in outbox(cli, "L2") if m["step"] == "m2_letter"][0]
    assert letter["status"] == "suppressed" and letter["reason"].startswith("ADDR")


def test_a_template_failing_lint_suppresses_its_step_and_exits_5(cli, book, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "m1_notice.zh_CN.j2").write_text(
        "{#-\nchannel: sms\npurpose: overdue_notice\n-#}\n{{ borrower_name }}不还钱就曝光到通讯录\n", encoding="utf-8")
    (tmp_path / "collect.toml").write_text('[messaging]\ntemplate_dirs = ["mine"]\n', encoding="utf-8")
    summary = run(cli, "2026-02-01", code=5)
    assert summary["exit_code"] == 5
    m = [m for m in outbox(cli, "L1") if m["step"] == "m1_notice"][0]
    assert m["status"] == "suppressed" and m["reason"].split(":")[0] in ("SAY-1", "SAY-2")


def test_length_limit_suppresses(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text("[messaging]\nsms_max_parts = 1\n", encoding="utf-8")
    run(cli, "2026-02-01", code=0)
    m = [m for m in outbox(cli, "L1") if m["step"] == "m1_notice"][0]
    assert m["status"] == "suppressed" and m["reason"].startswith("LEN")


def test_when1_send_after_is_inside_the_borrowers_window(cli, book):
    run(cli, "2026-02-01")  # --now 02:00 Shanghai
    by_loan = {m["loan_id"]: m for m in outbox(cli) if m["status"] == "queued"}
    assert by_loan["L1"]["send_after"] == "2026-02-01 00:00 UTC"  # 08:00 in Shanghai
    # 02:00 on 02-01 in Shanghai is 10:00 on 01-31 in Los Angeles: "1 day overdue as of 02-01"
    # would be false there, so it waits for 08:00 on 02-01 in Los Angeles (item 4 of issue 12)
    assert by_loan["L3"]["send_after"] == "2026-02-01 16:00 UTC"
    # and a run at 18:00 Shanghai (02:00 in Los Angeles) waits for 08:00 there
    r = cli("run-reminders", "--as-of", "2026-02-07", "--now", "2026-02-07T18:00", "--format", "json")
    assert r.exit_code == 0
    l3 = [m for m in outbox(cli, "L3") if m["step"] == "m1_followup"][0]
    assert l3["send_after"] == "2026-02-07 16:00 UTC"


def test_dry_run_writes_nothing(cli, book):
    summary = run(cli, "2026-02-01", "--dry-run")
    assert summary["dry_run"] and summary["queued"] > 0
    assert outbox(cli) == []


def test_amounts_in_messages_are_the_engines_for_the_as_of_date(cli, book, tmp_path):
    pay(cli, tmp_path, "P1,L1,2026-02-03,5")
    run(cli, "2026-02-04")
    [m] = [m for m in outbox(cli, "L1") if m["status"] == "queued"]
    assert m["amount_overdue"] == "100.00"  # 105.00 due on 01-31 less 5.00 paid
    r = cli("outbox", "--loan", "L1", "--format", "json", "--show-pii")
    assert "+8613800000001" in r.stdout


def test_send_delivers_through_the_file_spool_once(cli, book, tmp_path):
    run(cli, "2026-03-05")
    early = send(cli, "2026-03-05T07:00")  # 07:00 in Shanghai; 15:00 on 03-04 in Los Angeles
    assert early["sent"] == {}
    assert {m["status"] for m in outbox(cli) if m["status"] != "suppressed"} == {"queued"}
    done = send(cli, "2026-03-05T09:00")
    assert {m["status"] for m in outbox(cli, "L3") if m["status"] != "suppressed"} == {"queued"}  # still 03-04 there
    assert done["sent"]["sms"] >= 2 and done["sent"]["letter"] >= 1
    spool = tmp_path / "outbox"
    lines = (spool / "sms-2026-03-05.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == done["sent"]["sms"]
    assert len(list((spool / "letters" / "2026-03-05").glob("*.html"))) == done["sent"]["letter"]
    assert oct((spool / "sms-2026-03-05.jsonl").stat().st_mode & 0o777) == "0o600"
    assert send(cli, "2026-03-05T10:00")["sent"] == {}  # nothing twice
    assert {m["status"] for m in outbox(cli) if m["step"] in ("m2_notice", "m2_letter") and m["loan_id"] == "L1"} == {"sent"}
    later = send(cli, "2026-03-06T00:30")  # 08:30 on 03-05 in Los Angeles: now theirs go
    assert later["sent"] == {"sms": 1, "letter": 1}
    assert {m["status"] for m in outbox(cli, "L3") if m["status"] != "suppressed"} == {"sent"}


def test_send_time_cancellation_paid_changed_amount_hold_and_stale(cli, book, tmp_path):
    run(cli, "2026-02-01")
    pay(cli, tmp_path, "P1,L1,2026-02-01,105", "P4,L4,2026-02-01,50")
    cli("hold", "L3", "--reason", "dispute")
    result = send(cli, "2026-02-01T20:00")
    later = send(cli, "2026-02-02T00:30")  # 08:30 on 02-01 in Los Angeles: L3's notice is due now
    result["cancelled"].update(later["cancelled"])
    by_loan = {m["loan_id"]: m for m in outbox(cli) if m["step"] == "m1_notice" and m["status"] != "skipped"}
    assert by_loan["L1"]["status"] == "cancelled" and by_loan["L1"]["reason"].startswith("PAID")
    assert by_loan["L4"]["status"] == "cancelled" and by_loan["L4"]["reason"].startswith("AMT-1")
    assert by_loan["L3"]["status"] == "cancelled" and by_loan["L3"]["reason"].startswith("HOLD-1")
    assert result["cancelled"] == {"PAID": 1, "AMT-1": 1, "HOLD-1": 1}
    # a cancelled notice comes back, with the new figure, on the next run
    run(cli, "2026-02-02")
    l4 = [m for m in outbox(cli, "L4") if m["step"] == "m1_notice"][0]
    assert l4["status"] == "queued" and l4["amount_overdue"] == "55.00"
    # figures older than the as-of date plus one day are never sent
    assert send(cli, "2026-02-04T10:00")["cancelled"].get("AMT-1", 0) >= 1


def test_every_change_is_recorded(cli, book):
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T10:00")
    engine = create_engine(database_url(cli.db))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT m.loan_id, e.status, e.actor FROM outbox_events e "
                                 "JOIN outbox m ON m.id = e.message_id WHERE m.loan_id = 'L1' ORDER BY e.id")).all()
    engine.dispose()
    assert [(r.status, r.actor) for r in rows] == [("queued", "run-reminders"), ("sent", "send")]


def test_hold_commands_validate(cli, book):
    assert cli("hold", "L1", "--reason", "angry").exit_code == 2
    assert cli("hold", "NOPE", "--reason", "dispute").exit_code == 2
    assert cli("release", "L1", "--reason", "dispute").exit_code == 2  # nothing to release
    assert cli("hold", "L1", "--reason", "dispute", "--until", "31/12/2026").exit_code == 2


def test_sample_db_queues_every_step_of_the_default_strategy(tmp_path):
    import shutil

    from tests.conftest import Cli

    db = tmp_path / "sample.db"
    shutil.copy(Path(__file__).parents[2] / "sample.db", db)
    c = Cli(str(db))
    summary = run(c, "2026-11-20")
    queued = {s["step"]: s["queued"] for s in summary["steps"]}
    assert all(n > 0 for n in queued.values()), queued
    assert run(c, "2026-11-20")["queued"] == 0


def test_send_through_the_http_gateway_configured_for_sms(cli, book, tmp_path):
    from datetime import datetime

    from collect_cli.config import Delivery, Settings
    from collect_cli.services.delivery import send_due
    from collect_cli.store.database import open_engine
    from tests.servers import Gateway

    run(cli, "2026-02-01")
    gw = Gateway([503, 400])  # the first message: retried after the 503, then refused
    try:
        settings = Settings(delivery=Delivery(senders={"sms": "http", "letter": "file", "email": "file"},
                                              http_url=gw.url, http_max_attempts=3, http_backoff_ms=10,
                                              spool_dir=tmp_path / "spool"))
        engine = open_engine(cli.db)
        summary = send_due(engine=engine, settings=settings, clock=lambda: datetime(2026, 2, 1, 2, 0))
        engine.dispose()
    finally:
        gw.close()
    sent = [m for m in outbox(cli) if m["channel"] == "sms" and m["status"] in ("sent", "failed")]
    assert summary.failed["sms"] == 1 and summary.sent["sms"] == len(sent) - 1
    failed = [m for m in sent if m["status"] == "failed"][0]
    assert failed["reason"].startswith("HTTP 400") and failed["attempts"] == 2
    assert all(m["attempts"] == 1 and m["provider_ref"].startswith("gw-") for m in sent if m["status"] == "sent")
    assert len({h["Idempotency-Key"] for h, _ in gw.requests}) == len(sent)


def test_send_goes_through_the_queue_a_page_at_a_time(cli, book, tmp_path, monkeypatch):
    """send reads the due messages a page at a time (a long queue is never held in memory):
    every due message is judged once, waiting ones stay queued without being met again, and
    --limit counts across pages."""
    from datetime import datetime

    from collect_cli.config import Delivery, Settings
    from collect_cli.services import delivery
    from collect_cli.store.database import open_engine

    monkeypatch.setattr(delivery, "BATCH", 1)
    pages, read = [], delivery.q.due_messages

    def page(*args, **kwargs):  # a page met again would loop for ever: fail instead
        pages.append(kwargs.get("after"))
        assert len(pages) < 50, "send reads the same page again"
        return read(*args, **kwargs)

    monkeypatch.setattr(delivery.q, "due_messages", page)
    run(cli, "2026-02-01")
    queued = [m for m in outbox(cli) if m["status"] == "queued"]
    due = [m for m in queued if m["send_after"] <= "2026-02-01 02:00 UTC"]  # the rest: a later zone's day
    assert len(due) > 2 and len(queued) > len(due)  # more pages than --limit 2 takes
    settings = Settings(delivery=Delivery(spool_dir=tmp_path / "spool"))
    engine = open_engine(cli.db)
    try:
        night = delivery.send_due(engine=engine, settings=settings, clock=lambda: datetime(2026, 2, 1, 15, 0))
        assert night.waiting == len(due) and not night.sent  # 23:00 in Shanghai: all wait, each met once
        first = delivery.send_due(engine=engine, settings=settings, clock=lambda: datetime(2026, 2, 1, 2, 0),
                                  limit=2)
        rest = delivery.send_due(engine=engine, settings=settings, clock=lambda: datetime(2026, 2, 1, 2, 0))
    finally:
        engine.dispose()
    assert [sum(x.sent.values()) for x in (first, rest)] == [2, len(due) - 2]
    assert [m["id"] for m in outbox(cli) if m["status"] == "queued"] == [
        m["id"] for m in queued if m not in due]


def test_penalty_interest_is_stated_apart_and_capped(cli, book, tmp_path):
    # a high LPR, so that the all-in cap (4 x LPR) leaves room for the configured rate
    (tmp_path / "collect.toml").write_text('[penalty.products]\ndefault = "0.0005"\n'
                                           '[penalty]\nlpr = [["2025-01-01", "0.10"]]\n', encoding="utf-8")
    run(cli, "2026-02-11")
    [l1] = [m for m in outbox(cli, "L1") if m["status"] == "queued"]
    # 100.00 principal overdue for 11 days (02-01 .. 02-11) at 0.05 % a day = 0.55; stated apart
    assert l1["amount_overdue"] == "105.00"
    r = cli("outbox", "--loan", "L1", "--format", "json")
    body = json.loads(r.stdout)
    engine = create_engine(database_url(cli.db))
    with engine.connect() as conn:
        text_l1 = conn.execute(text("SELECT body FROM outbox WHERE loan_id = 'L1' AND status = 'queued'")).scalar()
        text_l5 = conn.execute(text("SELECT body FROM outbox WHERE loan_id = 'L5' AND status = 'queued'")).scalar()
    engine.dispose()
    assert body and "逾期金额105.00元（另计罚息0.55元）" in text_l1
    assert text_l5 is None or "罚息" not in text_l5  # no contract rate: no penalty can be checked (AMT-2)
    preview = cli("templates", "preview", "m1_followup", "--loan", "L1", "--as-of", "2026-02-11")
    assert "另计罚息0.55元" in preview.stdout


def test_a_missed_send_night_never_gives_two_sms_a_day(cli, book):
    run(cli, "2026-02-06")  # m1_notice for L1, planned for 02-06 ... and send never ran that day
    run(cli, "2026-02-07")  # m1_followup, planned for 02-07
    send(cli, "2026-02-07T09:00")
    got = {m["step"]: m for m in outbox(cli, "L1")}
    assert got["m1_notice"]["status"] == "cancelled" and got["m1_notice"]["reason"].startswith("WHEN-5")
    assert got["m1_followup"]["status"] == "sent"


def test_a_day_old_notice_is_replanned_by_the_next_run(cli, book):
    run(cli, "2026-02-01")
    run(cli, "2026-02-02")
    send(cli, "2026-02-02T09:00")
    assert outbox(cli, "L1")[0]["status"] == "cancelled"
    run(cli, "2026-02-03")
    [m] = outbox(cli, "L1")
    assert (m["status"], m["as_of"]) == ("queued", "2026-02-03")


def test_run_reminders_refuses_a_future_as_of_except_dry_run(cli, book):
    r = cli("run-reminders", "--as-of", "2026-02-05", "--now", "2026-02-01T02:00")
    assert r.exit_code == 2 and "after today" in r.stderr
    r = cli("run-reminders", "--as-of", "2026-02-05", "--now", "2026-02-01T02:00", "--dry-run")
    assert r.exit_code == 0
    assert outbox(cli) == []


def test_predue_amount_is_rechecked_at_send(cli, book, tmp_path):
    run(cli, "2026-01-29")
    pay(cli, tmp_path, "P1,L1,2026-01-29,50")
    send(cli, "2026-01-29T09:00")
    [m] = outbox(cli, "L1")
    assert m["status"] == "cancelled" and m["reason"].startswith("AMT-1") and "55.00" in m["reason"]


def test_a_gateway_that_is_down_leaves_messages_queued(cli, book, tmp_path):
    from datetime import datetime

    from collect_cli.config import Delivery, Settings
    from collect_cli.services.delivery import send_due
    from collect_cli.store.database import open_engine

    run(cli, "2026-02-01")
    settings = Settings(delivery=Delivery(senders={"sms": "http", "letter": "file", "email": "file"},
                                          http_url="http://127.0.0.1:9/none", http_max_attempts=2,
                                          http_backoff_ms=10, spool_dir=tmp_path / "spool"))
    engine = open_engine(cli.db)
    summary = send_due(engine=engine, settings=settings, clock=lambda: datetime(2026, 2, 1, 2, 0))
    engine.dispose()
    assert summary.deferred["sms"] >= 2 and not summary.failed
    sms = [m for m in outbox(cli) if m["channel"] == "sms" and m["status"] != "suppressed" and m["status"] != "skipped"]
    assert {m["status"] for m in sms} == {"queued"}
    assert sum(m["attempts"] for m in sms) == 2  # the first failure stops the channel for this run


def test_hold_channel_only_for_opt_out_and_borrower_wide_release(cli, book):
    assert cli("hold", "L1", "--reason", "dispute", "--channel", "sms").exit_code == 2
    assert cli("hold", "L4", "--reason", "opt-out", "--channel", "sms").exit_code == 0
    assert cli("release", "L5", "--reason", "opt-out", "--channel", "sms").exit_code == 0
    run(cli, "2026-02-01")
    assert "queued" in {m["status"] for m in outbox(cli) if m["loan_id"] in ("L4", "L5")}


def test_a_broken_template_file_suppresses_only_its_step(cli, book, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "m1_notice.zh_CN.j2").write_bytes("{#-\nchannel: sms\n-#}\n您好".encode("gbk"))  # not UTF-8
    (mine / "notes.txt.j2").write_text("a misnamed file", encoding="utf-8")
    (tmp_path / "collect.toml").write_text('[messaging]\ntemplate_dirs = ["mine"]\n', encoding="utf-8")
    run(cli, "2026-01-29", code=0)  # pre-due reminders do not use the broken template
    summary = run(cli, "2026-02-01", code=5)
    m1 = [s for s in summary["steps"] if s["step"] == "m1_notice"][0]
    assert m1["queued"] == 1  # L3 reads English: the shipped English template is fine
    assert m1["suppressed_by_rule"].get("TPL") >= 2
    r = cli("templates", "lint", "--format", "json")
    assert r.exit_code == 1
    found = {(Path(f["template"]).name, f["rule"]) for f in json.loads(r.stdout)}
    assert ("m1_notice.zh_CN.j2", "TPL") in found and ("notes.txt.j2", "TPL") in found


def test_a_step_can_be_limited_to_a_segment(cli, book, tmp_path):
    (tmp_path / "collect.toml").write_text(
        '[[strategy]]\nstep = "m1_soft"\nbucket = "M1"\nmin_days = 1\nchannel = "sms"\ntemplate = "m1_followup"\n'
        'segment = "first-time"\n'
        '[[strategy]]\nstep = "m1_firm"\nbucket = "M1"\nmin_days = 1\nchannel = "sms"\ntemplate = "m1_notice"\n'
        'segment = "standard"\n', encoding="utf-8")
    pay(cli, tmp_path, "P1,L1,2026-02-05,105")  # L1 cures, then defaults again on 03-01
    run(cli, "2026-03-02")
    steps_of = {m["loan_id"]: m["step"] for m in outbox(cli) if m["status"] == "queued"}
    assert steps_of["L1"] == "m1_firm"  # a second default: standard
    assert steps_of["L2"] == "m1_soft"  # the loan's first delinquency, 30 days: first-time
    r = cli("report", "buckets", env={"COLLECT_CONFIG": str(tmp_path / "collect.toml")})
    assert r.exit_code == 0


def test_outbox_show_prints_a_message_whole_and_body_lists_the_texts(cli, book):
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T09:00")
    [first] = [m for m in outbox(cli, "L1") if m["step"] == "m1_notice"]
    shown = json.loads(cli("outbox", "show", str(first["id"]), "--format", "json").stdout)
    assert [e["status"] for e in shown["events"]] == ["queued", "sent"]  # its whole history, in order
    assert "王小明" in shown["body"] and shown["recipient"] == "+86 138****0001"
    table = cli("outbox", "show", str(first["id"]))
    assert table.exit_code == 0 and "History" in table.stdout and "王小明" in table.stdout
    bodies = json.loads(cli("outbox", "--loan", "L1", "--body", "--format", "json").stdout)
    assert all("body" in m for m in bodies) and any("王小明" in (m["body"] or "") for m in bodies)
    r = cli("outbox", "show", "99999")
    assert r.exit_code == 2 and "no message 99999" in r.stderr


def test_a_message_queued_again_keeps_what_it_said_before(cli, book, tmp_path):
    """REC-1: the L4 notice, cancelled at send when a payment changed the amount, is queued
    again with the new figure as a new version; the old text, figure and hash stay."""
    run(cli, "2026-02-01")
    pay(cli, tmp_path, "P4,L4,2026-02-01,50")
    send(cli, "2026-02-01T20:00")
    run(cli, "2026-02-02")
    [m] = [m for m in outbox(cli, "L4") if m["step"] == "m1_notice"]
    shown = json.loads(cli("outbox", "show", str(m["id"]), "--format", "json").stdout)
    first, second = shown["versions"]
    assert (first["status"], first["amount_overdue"], second["status"], second["amount_overdue"]) == (
        "queued", "105.00", "queued", "55.00")
    assert "105.00" in first["body"] and "55.00" in second["body"] and first["body"] != second["body"]
    assert first["template_sha256"] == second["template_sha256"] == shown["template_sha256"]
    assert second["body"] == shown["body"]  # the message is its latest version
    assert [e["status"] for e in shown["events"]] == ["queued", "cancelled", "queued"]
    assert shown["events"][1]["reason"].startswith("AMT-1")
    rows = cli("outbox", "show", str(m["id"]), "--format", "csv").stdout.splitlines()
    assert rows[0].startswith("recorded_at,at,what") and len(rows) == 1 + 2 + 3  # header, versions, events
    table = cli("outbox", "show", str(m["id"]))
    assert "Version 1 of 2" in table.stdout and "105.00" in table.stdout


def test_a_sent_message_records_to_whom_and_the_providers_reference(cli, book):
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T09:00")
    [m] = [m for m in outbox(cli, "L1") if m["step"] == "m1_notice"]
    sent = json.loads(cli("outbox", "show", str(m["id"]), "--format", "json").stdout)["events"][-1]
    assert sent["status"] == "sent" and sent["recipient"] == "+86 138****0001" and sent["provider_ref"]


def test_the_send_summary_in_each_format_carries_its_totals(cli, book):
    run(cli, "2026-02-01")
    data = json.loads(cli("send", "--now", "2026-02-01T09:00", "--format", "json").stdout)
    assert data["totals"]["sent"] == sum(data["sent"].values()) > 0
    assert set(data["totals"]) == {"sent", "failed", "cancelled", "deferred", "waiting"}
    rows = cli("send", "--now", "2026-02-01T09:30", "--format", "csv").stdout.splitlines()
    assert rows[0] == "outcome,count,detail" and [r.split(",")[0] for r in rows[1:]] == [
        "sent", "failed", "cancelled", "deferred", "waiting", "cost"]
    assert data["cost"] == {**{c: "0.00" for c in data["sent"]}, "total": "0.00"}  # no [delivery.cost]


def test_templates_preview_in_each_format(cli, book):
    args = ["templates", "preview", "m1_notice", "--loan", "L1", "--as-of", "2026-02-01"]
    text = cli(*args)
    [shown] = json.loads(cli(*args, "--format", "json").stdout)
    assert shown["body"] == text.stdout.strip() and "王小明" in shown["body"]
    assert (shown["channel"], shown["step"], shown["locale"]) == ("sms", "m1_notice", "zh_CN")
    rows = cli(*args, "--format", "csv").stdout.splitlines()
    assert rows[0] == "template,channel,purpose,step,locale,sms_parts,body,suppressed_by"
