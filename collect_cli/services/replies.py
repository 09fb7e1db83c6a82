"""`collect replies import`: the gateway's inbound messages into the contact log, each acted on.

A reply is the person at a number (WHO-4), so it is matched by the number (or e-mail
address) it came from, to the borrower on file with it, and to the loan of the last message
sent there before it (else the borrower's first loan). What it says decides what it sets
going, as `collect log --channel sms-reply` does: STOP / 退订 / unsubscribe … opts that
number out of that channel (HOLD-2), under every borrower id that has it; dispute or
complaint words open a case and its hold (CASE-2, CASE-3); "已还" / "paid" is a claim the
ledger is asked about at once; anything else is logged for a collector. A number that
several borrower ids share and no one confirmed is opted out for all of them, but what else
it says is not put on anyone's account: it is rejected for a person to attribute. One
transaction; a reply taken in before (the same number, time and text) is not logged twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from collect_cli.config import Settings
from collect_cli.domain.money import fmt
from collect_cli.domain.replies import case_keywords, paid_keyword, stop_keyword
from collect_cli.ledger.records import Rejected, write_rejects
from collect_cli.ledger.replies import Reply, read_replies
from collect_cli.services.contact_facts import local_day, zone_of
from collect_cli.services.contacts import account_at, consequences
from collect_cli.services.holds import add_hold
from collect_cli.store import queries as q

PAID_LOOKBACK_DAYS = 7  # a claim to have paid is checked against the payments of the week before it


@dataclass
class RepliesImport:
    logged: int = 0  # replies recorded in the contact log
    before: int = 0  # replies of the file taken in by an earlier import
    taken: Counter = field(default_factory=Counter)  # what they set going: opt-out, case, paid-claim, logged
    claims: list[str] = field(default_factory=list)  # "loan: what the ledger says of the claim"
    rejected: list[Rejected] = field(default_factory=list)
    rejects_path: Path | None = None


def import_replies(*, engine: Engine, settings: Settings, path: Path, agent: str, now: datetime) -> RepliesImport:
    replies, rejected = read_replies(path, zone=settings.zone, now=now)
    out = RepliesImport(rejected=list(rejected))
    with engine.begin() as conn:
        points = sorted({r.point for r in replies})
        owners = q.owners_of_points(conn, points)
        confirmed = q.confirmed_owners(conn, points)
        last_sent: dict[str, list] = {}
        for m in q.sent_to(conn, points):
            last_sent.setdefault(m.recipient, []).append(m)
        borrowers = sorted({b for ids in owners.values() for b in ids})
        since = min((r.at for r in replies), default=now) - timedelta(seconds=1)
        seen = {(c.borrower_id, c.channel, c.at, c.note) for c in q.contacts_around(conn, borrowers, [], since)}
        for r in replies:
            ids = owners.get(r.point, set())
            if not ids:
                out.rejected.append(Rejected(r.line, _values(r), "number: no borrower has this number or address "
                                                                 "on file"))
                continue
            # confirmed as one borrower's, while that borrower still has it on file
            whose = ({confirmed.get(r.point)} & ids) or ids
            if len(whose) > 1:  # WHO-4: not confirmed whose it is
                stop = stop_keyword(r.text, settings.replies.stop_words)
                if stop:
                    for borrower in sorted(whose):
                        _opt_out(conn, r, borrower, stop, sorted(whose), last_sent, seen, agent, now)
                    out.taken["opt-out of a shared number"] += 1
                more = case_keywords(r.text, settings.cases.dispute_words, settings.cases.complaint_words) or \
                    paid_keyword(r.text, settings.replies.paid_words)
                if more or not stop:
                    out.rejected.append(Rejected(r.line, _values(r), f"number: WHO-4: also on file for "
                                                 f"{', '.join(sorted(whose))}, not confirmed whose it is"
                                                 + ("; its STOP was taken for all of them" if stop else "")
                                                 + "; log what else it says on the right loan "
                                                   "(collect log --channel sms-reply)"))
                continue
            _take(conn, r, next(iter(whose)), last_sent, seen, settings, agent, now, out)
    if out.rejected:
        out.rejects_path = write_rejects(path, out.rejected, ["number", "at", "text"])
    return out


def _loan_of(conn, r: Reply, borrower: str, last_sent: dict) -> str:
    """The loan of the last message sent to the number before the reply, else the borrower's first."""
    mine = set(q.loans_of_borrower(conn, borrower))
    answered = [m.loan_id for m in last_sent.get(r.point, []) if m.sent_at <= r.at and m.loan_id in mine]
    return answered[-1] if answered else min(mine)


def _opt_out(conn, r: Reply, borrower: str, keyword: str, sharers: list[str], last_sent: dict, seen: set,
             agent: str, now: datetime) -> None:
    """A STOP from a number several borrower ids share: that number's opt-out under each, and
    only the keyword in their records (what else it says may be another person's)."""
    said = f"STOP ({keyword}) from a number shared by {', '.join(sharers)}, not confirmed whose"
    channel = f"{r.channel}-reply"
    if (borrower, channel, r.at, said) in seen:
        return
    seen.add((borrower, channel, r.at, said))
    loan_id = _loan_of(conn, r, borrower, last_sent)
    q.add_contact(conn, loan_id=loan_id, borrower_id=borrower, at=r.at, logged_at=now, channel=channel,
                  direction="in", outcome="opt-out", party=None, person_id=None, number=None, note=said,
                  agent=agent, override=None, recording=None)
    add_hold(conn, loan_id=loan_id, reason="opt-out", channel=r.channel, until=None, point=r.point,
             note=f"{said} at {r.at:%Y-%m-%d %H:%M} UTC (replies import line {r.line})", actor=agent, now=now)


def _take(conn, r: Reply, borrower: str, last_sent: dict, seen: set, settings: Settings, agent: str,
          now: datetime, out: RepliesImport) -> None:
    channel = f"{r.channel}-reply"
    if (borrower, channel, r.at, r.text) in seen:
        out.before += 1
        return
    seen.add((borrower, channel, r.at, r.text))
    loan_id = _loan_of(conn, r, borrower, last_sent)
    acc = account_at(conn, loan_id, r.at, settings)
    stop = stop_keyword(r.text, settings.replies.stop_words)
    said = case_keywords(r.text, settings.cases.dispute_words, settings.cases.complaint_words)
    paid = paid_keyword(r.text, settings.replies.paid_words)
    outcome = ("dispute" if "dispute" in said else "complaint" if "complaint" in said else
               "paid-claim" if paid else "opt-out" if stop else "reached")
    contact_id = q.add_contact(conn, loan_id=loan_id, borrower_id=borrower, at=r.at, logged_at=now, channel=channel,
                               direction="in", outcome=outcome, party=None, person_id=None, number=None,
                               note=r.text, agent=agent, override=None, recording=None)
    q.add_audit(conn, [{"at": now, "agent": agent, "action": "contact", "loan_id": loan_id,
                        "detail": f"{channel} {outcome} (inbound, replies import line {r.line})"}])
    cases, holds = consequences(conn, loan_id=loan_id, channel=channel, outcome=outcome, note=r.text, agent=agent,
                                now=r.at, logged_at=now, settings=settings, contact_id=contact_id)
    out.logged += 1
    if holds:
        out.taken["opt-out"] += 1
    if cases:
        out.taken["case"] += len(cases)
    if paid:
        out.taken["paid-claim"] += 1
        out.claims.append(f"{loan_id}: {_verdict(conn, acc, r, settings)}")
    if not (holds or cases or paid):
        out.taken["logged for a collector"] += 1


def _verdict(conn, acc, r: Reply, settings: Settings) -> str:
    """What the ledger says of a claim to have paid: the payments of the week before it."""
    day = local_day(r.at, zone_of(acc, settings))
    got = [(d, a) for d, a in q.payments_of(conn, [acc.loan_id], day, reversed_out=True)[acc.loan_id]
           if d >= day - timedelta(days=PAID_LOOKBACK_DAYS)]
    if got:
        return (f"the ledger has {fmt(sum(a for _, a in got))} paid from "
                f"{min(d for d, _ in got).isoformat()} to {day.isoformat()}")
    return f"no payment in the ledger in the {PAID_LOOKBACK_DAYS} days to {day.isoformat()}: verify the claim"


def _values(r: Reply) -> dict[str, str]:
    return {"number": r.point, "at": f"{r.at:%Y-%m-%d %H:%M}Z", "text": r.text}
