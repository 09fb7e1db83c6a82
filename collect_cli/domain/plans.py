"""Restructuring plans: who may have one, the new schedule, and when a plan is broken.

A plan re-spreads what is unpaid on the day it is made; it never adds interest or fees
(a lender that charges for a plan books that in the core system, and the next import
brings it in). What is already paid stays where allocation put it, so the payments of the
ledger allocate onto the new schedule exactly as before.

- `--installments N`: the unpaid fees, interest and principal, each split evenly over N
  monthly installments (the remainder on the last); the k-th falls k months after the
  plan date (or after `first_due`), the day clamped to the month end (31 Jan + 1 month =
  28/29 Feb, and + 2 months = 31 Mar again). An installment that is partly paid keeps its
  paid part at its date; the rest goes into the plan.
- `--extend-days N`: every unpaid installment moves N days later, amounts unchanged; no
  installment may still be overdue afterwards.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta

from collect_cli.domain.buckets import CLASSIFICATION
from collect_cli.domain.loan_state import Installment, LoanState


@dataclass(frozen=True)
class Refusal:
    rule: str
    why: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.why}"


def refusals(state: LoanState, *, plan_on: date, broken_promises: list[date], earlier_plans: int, rules,
             installments: int | None = None, extend_days: int | None = None,
             first_due: date | None = None, latest_plan_on: date | None = None) -> list[Refusal]:
    """Every eligibility rule the plan fails (empty: eligible). `broken_promises` are the
    dates of the loan's broken promises; `latest_plan_on` the date of its latest plan;
    `rules` is the [plans] configuration."""
    out = []
    if latest_plan_on is not None and latest_plan_on >= plan_on:
        # one plan a day, in date order: a second collector applying at the same moment, or
        # a plan backdated before the one in force, would silently undo it
        out.append(Refusal("PLAN-ORDER", f"this loan has a plan of {latest_plan_on.isoformat()}; "
                                         f"a new plan must be dated after it"))
    if state.status == "closed" or state.total_unpaid == 0:
        out.append(Refusal("PLAN-OPEN", "nothing is unpaid on this loan"))
    if state.dpd > rules.max_dpd:
        out.append(Refusal("PLAN-DPD", f"{state.dpd} days past due, over plans.max_dpd = {rules.max_dpd}"))
    since = plan_on - timedelta(days=rules.promise_lookback_days)
    recent = sorted(d for d in broken_promises if since <= d <= plan_on)
    if recent:
        out.append(Refusal("PLAN-PROMISE", f"a promise for {recent[-1].isoformat()} was broken, within "
                                           f"plans.promise_lookback_days = {rules.promise_lookback_days}"))
    if earlier_plans > rules.max_earlier_plans:
        out.append(Refusal("PLAN-COUNT", f"{earlier_plans} earlier plans, over plans.max_earlier_plans = "
                                         f"{rules.max_earlier_plans}"))
    if installments is not None and not 1 <= installments <= rules.max_installments:
        out.append(Refusal("PLAN-TERM", f"{installments} installments; from 1 to plans.max_installments = "
                                        f"{rules.max_installments}"))
    if first_due is not None and not plan_on < first_due <= plan_on + timedelta(days=rules.max_extend_days):
        out.append(Refusal("PLAN-TERM", f"the first due date {first_due.isoformat()} must be after the plan date "
                                        f"and within plans.max_extend_days = {rules.max_extend_days} of it"))
    last_paid = last_paid_due(state)
    if first_due is not None and last_paid is not None and first_due <= last_paid:
        out.append(Refusal("PLAN-TERM", f"the first due date {first_due.isoformat()} must be after "
                                        f"{last_paid.isoformat()}, the last installment already paid"))
    if extend_days is not None:
        if not 1 <= extend_days <= rules.max_extend_days:
            out.append(Refusal("PLAN-TERM", f"{extend_days} days; from 1 to plans.max_extend_days = "
                                            f"{rules.max_extend_days}"))
        elif state.dpd >= extend_days:
            out.append(Refusal("PLAN-EXTEND", f"moved {extend_days} days, the oldest overdue installment would "
                                              f"still be overdue; extend by at least {state.dpd + 1} days "
                                              f"or spread it with --installments"))
    return out


def last_paid_due(state: LoanState) -> date | None:
    """The due date of the last installment with money paid on it (paid in advance, maybe)."""
    return max((p.installment.due_on for p in state.positions if p.paid), default=None)


def month_after(start: date, months: int) -> date:
    """`months` calendar months after (or before, if negative) `start`, the day clamped to the
    month's end: dateutil's relativedelta(months=…), done by hand because reports call it
    for every loan of the book."""
    years, month = divmod(start.month - 1 + months, 12)
    year = start.year + years
    return date(year, month + 1, min(start.day, monthrange(year, month + 1)[1]))


def spread(state: LoanState, installments: int, plan_on: date, first_due: date | None = None) -> list[Installment]:
    """The whole new schedule: paid money where it is, the unpaid spread over `installments`,
    monthly after the plan date, or after the last installment paid in advance if that is
    later (payments allocate oldest first: the plan must come after what is paid)."""
    kept, fee, interest, principal = [], 0, 0, 0
    for pos in state.positions:
        inst = pos.installment
        if pos.unpaid == 0:
            kept.append(inst)
            continue
        if pos.paid:
            kept.append(Installment(inst.seq, inst.due_on, pos.principal_paid, pos.interest_paid, pos.fee_paid))
        fee += inst.fee_due - pos.fee_paid
        interest += inst.interest_due - pos.interest_paid
        principal += inst.principal_due - pos.principal_paid
    first_seq = max((i.seq for i in kept), default=0) + 1
    anchor, offset = (first_due, 0) if first_due else (plan_on, 1)
    last_paid = last_paid_due(state)
    if first_due is None and last_paid is not None and month_after(plan_on, 1) <= last_paid:
        anchor = last_paid
    return kept + [
        Installment(first_seq + k, month_after(anchor, k + offset),
                    _share(principal, installments, k), _share(interest, installments, k), _share(fee, installments, k))
        for k in range(installments)
    ]


def _share(total: int, parts: int, k: int) -> int:
    """Even parts in minor units; the last takes the remainder, so the parts sum to the total."""
    base = total // parts
    return total - base * (parts - 1) if k == parts - 1 else base


def extend(state: LoanState, days: int) -> list[Installment]:
    """The whole new schedule: every installment with unpaid money moved `days` later."""
    return [
        pos.installment if pos.unpaid == 0 else
        Installment(pos.installment.seq, pos.installment.due_on + timedelta(days=days), pos.installment.principal_due,
                    pos.installment.interest_due, pos.installment.fee_due)
        for pos in state.positions
    ]


def broken(state: LoanState, plan_on: date, rules) -> str | None:
    """Why the plan made on `plan_on` is broken as of the state's date, or None.

    Broken: more than `plans.broken_dpd` days past due on an installment that fell due
    after the plan was made (every unpaid installment of a plan does)."""
    if state.status == "closed" or state.dpd <= rules.broken_dpd:
        return None
    oldest_due = state.as_of - timedelta(days=state.dpd)
    if oldest_due <= plan_on:
        return None
    return (f"plan of {plan_on.isoformat()} broken: {state.dpd} days past due on its installment of "
            f"{oldest_due.isoformat()} (over plans.broken_dpd = {rules.broken_dpd})")


def class_floor(plan_on: date, before: str | None, as_of: date, observation_days: int) -> str | None:
    """The best classification a restructured loan may have as of `as_of`: during the
    observation period after the plan (at least a year, 《商业银行金融资产风险分类办法》
    2023), no better than it was on the plan date and never 正常; None after it."""
    if not plan_on <= as_of < plan_on + timedelta(days=observation_days):
        return None
    return max("关注", before or "关注", key=CLASSIFICATION.index)


def schedule_before(current: list[tuple], plan_batches: list[int], replaced: dict[int, list[tuple]]) -> list[Installment]:
    """The schedule as it was before plans were applied, to replay a date before them.

    Rows are (seq, due_on, principal, interest, fee, batch that wrote them); `replaced` holds
    the history rows by the batch that replaced them. For each plan, newest first, every seq
    its batch wrote goes (whoever rewrote it since) and the rows it replaced come back."""
    rows = {r[0]: r for r in current}
    for batch in plan_batches:
        written = {seq for seq, r in rows.items() if r[5] == batch}
        written |= {r[0] for old in replaced.values() for r in old if r[5] == batch}
        rows = {seq: r for seq, r in rows.items() if seq not in written}
        rows.update({r[0]: r for r in replaced.get(batch, [])})
    return [Installment(*r[:5]) for r in sorted(rows.values(), key=lambda r: (r[1], r[0]))]
