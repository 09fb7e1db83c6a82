"""`collect queue`: today's work for collectors."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import AsOf, FormatOpt, Product, ShowPii, as_of_date
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt, fmt_grouped
from collect_cli.domain.pii import mask_phone
from collect_cli.services.reports import work_queue

HELP = """Today's work queue: delinquent accounts, most urgent first.

Score (0-100) = 60 x min(DPD, 90)/90 + 40 x min(overdue, 10,000)/10,000; ties go to the
older, then the larger debt. Weights and caps are set in collect.toml [queue].
Accounts more than 90 days past due (handover_dpd) belong to the legal / agency queue
and are left out unless --all.
Phone numbers are masked unless --show-pii.

Example: collect queue --limit 20
"""

FIELDS = ["rank", "score", "loan_id", "borrower_id", "borrower_name", "phone", "dpd", "bucket",
          "overdue", "outstanding"]


def queue_command(
    ctx: typer.Context,
    as_of: AsOf = None,
    limit: Annotated[int, typer.Option(min=0, help="Show the N most urgent accounts; 0 for all.")] = 50,
    product: Product = None,
    include_all: Annotated[bool, typer.Option(
        "--all", help="Include accounts past the handover to legal / agency work.")] = False,
    show_pii: ShowPii = False,
    fmt_: FormatOpt = Format.table,
) -> None:
    app = ctx.obj
    day = as_of_date(as_of, app.today())
    with app.engine().connect() as conn:
        queue = work_queue(conn, as_of=day, settings=app.settings, limit=limit or None,
                           product=product, include_handover=include_all)
    entries = queue.entries
    records = [
        {"rank": e.rank, "score": str(e.score), "loan_id": e.account.loan_id,
         "borrower_id": e.account.borrower_id,
         "borrower_name": e.account.borrower_name,
         "phone": e.account.phone if show_pii else mask_phone(e.account.phone),
         "dpd": e.account.state.dpd, "bucket": e.account.state.bucket,
         "overdue": fmt(e.account.state.overdue),
         "outstanding": fmt(e.account.state.outstanding_principal)}
        for e in entries
    ]
    if queue.handed_over and not include_all:
        render.note(f"{queue.handed_over:,} of {queue.delinquent:,} delinquent accounts are more than "
                    f"{app.settings.queue.handover_dpd} days past due: legal / agency queue, not listed "
                    "(--all lists them)")
    if fmt_ is not Format.table:
        render.records_out(fmt_, records, FIELDS)
        return
    render.table(
        f"Work queue as of {day.isoformat()} (top {len(records):,} of {queue.delinquent - (0 if include_all else queue.handed_over):,})",
        [("#", "right"), ("score", "right"), ("loan", "left"), ("borrower", "left"), ("name", "left"),
         ("phone", "left"), ("dpd", "right"), ("bucket", "left"), ("overdue", "right"),
         ("outstanding", "right")],
        ([r["rank"], r["score"], r["loan_id"], r["borrower_id"], r["borrower_name"], r["phone"],
          r["dpd"], r["bucket"], fmt_grouped(e.account.state.overdue),
          fmt_grouped(e.account.state.outstanding_principal)] for e, r in zip(entries, records, strict=True)),
    )
