"""The credit-bureau file: adverse accounts the contact policy lets be reported (REC-2).

An account is reported only when it is past due, under no dispute or no-contact hold, and
its borrower was told first: a message of the current delinquency episode, sent at least
`bureau.notice_days` before the file's date, whose text as sent says that adverse data will
go to the credit bureau (judged on that text, not on which step or template sent it, so a
notice from any bucket counts and a template's dead branch does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.content import states_bureau_notice
from collect_cli.domain.episodes import episode_start
from collect_cli.domain.money import fmt
from collect_cli.domain.policy import Situation, decide
from collect_cli.services.contact_facts import hold_facts, local_day, transferred, zone_of
from collect_cli.services.portfolio import Account, iter_accounts
from collect_cli.store import queries as q

# PIPL: no more than the bureau needs; no phone, no address.
FIELDS = ["loan_id", "borrower_id", "borrower_name", "dpd", "classification", "overdue", "outstanding",
          "pre_notice_sent_on"]
CHUNK = 1000


@dataclass(frozen=True)
class BureauFile:
    reportable: list[dict]
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
            row = {"loan_id": a.loan_id, "borrower_id": a.borrower_id, "borrower_name": a.borrower_name,
                   "dpd": a.state.dpd, "classification": a.state.classification, "overdue": fmt(a.state.overdue),
                   "outstanding": fmt(a.state.outstanding_principal),
                   "pre_notice_sent_on": notice.isoformat() if notice else None}
            (held.append({**row, "reason": str(refusal)}) if refusal else reportable.append(row))
    return BureauFile(reportable, held)


def _notice_sent_on(acc: Account, sent, payments, as_of: date, settings: Settings) -> date | None:
    """The first day, by the borrower's clock, a message of this delinquency episode that says
    what REC-2 requires was sent, up to `as_of`."""
    start = episode_start([p.installment for p in acc.state.positions], payments, as_of)
    if start is None:
        return None
    episode, steps, zone = f"dpd-{start.isoformat()}", settings.bureau.notice_steps, zone_of(acc, settings)
    days = [local_day(m.sent_at, zone) for m in sent
            if m.episode == episode and (not steps or m.step in steps) and states_bureau_notice(m.body, m.channel)]
    days = [d for d in days if d <= as_of]
    return min(days) if days else None
