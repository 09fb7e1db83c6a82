"""`collect report …`: portfolio reports as of a date."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import AsOf, FormatOpt, Product, ShowPii, as_of_date
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt, fmt_grouped
from collect_cli.domain.pii import mask_phone
from collect_cli.services import reports

app = typer.Typer(help="Portfolio reports, computed from the ledger as of any date.\n\nExample: collect report buckets --as-of 2026-11-20",
                  no_args_is_help=True, rich_markup_mode=None)


def _pct(share) -> str:
    return f"{share * 100:.2f}"


@app.command("buckets")
def buckets_command(ctx: typer.Context, as_of: AsOf = None, product: Product = None,
                    fmt_: FormatOpt = Format.table) -> None:
    """Accounts, overdue amount and outstanding principal per bucket (M0, M1 …).

    Every configured bucket is listed, zeros included; closed loans are left out.

    Example: collect report buckets --as-of 2026-11-20 --format json
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rep = reports.bucket_report(conn, as_of=day, settings=app_.settings, product=product)
    records = [
        {"bucket": r.bucket, "accounts": r.accounts, "overdue": fmt(r.overdue),
         "outstanding": fmt(r.outstanding), "share_pct": _pct(r.share), "as_of": day.isoformat()}
        for r in rep.rows
    ]
    if fmt_ is not Format.table:
        render.records_out(fmt_, records, ["bucket", "accounts", "overdue", "outstanding", "share_pct", "as_of"])
        return
    t = rep.total
    render.table(
        f"Buckets as of {day.isoformat()} ({rep.closed:,} closed loans not counted)",
        [("bucket", "left"), ("accounts", "right"), ("overdue", "right"),
         ("outstanding", "right"), ("share %", "right")],
        ([r.bucket, f"{r.accounts:,}", fmt_grouped(r.overdue), fmt_grouped(r.outstanding), _pct(r.share)]
         for r in rep.rows),
        footer=["total", f"{t.accounts:,}", fmt_grouped(t.overdue), fmt_grouped(t.outstanding),
                _pct(t.share)],
    )


ACCOUNT_FIELDS = ["loan_id", "borrower_id", "borrower_name", "phone", "product", "status", "dpd",
                  "bucket", "classification", "overdue", "outstanding", "next_due_on",
                  "next_due_amount"]


@app.command("accounts")
def accounts_command(
    ctx: typer.Context,
    as_of: AsOf = None,
    bucket: Annotated[str | None, typer.Option(help="Only this bucket (M1 …) or 'closed'.")] = None,
    product: Product = None,
    show_pii: ShowPii = False,
    fmt_: FormatOpt = Format.table,
) -> None:
    """One row per loan: status, days past due, bucket, overdue, outstanding, next due date.

    Example: collect report accounts --bucket M2 --format csv > m2.csv
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        accounts = reports.accounts(conn, as_of=day, settings=app_.settings, bucket=bucket, product=product)
        if fmt_ is not Format.table:
            render.records_out(fmt_, (_account_record(a, show_pii) for a in accounts), ACCOUNT_FIELDS)
            return
        accounts = list(accounts)
    records = [_account_record(a, show_pii) for a in accounts]
    render.table(
        f"Accounts as of {day.isoformat()}" + (f", bucket {bucket}" if bucket else ""),
        [("loan", "left"), ("borrower", "left"), ("name", "left"), ("phone", "left"),
         ("status", "left"), ("dpd", "right"), ("bucket", "left"), ("overdue", "right"),
         ("outstanding", "right"), ("next due", "left")],
        ([r["loan_id"], r["borrower_id"], r["borrower_name"], r["phone"], r["status"], r["dpd"],
          r["bucket"] or "", fmt_grouped(a.state.overdue), fmt_grouped(a.state.outstanding_principal),
          r["next_due_on"] or ""] for a, r in zip(accounts, records, strict=True)),
    )


def _account_record(a, show_pii: bool) -> dict:
    s = a.state
    return {
        "loan_id": a.loan_id,
        "borrower_id": a.borrower_id,
        "borrower_name": a.borrower_name,
        "phone": a.phone if show_pii else mask_phone(a.phone),
        "product": a.product,
        "status": s.status,
        "dpd": s.dpd,
        "bucket": s.bucket,
        "classification": s.classification,
        "overdue": fmt(s.overdue),
        "outstanding": fmt(s.outstanding_principal),
        "next_due_on": s.next_due_on.isoformat() if s.next_due_on else None,
        "next_due_amount": fmt(s.next_due_amount),
    }
