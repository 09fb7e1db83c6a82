"""The escalation rules, in order."""

from datetime import date

from collect_cli.config import EscalationRules
from collect_cli.domain.escalation import propose

R = EscalationRules(legal_amount=20_000, second_default_days=365, agency_dpd=90)
D = date.fromisoformat


def test_rules_in_order():
    assert propose(overdue=2_000_000, dpd=10, episode_starts=[D("2026-01-01")], rules=R)[0] == "legal"
    assert propose(overdue=1_999_999, dpd=10, episode_starts=[D("2026-01-01")], rules=R) is None
    second = propose(overdue=100, dpd=10, episode_starts=[D("2025-06-01"), D("2026-05-01")], rules=R)
    assert second[0] == "agency" and "second default" in second[1]
    assert propose(overdue=100, dpd=10, episode_starts=[D("2025-01-01"), D("2026-05-01")], rules=R) is None
    assert propose(overdue=100, dpd=91, episode_starts=[D("2026-01-01")], rules=R)[0] == "agency"
    assert propose(overdue=100, dpd=90, episode_starts=[D("2026-01-01")], rules=R) is None
