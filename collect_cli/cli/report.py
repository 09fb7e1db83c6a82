"""`collect report …`: portfolio reports as of a date."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import (
    AsOf,
    FormatOpt,
    Product,
    ShowPii,
    as_of_date,
    date_option,
)
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt, fmt_grouped
from collect_cli.domain.pii import mask_phone
from collect_cli.domain.plans import month_after
from collect_cli.errors import UsageError
from collect_cli.services import activity, analyst, reports, watchlist
from collect_cli.services.legal import legal_report
from collect_cli.services.placements import agencies_report

app = typer.Typer(help="Portfolio reports, computed from the ledger as of any date.\n\nExample: collect report buckets --as-of 2026-11-20",
                  no_args_is_help=True, rich_markup_mode=None)


From = Annotated[str | None, typer.Option("--from", metavar="DATE", help="The first date of the range.")]
To = Annotated[str | None, typer.Option("--to", metavar="DATE", help="The last date of the range (default: today).")]
Every = Annotated[str, typer.Option("--every", help="day, week or month: the dates of a trend.")]
ChartOpt = Annotated[Path | None, typer.Option("--chart", metavar="PATH.png|.svg", help="Also draw the report.")]
Output = Annotated[Path | None, typer.Option("--output", "-o", metavar="PATH.csv",
                                             help="Write CSV to this file (UTF-8 with BOM, safe to open in Excel).")]


def _range(start: str | None, end: str | None, app_) -> tuple:
    last = date_option(end, "--to") or app_.today()
    first = date_option(start, "--from") or last
    return first, last


def _out(rep, fmt_: Format, chart: Path | None, output: Path | None) -> None:
    if chart is not None:
        from collect_cli.cli import charts

        charts.save(rep, chart)
        render.note(f"chart written to {chart}")
    render.report_out(rep, fmt_, output)


def _pct(share) -> str:
    return f"{share * 100:.2f}"


@app.command("buckets")
def buckets_command(ctx: typer.Context, as_of: AsOf = None, product: Product = None,
                    start: From = None, end: To = None, every: Every = "month", chart: ChartOpt = None,
                    output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """Accounts, overdue amount and outstanding principal per bucket (M0, M1 …).

    Every configured bucket is listed, zeros included; closed loans are left out. With
    --from/--to: the same for every day, week or month of the range (the trend).

    Example: collect report buckets --as-of 2026-11-20 --format json
    Example: collect report buckets --from 2026-01-31 --to 2026-11-20 --every month --chart buckets.png
    """
    app_ = ctx.obj
    if as_of is not None and (start is not None or end is not None):
        raise UsageError("--as-of is one date; --from/--to a range: give one or the other")
    if start is not None or end is not None or chart is not None:
        first, last = _range(start, end or as_of, app_)
        with app_.engine().connect() as conn:
            rep = analyst.bucket_trend(conn, analyst.dates_between(first, last, every), settings=app_.settings,
                                       product=product)
        _out(rep, fmt_, chart, output)
        return
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rep = reports.bucket_report(conn, as_of=day, settings=app_.settings, product=product)
    records = [
        {"bucket": r.bucket, "accounts": r.accounts, "overdue": fmt(r.overdue),
         "outstanding": fmt(r.outstanding), "share_pct": _pct(r.share), "as_of": day.isoformat()}
        for r in [*rep.rows, rep.total]
    ]
    fields = ["bucket", "accounts", "overdue", "outstanding", "share_pct", "as_of"]
    # CSV as the table: the buckets and the total row; JSON: the buckets, the total apart
    if output is not None:  # exactly what --format csv prints, into the file
        render.export_csv(output, fields, records)
        render.note(f"buckets as of {day.isoformat()}: written to {output}")
        return
    if fmt_ is Format.json:
        w = rep.written_off
        render.json_out({"as_of": day.isoformat(), "buckets": records[:-1], "total": records[-1],
                         "closed_loans": rep.closed, "transferred_loans": rep.transferred,
                         "written_off": {"accounts": w.accounts, "overdue": fmt(w.overdue),
                                         "outstanding": fmt(w.outstanding)}})
        return
    if fmt_ is Format.csv:
        render.records_out(fmt_, records, fields)
        return
    t, w = rep.total, rep.written_off
    render.table(
        f"Buckets as of {day.isoformat()} ({rep.closed:,} closed"
        + (f" and {rep.transferred:,} transferred" if rep.transferred else "") + " loans not counted)",
        [("bucket", "left"), ("accounts", "right"), ("overdue", "right"),
         ("outstanding", "right"), ("share %", "right")],
        ([r.bucket, f"{r.accounts:,}", fmt_grouped(r.overdue), fmt_grouped(r.outstanding), _pct(r.share)]
         for r in rep.rows),
        footer=["total", f"{t.accounts:,}", fmt_grouped(t.overdue), fmt_grouped(t.outstanding),
                _pct(t.share)],
    )
    if w.accounts:
        render.note(f"of them written off (still collected): {w.accounts:,} accounts, overdue "
                    f"{fmt_grouped(w.overdue)}, outstanding {fmt_grouped(w.outstanding)} (collect report write-offs)")


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


@app.command("rolls")
def rolls_command(ctx: typer.Context, start: From = None, end: To = None, product: Product = None,
                  chart: ChartOpt = None, output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """Roll rates: where the accounts of each bucket on --from are on --to (closed is a
    state), by count and by outstanding principal on --from; per bucket the share that
    stayed, rolled to a worse bucket and cured (back to M0 or closed); and the flow rates
    M0→M1→M2… of balances. Default: the month up to --to.

    Example: collect report rolls --from 2026-10-20 --to 2026-11-20 --chart rolls.png
    """
    app_ = ctx.obj
    last = date_option(end, "--to") or app_.today()
    first = date_option(start, "--from") or month_after(last, -1)
    with app_.engine().connect() as conn:
        rep = analyst.rolls(conn, first, last, settings=app_.settings, product=product)
    _out(rep, fmt_, chart, output)


@app.command("classification")
def classification_command(ctx: typer.Context, as_of: AsOf = None, product: Product = None,
                           chart: ChartOpt = None, output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """The five tiers (正常 关注 次级 可疑 损失) by count and outstanding principal, with shares:
    by days past due, and restructured loans held at their floor.

    Example: collect report classification --as-of 2026-11-20
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rep = analyst.classification(conn, day, settings=app_.settings, product=product)
    _out(rep, fmt_, chart, output)


@app.command("write-offs")
def write_offs_command(ctx: typer.Context, as_of: AsOf = None, product: Product = None,
                       output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """Loans written off (核销) by the date, reported apart: the amount written off, what was
    recovered after the write-off day (payments net of reversals), the recovery rate, and
    what each still owes (a written-off loan stays collectible).

    Example: collect report write-offs --as-of 2026-11-20
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rep = analyst.write_offs(conn, day, settings=app_.settings, product=product)
    _out(rep, fmt_, None, output)


@app.command("agencies")
def agencies_command(ctx: typer.Context,
                     from_: Annotated[str, typer.Option("--from", metavar="DATE", help="First day.")],
                     to: Annotated[str, typer.Option("--to", metavar="DATE", help="Last day.")],
                     output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """The agencies' evaluation (AGY-2): per agency, accounts placed in the period and their
    overdue amount at placement, what they paid while placed and the recovery rate (also by
    bucket at placement), the commission earned, complaints made while placed, and where the
    agency's evaluation and contract stand. Record the evaluation with `collect agencies evaluate`.

    Example: collect report agencies --from 2026-01-01 --to 2026-11-30
    """
    app_ = ctx.obj
    first, last = date_option(from_, "--from"), date_option(to, "--to")
    if last < first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    with app_.engine().connect() as conn:
        rep = agencies_report(conn, first=first, last=last, settings=app_.settings)
    _out(rep, fmt_, None, output)


@app.command("legal")
def legal_command(ctx: typer.Context, as_of: AsOf = None, output: Output = None,
                  fmt_: FormatOpt = Format.table) -> None:
    """Legal cases by stage and age: per stage the cases, their average age, costs, amounts
    awarded and what the loans paid since their case was opened; then each case.

    Example: collect report legal --as-of 2026-11-30
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rep = legal_report(conn, as_of=day, settings=app_.settings)
    _out(rep, fmt_, None, output)


@app.command("vintages")
def vintages_command(ctx: typer.Context, as_of: AsOf = None, product: Product = None,
                     months: Annotated[int, typer.Option(min=1, max=60, help="Months on book to show.")] = 12,
                     chart: ChartOpt = None, output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """Vintage curves: per disbursement month, the share of principal whose loan went more
    than 30, 60 and 90 days past due within 1, 2, 3 … months on book.

    Example: collect report vintages --as-of 2026-11-20 --months 12 --chart vintages.svg
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rep = analyst.vintages(conn, day, settings=app_.settings, product=product, months=months)
    _out(rep, fmt_, chart, output)


def _period(start: str | None, end: str | None, app_) -> tuple:
    """--from/--to, by default the month up to today."""
    last = date_option(end, "--to") or app_.today()
    return date_option(start, "--from") or month_after(last, -1) + timedelta(days=1), last


@app.command("collections")
def collections_command(ctx: typer.Context, start: From = None, end: To = None, product: Product = None,
                        chart: ChartOpt = None, output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """Money recovered in a period: by the bucket the loan was in the day before each payment,
    by month, and the recovery rate of what was overdue the day before the period (each
    loan's payments counted up to its overdue amount). Default: the month up to today.

    Example: collect report collections --from 2026-10-01 --to 2026-10-31
    """
    app_ = ctx.obj
    first, last = _period(start, end, app_)
    with app_.engine().connect() as conn:
        rep = activity.collections(conn, first, last, settings=app_.settings, product=product)
    _out(rep, fmt_, chart, output)


@app.command("promises")
def promises_report_command(ctx: typer.Context, start: From = None, end: To = None, product: Product = None,
                            chart: ChartOpt = None, output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """Promises made in a period by agent: made, amount promised, kept, partly kept, broken,
    still open, paid, judged against the ledger at the end of the period.

    Example: collect report promises --from 2026-11-01 --to 2026-11-30
    """
    app_ = ctx.obj
    first, last = _period(start, end, app_)
    with app_.engine().connect() as conn:
        rep = activity.promises(conn, first, last, settings=app_.settings, product=product)
    _out(rep, fmt_, chart, output)


@app.command("contacts")
def contacts_report_command(ctx: typer.Context, start: From = None, end: To = None, product: Product = None,
                            chart: ChartOpt = None, output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """Messages queued, sent, failed and suppressed (by rule) per step; calls by outcome; per
    agent: accounts worked, contacts, promises and money paid within 7 days after their contact.

    Example: collect report contacts --from 2026-11-01 --to 2026-11-30
    """
    app_ = ctx.obj
    first, last = _period(start, end, app_)
    with app_.engine().connect() as conn:
        rep = activity.contacts(conn, first, last, settings=app_.settings, product=product)
    _out(rep, fmt_, chart, output)


@app.command("watchlist")
def watchlist_command(ctx: typer.Context, as_of: AsOf = None, product: Product = None,
                      top: Annotated[int, typer.Option(min=0, help="How many to list (0: all).")] = 50,
                      chart: ChartOpt = None, output: Output = None, fmt_: FormatOpt = Format.table) -> None:
    """Early warning (风险预警): current accounts most likely to go late, by an explainable score
    from their own history ([watchlist] weights in collect.toml), with the factors behind each.

    Example: collect report watchlist --as-of 2026-11-20 --top 20
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    with app_.engine().connect() as conn:
        rep = watchlist.watchlist(conn, day, settings=app_.settings, top=top, product=product)
    _out(rep, fmt_, chart, output)


@app.command("all")
def all_command(ctx: typer.Context, html_path: Annotated[Path, typer.Option(
                    "--html", metavar="PATH.html", help="The page to write.")],
                as_of: AsOf = None, product: Product = None) -> None:
    """Every report on one self-contained HTML page with its charts (opens without network):
    buckets over the last 12 months, rolls, classification, vintages, write-offs, and the month's
    collections, promises, contacts and watch list, all as of the date.

    Example: collect report all --html portfolio-2026-11-20.html --as-of 2026-11-20
    """
    from collect_cli.cli import html_page

    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    month_ago = month_after(day, -1)
    settings = app_.settings
    with app_.engine().connect() as conn:
        reps = [
            analyst.bucket_trend(conn, analyst.dates_between(month_after(day, -12), day, "month"), settings=settings,
                                 product=product),
            analyst.rolls(conn, month_ago, day, settings=settings, product=product),
            analyst.classification(conn, day, settings=settings, product=product),
            analyst.vintages(conn, day, settings=settings, product=product),
            analyst.write_offs(conn, day, settings=settings, product=product),
            activity.collections(conn, month_ago + timedelta(days=1), day, settings=settings, product=product),
            activity.promises(conn, month_ago + timedelta(days=1), day, settings=settings, product=product),
            activity.contacts(conn, month_ago + timedelta(days=1), day, settings=settings, product=product),
            watchlist.watchlist(conn, day, settings=settings, top=20, product=product),
        ]
    html_page.write(html_path, html_page.page(reps, title=f"Portfolio report as of {day.isoformat()}",
                                              generated=app_.utcnow()))
    render.note(f"{len(reps)} reports written to {html_path}")
