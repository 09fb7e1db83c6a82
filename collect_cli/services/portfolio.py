"""The portfolio as of a date: every loan's state, streamed from the store through the engine."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.allocation import PENALTY_INTEREST_PRINCIPAL, SUM_RULE, Rule
from collect_cli.domain.episodes import episode_start, episode_starts
from collect_cli.domain.loan_events import standing
from collect_cli.domain.loan_state import Installment, LoanState, state_from_paid, state_of
from collect_cli.domain.penalty import capped_daily_rate
from collect_cli.domain.plans import class_floor, schedule_before
from collect_cli.store import queries as q


@dataclass(frozen=True)
class Account:
    """A loan with its borrower and its state as of a date."""

    loan_id: str
    borrower_id: str
    borrower_name: str
    phone: str
    email: str | None
    address: str | None
    locale: str
    timezone: str | None  # None: the configured zone
    product: str
    principal: int
    disbursed_on: date
    state: LoanState
    annual_rate_ppm: int | None = None
    penalty_off: tuple[tuple[date, int], ...] = ()  # penalty waivers in effect by the state's date (day, amount)
    rule: Rule = SUM_RULE  # how its product allocates payments, and its penalty rate
    payments: tuple[tuple[date, int], ...] | None = None  # in effect on the date, when the rule needs them
    push_id: str | None = None  # the app's push address (the push channel's recipient)

    @property
    def points(self) -> tuple[str, ...]:
        """Where the borrower is reached: opt-outs, caps and shared checks follow them (WHO-4)."""
        return tuple(p for p in (self.phone, self.email, self.push_id) if p)

    @property
    def penalty_waived(self) -> int:
        return sum(amount for _, amount in self.penalty_off)


def restated(acc: Account, schedule: list[Installment], **terms) -> LoanState:
    """The account on its date with `schedule` in place of its own: the same payments,
    allocated by its rule (`terms`: as `state_from_paid` takes them)."""
    s = acc.state
    if acc.payments is not None:
        return state_of(schedule, list(acc.payments), s.as_of, rule=acc.rule, penalty_off=list(acc.penalty_off),
                        **terms)
    return state_from_paid(schedule, s.paid_to_date, s.as_of, **terms)


def episode_of(acc: Account, payments: list[tuple[date, int]], as_of: date | None = None) -> date | None:
    """The start of the account's delinquency running on `as_of` (its date), from `payments`
    (a reversal negative) or, under a by-payment rule, from its own payments in effect."""
    schedule = [p.installment for p in acc.state.positions]
    as_of = as_of or acc.state.as_of
    if acc.payments is None:
        return episode_start(schedule, payments, as_of)
    return episode_start(schedule, acc.payments, as_of, acc.rule, acc.penalty_off)


def episodes_of(acc: Account, payments: list[tuple[date, int]], as_of: date | None = None) -> list[date]:
    """The first day of each of the account's delinquencies up to `as_of` (its date), as
    `episode_of` reads its payments."""
    schedule = [p.installment for p in acc.state.positions]
    as_of = as_of or acc.state.as_of
    if acc.payments is None:
        return episode_starts(schedule, payments, as_of)
    return episode_starts(schedule, acc.payments, as_of, acc.rule, acc.penalty_off)


def borrower_loan_counts(conn: Connection, as_of: date, borrower_ids: Sequence[str],
                         settings: Settings) -> tuple[dict, dict]:
    """Per borrower: loans open on `as_of` and, of those, late: set-based in the store for
    the loans of sum-rule products, by the engine for those of by-payment products (a sum
    cannot tell whether they are late)."""
    if not settings.allocation.any_by_payment:
        return q.borrower_loan_counts(conn, as_of, borrower_ids)
    by_payment = settings.allocation.by_payment()
    opened, behind = q.borrower_loan_counts(conn, as_of, borrower_ids, leave_out=by_payment)
    ids = q.loans_of_borrowers(conn, borrower_ids, by_payment)
    for first in range(0, len(ids), LATE_CHUNK):
        for a in iter_accounts(conn, as_of=as_of, settings=settings, loan_ids=ids[first:first + LATE_CHUNK]):
            if a.state.status == "open":
                opened[a.borrower_id] += 1
                behind[a.borrower_id] += a.state.dpd > 0
    return opened, behind


def rule_for(settings: Settings, product: str | None, annual_rate_ppm: int | None, disbursed_on: date) -> Rule:
    """The loan's allocation rule: its product's strategy and the daily penalty rate it may be
    charged (AMT-2 capped by its contract rate and the LPR in force on its disbursement; 0
    when its product charges none or the cap cannot be checked)."""
    strategy = settings.allocation.strategy_of(product)
    configured = settings.penalty.products.get(product or "")
    lpr = settings.penalty.lpr_on(disbursed_on) if configured is not None else None
    if lpr is None:
        return SUM_RULE if strategy == SUM_RULE.strategy else Rule(strategy)
    return _rule(strategy, configured, annual_rate_ppm, lpr, settings.penalty.lpr_multiple)


@lru_cache(maxsize=4096)
def _rule(strategy: str, configured: Decimal, annual_rate_ppm: int | None, lpr: Decimal, multiple: Decimal) -> Rule:
    return Rule(strategy, capped_daily_rate(configured, annual_rate_ppm, lpr=lpr, lpr_multiple=multiple))


LATE_CHUNK = 5000  # loan ids per IN list: under every backend's parameter limit


def iter_accounts(conn: Connection, *, as_of: date, settings: Settings, product: str | None = None,
                  loan_ids: Sequence[str] | None = None, late_only: bool = False,
                  part: q.Part = q.WHOLE) -> Iterator[Account]:
    """Each loan disbursed by `as_of` (of the loan-id range `part`), in loan_id order, with its
    state as of `as_of`;
    with `late_only`, only the loans past due (DPD > 0) and still this lender's to collect
    (not transferred), chosen by the database.

    Loans and schedules come as two streams with the same filter and the same database order
    and are merged here, so memory holds one loan's schedule at a time, whatever the size of
    the book. A loan whose schedule is not the next one has none.
    """
    by_payment = settings.allocation.by_payment() if settings.allocation.any_by_payment else None
    if late_only:  # the database picks the late loans; they are read a chunk at a time
        # (a loan whose schedule changed after `as_of` is judged on its schedule of then, by the engine)
        ids = {*q.late_loan_ids(conn, as_of), *q.schedule_batches_after(conn, as_of)}
        if by_payment:  # the sum paid cannot tell whether they are late
            penalty_first = frozenset(p for p in settings.penalty.products
                                      if settings.allocation.strategy_of(p) == PENALTY_INTEREST_PRINCIPAL)
            ids.update(q.due_loan_ids(conn, as_of, by_payment, penalty_first))
        ids = sorted(i for i in ids if q.within(part, i))
        if loan_ids is not None:
            asked = set(loan_ids)
            ids = [i for i in ids if i in asked]
        for first in range(0, len(ids), LATE_CHUNK):
            chunk = iter_accounts(conn, as_of=as_of, settings=settings, product=product,
                                  loan_ids=ids[first:first + LATE_CHUNK])
            yield from (a for a in chunk if a.state.dpd > 0 and a.state.status == "open")
        return
    schedules = _schedules(q.stream_installments(conn, as_of, product=product, loan_ids=loan_ids, part=part))
    pending = next(schedules, None)
    # plans and dated schedule changes are few (each a person's or the core system's
    # decision): plans made by `as_of` floor the classification; changes that take effect
    # after it are undone to replay the schedule of then
    restructured = q.latest_plans(conn, as_of, loan_ids)
    earlier = _schedules_before_plans(conn, as_of, loan_ids)
    events = q.events_of(conn, loan_ids)  # few: the core system's write-offs, transfers, pauses
    penalty_off = q.penalty_waivers(conn, as_of, loan_ids)  # few: a collector granted each
    # the payments themselves, in a third stream, for the products whose rule needs them
    pays = _grouped(q.stream_payments_in_effect(conn, as_of, by_payment, product=product, loan_ids=loan_ids,
                                                part=part) if by_payment else ())
    next_pays = next(pays, None)
    for loan in q.stream_loans(conn, as_of, product=product, loan_ids=loan_ids, part=part):
        schedule: list[Installment] = []
        if pending is not None and pending[0] == loan.loan_id:
            schedule = pending[1]
            pending = next(schedules, None)
        schedule = earlier.get(loan.loan_id, schedule)
        plan = restructured.get(loan.loan_id)
        rule = rule_for(settings, loan.product, loan.annual_rate_ppm, loan.disbursed_on) \
            if by_payment or settings.penalty.products else SUM_RULE
        paid_in: tuple[tuple[date, int], ...] | None = None
        if rule.by_payment:
            paid_in = ()
            if next_pays is not None and next_pays[0] == loan.loan_id:
                paid_in, next_pays = tuple(next_pays[1]), next(pays, None)
        waived = tuple(penalty_off.get(loan.loan_id, ()))
        terms = {"grace_days": settings.grace_days, "buckets": settings.buckets,
                 "class_floor": plan and class_floor(plan.plan_on, plan.classification, as_of,
                                                     settings.plans.observation_days),
                 "standing": standing(events.get(loan.loan_id, ()), as_of)}
        yield Account(
            loan_id=loan.loan_id,
            borrower_id=loan.borrower_id,
            borrower_name=loan.name,
            phone=loan.phone,
            email=loan.email,
            push_id=loan.push_id,
            address=loan.address,
            locale=loan.locale,
            timezone=loan.timezone,
            product=loan.product,
            principal=loan.principal,
            disbursed_on=loan.disbursed_on,
            annual_rate_ppm=loan.annual_rate_ppm,
            penalty_off=waived,
            rule=rule,
            payments=paid_in,
            state=(state_of(schedule, list(paid_in), as_of, rule=rule, penalty_off=list(waived), **terms)
                   if paid_in is not None else state_from_paid(schedule, int(loan.paid), as_of, **terms)),
        )


def _schedules_before_plans(conn: Connection, as_of: date, loan_ids: Sequence[str] | None) -> dict[str, list[Installment]]:
    later = q.schedule_batches_after(conn, as_of, loan_ids)
    out: dict[str, list[Installment]] = {}
    ids = sorted(later)
    for first in range(0, len(ids), LATE_CHUNK):
        current, replaced = q.schedules_and_replaced(conn, ids[first:first + LATE_CHUNK])
        out.update({i: schedule_before(current[i], later[i], replaced) for i in current})
    return out


def _grouped(rows) -> Iterator[tuple[str, list[tuple[date, int]]]]:
    """(loan_id, [(paid_on, amount), …]) from rows (loan_id, paid_on, amount) in loan order."""
    for loan_id, group in groupby(rows, key=itemgetter(0)):
        yield loan_id, [(paid_on, amount) for _, paid_on, amount in group]


def _schedules(rows) -> Iterator[tuple[str, list[Installment]]]:
    current: str | None = None
    schedule: list[Installment] = []
    for loan_id, *fields in rows:  # (loan_id, seq, due_on, principal, interest, fee): unpacked, it is faster
        if loan_id != current:
            if current is not None:
                yield current, schedule
            current, schedule = loan_id, []
        schedule.append(Installment(*fields))
    if current is not None:
        yield current, schedule


def payments_with_origin(conn: Connection, loan_ids: Sequence[str]) -> dict[str, list[tuple[date, date, int]]]:
    """Per loan, its payments as (the day it counts, the day of the payment it is, amount): a
    reversal, negative, counts on its own day but belongs where the payment it reverses did
    (to an agency's placement, to a legal case), so it is judged by that payment's day."""
    rows = q.payments_list(conn, sorted(set(loan_ids)))
    by_id = {r.payment_id: r for r in rows}
    out: dict[str, list[tuple[date, date, int]]] = {}
    for r in rows:
        origin = by_id[r.reverses].paid_on if r.reverses in by_id else r.paid_on
        out.setdefault(r.loan_id, []).append((r.paid_on, origin, r.amount))
    return out
