"""The queue score's parts and the segment rules."""

from datetime import date, timedelta
from decimal import Decimal

from collect_cli.domain.scoring import History, queue_score
from collect_cli.domain.segments import CallRecord, segment

D = date(2026, 3, 1)


def test_score_parts_and_reasons():
    base, reasons = queue_score(45, 500_000, History(days_since_contact=0))
    assert base == Decimal("50.0") and reasons == ["45 days past due +30.0", "overdue amount +20.0"]
    assert queue_score(45, 500_000, History(days_since_contact=7))[0] == Decimal("55.0")
    assert queue_score(45, 500_000, History())[0] == Decimal("60.0")  # never contacted
    assert queue_score(45, 500_000, History(days_since_contact=0, promise_due_today=True))[0] == Decimal("65.0")
    assert queue_score(45, 500_000, History(days_since_contact=0, promise_broken_days_ago=3))[0] == Decimal("70.0")
    assert queue_score(45, 500_000, History(days_since_contact=0, promise_broken_days_ago=8))[0] == Decimal("50.0")
    assert queue_score(45, 500_000, History(days_since_contact=0, other_delinquent_loans=5))[0] == Decimal("60.0")


def calls(*outcomes: str, start: date = D - timedelta(days=5)) -> list[CallRecord]:
    return [CallRecord(start + timedelta(days=i), o) for i, o in enumerate(outcomes)]


def test_segments():
    assert segment(as_of=D, dpd=40, episodes=1, calls=calls("reached", "wrong-number"), promise_verdicts=[]) == "unreachable"
    assert segment(as_of=D, dpd=40, episodes=1, calls=calls("no-answer", "no-answer", "no-answer"),
                   promise_verdicts=[]) == "unreachable"
    assert segment(as_of=D, dpd=40, episodes=1, calls=calls("refused", "reached"), promise_verdicts=[]) == "unwilling"
    assert segment(as_of=D, dpd=40, episodes=2, calls=[], promise_verdicts=["broken", "broken"]) == "unwilling"
    assert segment(as_of=D, dpd=40, episodes=2, calls=[], promise_verdicts=["partly_kept"]) == "hardship"
    assert segment(as_of=D, dpd=12, episodes=1, calls=[], promise_verdicts=[]) == "first-time"
    assert segment(as_of=D, dpd=12, episodes=2, calls=[], promise_verdicts=[]) == "standard"
    assert segment(as_of=D, dpd=40, episodes=1, calls=[], promise_verdicts=[]) == "standard"
