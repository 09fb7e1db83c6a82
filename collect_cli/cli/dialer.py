"""`collect dialer export|import`: a predictive dialer's or voice robot's call list and results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import AsOf, FormatOpt, Now, as_of_date, day_of, moment
from collect_cli.cli.render import Format
from collect_cli.services.dialer import export_calls, import_results

EXIT_REJECTED = 3  # as ledger imports: done, but some rows are in the rejects file

app = typer.Typer(help="A predictive dialer or voice robot: today's call list (only who may be called now, with "
                       "the attempts and conversations left, WHEN-1..3) and its results back into the contact "
                       "log, counted toward the same caps.\n\n"
                       "Example: collect dialer export --campaign m1-robot --bucket M1 --output calls.csv",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("export")
def export_command(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Option(help="The campaign's name, recorded with the file.")],
    output: Annotated[Path, typer.Option(dir_okay=False, help="Where to write the call list (CSV, owner-only).")],
    bucket: Annotated[list[str] | None, typer.Option(help="Only accounts of this bucket (repeat for more).")] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most N accounts, most urgent first; 0 for all.")] = 0,
    as_of: AsOf = None,
    agent: Agent = None,
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Write the call list for a dialer or voice robot: the work queue's accounts the contact
    policy lets be called now (holds, each borrower's window, the day's attempts and
    conversations, shared numbers, legal stages), most urgent first, each with the attempts
    and conversations left today, the script for its segment ([dialer] scripts), and only
    what a caller needs. The list is for today: call it before call_until where each borrower is.
    The file is recorded in the audit (AGY-3).

    Example: collect dialer export --campaign m1-robot --bucket M1 --output calls.csv
    """
    app_ = ctx.obj
    at = moment(now, app_)
    day = as_of_date(as_of, day_of(at, app_))
    done = export_calls(engine=app_.engine(), settings=app_.settings, campaign=campaign, as_of=day, now=at,
                        buckets=tuple(bucket or ()), limit=limit or None, output=output, agent=agent_name(app_, agent))
    left = [{"rule": rule, "accounts": n} for rule, n in sorted(done.left_out.items())]
    if fmt_ is Format.json:
        render.json_out({"campaign": campaign, "accounts": len(done.rows), "file": str(done.path),
                         "left_out": dict(done.left_out)})
    elif fmt_ is Format.csv:
        render.records_out(fmt_, left, ["rule", "accounts"])
    else:
        render.table("Left out: may not be called now", [("rule", "left"), ("accounts", "right")],
                     ([r["rule"], r["accounts"]] for r in left))
    render.summary(f"dialer export {campaign}: {len(done.rows):,} accounts to {done.path}, "
                   f"{sum(done.left_out.values()):,} left out", fmt_)


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="The dialer's results: loan_id, at, outcome, channel, number, agent…")],
    campaign: Annotated[str | None, typer.Option(help="The campaign, recorded with each call's agent.")] = None,
    agent: Agent = None,
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Take a dialer's or voice robot's results into the contact log: every attempt and
    conversation, as `voice` or `robot`, counted toward WHEN-2 and WHEN-3 with every other
    call; promises, disputes, complaints and opt-outs as `collect log` takes them. A call the
    rules would have refused is recorded as it happened, with the breach. Bad rows go to
    FILE.rejects.csv with their line and why; importing the same file again logs nothing twice.

    Exit codes: 0 done; 2 not a results file (nothing taken in); 3 done, some rows rejected.

    Example: collect dialer import results-2026-11-21.csv --campaign m1-robot
    """
    app_ = ctx.obj
    done = import_results(engine=app_.engine(), settings=app_.settings, path=file, campaign=campaign,
                          agent=agent_name(app_, agent), now=moment(now, app_))
    rows = [{"outcome": o, "calls": n} for o, n in sorted(done.outcomes.items())]
    if fmt_ is Format.json:
        render.json_out({"calls": done.calls, "before": done.before, "outcomes": dict(done.outcomes),
                         "breaches": done.breaches, "rejected": [{"line": x.line, "reason": x.reason}
                                                                 for x in done.rejected],
                         "rejects_file": str(done.rejects_path) if done.rejects_path else None})
    elif fmt_ is Format.csv:
        render.records_out(fmt_, rows, ["outcome", "calls"])
    else:
        render.table("Calls", [("outcome", "left"), ("calls", "right")], ([r["outcome"], r["calls"]] for r in rows))
        for b in done.breaches:
            render.note(f"breach {b}")
        for x in done.rejected:
            render.note(f"line {x.line}: {x.reason}")
    render.summary(f"dialer import: {done.calls:,} calls, {done.before:,} taken in before, {len(done.breaches):,} "
                   f"breaching the rules, {len(done.rejected):,} rejected"
                   + (f" (see {done.rejects_path})" if done.rejects_path else ""), fmt_)
    if done.rejected:
        raise typer.Exit(EXIT_REJECTED)
