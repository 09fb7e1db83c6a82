"""`collect links check`: a payment link as the payment page sees it."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import FormatOpt, Now, day_of, moment
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt
from collect_cli.services.links import check_link

app = typer.Typer(help="Payment links ({{ payment_link }}): check one as the payment page would.\n\n"
                       "Example: collect links check https://pay.lender.example/p/BnVDhXWkRKBChjBsbjgjmpfn",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("check")
def check_command(
    ctx: typer.Context,
    link: Annotated[str, typer.Argument(help="The link, or its token.")],
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Whether the link is one this lender signed (COLLECT_PAYMENT_SECRET) and still valid, the
    message and loan it is for, and what the engine says is owed on it today: what a payment
    page calls before it takes a payment through the link. The link holds nothing personal;
    this answers only with the loan's id and figures.

    Exit codes: 0 valid; 2 no payment page configured; 6 not genuine, expired, or no such message.

    Example: collect links check https://pay.lender.example/p/BnVDhXWkRKBChjBsbjgjmpfn --format json
    """
    app_ = ctx.obj
    at = moment(now, app_)
    c = check_link(engine=app_.engine(), settings=app_.settings, link=link, now=at, today=day_of(at, app_))
    data = {"reference": c.reference, "valid_through": c.expires_on.isoformat(), "message": c.message_id,
            "loan_id": c.loan_id, "step": c.step, "channel": c.channel, "overdue": fmt(c.overdue),
            "next_due_on": c.next_due_on.isoformat() if c.next_due_on else None,
            "next_due_amount": fmt(c.next_due_amount)}
    if fmt_ is Format.json:
        render.json_out(data)
    elif fmt_ is Format.csv:
        render.records_out(fmt_, [data], list(data))
    else:
        render.table("Payment link", [("field", "left"), ("value", "left")], ([k, v] for k, v in data.items()))
