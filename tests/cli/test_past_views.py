"""Honest past views (REC-4): a view as of a past day shows only what had been recorded by the
end of that day, each record as it stood then. Whatever is recorded afterwards (contacts,
promises and their verdicts, holds, escalations, assignments, deliveries, contact persons),
the view of that day does not change; and the view of the later day does show it, so the
test cannot pass by showing nothing."""

from __future__ import annotations

import json

import pytest

from tests.cli.ledger_book import run, send

DAY, LATER = "2026-02-03", "2026-02-09"


def view(cli, args: list[str], day: str | None):
    """The view as of `day` (None: today, by the real clock)."""
    on = [] if day is None else ["--as-of", day] if "--from" not in args else ["--to", day]
    r = cli(*args, *on, "--format", "json")
    assert r.exit_code == 0, (args, r.stderr)
    return json.loads(r.stdout)


VIEWS = {
    "account card": ["account", "L1"],
    "queue": ["queue", "--limit", "0", "--now", f"{DAY}T10:00", "--supervisor"],
    "promises": ["promises"],
    "escalations": ["escalations"],
    "contacts report": ["report", "contacts", "--from", "2026-02-01"],
    "promises report": ["report", "promises", "--from", "2026-02-01"],
}


def later_records(cli, tmp_path) -> None:
    """What happens after DAY: each kind of workflow record, on the days after it."""
    after = "2026-02-04T10:00"
    for loan in ("L1", "L2"):
        assert cli("log", loan, "--channel", "call", "--outcome", "promise", "--promise", "50", "--on", "2026-02-05",
                   "--now", after, "--agent", "li").exit_code == 0
    assert cli("log", "L4", "--channel", "call", "--outcome", "dispute", "--now", after).exit_code == 0
    assert cli("hold", "L1", "--reason", "opt-out", "--channel", "sms", "--now", after).exit_code == 0
    assert cli("people", "add", "L1", "--name", "Li Si", "--phone", "13900000001", "--relation", "spouse",
               "--source", "application form").exit_code == 0
    assert cli("escalate", "L5", "--stage", "legal", "--note", "later").exit_code == 0
    assert cli("queue", "take", "--agent", "li", "--as-of", "2026-02-04", "--now", after).exit_code == 0
    send(cli, "2026-02-04T09:00")
    for day in ("2026-02-06", "2026-02-07", LATER):  # the promises are settled: broken
        run(cli, day)


@pytest.fixture
def history(cli, book, tmp_path):
    """What was recorded by DAY: a run, a delivery, a call."""
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T09:00")
    assert cli("log", "L2", "--channel", "call", "--outcome", "reached", "--now", f"{DAY}T09:00",
               "--agent", "wang").exit_code == 0
    run(cli, DAY)
    return cli


@pytest.mark.parametrize("name", list(VIEWS))
def test_a_past_view_does_not_change_with_what_is_recorded_later(history, tmp_path, name):
    cli, args = history, VIEWS[name]
    # the day the later records show from: the escalation is made by the real clock, today
    later = None if name == "escalations" else LATER
    before = view(cli, args, DAY)
    later_before = view(cli, args, later) if name != "queue" else None
    later_records(cli, tmp_path)
    assert view(cli, args, DAY) == before, f"{name} as of {DAY} changed with records made after it"
    if later_before is not None:  # and the later records are seen from the later day
        assert view(cli, args, later) != later_before, f"{name} as of {later} does not show the later records"


def test_the_account_card_shows_each_record_as_it_stood_then(history, tmp_path):
    cli = history
    later_records(cli, tmp_path)
    then = view(cli, ["account", "L1"], DAY)
    assert then["contacts"] == [] and then["holds"] == [] and then["people"] == [] and then["promises"] == []
    assert {m["status"] for m in then["messages"] if m["step"] == "m1_notice"} == {"sent"}
    now = view(cli, ["account", "L1"], LATER)
    assert [p["status"] for p in now["promises"]] == ["broken"] and now["holds"]
    assert not now["people"] and view(cli, ["account", "L1"], None)["people"]  # recorded today, really
    mid = view(cli, ["account", "L1"], "2026-02-05")  # made, not yet settled
    assert [p["status"] for p in mid["promises"]] == ["open"]


def test_a_hold_placed_later_does_not_empty_the_queue_of_an_earlier_day(history, tmp_path):
    cli = history
    queue = ["queue", "--limit", "0", "--now", f"{DAY}T10:00"]
    assert "L4" in {e["loan_id"] for e in view(cli, queue, DAY)}
    later_records(cli, tmp_path)  # L4 disputed on 02-04: HOLD-1
    assert "L4" in {e["loan_id"] for e in view(cli, queue, DAY)}
    today = ["queue", "--limit", "0", "--now", f"{LATER}T10:00"]
    assert "L4" not in {e["loan_id"] for e in view(cli, today, LATER)}


def test_the_promises_list_as_of_a_day_before_the_verdict_shows_it_open(history, tmp_path):
    cli = history
    later_records(cli, tmp_path)
    assert {p["status"] for p in view(cli, ["promises"], "2026-02-05")} == {"open"}
    assert {p["status"] for p in view(cli, ["promises"], LATER)} == {"broken"}
    assert view(cli, ["promises"], DAY) == []
