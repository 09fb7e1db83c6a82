"""`collect run-reminders`, `collect hold` / `collect release`: the nightly job and its holds."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import AsOf, FormatOpt, Now, as_of_date, day_of, moment
from collect_cli.cli.render import Format
from collect_cli.domain.compliance import HOLD_REASONS
from collect_cli.domain.policy import MESSAGING
from collect_cli.ledger.values import parse_date
from collect_cli.services.cases import place_hold
from collect_cli.services.holds import release_hold
from collect_cli.services.reminders import run_reminders

RUN_HELP = """Queue tonight's reminders and notices: the strategy per bucket, once per episode,
through the compliance gates (holds, opt-outs, frequency caps, address, template lint,
length). Safe to run twice, to miss a night, and to kill half-way.

A big book is split by loan-id range: --workers N runs N processes on this host; --part I/N
runs the I-th of N ranges, one host each (the first part to start fixes the ranges of the
day for the others). Parts run side by side but not beside a whole run; re-running a part,
or parts that overlap, queue nothing twice, and the frequency caps hold across them.

Exit codes: 0 done; 1 failure; 2 bad option; 4 another run (or the same part) holds the
lock (nothing done); 5 done, but a template failed lint and its step was suppressed.

Example (cron, 02:00): collect run-reminders && collect send
Example (two hosts):   collect run-reminders --part 1/2 --workers 2   (and --part 2/2 on the other)
"""


def run_command(
    ctx: typer.Context,
    as_of: AsOf = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be queued; write nothing.")] = False,
    now: Now = None,
    part: Annotated[str, typer.Option("--part", metavar="I/N",
                                      help="Only the I-th of N loan-id ranges (one host of N).")] = "1/1",
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Processes on this host.")] = 1,
    fmt_: FormatOpt = Format.table,
) -> None:
    app = ctx.obj
    at = moment(now, app)
    today = day_of(at, app)
    day = as_of_date(as_of, today)
    if day > today and not dry_run:
        raise typer.BadParameter(f"{day.isoformat()} is after today ({today.isoformat()}): messages state the "
                                 "figures of their day; use --dry-run to look ahead", param_hint="--as-of")
    number, parts = _part(part)
    summary = run_reminders(engine=app.engine(), settings=app.settings, as_of=day, now=at, dry_run=dry_run,
                            part=(number, parts), workers=workers)
    lo, hi = summary.loans
    rows = []
    for step, c in summary.steps.items():
        rows.append({"step": step, "queued": c.queued, "suppressed": sum(c.suppressed.values()),
                     "suppressed_by_rule": dict(sorted(c.suppressed.items())), "skipped": c.skipped})
    for findings in summary.lint.values():
        for f in findings:
            render.error(f"template failed lint: {f}")
    total = {k: sum(r[k] for r in rows) for k in ("queued", "suppressed", "skipped")}
    due = summary.cases
    for label, found in (("overdue", due.overdue), (f"due within {app.settings.cases.due_soon_days} days",
                                                    due.due_soon)):
        for v in found:  # CASE-1..3: the people who must answer hear of it every night
            render.note(f"case {v.id} {label}: {v.kind} ({v.state.rule}) on {v.loan_id}, due "
                        f"{v.state.due_on.isoformat()}, owner {v.state.owner}")
    cases = {"overdue": [v.id for v in due.overdue], "due_soon": [v.id for v in due.due_soon]}
    if fmt_ is Format.json:
        render.json_out({"as_of": day.isoformat(), "dry_run": dry_run, "part": f"{number}/{parts}",
                         "loans_from": lo, "loans_before": hi, "workers": workers, "accounts": summary.accounts,
                         "steps": rows, **total, "promises_settled": dict(summary.promises),
                         "cases": cases, "placements_recalled": summary.recalled, "exit_code": summary.exit_code})
    elif fmt_ is Format.csv:
        render.csv_out(["step", "queued", "suppressed", "suppressed_by_rule", "skipped"],
                       ([r["step"], r["queued"], r["suppressed"],
                         " ".join(f"{k}={v}" for k, v in r["suppressed_by_rule"].items()), r["skipped"]]
                        for r in rows))
    else:
        render.table(
            f"Reminders as of {day.isoformat()}" + (" (dry run: nothing written)" if dry_run else ""),
            [("step", "left"), ("queued", "right"), ("suppressed", "right"), ("by rule", "left"),
             ("skipped", "right")],
            ([r["step"], r["queued"], r["suppressed"],
              ", ".join(f"{k} {v}" for k, v in r["suppressed_by_rule"].items()), r["skipped"]] for r in rows),
            footer=["total", total["queued"], total["suppressed"], "", total["skipped"]],
        )
    scope = "" if parts == 1 else f" part {number}/{parts} (loans {lo or 'first'} to {'before ' + hi if hi else 'last'})"
    render.summary(f"run-reminders {day.isoformat()}{scope}: {summary.accounts:,} open loans, {total['queued']:,} queued, "
                   f"{total['suppressed']:,} suppressed, {total['skipped']:,} skipped"
                   + "".join(f", promises {k} {v}" for k, v in sorted(summary.promises.items()))
                   + (f", {summary.recalled} placements recalled" if summary.recalled else "")
                   + (f", cases {len(due.overdue)} overdue, {len(due.due_soon)} due soon"
                      if due.overdue or due.due_soon else "")
                   + (" (dry run)" if dry_run else ""), fmt_)
    raise typer.Exit(summary.exit_code)


def _part(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"([0-9]{1,4})/([0-9]{1,4})", value.strip())
    if not m or not 1 <= int(m[1]) <= int(m[2]) <= 1000:
        raise typer.BadParameter(f"{value!r}: I/N, with 1 <= I <= N <= 1000 (e.g. 1/2)", param_hint="--part")
    return int(m[1]), int(m[2])


Reason = Annotated[str, typer.Option("--reason", help=f"One of: {', '.join(HOLD_REASONS)}.")]


def _reason(value: str) -> str:
    if value not in HOLD_REASONS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(HOLD_REASONS)}", param_hint="--reason")
    return value


def _channel(value: str | None) -> str | None:
    if value not in (None, *MESSAGING):
        raise typer.BadParameter(" or ".join(MESSAGING), param_hint="--channel")
    return value


def hold_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="The loan to hold.")],
    reason: Reason,
    until: Annotated[str | None, typer.Option(help="Last day of the hold (default: until released).")] = None,
    channel: Annotated[str | None, typer.Option(help="opt-out only: sms, email or push (default: all three).")] = None,
    note: Annotated[str | None, typer.Option(help="Why, in the operator's words.")] = None,
    by: Annotated[str | None, typer.Option(help="Who places it (default: the login name).")] = None,
    now: Now = None,
) -> None:
    """Put a loan on hold. Each hold is an instance with its own id, released on its own.

    dispute (HOLD-1) holds this loan: no collection messages or calls until it is answered.
    A dispute, a complaint or a bureau-dispute (REC-2: out of the bureau file) opens a case
    with its deadline (CASE-1..3, `collect case`), whose close alone releases the hold.
    bankruptcy, deceased, legal and complaint (HOLD-3) hold every loan of the borrower: no
    contact at all, and the queue shows them to supervisors only. An opt-out (HOLD-2) holds
    the borrower's SMS or e-mail on every loan, and the number or e-mail on file under any
    borrower id; without --channel it is placed as two holds, SMS on the phone and e-mail on
    the address, and the ids are shown. HOLD-1 and HOLD-3 also keep the accounts out of the
    credit-bureau file and agency placements. A hold ending in the past is refused (exit 2).

    Example: collect hold L00000044 --reason dispute --note "says payment of 10-05 missing"
    """
    app = ctx.obj
    end = None
    if until is not None:
        try:
            end = parse_date(until)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--until") from None
    if channel is not None and reason != "opt-out":
        raise typer.BadParameter("only an opt-out names a channel", param_hint="--channel")
    at = moment(now, app)
    placed = place_hold(engine=app.engine(), settings=app.settings, loan_id=loan, reason=_reason(reason),
                        channel=_channel(channel), until=end, note=note, actor=(by or app.operator())[:64], now=at,
                        today=day_of(at, app))
    if placed.case is not None:
        case_id, due_on = placed.case
        render.note(f"{loan}: {reason} hold {placed.hold_id} placed on {placed.scope}, for case {case_id} (due "
                    f"{due_on.isoformat()}); it ends when the case is answered and closed (collect case)")
    elif len(placed.hold_ids) > 1:
        which = ", ".join(f"{i} ({c})" if c else str(i) for i, c in zip(placed.hold_ids, placed.channels,
                                                                         strict=True))
        render.note(f"{loan}: {reason} holds {which} placed on {placed.scope}"
                    + (f" until {end.isoformat()}" if end else "")
                    + "; release one with --id N or --channel sms|email|push")
    else:
        render.note(f"{loan}: {reason} hold {placed.hold_id} placed on {placed.scope}"
                    + (f" until {end.isoformat()}" if end else ""))


def release_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="The loan to release.")],
    reason: Annotated[str | None, typer.Option("--reason", help=f"One of: {', '.join(HOLD_REASONS)}.")] = None,
    hold_id: Annotated[int | None, typer.Option("--id", help="The hold to release (see `collect account`).")] = None,
    channel: Annotated[str | None, typer.Option(help="opt-out only: sms, email or push.")] = None,
    note: Annotated[str | None, typer.Option(help="Why, e.g. how the dispute was resolved.")] = None,
    by: Annotated[str | None, typer.Option(help="Who releases it (default: the login name).")] = None,
    now: Now = None,
) -> None:
    """Release one hold: by --id, or the only one of --reason in force. Of two disputes,
    releasing one leaves the other in force. The hold and its release both stay on record.

    Example: collect release L00000044 --reason dispute --note "payment found, borrower told"
    """
    app = ctx.obj
    if hold_id is None and reason is None:
        raise typer.BadParameter("name the hold: --id N, or --reason R when only one of them is in force",
                                 param_hint="--id")
    at = moment(now, app)
    released = release_hold(engine=app.engine(), loan_id=loan, reason=_reason(reason) if reason else None,
                            channel=_channel(channel), hold_id=hold_id, note=note, actor=(by or app.operator())[:64],
                            now=at, today=day_of(at, app))
    render.note(f"{loan}: hold {released} released")

