"""What collections did over a period: money recovered, promises kept, messages and calls, and
what each agent achieved. The ledger decides every verdict as of the end of the period."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, timedelta

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.promises import evaluate
from collect_cli.domain.timeline import snapshots
from collect_cli.errors import UsageError
from collect_cli.services.analyst import Chart, Column, Report, Section, add, share
from collect_cli.services.analytics import fold_book, iter_book, position_of
from collect_cli.services.contact_facts import day_start, end_of_day
from collect_cli.services.portfolio import iter_accounts
from collect_cli.store import queries as q

ATTRIBUTION_DAYS = 7  # a payment counts for the agent whose contact came at most this many days before


def _check(start: date, end: date) -> None:
    if end < start:
        raise UsageError(f"--to {end.isoformat()} is before --from {start.isoformat()}")


def collections(conn: Connection, start: date, end: date, *, settings: Settings, product: str | None = None) -> Report:
    """Money paid from `start` to `end`: by the bucket the loan was in the day before each
    payment, and by month; and the recovery rate: of what was overdue the day before `start`,
    how much the payments of the period covered (each loan's payments counted up to its
    overdue amount)."""
    _check(start, end)
    names = [b.name for b in settings.buckets]
    counts, amounts, month_counts, month_amounts, overdue_before, recovered = fold_book(
        conn, _collected, (start, end, settings, product), add)
    by_bucket = {n: [counts[n], amounts[n]] for n in [*names, "closed"]}
    by_month = {m: [month_counts[m], month_amounts[m]] for m in month_counts}
    total = sum(v[1] for v in by_bucket.values())
    sent = q.sent_by_channel(conn, start, end, product)
    cost = settings.delivery.cost_of({r.channel: r.parts for r in sent})
    return Report("collections", f"Collections from {start.isoformat()} to {end.isoformat()}", [
        Section("by_bucket", "Money paid, by the bucket the day before the payment",
                [Column("bucket", "bucket"), Column("payments", "payments", "int"), Column("amount", "amount", "money"),
                 Column("share", "share %", "pct")],
                [{"bucket": n, "payments": v[0], "amount": v[1], "share": share(v[1], total)}
                 for n, v in by_bucket.items()],
                Chart("bar", "bucket", ("amount",), "money paid")),
        Section("by_month", "Money paid, by month",
                [Column("month", "month"), Column("payments", "payments", "int"), Column("amount", "amount", "money")],
                [{"month": m, "payments": v[0], "amount": v[1]} for m, v in sorted(by_month.items())]),
        Section("recovery", "Recovery of what was overdue the day before the period",
                [Column("overdue_before", "overdue before", "money"), Column("recovered", "recovered", "money"),
                 Column("recovery_rate", "recovery %", "pct")],
                [{"overdue_before": overdue_before, "recovered": recovered,
                  "recovery_rate": share(recovered, overdue_before)}]),
        Section("by_channel", "Messages sent for the period, and their cost, by channel",
                [Column("channel", "channel"), Column("sent", "sent", "int"), Column("parts", "parts billed", "int"),
                 Column("cost", "cost", "money")],
                [{"channel": r.channel, "sent": r.messages, "parts": r.parts, "cost": cost[r.channel]} for r in sent]),
        Section("by_link", "Money paid through a message's payment link, by its channel and step",
                [Column("channel", "channel"), Column("step", "step"), Column("payments", "payments", "int"),
                 Column("amount", "amount", "money"), Column("share", "share %", "pct")],
                [{"channel": r.channel or "-", "step": r.step or "(a link of no message on file)",
                  "payments": r.payments, "amount": r.amount, "share": share(r.amount, total)}
                 for r in q.link_payments(conn, start, end, product)]),
    ])


def _collected(conn: Connection, start: date, end: date, settings: Settings, product, *, part):
    """Payments by state the day before and by month, what was overdue the day before the
    period and what of it the period's payments covered, for one part of the book."""
    first, last, eve = start.toordinal(), end.toordinal(), start.toordinal() - 1
    counts, amounts, month_counts, month_amounts = Counter(), Counter(), Counter(), Counter()
    overdue_before = recovered = 0

    def count(state: str, day: int, amount: int) -> None:
        month = date.fromordinal(day).strftime("%Y-%m")
        counts[state] += 1
        amounts[state] += amount
        month_counts[month] += 1
        month_amounts[month] += amount

    restructured = set(q.engine_loan_ids(conn, part))
    for loan in iter_book(conn, settings=settings, product=product, part=part):
        in_period = [(d, a) for _, d, a in loan.ledger.payments if first <= d <= last]
        if loan.loan_id in restructured:  # the engine replays their schedule and events of then
            def state_on(day: int, loan_id=loan.loan_id):
                return next(iter_accounts(conn, as_of=date.fromordinal(day), settings=settings,
                                          loan_ids=[loan_id]), None)
            before = state_on(eve)
            owed = before.state.overdue if before else 0
            for d, a in in_period:
                acc = state_on(d - 1)
                count((acc.state.bucket or "closed") if acc else settings.buckets[0].name, d, a)
        else:
            owed = snapshots(loan.ledger, [eve])[0].overdue if loan.disbursed <= eve else 0
            days = sorted({d - 1 for d, _ in in_period})
            states = dict(zip(days, snapshots(loan.ledger, days), strict=True))
            for d, a in in_period:
                count(position_of(states[d - 1], settings).state, d, a)
        overdue_before += owed
        recovered += min(owed, sum(a for _, a in in_period))
    return counts, amounts, month_counts, month_amounts, overdue_before, recovered


def promises(conn: Connection, start: date, end: date, *, settings: Settings, product: str | None = None) -> Report:
    """Promises made from `start` to `end` (as recorded by the end of `end`), judged against
    the ledger as of `end`, by agent."""
    _check(start, end)
    made = q.promises_made(conn, start, end, product, known_by=end_of_day(end, settings.zone))
    pays = q.payments_of(conn, sorted({p.loan_id for p in made}), end, reversed_out=True)
    per_agent: dict[str, Counter] = defaultdict(Counter)
    for p in made:
        verdict = evaluate(amount=p.amount, made_on=p.made_on, due_on=p.due_on, grace_days=p.grace_days,
                           payments=pays[p.loan_id], as_of=end)
        c = per_agent[p.agent]
        c["made"] += 1
        c["promised"] += p.amount
        c[verdict.status if verdict else "open"] += 1
        if verdict:
            c["paid"] += verdict.paid
    rows = []
    for agent, c in sorted(per_agent.items()):
        settled = c["kept"] + c["partly_kept"] + c["broken"]
        rows.append({"agent": agent, "made": c["made"], "promised": c["promised"], "kept": c["kept"],
                     "partly_kept": c["partly_kept"], "broken": c["broken"], "open": c["open"], "paid": c["paid"],
                     "kept_rate": share(c["kept"], settled)})
    return Report("promises", f"Promises made from {start.isoformat()} to {end.isoformat()}", [
        Section("by_agent", "By agent, judged against the ledger at the end of the period",
                [Column("agent", "agent"), Column("made", "made", "int"), Column("promised", "promised", "money"),
                 Column("kept", "kept", "int"), Column("partly_kept", "partly kept", "int"),
                 Column("broken", "broken", "int"), Column("open", "open", "int"), Column("paid", "paid", "money"),
                 Column("kept_rate", "kept % of settled", "pct")], rows,
                Chart("stacked", "agent", ("kept", "partly_kept", "broken", "open"), "promises")),
    ])


def contacts(conn: Connection, start: date, end: date, *, settings: Settings, product: str | None = None) -> Report:
    """Messages of the nightly runs from `start` to `end` by step and status (suppressed ones
    by rule), calls and visits by outcome, and per agent: accounts worked, contacts,
    promises, and money paid within ATTRIBUTION_DAYS after their contact."""
    _check(start, end)
    zone = settings.zone
    since, until = day_start(start, zone), end_of_day(end, zone)
    # what had been recorded by the end of the period, each message as it stood then
    sent = q.messages_between(conn, start, end, product, known_by=until)
    messages = Counter((m.step, m.channel, m.status) for m in sent)
    rules = Counter((m.step, (m.reason or "").split(":")[0]) for m in sent if m.status == "suppressed")
    logged = q.contacts_in(conn, since, until, product, known_by=until)
    outcomes = Counter((c.channel, c.outcome) for c in logged)
    pays = q.payments_of(conn, sorted({c.loan_id for c in logged}), end + timedelta(days=ATTRIBUTION_DAYS))
    per_agent: dict[str, dict] = defaultdict(lambda: {"loans": set(), "contacts": 0, "promises": 0, "collected": 0})
    latest: dict[str, list] = defaultdict(list)
    for c in logged:
        a = per_agent[c.agent]
        a["loans"].add(c.loan_id)
        a["contacts"] += 1
        a["promises"] += c.outcome == "promise"
        latest[c.loan_id].append((c.at.replace(tzinfo=UTC).astimezone(zone).date(), c.at, c.agent))
    for loan_id, calls in latest.items():
        for paid_on, amount in pays[loan_id]:
            before = [call for call in calls if call[0] <= paid_on <= call[0] + timedelta(days=ATTRIBUTION_DAYS)]
            if before:  # the latest contact (by its time) before the payment's day ended
                per_agent[max(before)[2]]["collected"] += amount
    statuses = ("queued", "sent", "failed", "suppressed", "cancelled", "skipped")
    steps = sorted({(s, ch) for s, ch, _ in messages})
    return Report("contacts", f"Contacts from {start.isoformat()} to {end.isoformat()}", [
        Section("messages", "Messages of the nightly runs, by step and status",
                [Column("step", "step"), Column("channel", "channel"), *(Column(s, s, "int") for s in statuses)],
                [{"step": s, "channel": ch, **{st: messages[(s, ch, st)] for st in statuses}} for s, ch in steps]),
        Section("suppressed", "Suppressed messages, by rule",
                [Column("step", "step"), Column("rule", "rule"), Column("messages", "messages", "int")],
                [{"step": s, "rule": r, "messages": n} for (s, r), n in sorted(rules.items())]),
        Section("calls", "Calls, visits and replies, by outcome",
                [Column("channel", "channel"), Column("outcome", "outcome"), Column("contacts", "contacts", "int")],
                [{"channel": ch, "outcome": o, "contacts": n} for (ch, o), n in sorted(outcomes.items())]),
        Section("agents", f"Per agent (money paid within {ATTRIBUTION_DAYS} days after their contact)",
                [Column("agent", "agent"), Column("accounts", "accounts worked", "int"),
                 Column("contacts", "contacts", "int"), Column("promises", "promises", "int"),
                 Column("collected", "collected after contact", "money")],
                [{"agent": agent, "accounts": len(a["loans"]), "contacts": a["contacts"], "promises": a["promises"],
                  "collected": a["collected"]} for agent, a in sorted(per_agent.items())],
                Chart("bar", "agent", ("collected",), "collected after contact")),
    ])

