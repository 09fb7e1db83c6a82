"""The watch list: current (M0) accounts most likely to go late, by the early-warning score
(domain/early_warning.py), with the factors behind each score."""

from __future__ import annotations

import heapq
from collections import Counter
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.early_warning import other_late_part, watch_score
from collect_cli.domain.promises import evaluate
from collect_cli.domain.timeline import snapshots
from collect_cli.services.analyst import Chart, Column, Report, Section, add
from collect_cli.services.analytics import engine_ledgers, fold_book, iter_book, ledger_of
from collect_cli.services.contact_facts import end_of_day
from collect_cli.services.portfolio import borrower_loan_counts
from collect_cli.store import queries as q


def broken_promises_by_loan(conn: Connection, as_of: date, settings: Settings, loan_ids=None) -> Counter:
    """Per loan, its promises broken within the year before `as_of` (as recorded by then),
    judged by the ledger."""
    made = [p for p in q.promises_made(conn, date.fromordinal(as_of.toordinal() - 365), as_of,
                                       known_by=end_of_day(as_of, settings.zone))
            if loan_ids is None or p.loan_id in loan_ids]
    pays = q.payments_of(conn, sorted({p.loan_id for p in made}), as_of, reversed_out=True)
    out: Counter = Counter()
    for p in made:
        v = evaluate(amount=p.amount, made_on=p.made_on, due_on=p.due_on, grace_days=p.grace_days,
                     payments=pays[p.loan_id], as_of=as_of)
        if v and v.status == "broken":
            out[p.loan_id] += 1
    return out


def scored(conn: Connection, as_of: date, *, settings: Settings, product: str | None = None) -> list[dict]:
    """Every current open account with its score and reasons, highest first."""
    broken = broken_promises_by_loan(conn, as_of, settings)
    current, loans_of, late_of = fold_book(conn, _score_part, (as_of, settings, product, broken), add)
    # the borrower's other loans are known only once the whole book went by: add that factor now
    out = []
    for row in current:
        others, late = loans_of[row["borrower_id"]] - 1, late_of[row["borrower_id"]]
        if late:
            points, why = other_late_part(late, others, settings.watchlist)
            row["score"] += points
            row["reasons"] = [*row["reasons"], f"{why} +{points}"]
        out.append(row)
    out.sort(key=lambda r: (-r["score"], r["loan_id"]))
    return out


def _score_part(conn: Connection, as_of: date, settings: Settings, product, broken: Counter, *, part):
    """Scores of one part's current loans of `product`, and per borrower the open and late
    loans of every product (the other-loans factor counts them all, as the nightly run does)."""
    day = as_of.toordinal()
    loans_of, late_of = Counter(), Counter()
    current = []
    # restructured loans and loans with events: as the engine sees them on the day
    by_engine = engine_ledgers(conn, q.engine_loan_ids(conn, part), as_of, settings)
    for loan in iter_book(conn, settings=settings, part=part):
        if loan.disbursed > day:
            continue
        ledger = loan.ledger
        if loan.loan_id in by_engine:
            acc, ledger = by_engine[loan.loan_id]
            # a transferred loan is no longer the lender's: neither current nor another loan of theirs
            closed, dpd, outstanding = acc.state.status != "open", acc.state.dpd, acc.state.outstanding_principal
        else:
            s = snapshots(ledger, [day])[0]
            closed, dpd, outstanding = s.closed, s.dpd, s.outstanding
        if closed:
            continue
        loans_of[loan.borrower_id] += 1
        if dpd > 0:
            late_of[loan.borrower_id] += 1
            continue
        if product and loan.product != product:
            continue
        score, reasons = watch_score(ledger, day, broken_promises=broken[loan.loan_id], weights=settings.watchlist)
        current.append({"loan_id": loan.loan_id, "borrower_id": loan.borrower_id, "score": score, "reasons": reasons,
                        "outstanding": outstanding})
    return current, loans_of, late_of


def watchlist(conn: Connection, as_of: date, *, settings: Settings, top: int = 50, product: str | None = None) -> Report:
    rows = scored(conn, as_of, settings=settings, product=product)
    threshold = settings.watchlist.threshold
    listed = heapq.nsmallest(top, rows, key=lambda r: (-r["score"], r["loan_id"])) if top else rows
    return Report("watchlist", f"Watch list as of {as_of.isoformat()}", [
        Section("accounts", f"Current accounts most likely to go late (score ≥ {threshold}: on the watch list)",
                [Column("loan_id", "loan"), Column("score", "score"), Column("outstanding", "outstanding", "money"),
                 Column("why", "why")],
                [{"loan_id": r["loan_id"], "score": str(r["score"]), "outstanding": r["outstanding"],
                  "why": "; ".join(r["reasons"])} for r in listed],
                Chart("bar", "loan_id", ("score",), "early-warning score")),
    ], notes=[f"{sum(r['score'] >= threshold for r in rows):,} of {len(rows):,} current accounts score "
              f"{threshold} or more"])


def watch_scores(conn: Connection, accounts: list, as_of: date, settings: Settings) -> dict[str, Decimal]:
    """The early-warning score of each current account of `accounts` (the nightly run's batch)."""
    current = [a for a in accounts if a.state.status == "open" and a.state.dpd == 0]
    if not current:
        return {}
    ids = [a.loan_id for a in current]
    pays = q.payments_of(conn, ids, as_of)
    broken = broken_promises_by_loan(conn, as_of, settings, set(ids))
    opened, behind = borrower_loan_counts(conn, as_of, sorted({a.borrower_id for a in current}), settings)
    out = {}
    for a in current:
        score, _ = watch_score(ledger_of(a, pays[a.loan_id]), as_of.toordinal(), broken_promises=broken[a.loan_id],
                               other_loans=opened[a.borrower_id] - 1, other_late=behind[a.borrower_id],
                               weights=settings.watchlist)
        out[a.loan_id] = score
    return out
