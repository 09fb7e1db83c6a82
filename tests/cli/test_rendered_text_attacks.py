"""What an attack review got through, end to end: rendered, queued, and (where it would have
been) cancelled at send, through the file spool, on both backends. The unit corpus of these
classes is in tests/unit/test_content.py; here each class is driven through the CLI."""

from __future__ import annotations

from tests.cli.ledger_book import outbox, run, send
from tests.cli.test_contact_policy import NOTICE, by_step, spooled, templates

LETTER = "<p>{{ address }}</p><p>" + NOTICE + "</p>"


def letters_sent(tmp_path) -> list[str]:
    return [f.read_text(encoding="utf-8") for f in sorted((tmp_path / "outbox").rglob("*.html"))]


def test_a_letter_whose_address_changed_is_rendered_again_not_sent_to_the_old_one(cli, book, tmp_path):
    run(cli, "2026-03-05")
    assert by_step(cli, "L1")["m2_letter"]["status"] == "queued"
    moved = tmp_path / "moved.csv"
    moved.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address\n"
                     "L1,B1,王小明,13800000001,300,2025-12-31,广州市新地址99号\n", encoding="utf-8")
    assert cli("import", str(moved)).exit_code == 0
    send(cli, "2026-03-05T09:00")
    letter = by_step(cli, "L1")["m2_letter"]
    assert letter["status"] == "cancelled" and "address changed" in letter["reason"]
    assert not any("上海市黄浦区1号" in html for html in letters_sent(tmp_path))
    run(cli, "2026-03-05", "--now", "2026-03-05T09:30")  # the next run renders it for the new address
    send(cli, "2026-03-05T10:00")
    sent = [h for h in letters_sent(tmp_path) if "王小明" in h]
    assert len(sent) == 1 and "广州市新地址99号" in sent[0] and "上海市黄浦区1号" not in sent[0]


def test_reordered_and_interrupted_words_never_reach_the_spool(cli, book, tmp_path):
    templates(tmp_path, m1_notice=NOTICE + "\u202e。牢坐会就还不\u202c", m1_followup=NOTICE + "暴丨光你")
    for day, step in (("2026-02-01", "m1_notice"), ("2026-02-08", "m1_followup")):
        run(cli, day, code=5)
        m = by_step(cli, "L1")[step]
        assert m["status"] == "suppressed" and m["reason"].startswith("SAY-1"), (m["status"], m["reason"])
    send(cli, "2026-02-08T09:00")
    assert not any(s["loan_id"] == "L1" for s in spooled(tmp_path))


def test_a_letter_that_hides_or_generates_text_is_suppressed(cli, book, tmp_path):
    hiding = LETTER.replace("{{ dispute_channel }}", '<span class="fine">{{ dispute_channel }}</span>')
    templates(tmp_path, m2_letter="<style>.fine{display:none}</style>" + hiding)
    run(cli, "2026-03-05", code=5)
    m = by_step(cli, "L1")["m2_letter"]
    assert m["status"] == "suppressed" and m["reason"].startswith("SAY-1") and "display" in m["reason"]


def test_an_address_that_speaks_is_not_printed(cli, book, tmp_path):
    threat = tmp_path / "threat.csv"
    threat.write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address\n"
                      "L1,B1,王小明,13800000001,300,2025-12-31,上海市1号 你涉嫌诈骗即将被逮捕\n", encoding="utf-8")
    assert cli("import", str(threat)).exit_code == 0
    run(cli, "2026-03-05", code=5)
    m = by_step(cli, "L1")["m2_letter"]
    assert m["status"] == "suppressed" and "address" in m["reason"]
    send(cli, "2026-03-05T09:00")
    assert not any("逮捕" in h for h in letters_sent(tmp_path))
    assert all(m["status"] != "sent" or m["channel"] != "letter" for m in outbox(cli, "L1"))
