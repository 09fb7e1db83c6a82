"""`collect replies import`: borrowers' replies from the messaging gateway, each acted on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import FormatOpt, Now, moment
from collect_cli.cli.render import Format
from collect_cli.domain.pii import mask_point, mask_text
from collect_cli.services.replies import import_replies

EXIT_REJECTED = 3  # as ledger imports: done, but some rows are in the rejects file

app = typer.Typer(help="Borrowers' replies from the messaging gateway: STOP opts the number out (HOLD-2), "
                       "dispute and complaint words open a case, 已还/paid is checked against the ledger, "
                       "the rest goes into the contact log.\n\n"
                       "Example: collect replies import inbound-2026-11-21.csv",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="The gateway's inbound CSV: number, at (time), text.")],
    show_pii: Annotated[bool, typer.Option("--show-pii", help="Show numbers and texts unmasked.")] = False,
    agent: Agent = None,
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Take in the gateway's inbound messages (columns number/号码, at/时间, text/内容; UTF-8
    or GBK), matched to borrowers by the number or e-mail address they came from (WHO-4).
    A row that cannot be read, from a number no borrower has, or from a number several
    borrower ids share unconfirmed (its STOP still counts, for all of them), goes to
    FILE.rejects.csv with its line and why; the rest are taken in. Importing the same file
    again logs nothing twice.

    Exit codes: 0 done; 2 not a replies file (nothing taken in); 3 done, some rows rejected.

    Example: collect replies import inbound-2026-11-21.csv
    """
    app_ = ctx.obj
    done = import_replies(engine=app_.engine(), settings=app_.settings, path=file, agent=agent_name(app_, agent),
                          now=moment(now, app_))
    shown = (lambda t: t) if show_pii else mask_text
    rows = [{"what": what, "count": n} for what, n in sorted(done.taken.items()) if n]
    rejected = [{"line": x.line, "number": x.values.get("number", "") if show_pii else
                 mask_point(x.values.get("number", "")), "reason": shown(x.reason)} for x in done.rejected]
    if fmt_ is Format.json:
        render.json_out({"logged": done.logged, "before": done.before, "taken": dict(done.taken),
                         "paid_claims": done.claims, "rejected": rejected,
                         "rejects_file": str(done.rejects_path) if done.rejects_path else None})
    elif fmt_ is Format.csv:
        render.records_out(fmt_, rows, ["what", "count"])
    else:
        render.table("Replies", [("what", "left"), ("count", "right")], ([r["what"], r["count"]] for r in rows))
        for claim in done.claims:
            render.note(f"paid-claim {claim}")
        for x in rejected:
            render.note(f"line {x['line']}: {x['reason']}")
    render.summary(f"replies: {done.logged:,} taken in, {done.before:,} taken in before, "
                   f"{len(done.rejected):,} rejected" + (f" (see {done.rejects_path})" if done.rejects_path else ""),
                   fmt_)
    if done.rejected:
        raise typer.Exit(EXIT_REJECTED)
