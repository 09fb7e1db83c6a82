"""A dialer or voice robot round trip: the call list holds only who may be called now, with what
is left of the day's caps; its results come back into the contact log, counted with every
other call (WHEN-2, WHEN-3), so the next list and a collector's next call respect them."""

from __future__ import annotations

import csv
import json

from tests.cli.test_collector import log

NOW = "2026-02-05T10:00"  # Shanghai: L1-L5 are 5 days past due (M1)


def export(cli, tmp_path, name: str, now: str = NOW) -> tuple[dict, dict[str, dict]]:
    out = tmp_path / name
    r = cli("dialer", "export", "--campaign", "m1-robot", "--output", str(out), "--now", now, "--format", "json")
    assert r.exit_code == 0, r.stderr
    with out.open(encoding="utf-8") as fh:
        return json.loads(r.stdout), {row["loan_id"]: row for row in csv.DictReader(fh)}


def results(cli, tmp_path, rows: list[list[str]], code: int = 0) -> dict:
    f = tmp_path / "results.csv"
    with f.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["借据号", "拨打时间", "结果", "方式", "机器人", "承诺金额", "承诺日期", "录音编号"])
        w.writerows(rows)
    r = cli("dialer", "import", str(f), "--campaign", "m1-robot", "--now", "2026-02-05T11:00", "--format", "json")
    assert r.exit_code == code, r.stderr + r.stdout
    return json.loads(r.stdout)


def test_a_dialer_round_trip_keeps_the_days_caps(cli, book, tmp_path):
    summary, first = export(cli, tmp_path, "calls-1.csv")
    assert set(first) == {"L1", "L2", "L3", "L4", "L5"} and summary["accounts"] == 5
    l1 = first["L1"]
    assert (l1["phone"], l1["attempts_left"], l1["conversations_left"]) == ("+8613800000001", "6", "3")
    assert l1["script"] == "m1-first-time" and l1["amount_overdue"] == "105.00" and l1["valid_on"] == "2026-02-05"
    assert first["L3"]["time_zone"] == "America/Los_Angeles"
    assert oct((tmp_path / "calls-1.csv").stat().st_mode & 0o777) == "0o600"  # names and numbers
    at = "2026-02-05 10:{:02d}"
    done = results(cli, tmp_path, [
        *[["L1", at.format(m), "接通", "robot", "bot-7", "", "", f"rec-{m}"] for m in (1, 2, 3)],  # 3 conversations
        ["L1", at.format(4), "reached", "robot", "bot-7", "", "", "rec-4"],  # a fourth: a breach, recorded
        *[["L2", at.format(m), "未接通", "robot", "bot-7", "", "", ""] for m in range(1, 7)],  # 6 attempts
        ["L4", at.format(5), "承诺还款", "voice", "seat-12", "105.00", "2026-02-08", "rec-9"],
        ["L3", "2026-02-04 18:30-08:00", "异议", "voice", "seat-12", "", "", "rec-10"],
        ["L9", at.format(7), "reached", "robot", "bot-7", "", "", ""],  # no such loan
        ["L1", at.format(8), "maybe", "robot", "bot-7", "", "", ""],  # no such outcome
        ["L4", at.format(9), "承诺还款", "voice", "seat-12", "", "", ""],  # a promise without its terms
    ], code=3)
    assert done["calls"] == 12 and done["outcomes"] == {"reached": 4, "no-answer": 6, "promise": 1, "dispute": 1}
    assert [b.split(":")[1].strip() for b in done["breaches"]] == ["WHEN-2"]  # the fourth conversation
    assert sorted(x["line"] for x in done["rejected"]) == [14, 15, 16]
    assert (tmp_path / "results.rejects.csv").exists()
    # the next list: L1 has had its conversations, L2 its attempts, L3 disputed (a case, its hold)
    summary, second = export(cli, tmp_path, "calls-2.csv", now="2026-02-05T10:30")
    assert set(second) == {"L4", "L5"}
    assert summary["left_out"] == {"WHEN-2": 1, "WHEN-3": 1}
    assert (second["L4"]["conversations_left"], second["L5"]["conversations_left"]) == ("2", "2")  # one borrower
    # a collector's call counts the robot's too (WHEN-2, all callers together)
    r = log(cli, "L1", "--channel", "call", "--outcome", "reached", at="2026-02-05T10:40", code=6)
    assert "WHEN-2" in r.stderr
    promises = json.loads(cli("promises", "--format", "json").stdout)
    assert [(p["loan_id"], p["amount"], p["due_on"]) for p in promises] == [("L4", "105.00", "2026-02-08")]
    # the same results again: nothing twice
    again = results(cli, tmp_path, [["L2", at.format(1), "未接通", "robot", "bot-7", "", "", ""]])
    assert (again["calls"], again["before"]) == (0, 1)


def test_the_call_list_leaves_out_who_may_not_be_called_now(cli, book, tmp_path):
    summary, rows = export(cli, tmp_path, "night.csv", now="2026-02-05T22:30")  # after 21:00 in Shanghai
    assert "L1" not in rows and summary["left_out"].get("WHEN-1", 0) >= 4
    assert set(rows) <= {"L3"}  # 06:30 in Los Angeles: not yet either
