"""The credit-bureau file: adverse accounts the contact policy lets be reported (REC-2).

An account is reported only when it is past due, under no dispute or no-contact hold, and
its borrower was told first: a message of the current delinquency episode, sent at least
`bureau.notice_days` before the file's date, whose text as sent says that adverse data will
go to the credit bureau (judged on that text, not on which step or template sent it, so a
notice from any bucket counts and a template's dead branch does not).

Each file also corrects what an earlier one said (REC-2): the latest reported day of every
account is computed again with the ledger as it is known now (a payment imported late
counts, a payment reversed since never happened) and, where a figure differs, a correction
record of that day goes in the file. Every record written is kept (bureau_records).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.buckets import CLASSIFICATION
from collect_cli.domain.content import states_bureau_notice
from collect_cli.domain.loan_state import state_from_paid, state_of
from collect_cli.domain.money import fmt, to_minor
from collect_cli.domain.policy import Situation, decide
from collect_cli.services.contact_facts import hold_facts, local_day, transferred, zone_of
from collect_cli.services.portfolio import Account, episode_of, iter_accounts
from collect_cli.store import queries as q

# PIPL: no more than the bureau needs; no phone, no address.
FIELDS = ["record", "as_of", "loan_id", "borrower_id", "borrower_name", "dpd", "classification", "overdue",
          "outstanding", "pre_notice_sent_on"]
CHUNK = 1000


@dataclass(frozen=True)
class BureauFile:
    reportable: list[dict]  # reports of the file's day, then corrections of earlier days
    held_back: list[dict]  # the same fields, plus `reason`


def bureau_file(conn: Connection, *, as_of: date, settings: Settings) -> BureauFile:
    rules = settings.bureau
    adverse = [a for a in iter_accounts(conn, as_of=as_of, settings=settings, late_only=True)
               if a.state.dpd >= rules.min_dpd]
    reportable, held = [], []
    for first in range(0, len(adverse), CHUNK):
        batch = adverse[first:first + CHUNK]
        ids = [a.loan_id for a in batch]
        holds = q.active_holds(conn, ids, sorted({a.borrower_id for a in batch}), as_of)
        pays = q.payments_of(conn, ids, as_of)
        sent = q.sent_messages(conn, ids, bodies=True)
        for a in batch:
            notice = _notice_sent_on(a, sent[a.loan_id], pays[a.loan_id], as_of, settings)
            situation = Situation(holds=hold_facts(holds[a.loan_id]), transferred=transferred(a),
                                  dpd=a.state.dpd, notice_sent_on=notice, as_of=as_of, notice_days=rules.notice_days,
                                  min_dpd=rules.min_dpd)
            refusal = decide("bureau", situation)
            row = _row("report", a, a.state, notice)
            (held.append({**row, "reason": str(refusal)}) if refusal else reportable.append(row))
    corrections, held_corrections = _corrections(conn, as_of, settings)
    return BureauFile(reportable + corrections, held + held_corrections)


def _row(record: str, a: Account, state, notice: date | None = None) -> dict:
    return {"record": record, "as_of": state.as_of.isoformat(), "loan_id": a.loan_id, "borrower_id": a.borrower_id,
            "borrower_name": a.borrower_name, "dpd": state.dpd, "classification": state.classification,
            "overdue": fmt(state.overdue), "outstanding": fmt(state.outstanding_principal),
            "pre_notice_sent_on": notice.isoformat() if notice else None}


def _corrections(conn: Connection, as_of: date, settings: Settings) -> tuple[list[dict], list[dict]]:
    """Correction records of what the bureau holds (each account's latest reported day) that
    the ledger as known now proves wrong; those under a dispute or no-contact hold wait."""
    by_day: dict[date, list] = defaultdict(list)
    for r in q.latest_bureau_records(conn, as_of + timedelta(days=1)):
        by_day[r.as_of].append(r)
    out, held = [], []
    for day, records in sorted(by_day.items()):
        said = {r.loan_id: r for r in records}
        for first in range(0, len(records), CHUNK):
            ids = [r.loan_id for r in records[first:first + CHUNK]]
            undone = q.reversed_later(conn, ids, day)
            known = q.payments_of(conn, sorted(undone), date.max, reversed_out=True)
            changed = []
            for a in iter_accounts(conn, as_of=day, settings=settings, loan_ids=ids):
                state = _known_now(a, undone.get(a.loan_id, 0), known.get(a.loan_id, []), settings)
                r = said[a.loan_id]
                if (state.dpd, state.classification, state.overdue, state.outstanding_principal) != \
                        (r.dpd, r.classification, r.overdue, r.outstanding):
                    changed.append((a, state))
            holds = q.active_holds(conn, [a.loan_id for a, _ in changed],
                                   sorted({a.borrower_id for a, _ in changed}), as_of)
            for a, state in changed:
                # a correction of the lender's own report is owed after a sale too: no XFER-1
                refusal = decide("bureau-correction", Situation(holds=hold_facts(holds[a.loan_id])))
                row = _row("correction", a, state)
                (held.append({**row, "reason": str(refusal)}) if refusal else out.append(row))
    return out, held


def _known_now(a: Account, never_paid: int, paid_now: list[tuple[date, int]], settings: Settings):
    """The account on its day as the ledger knows it now: the replay of that day counts a
    payment reversed later; a bureau record must not. `paid_now`: the payments in effect now
    (a by-payment rule allocates those made by the day again)."""
    if not never_paid:
        return a.state
    s = a.state
    terms = {"grace_days": settings.grace_days, "buckets": settings.buckets, "standing": s.standing}
    schedule = [p.installment for p in s.positions]
    state = (state_of(schedule, [(d, x) for d, x in paid_now if d <= s.as_of], s.as_of, rule=a.rule,
                      penalty_off=list(a.penalty_off), **terms) if a.rule.by_payment
             else state_from_paid(schedule, s.paid_to_date - never_paid, s.as_of, **terms))
    if state.classification and s.classification:  # a restructured loan's floor still holds
        worse = max(CLASSIFICATION.index(state.classification), CLASSIFICATION.index(s.classification))
        return replace(state, classification=CLASSIFICATION[worse])
    return state


def record_export(engine, result: BureauFile, *, as_of: date, output, at: datetime, agent: str) -> None:
    """The export in the audit, and every record of the file in bureau_records."""
    with engine.begin() as conn:
        q.add_audit(conn, [{"at": at, "agent": agent, "action": "bureau export", "loan_id": None,
                            "detail": f"{len(result.reportable)} records as of {as_of.isoformat()} to {output}; "
                                      f"{len(result.held_back)} held back"}]
                    + [{"at": at, "agent": agent, "action": f"bureau {r['record']}", "loan_id": r["loan_id"],
                        "detail": f"as of {r['as_of']}, {r['dpd']} days past due, to {output}"}
                       for r in result.reportable])
        q.add_bureau_records(conn, [{"loan_id": r["loan_id"], "as_of": date.fromisoformat(r["as_of"]),
                                     "record": r["record"], "dpd": r["dpd"], "classification": r["classification"],
                                     "overdue": to_minor(Decimal(r["overdue"])),
                                     "outstanding": to_minor(Decimal(r["outstanding"])), "file": str(output),
                                     "at": at} for r in result.reportable])


def _notice_sent_on(acc: Account, sent, payments, as_of: date, settings: Settings) -> date | None:
    """The first day, by the borrower's clock, a message of this delinquency episode that says
    what REC-2 requires was sent, up to `as_of`."""
    start = episode_of(acc, payments, as_of)
    if start is None:
        return None
    episode, steps, zone = f"dpd-{start.isoformat()}", settings.bureau.notice_steps, zone_of(acc, settings)
    days = [local_day(m.sent_at, zone) for m in sent
            if m.episode == episode and (not steps or m.step in steps) and states_bureau_notice(m.body, m.channel)]
    days = [d for d in days if d <= as_of]
    return min(days) if days else None
