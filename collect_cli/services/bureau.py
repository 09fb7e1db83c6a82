"""The credit-bureau file: adverse accounts, only where the borrower was told first (REC-2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.money import fmt
from collect_cli.services.portfolio import iter_accounts
from collect_cli.store import queries as q

# PIPL: no more than the bureau needs; no phone, no address.
FIELDS = ["loan_id", "borrower_id", "borrower_name", "dpd", "classification", "overdue", "outstanding",
          "pre_notice_sent_on"]


@dataclass(frozen=True)
class BureauFile:
    reportable: list[dict]
    held_back: list[dict]  # the same fields, plus `reason`


def bureau_file(conn: Connection, *, as_of: date, settings: Settings) -> BureauFile:
    rules = settings.bureau
    adverse = [a for a in iter_accounts(conn, as_of=as_of, settings=settings, late_only=True)
               if a.state.dpd >= rules.min_dpd]
    sent = q.notices_sent(conn, [a.loan_id for a in adverse], rules.notice_steps)
    latest = as_of - timedelta(days=rules.notice_days)
    reportable, held = [], []
    for a in adverse:
        at = sent.get(a.loan_id)
        sent_on = at.replace(tzinfo=UTC).astimezone(ZoneInfo(a.timezone or settings.timezone)).date() if at else None
        row = {"loan_id": a.loan_id, "borrower_id": a.borrower_id, "borrower_name": a.borrower_name,
               "dpd": a.state.dpd, "classification": a.state.classification, "overdue": fmt(a.state.overdue),
               "outstanding": fmt(a.state.outstanding_principal),
               "pre_notice_sent_on": sent_on.isoformat() if sent_on else None}
        if sent_on is None:
            held.append({**row, "reason": "REC-2: no pre-notice has been sent"})
        elif sent_on > latest:
            held.append({**row, "reason": f"REC-2: pre-notice sent on {sent_on.isoformat()}, less than "
                                          f"{rules.notice_days} days before {as_of.isoformat()}"})
        else:
            reportable.append(row)
    return BureauFile(reportable, held)
