"""The escalation rules, in order."""

from datetime import date

from collect_cli.config import EscalationRules
from collect_cli.domain.escalation import propose

R = EscalationRules(legal_amount=20_000, second_default_days=365, agency_dpd=90, agency_min_dpd=1, legal_min_dpd=1)
D = date.fromisoformat


def test_rules_in_order():
    assert propose(overdue=2_000_000, dpd=10, episode_starts=[D("2026-01-01")], rules=R)[0] == "legal"
    assert propose(overdue=1_999_999, dpd=10, episode_starts=[D("2026-01-01")], rules=R) is None
    second = propose(overdue=100, dpd=10, episode_starts=[D("2025-06-01"), D("2026-05-01")], rules=R)
    assert second[0] == "agency" and "second default" in second[1]
    assert propose(overdue=100, dpd=10, episode_starts=[D("2025-01-01"), D("2026-05-01")], rules=R) is None
    assert propose(overdue=100, dpd=91, episode_starts=[D("2026-01-01")], rules=R)[0] == "agency"
    assert propose(overdue=100, dpd=90, episode_starts=[D("2026-01-01")], rules=R) is None


def test_no_rule_fires_below_its_stages_floor():
    """A barely late borrower is never proposed for outside placement or legal action, whatever
    the amount or the history (defaults: agency from 61 days past due, legal from 91)."""
    floors = EscalationRules()
    assert (floors.agency_min_dpd, floors.legal_min_dpd) == (61, 91)
    second = [D("2025-06-01"), D("2026-05-01")]
    assert propose(overdue=100, dpd=5, episode_starts=second, rules=floors) is None
    assert propose(overdue=100, dpd=61, episode_starts=second, rules=floors)[0] == "agency"
    big = 5_000_000
    assert propose(overdue=big, dpd=30, episode_starts=[D("2026-01-01")], rules=floors) is None
    assert propose(overdue=big, dpd=61, episode_starts=second, rules=floors)[0] == "agency"  # not legal yet
    assert propose(overdue=big, dpd=91, episode_starts=[D("2026-01-01")], rules=floors)[0] == "legal"
    assert propose(overdue=100, dpd=60, episode_starts=[D("2026-01-01")], rules=floors,
                   broken_plan="plan broken") is None
