"""`collect log`, `collect promises`, `collect audit`: the collector's records."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import AsOf, FormatOpt, Now, ShowPii, as_of_date, date_option, moment, parse_moment
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt
from collect_cli.domain.pii import free_text
from collect_cli.ledger.values import parse_date, parse_money
from collect_cli.services import listings
from collect_cli.services.contact_facts import day_start, end_of_day
from collect_cli.services.contacts import (
    CHANNELS,
    OUTCOMES,
    THIRD_PARTY_SCRIPT,
    log_contact,
)

Agent = Annotated[str | None, typer.Option("--agent", envvar="COLLECT_AGENT", show_envvar=True,
                                           help="Who acts (default: the login name).")]


def agent_name(app, value: str | None) -> str:
    return (value or os.environ.get("COLLECT_AGENT") or app.operator())[:64]


def log_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="The loan the contact was about.")],
    channel: Annotated[str, typer.Option(help=f"{' | '.join(CHANNELS)}")],
    outcome: Annotated[str, typer.Option(help=f"{' | '.join(OUTCOMES)}")],
    promise: Annotated[str | None, typer.Option(metavar="AMOUNT", help="With --outcome promise: the amount.")] = None,
    on: Annotated[str | None, typer.Option(metavar="DATE", help="With --promise: the promised date.")] = None,
    note: Annotated[str | None, typer.Option(help="What was said, briefly.")] = None,
    override: Annotated[str | None, typer.Option(
        metavar="REASON", help="Supervisor override of a refused call (window or daily caps); recorded.")] = None,
    party: Annotated[str | None, typer.Option(
        metavar="WHO", help="A recorded contact person, not the borrower: their id, name or number "
                            "(`collect people add` records them). WHO-2, WHO-5 apply.")] = None,
    inbound: Annotated[bool, typer.Option(
        "--inbound", help="The borrower called or came in: always recorded, no rule refuses it.")] = False,
    at: Annotated[str | None, typer.Option(
        "--at", metavar="TIME", help="When it happened, for a contact logged later (2026-11-21T15:30, configured "
                                     "zone unless an offset is given): within contact.late_entry_hours (24) of "
                                     "now; judged by the rules at that time, shown as a late entry.")] = None,
    recording: Annotated[str | None, typer.Option(
        metavar="REF", help="The call's recording (REC-3): its reference in the recording system.")] = None,
    agent: Agent = None,
    now: Now = None,
) -> None:
    """Record a call, visit or reply (append-only), judged by the contact policy when it is
    outbound: refused with the rule id (exit 6) under a no-contact hold (HOLD-3) or a dispute
    (HOLD-1), outside the borrower's window (WHEN-1), over 3 connected calls (WHEN-2) or 6
    dial attempts to the number (WHEN-3) a day, and under the us rules over 7 calls about the
    debt in 7 days or within 7 days of a conversation (WHEN-4). A supervisor may override
    these with --override REASON (recorded). What the borrower initiates (--inbound, a reply)
    is always recorded. A reply that says STOP, 退订 or unsubscribe (or --outcome opt-out)
    places an opt-out on that channel (HOLD-2), for the borrower and their number; an
    opt-out on a call or visit places one on SMS and one on e-mail. An outbound call to a
    number another borrower id shares, not confirmed, is refused (WHO-4). --override needs
    a real reason; --party "" is an error.
    A promise holds automated reminders until its date + grace (HOLD-4); a dispute or a
    complaint (--outcome, or a reply whose words dispute the debt or complain: 异议, 不是我借的,
    投诉, dispute, complaint…) opens a case with its deadline and its hold (HOLD-1; a
    complaint HOLD-3), see `collect case`. With --party the person is a recorded contact person (WHO-2,
    WHO-5): asked only to help reach the borrower, once the borrower is recorded unreachable
    (no connected contact for contact.unreachable_days, 3, or a wrong number), no promise,
    and never contacted again once they refused (nobody can override that).
    A contact logged after it happened takes --at TIME: it keeps both times (when it happened,
    when it was logged), is judged by the rules at that time (the window then, the holds in
    force then; the daily caps count the whole day) and shows as a late entry.

    Example: collect log L00000044 --channel call --outcome promise --promise 2080.32 --on 2026-11-25
    """
    if channel not in CHANNELS:
        raise typer.BadParameter(f"one of {', '.join(CHANNELS)}", param_hint="--channel")
    if outcome not in OUTCOMES:
        raise typer.BadParameter(f"one of {', '.join(OUTCOMES)}", param_hint="--outcome")
    amount = day = None
    try:
        amount = parse_money(promise) if promise is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--promise") from None
    try:
        day = parse_date(on) if on is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--on") from None
    app = ctx.obj
    who = agent_name(app, agent)
    logged_at = moment(now, app)
    happened = late_entry(at, logged_at, app.settings) if at is not None else logged_at
    logged = log_contact(engine=app.engine(), settings=app.settings, loan_id=loan, channel=channel, outcome=outcome,
                         agent=who, now=happened, logged_at=logged_at, note=note, promise_amount=amount,
                         promise_on=day, override=override, party=party[:100] if party is not None else None,
                         inbound=inbound, recording=recording)
    text = f"{loan}: {channel} {outcome} logged (contact {logged.contact_id}, by {who})"
    if happened != logged_at:
        text += f"; late entry: it happened at {happened:%Y-%m-%d %H:%M} UTC"
    if logged.promise_id:
        text += f"; promise {logged.promise_id}: {fmt(amount)} by {day.isoformat()}, reminders held till then"
    if logged.overridden:
        text += f"; override recorded: {logged.overridden}"
    if logged.opt_out:
        text += (f"; opt-out hold{'s' if len(logged.opt_out) > 1 else ''} "
                 f"{', '.join(str(i) for i in logged.opt_out)} placed (HOLD-2)")
    if logged.cases:
        text += (f"; case{'s' if len(logged.cases) > 1 else ''} {', '.join(str(i) for i in logged.cases)} opened "
                 "(collect cases)")
    render.note(text)
    if party:
        render.note(THIRD_PARTY_SCRIPT)


def late_entry(value: str, logged_at, settings):
    """--at: when a contact logged later happened, as naive UTC: not after now, and within
    the late-entry window (contact.late_entry_hours)."""
    happened = parse_moment(value, settings.zone, "--at")
    hours = settings.contact.late_entry_hours
    if happened > logged_at:
        raise typer.BadParameter(f"{value} is still to come: a contact is logged once it happened", param_hint="--at")
    if logged_at - happened > timedelta(hours=hours):
        raise typer.BadParameter(f"{value} is more than {hours} h ago (contact.late_entry_hours): too late to log "
                                 "it as a contact; record what happened with a supervisor", param_hint="--at")
    return happened


PROMISE_STATUSES = ("open", "kept", "partly_kept", "broken")
CLOCK_SLACK = timedelta(minutes=1)  # the command's clock and the database's, read apart


def promises_command(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help=f"Only this status: {', '.join(PROMISE_STATUSES)}.")] = None,
    loan: Annotated[str | None, typer.Option(help="Only this loan.")] = None,
    as_of: AsOf = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Promises to pay and what became of them (settled by the nightly run from the ledger).
    With --as-of a past day: the promises recorded by its end, each as it stood then (one
    settled later was still open).

    Example: collect promises --status broken
    """
    if status not in (None, *PROMISE_STATUSES):
        raise typer.BadParameter(f"one of {', '.join(PROMISE_STATUSES)}", param_hint="--status")
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rows = listings.promises(conn, status=status, loan_id=loan, known_by=end_of_day(day, app_.settings.zone),
                                 on=day)
    records = [{"id": r.id, "loan_id": r.loan_id, "made_on": r.made_on.isoformat(), "amount": fmt(r.amount),
                "due_on": r.due_on.isoformat(), "grace_days": r.grace_days, "status": r.status,
                "paid": fmt(r.paid), "evaluated_on": r.evaluated_on.isoformat() if r.evaluated_on else None,
                "agent": r.agent} for r in rows]
    fields = ["id", "loan_id", "made_on", "amount", "due_on", "grace_days", "status", "paid", "evaluated_on", "agent"]
    if fmt_ is not Format.table:
        render.records_out(fmt_, records, fields)
        return
    render.table(f"Promises ({len(records)})",
                 [(f, "right" if f in ("id", "amount", "paid", "grace_days") else "left") for f in fields],
                 ([r[f] if r[f] is not None else "" for f in fields] for r in records))


def audit_command(
    ctx: typer.Context,
    loan: Annotated[str | None, typer.Option(help="Only this loan.")] = None,
    borrower: Annotated[str | None, typer.Option(help="Only the loans of this borrower.")] = None,
    agent: Annotated[str | None, typer.Option(help="Only what this agent, operator or job did.")] = None,
    action: Annotated[str | None, typer.Option(
        help="Only this action: contact, promise, hold, release, refused, show-pii, escalate, plan, "
             "bureau export, placement export…, import, message.")] = None,
    start: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                              help="From this day (configured zone).")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="DATE", help="To this day, included.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="The latest N entries (0: all).")] = 1000,
    show_pii: ShowPii = False,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Who did what and when, in the order it was recorded (the real time; --from and --to
    bound it): contacts, promises, holds and releases, refusals, overrides, assignments,
    plans, escalations, exports, --show-pii, --now, every import (file, hash, counts,
    operator) and every status change of a message. Where a command ran on a pretend clock
    (--now, demo stores), `clock` shows the moment it acted as.

    Example: collect audit --loan L00000044 --from 2026-11-01 --action contact
    """
    app_ = ctx.obj
    first, last = date_option(start, "--from"), date_option(end, "--to")
    if first and last and first > last:
        raise typer.BadParameter(f"{start} is after --to {end}", param_hint="--from")
    zone = app_.settings.zone
    since = day_start(first, zone) if first else None
    until = day_start(last + timedelta(days=1), zone) if last else None
    with app_.engine().connect() as conn:
        rows = listings.audit_trail(conn, loan_id=loan, borrower_id=borrower, agent=agent, action=action,
                                   since=since, until=until, limit=limit or None)
    free = free_text(show_pii)
    records = [{"recorded_at": render.utc(r["recorded_at"]), "agent": r["agent"], "action": r["action"],
                "loan_id": r["loan_id"], "detail": free(r["detail"]),
                # the clock the command acted on, where it was not the real one (--now on a demo store)
                "clock": render.utc(r["at"]) if abs(r["at"] - r["recorded_at"]) > CLOCK_SLACK else None}
               for r in rows]
    fields = ["recorded_at", "agent", "action", "loan_id", "detail", "clock"]
    if fmt_ is not Format.table:
        render.records_out(fmt_, records, fields)
        return
    render.table(f"Audit ({len(records)}{', the latest' if limit and len(records) == limit else ''})",
                 [(f, "left") for f in fields], ([r[f] or "" for f in fields] for r in records))