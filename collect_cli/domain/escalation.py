"""Escalation rules: when an account should go to the legal or the agency stage.

In order, the first that fires proposes the stage, and none fires below its stage's floor of
days past due in the current episode (`legal_min_dpd`, 91; `agency_min_dpd`, 61):
- legal:  overdue at or over `legal_amount` (yuan);
- legal:  the latest restructuring plan is broken (domain/plans.py: a plan installment more
          than `plans.broken_dpd` days past due): the borrower broke a written agreement;
- agency: a new default episode within `second_default_days` of the previous one began;
- agency: more than `agency_dpd` days past due.
"""

from __future__ import annotations

from datetime import date

from collect_cli.domain.money import fmt_grouped


def propose(*, overdue: int, dpd: int, episode_starts: list[date], rules,
            broken_plan: str | None = None) -> tuple[str, str] | None:
    """(stage, the rule that fired) or None. `broken_plan`: why the latest plan is broken;
    `dpd`: days past due in the current episode."""
    legal = dpd >= rules.legal_min_dpd
    if legal and overdue >= rules.legal_amount * 100:
        return "legal", f"overdue {fmt_grouped(overdue)} at or over {rules.legal_amount:,}, {dpd} days past due"
    if legal and broken_plan:
        return "legal", broken_plan
    if dpd < rules.agency_min_dpd:
        return None
    if len(episode_starts) >= 2 and (episode_starts[-1] - episode_starts[-2]).days <= rules.second_default_days:
        return "agency", (f"second default within {rules.second_default_days} days "
                          f"({episode_starts[-2].isoformat()}, {episode_starts[-1].isoformat()})")
    if dpd > rules.agency_dpd:
        return "agency", f"{dpd} days past due, over {rules.agency_dpd}"
    return None
