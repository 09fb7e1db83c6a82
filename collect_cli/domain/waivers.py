"""Waivers (减免): what a collector may take off a debt, and what the schedule is once it is.

A waiver of interest or principal lowers the unpaid part of that component, oldest
installment first, from the day it takes effect: a schedule change dated like a plan, so a
replay of an earlier day sees the schedule before. A penalty waiver lowers the penalty
interest stated (penalty is not in the schedule). A conditional waiver (`if_paid_by`) takes
effect on the day the rest of the debt is paid, if that is by its date; else it lapses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from collect_cli.domain.compliance import Refusal
from collect_cli.domain.loan_state import Installment, LoanState
from collect_cli.domain.money import fmt_grouped

COMPONENTS = ("penalty", "interest", "principal")


def unpaid_of(state: LoanState, component: str) -> int:
    """What of the component is unpaid on the state's day (interest, principal)."""
    if component == "interest":
        return sum(p.installment.interest_due - p.interest_paid for p in state.positions)
    return sum(p.installment.principal_due - p.principal_paid for p in state.positions)


def waived_schedule(state: LoanState, component: str, amount: int) -> list[Installment]:
    """The schedule with `amount` of the component's unpaid money taken off, oldest
    installment first (a waiver takes off what is owed, never what was paid)."""
    left, out = amount, []
    for p in state.positions:
        inst = p.installment
        if component == "interest":
            cut = min(left, inst.interest_due - p.interest_paid)
            inst = replace(inst, interest_due=inst.interest_due - cut)
        else:
            cut = min(left, inst.principal_due - p.principal_paid)
            inst = replace(inst, principal_due=inst.principal_due - cut)
        left -= cut
        out.append(inst)
    return out


def paid_in_full_on(rest: int, payments: Iterable[tuple[date, int]], granted_on: date, by: date) -> date | None:
    """The day the payments from the grant day reach `rest`, if that is by `by` (reversals
    count, negative, on their own day)."""
    paid = 0
    for day, amount in sorted(p for p in payments if granted_on <= p[0] <= by):
        paid += amount
        if paid >= rest:
            return day
    return None


def limit_refusal(component: str, amount: int, granted_by: tuple[str, int], approved_by: tuple[str, int] | None,
                  ) -> Refusal | None:
    """WAIVE-LIMIT: each waiver within the limit of who grants it, or of who approves it.
    (name, limit in minor units) of each."""
    name, limit = granted_by
    if amount <= limit:
        return None
    if approved_by is not None and amount <= approved_by[1]:
        return None
    who = f"{name}'s limit is {fmt_grouped(limit)}"
    if approved_by is not None:
        who += f", {approved_by[0]}'s {fmt_grouped(approved_by[1])}"
    return Refusal("WAIVE-LIMIT", f"a {component} waiver of {fmt_grouped(amount)} is over the limit ({who}); "
                                  "one whose role allows it approves with --approved-by")
