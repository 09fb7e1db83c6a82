"""Placements with outside agencies: propose (and tell the borrower, AGY-1), place after the
notice period (the file, and what it shared: AGY-3), recall, and the commission statement.

An account is proposed when the escalation rules send it to the agency stage (or it was
escalated to this agency by hand), it is delinquent, under no hold that keeps it from
agencies, not placed already, and the agency may receive placements (AGY-2). Its notice is a
message of its own (`agency_notice`, a letter, or `agency_notice_sms`), judged like every
message. It is placed only `placements.notice_days` after the notice was sent; while placed,
this lender's automated messages stop (`placements.pause_messages`). The nightly run
recalls what is due (domain.placements.recall_reason).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.agencies import rate_for
from collect_cli.domain.compliance import Refusal
from collect_cli.domain.content import AGENCY_NOTICE
from collect_cli.domain.money import fmt
from collect_cli.domain.placements import (
    PlacementState,
    attributed,
    fold,
    notice_ready,
    recall_reason,
    statement_line,
)
from collect_cli.errors import Refused, UsageError
from collect_cli.ledger.activity import read_activity
from collect_cli.ledger.records import bad_row
from collect_cli.services.agencies import agency_key, placeable, register, registered
from collect_cli.services.contact_facts import end_of_day, local_day
from collect_cli.services.contacts import account_at, consequences, judge_contact
from collect_cli.services.escalation import PLACEMENT_FIELDS, agency_proposals, may_go
from collect_cli.services.legal import views as legal_views
from collect_cli.services.one_off import OwnFacts, queue_message, sent_day, status_by
from collect_cli.services.portfolio import iter_accounts, payments_with_origin
from collect_cli.store import queries as q
from collect_cli.store.locks import run_lock

NOTICE_TEMPLATES = {"letter": "agency_notice", "sms": "agency_notice_sms"}
FIELDS_SHARED = ", ".join(PLACEMENT_FIELDS)


@dataclass(frozen=True)
class Placed:
    placement_id: int
    loan_id: str
    agency: str
    state: PlacementState


def states(conn: Connection, *, agency: str | None = None, loan_ids=None, known_by=None,
           placed_now: bool = False) -> list[Placed]:
    return [Placed(p.id, p.loan_id, p.agency, fold(p.agency, p.proposed_on, events))
            for p, events in q.placements_with_events(conn, agency=agency, loan_ids=loan_ids, known_by=known_by,
                                                      placed_now=placed_now)]


@dataclass(frozen=True)
class Proposed:
    noticed: list[tuple[str, int, int]]  # (loan, placement, notice message)
    left_out: list[dict]  # loan_id, reason


def propose(*, engine: Engine, settings: Settings, agency: str, as_of: date, now: datetime, agent: str,
            channel: str = "letter", loan_ids: list[str] | None = None) -> Proposed:
    """Propose the eligible accounts to `agency` and queue each borrower's notice (AGY-1). One
    `placements` command at a time (a run lock): two at once could place one account twice."""
    if channel not in NOTICE_TEMPLATES:
        raise UsageError(f"--channel {channel!r}: letter or sms")
    today = local_day(now, settings.zone)
    with run_lock(engine, "placements"), engine.begin() as conn:
        view = placeable(conn, name=agency, on=today, settings=settings)
        agency = view.agency.name
        place_from = today + timedelta(days=settings.placements.notice_days)
        if place_from > view.agency.contract_end:
            raise Refused(f"AGY-2: {agency}'s contract ends on {view.agency.contract_end.isoformat()}, before the "
                          f"first day of placement ({place_from.isoformat()}) a notice sent today could name")
        if loan_ids:
            accounts = list(iter_accounts(conn, as_of=as_of, settings=settings, loan_ids=loan_ids))
            unknown = sorted(set(loan_ids) - {a.loan_id for a in accounts})
            if unknown:
                raise UsageError(f"no loan {unknown[0]!r} as of {as_of.isoformat()}")
        else:
            accounts = agency_proposals(conn, as_of=as_of, settings=settings, agency=agency)
        ids = [a.loan_id for a in accounts]
        busy = {p.loan_id: p for p in states(conn, loan_ids=ids) if p.state.open}
        notices = q.message_states(conn, [p.state.notice_message_id for p in busy.values()
                                          if p.state.notice_message_id])
        stages = q.current_stages(conn, ids)
        in_court = {v.loan_id for v in legal_views(conn, loan_ids=ids) if v.state.open}
        why = may_go(conn, accounts, today)
        noticed, left_out, dropped = [], [], []
        for a in accounts:
            p = busy.get(a.loan_id)
            notice = notices.get(p.state.notice_message_id) if p is not None else None
            stage = stages.get(a.loan_id)
            if p is not None and p.state.status == "proposed" and notice is not None \
                    and notice.status in ("cancelled", "failed", "suppressed"):
                dropped.append(p)  # its notice will never go: the proposal ends, a new one may start
            elif p is not None:
                left_out.append({"loan_id": a.loan_id, "reason": f"{p.state.status} with {p.agency} already"})
                continue
            reason = (why[a.loan_id]
                      or ("a legal case is open" if a.loan_id in in_court else None)
                      or (f"escalated to {stage.agency}" if stage is not None and stage.stage == "agency"
                          and agency_key(stage.agency or "") != agency_key(agency) else None)
                      or ("in the legal stage" if stage is not None and stage.stage == "legal" else None))
            if reason:
                left_out.append({"loan_id": a.loan_id, "reason": reason})
                continue
            try:
                with conn.begin_nested():  # a notice the rules refuse leaves no proposal behind
                    pid = q.add_placement(conn, loan_id=a.loan_id, borrower_id=a.borrower_id, agency=agency,
                                          proposed_on=today, agent=agent, at=now)
                    queued = queue_message(
                        conn, loan_id=a.loan_id, settings=settings, now=now, agent=agent,
                        template=NOTICE_TEMPLATES[channel], purpose=AGENCY_NOTICE, step=AGENCY_NOTICE,
                        episode=f"placement-{pid}", what=f"the placement notice to {a.loan_id}",
                        extra=_notice_context(agency, today, settings))
                    q.add_placement_events(conn, [{"placement_id": pid, "action": "notice", "day": today,
                                                   "message_id": queued.message_id, "agent": agent, "at": now}])
            except Refused as exc:
                left_out.append({"loan_id": a.loan_id, "reason": str(exc)})
                continue
            noticed.append((a.loan_id, pid, queued.message_id))
        q.add_placement_events(conn, [{"placement_id": p.placement_id, "action": "cancel", "day": today,
                                       "reason": "its notice was not sent; proposed again", "agent": agent, "at": now}
                                      for p in dropped if p.loan_id in {n[0] for n in noticed}])
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "placement propose", "loan_id": loan,
                            "detail": f"placement {pid} to {agency}: notice {mid} queued (AGY-1)"}
                           for loan, pid, mid in noticed])
        return Proposed(noticed, left_out)


def _notice_context(agency: str, proposed_on: date, settings: Settings) -> dict:
    return {"placement_agency": agency,
            "placement_from": (proposed_on + timedelta(days=settings.placements.notice_days)).isoformat()}


def notice_facts(conn: Connection, message_ids: list[int], *, on: date, settings: Settings) -> dict:
    """For `send`: per placement notice, what it states now, or why it may no longer go (the
    proposal was cancelled or placed, the agency may no longer receive placements: AGY-2)."""
    if not message_ids:
        return {}
    found = {}
    for p, events in q.placements_with_events(conn, notice_ids=message_ids):
        state = fold(p.agency, p.proposed_on, events)
        found[state.notice_message_id] = (p, state)
    standing = {v.agency.name: v.refusal for v in register(conn, on=on, settings=settings)}
    out = {}
    for mid in message_ids:
        if mid not in found:
            out[mid] = Refusal("AGY-1", "no placement on record is told by this notice")
            continue
        p, state = found[mid]
        refusal = standing.get(p.agency, Refusal("AGY-2", f"{p.agency} is not in the agency register"))
        if state.status != "proposed":
            out[mid] = Refusal("AGY-1", f"the placement it tells of is {state.status}")
        elif refusal is not None:
            out[mid] = refusal
        else:
            out[mid] = OwnFacts(_notice_context(p.agency, p.proposed_on, settings))
    return out


@dataclass(frozen=True)
class PlacedFile:
    rows: list[dict]  # what the agency gets
    waiting: list[dict]  # loan_id, reason: proposed, not placed today


def place(*, engine: Engine, settings: Settings, agency: str, now: datetime, agent: str, output: Path,
          write) -> PlacedFile:
    """Place the agency's proposed accounts whose notice went out `placements.notice_days`
    before, that may still go to an agency today; `write(rows)` writes the file (AGY-3, only
    when something is placed), and each account, the file and the fields shared are recorded.
    The recall date is `placements.term_days` on, and never after the agency's contract."""
    today = local_day(now, settings.zone)
    with run_lock(engine, "placements"), engine.begin() as conn:
        view = placeable(conn, name=agency, on=today, settings=settings)
        agency = view.agency.name
        recall_on = min(today + timedelta(days=settings.placements.term_days),
                        view.agency.contract_end + timedelta(days=1))
        proposed = [p for p in states(conn, agency=agency) if p.state.status == "proposed"]
        accounts = {a.loan_id: a for a in iter_accounts(conn, as_of=today, settings=settings,
                                                        loan_ids=[p.loan_id for p in proposed])}
        notices = q.message_states(conn, [p.state.notice_message_id for p in proposed if p.state.notice_message_id])
        why = may_go(conn, list(accounts.values()), today)
        rows, waiting, events = [], [], []
        for p in proposed:
            a = accounts.get(p.loan_id)
            m = notices.get(p.state.notice_message_id)
            reason = (notice_ready(sent_day(m, settings.zone), today, settings.placements.notice_days)
                      or (why.get(p.loan_id) if a is not None else "not in the ledger today"))
            if reason:
                waiting.append({"loan_id": p.loan_id, "reason": reason})
                continue
            rows.append({"loan_id": a.loan_id, "borrower_name": a.borrower_name, "phone": a.phone,
                         "dpd": a.state.dpd, "overdue": fmt(a.state.overdue), "as_of": today.isoformat()})
            events.append({"placement_id": p.placement_id, "action": "place", "day": today, "recall_on": recall_on,
                           "bucket": a.state.bucket, "dpd": a.state.dpd,
                           "rate_bp": rate_for(view.agency.rates, bucket=a.state.bucket, dpd=a.state.dpd),
                           "amount": a.state.overdue, "file": str(output), "fields": FIELDS_SHARED,
                           "agent": agent, "at": now})
        if rows:
            write(rows)
        q.add_placement_events(conn, events)
        for r in rows:
            q.add_escalation(conn, loan_id=r["loan_id"], stage="agency", agency=agency, rule="placed", note=None,
                             agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "placement place", "loan_id": r["loan_id"],
                            "detail": f"placed with {agency} in {output}: {FIELDS_SHARED}; recall "
                                      f"{e['recall_on'].isoformat()}, commission {e['rate_bp'] / 100:g}%"}
                           for r, e in zip(rows, events, strict=True)])
        return PlacedFile(rows, waiting)


LIST_FIELDS = ["placement", "loan_id", "agency", "status", "proposed_on", "notice", "placed_on", "bucket", "dpd",
               "rate", "recall_on", "recalled_on", "reason"]


def listing(conn: Connection, *, agency: str | None, as_of: date, settings: Settings) -> list[dict]:
    """The placements as recorded by the end of `as_of`, with the notice's fate."""
    known_by = end_of_day(as_of, settings.zone)
    found = states(conn, agency=agency, known_by=known_by)
    notices = {i: status_by(m, known_by) for i, m in
               q.message_states(conn, [p.state.notice_message_id for p in found if p.state.notice_message_id]).items()}
    day = lambda d: d.isoformat() if d else None  # noqa: E731
    return [{"placement": p.placement_id, "loan_id": p.loan_id, "agency": p.agency, "status": p.state.status,
             "proposed_on": day(p.state.proposed_on),
             "notice": notices.get(p.state.notice_message_id),
             "placed_on": day(p.state.placed_on), "bucket": p.state.bucket, "dpd": p.state.dpd,
             "rate": f"{p.state.rate_bp / 100:g}%" if p.state.placed_on else None,
             "recall_on": day(p.state.recall_on), "recalled_on": day(p.state.recalled_on), "reason": p.state.reason}
            for p in found]


def recall(*, engine: Engine, settings: Settings, loan_id: str, reason: str, now: datetime, agent: str) -> Placed:
    if not reason or not reason.strip():
        raise UsageError("--reason: why the account comes back")
    with run_lock(engine, "placements"), engine.begin() as conn:
        placed = [p for p in states(conn, loan_ids=[loan_id]) if p.state.status == "placed"]
        if not placed:
            raise UsageError(f"{loan_id} is not placed with an agency")
        _recall(conn, placed[0], reason.strip(), local_day(now, settings.zone), now, agent)
        return placed[0]


def _recall(conn: Connection, p: Placed, reason: str, day: date, now: datetime, agent: str) -> None:
    q.add_placement_events(conn, [{"placement_id": p.placement_id, "action": "recall", "day": day,
                                   "reason": reason, "agent": agent, "at": now}])
    q.add_escalation(conn, loan_id=p.loan_id, stage="recalled", agency=p.agency, rule=reason, note=None,
                     agent=agent, at=now)
    q.add_audit(conn, [{"at": now, "agent": agent, "action": "placement recall", "loan_id": p.loan_id,
                        "detail": f"recalled from {p.agency}: {reason}"}])


def recall_due(conn: Connection, *, as_of: date, now: datetime, settings: Settings, agent: str) -> list[Placed]:
    """The nightly run: placed accounts whose recall date came, that a hold or the policy now
    keeps from an agency, that were repaid, or whose agency lost its contract or its place on
    the white list, come back (in the caller's transaction)."""
    placed = states(conn, placed_now=True)
    if not placed:
        return []
    accounts = {a.loan_id: a for a in iter_accounts(conn, as_of=as_of, settings=settings,
                                                    loan_ids=[p.loan_id for p in placed])}
    why = may_go(conn, list(accounts.values()), as_of)
    standing = {v.agency.name: v.agency for v in register(conn, on=as_of, settings=settings)}
    out = []
    for p in placed:
        a = accounts.get(p.loan_id)
        agency = standing.get(p.agency)
        lost = (None if agency is not None and agency.status == "approved" and as_of <= agency.contract_end
                else f"{p.agency} has no contract in force ({agency.status if agency else 'not in the register'})")
        blocked = why.get(p.loan_id) if a is not None and a.state.dpd > 0 else None
        reason = lost or recall_reason(p.state, on=as_of, dpd=a.state.dpd if a else 0,
                                       closed=a is None or a.state.status != "open", held=blocked)
        if reason:
            _recall(conn, p, reason, as_of, now, agent)
            out.append(p)
    return out


@dataclass(frozen=True)
class Statement:
    agency: str
    first: date
    last: date
    lines: list  # domain.placements.StatementLine, per account with something recovered or placed
    recovered: int
    commission: int


def statement(conn: Connection, *, agency: str, first: date, last: date, settings: Settings) -> Statement:
    """What the agency recovered from `first` to `last` on the accounts placed with it and the
    commission it earns (the rate of each account's bucket or DPD at placement); a reversal of
    a payment it was paid for counts against it in the reversal's month, recalled or not."""
    agency = registered(conn, name=agency, on=last, settings=settings).agency.name
    placed = [p for p in states(conn, agency=agency) if p.state.placed_on is not None]
    return _statement(agency, _with_payments(conn, placed), first, last)


def _statement(agency: str, placed: list[tuple[Placed, list]], first: date, last: date) -> Statement:
    """The statement of these placements (each with its loan's payments, _with_payments)."""
    lines = [line for p, pays in placed if p.state.placed_on <= last
             for line in [statement_line(p.loan_id, p.state, pays, first, last)]
             if line.recovered or p.state.status == "placed"]
    return Statement(agency, first, last, lines, sum(x.recovered for x in lines), sum(x.commission for x in lines))


def _with_payments(conn: Connection, placed: list[Placed]) -> list[tuple[Placed, list[tuple[date, date, int]]]]:
    """Each placement with its loan's payments (portfolio.payments_with_origin)."""
    by_loan = payments_with_origin(conn, [p.loan_id for p in placed])
    return [(p, by_loan.get(p.loan_id, [])) for p in placed]


def agencies_report(conn: Connection, *, first: date, last: date, settings: Settings):
    """AGY-2's evaluation: per agency, the accounts placed from `first` to `last` and their
    amount, what those accounts paid while placed (by `last`) and the recovery rate, by bucket
    at placement too; the commission earned in the period; complaints made while placed; and
    where its evaluation and contract stand."""
    from collect_cli.services.analyst import Column, Report, Section, share

    agencies = register(conn, on=last, settings=settings)
    totals, by_bucket = [], []
    for view in agencies:
        name = view.agency.name
        placed = [p for p in states(conn, agency=name) if p.state.placed_on is not None]
        with_pays = _with_payments(conn, placed)
        cohort = [p for p in placed if first <= p.state.placed_on <= last]
        recovered_by = {p.placement_id: statement_line(p.loan_id, p.state, pays, first, last).recovered
                        for p, pays in with_pays if first <= p.state.placed_on <= last}
        earned = _statement(name, with_pays, first, last).commission
        complaints = [c for c, _ in q.cases_with_events(conn, loan_ids=sorted({p.loan_id for p in placed}))
                      if c.kind == "complaint" and any(
                          p.loan_id == c.loan_id and p.state.placed_on <= c.received_on
                          and (p.state.recalled_on is None or c.received_on < p.state.recalled_on)
                          and first <= c.received_on <= last for p in placed)]
        amount, recovered = sum(p.state.amount for p in cohort), sum(recovered_by[p.placement_id] for p in cohort)
        since = datetime.combine(first, datetime.min.time()) - timedelta(days=1)  # UTC; the days are the lender's
        theirs = [c for cs in q.contacts_of(conn, sorted({p.loan_id for p in placed}), since).values() for c in cs
                  if c.agency == name and first <= local_day(c.at, settings.zone) <= last]
        row = view.row(last)
        totals.append({"agency": name, "placed": len(cohort), "amount_placed": amount, "recovered": recovered,
                       "recovery_rate": share(recovered, amount), "commission": earned,
                       "contacts": len(theirs), "breaches": sum(c.breach is not None for c in theirs),
                       "complaints": len(complaints), "last_passed": row["last_passed"] or "never",
                       "may_place": "yes" if view.refusal is None else view.refusal.reason})
        for bucket in sorted({p.state.bucket or "" for p in cohort}):
            mine = [p for p in cohort if (p.state.bucket or "") == bucket]
            amt, rec = sum(p.state.amount for p in mine), sum(recovered_by[p.placement_id] for p in mine)
            by_bucket.append({"agency": name, "bucket": bucket, "placed": len(mine), "amount_placed": amt,
                              "recovered": rec, "recovery_rate": share(rec, amt)})
    money = lambda k, h: Column(k, h, "money")  # noqa: E731
    return Report("agencies", f"Agencies, {first.isoformat()} to {last.isoformat()}", [
        Section("agencies", "per agency", [
            Column("agency", "agency"), Column("placed", "placed", "int"), money("amount_placed", "amount placed"),
            money("recovered", "recovered"), Column("recovery_rate", "recovery %", "pct"),
            money("commission", "commission"), Column("contacts", "contacts", "int"),
            Column("breaches", "call-rule breaches", "int"), Column("complaints", "complaints", "int"),
            Column("last_passed", "evaluated"), Column("may_place", "new placements")], totals),
        Section("buckets", "by bucket at placement", [
            Column("agency", "agency"), Column("bucket", "bucket"), Column("placed", "placed", "int"),
            money("amount_placed", "amount placed"), money("recovered", "recovered"),
            Column("recovery_rate", "recovery %", "pct")], by_bucket)],
        notes=["placed: accounts placed in the period; recovered: what they paid while placed, by the end of it; "
               "commission: earned on the period's payments (placements statement); contacts and breaches: its "
               "imported activity (placements activity)"])


@dataclass(frozen=True)
class ActivityImport:
    contacts: int
    breaches: list[str]  # "line N: RULE: why"


def import_activity(*, engine: Engine, settings: Settings, agency: str, path: Path, agent: str,
                    now: datetime) -> ActivityImport:
    """An agency's calls and visits into the contact log, each judged by the call rules at the
    moment it happened, on what was recorded before it (this lender's calls, the agency's,
    earlier rows of the file): WHEN-2 counts them all. A contact the rules would have refused,
    or to a number that is not the borrower's on file (WHO-1, WHO-3), is recorded as it
    happened, with the breach, for the agency's evaluation; a dispute, complaint or opt-out
    sets going what it does on `collect log` (a case and its hold, HOLD-2). Only accounts
    placed with the agency that day; a row imported before is not recorded twice; one
    transaction, a bad row writes nothing."""
    rows = read_activity(path, zone=settings.zone, now=now)
    with run_lock(engine, "placements"), engine.begin() as conn:
        agency = registered(conn, name=agency, on=local_day(now, settings.zone), settings=settings).agency.name
        windows = {}
        for p in states(conn, agency=agency, loan_ids=sorted({r.loan_id for r in rows})):
            if p.state.placed_on is not None:
                windows.setdefault(p.loan_id, []).append(p.state)
        seen = q.agency_contacts(conn, agency, sorted({r.loan_id for r in rows}))
        recorded, breaches, audit = 0, [], []
        for r in rows:
            day = local_day(r.at, settings.zone)
            if not any(attributed(s, day) for s in windows.get(r.loan_id, [])):
                raise bad_row(path, r.line, "loan_id", f"{r.loan_id} was not placed with {agency} on {day.isoformat()}")
            collector = r.collector or agency[:64]
            key = (r.loan_id, r.at, r.channel, r.outcome, collector)
            if key in seen:  # the same file again, or a row repeated
                continue
            seen.add(key)
            acc = account_at(conn, r.loan_id, r.at, settings)
            number = r.number or acc.phone
            refusal = (Refusal("WHO-3", f"{number} is not the borrower's number on file: an agency calls the "
                                        "borrower, not others") if r.channel == "call" and number != acc.phone
                       else judge_contact(conn, acc, r.channel, r.outcome, None, number, r.at, settings, late=True,
                                          before=True))
            contact_id = q.add_contact(conn, loan_id=r.loan_id, borrower_id=acc.borrower_id, at=r.at, logged_at=now,
                                       channel=r.channel, direction="out", outcome=r.outcome, party=None,
                                       person_id=None, number=number if r.channel == "call" else None,
                                       note=r.note, agent=collector, override=None,
                                       recording=r.recording, agency=agency,
                                       breach=str(refusal) if refusal else None)
            consequences(conn, loan_id=r.loan_id, channel=r.channel, outcome=r.outcome, note=r.note,
                         agent=f"{agency}/{r.collector}"[:64], now=r.at, logged_at=now, settings=settings,
                         contact_id=contact_id)
            recorded += 1
            if refusal is not None:
                breaches.append(f"line {r.line}: {refusal}")
                audit.append({"at": now, "agent": agent, "action": "agency breach", "loan_id": r.loan_id,
                              "detail": f"{agency}, contact {contact_id} at {r.at:%Y-%m-%d %H:%M} UTC: {refusal}"})
        audit.append({"at": now, "agent": agent, "action": "agency activity", "loan_id": None,
                      "detail": f"{agency}: {recorded} contacts from {path} ({len(rows) - recorded} recorded "
                                f"before), {len(breaches)} breaching the rules"})
        q.add_audit(conn, audit)
        return ActivityImport(recorded, breaches)
