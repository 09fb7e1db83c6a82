"""`collect outbox` and `collect send`: what is queued, suppressed or sent, and delivery."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import FormatOpt, Now, ShowPii, moment
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt
from collect_cli.domain.pii import free_text, mask_recipient
from collect_cli.domain.strategy import CHANNELS
from collect_cli.errors import UsageError
from collect_cli.services import listings
from collect_cli.services.delivery import send_due

STATUSES = ("queued", "sent", "failed", "suppressed", "cancelled", "skipped")
FIELDS = ["id", "loan_id", "step", "episode", "channel", "status", "reason", "recipient", "as_of",
          "amount_overdue", "send_after", "attempts", "provider_ref", "template"]


def outbox_command(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help=f"Only this status: {', '.join(STATUSES)}.")] = None,
    loan: Annotated[str | None, typer.Option(help="Only this loan.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most N messages; 0 for all.")] = 200,
    body: Annotated[bool, typer.Option("--body", help="With the rendered text of each message.")] = False,
    show_pii: ShowPii = False,
    fmt_: FormatOpt = Format.table,
) -> None:
    """List messages: why did this borrower get nothing? (`--status suppressed` gives the rule).
    `collect outbox show ID` prints one message whole: its text and every event of it.

    Example: collect outbox --status suppressed --loan L00000044
    Example: collect outbox show 12
    """
    if ctx.invoked_subcommand is not None:
        return
    if status not in (None, *STATUSES):
        raise typer.BadParameter(f"one of {', '.join(STATUSES)}", param_hint="--status")
    with ctx.obj.engine().connect() as conn:
        rows = listings.messages(conn, status=status, loan_id=loan, limit=limit or None)
    free = free_text(show_pii)
    records = [{
        "id": r.id, "loan_id": r.loan_id, "step": r.step, "episode": r.episode, "channel": r.channel,
        "status": r.status, "reason": free(r.reason),
        "recipient": r.recipient if show_pii else mask_recipient(r.channel, r.recipient),
        "as_of": r.as_of.isoformat(), "amount_overdue": fmt(r.amount_overdue),
        "send_after": r.send_after.isoformat(sep=" ", timespec="minutes") + " UTC" if r.send_after else None,
        "attempts": r.attempts, "provider_ref": r.provider_ref, "template": r.template,
        **({"body": free(r.body)} if body else {}),
    } for r in rows]
    if fmt_ is not Format.table:
        render.records_out(fmt_, records, FIELDS + (["body"] if body else []))
        return
    if body:
        for r in records:
            render.panel(f"{r['id']} {r['loan_id']} {r['step']} ({r['channel']}, {r['status']})", [r["body"] or ""])
        return
    render.table(f"Outbox ({len(records)} messages)",
                 [("id", "right"), ("loan", "left"), ("step", "left"), ("channel", "left"), ("status", "left"),
                  ("send after", "left"), ("overdue", "right"), ("reason", "left")],
                 ([r["id"], r["loan_id"], r["step"], r["channel"], r["status"], r["send_after"] or "",
                   r["amount_overdue"], r["reason"] or ""] for r in records))


def send_command(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help=f"Only this channel: {', '.join(CHANNELS)}.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most N messages; 0 for all due.")] = 0,
    now: Now = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Deliver queued messages whose time has come, through each channel's sender (file spool
    by default, http or smtp as configured). The gates run again: a message for an account
    that has paid, is held, or whose amount changed is cancelled, never sent.

    --now (demos, replays) is accepted only while every sender is the file spool: a real
    gateway must never be driven by a pretend clock (WHEN-1).

    A provider that is down (5xx, timeout, no connection) leaves its messages queued for the
    next `send`; only a refusal of the message itself (4xx) marks it failed.

    Exit codes: 0 done (failures are recorded per message); 1 failure; 4 another send is running.

    Example: collect send --channel sms --limit 1000
    """
    if channel not in (None, *CHANNELS):
        raise typer.BadParameter(f"one of {', '.join(CHANNELS)}", param_hint="--channel")
    app = ctx.obj
    if now is not None and set(app.settings.delivery.senders.values()) != {"file"}:
        raise UsageError("--now is only for the file sender: real messages go by the real clock (WHEN-1)")
    at = moment(now, app) if now is not None else None
    s = send_due(engine=app.engine(), settings=app.settings, clock=(lambda: at) if at else app.utcnow,
                 channel=channel, limit=limit or None)
    outcomes = {"sent": s.sent, "failed": s.failed, "cancelled": s.cancelled, "deferred": s.deferred}
    totals = {k: sum(v.values()) for k, v in outcomes.items()} | {"waiting": s.waiting}
    rows = [[k, totals[k], ", ".join(f"{c} {n}" for c, n in sorted(v.items()))] for k, v in outcomes.items()]
    rows.append(["waiting", s.waiting, ""])
    cost = app.settings.delivery.cost_of(dict(s.billed))  # of what was sent, an SMS by its parts ([delivery.cost])
    rows.append(["cost", fmt(sum(cost.values())), ", ".join(f"{c} {fmt(n)}" for c, n in sorted(cost.items()))])
    if fmt_ is Format.json:  # per channel (cancelled: per rule), the totals the table shows, the cost
        render.json_out({**{k: dict(v) for k, v in outcomes.items()}, "waiting": s.waiting, "totals": totals,
                         "cost": {**{c: fmt(n) for c, n in cost.items()}, "total": fmt(sum(cost.values()))}})
    elif fmt_ is Format.csv:
        render.csv_out(["outcome", "count", "detail"], rows)
    else:
        labels = {"deferred": "deferred (provider down)", "waiting": "waiting for the contact window",
                  "cost": "cost of what was sent"}
        render.table("Send", [("outcome", "left"), ("count", "right"), ("detail", "left")],
                     ([labels.get(r[0], r[0]), *r[1:]] for r in rows))
    render.summary(f"send: {sum(s.sent.values()):,} sent, {sum(s.failed.values()):,} failed, "
                   f"{sum(s.cancelled.values()):,} cancelled, {sum(s.deferred.values()):,} deferred, "
                   f"{s.waiting:,} waiting", fmt_)


def show_command(
    ctx: typer.Context,
    message_id: Annotated[int, typer.Argument(metavar="ID", help="The message (see `collect outbox`).")],
    show_pii: ShowPii = False,
    fmt_: FormatOpt = Format.table,
) -> None:
    """One message whole: its rendered text, every version the nightly run wrote of it (a
    message suppressed or cancelled and queued again keeps what it said before: text,
    figures, template hash) and every event of it (queued, suppressed, cancelled, sent, each
    attempt, with the recipient and the provider's reference), with the time and who.

    Example: collect outbox show 12
    """
    with ctx.obj.engine().connect() as conn:
        m, history, versions = listings.message_record(conn, message_id)
    free = free_text(show_pii)

    def to(recipient):
        return recipient if show_pii else mask_recipient(m.channel, recipient)

    data = {"id": m.id, "loan_id": m.loan_id, "step": m.step, "episode": m.episode, "channel": m.channel,
            "status": m.status, "reason": free(m.reason), "recipient": to(m.recipient),
            "as_of": m.as_of.isoformat(), "amount_overdue": fmt(m.amount_overdue), "template": m.template,
            "template_sha256": m.template_hash, "body": free(m.body),
            # every version the nightly run wrote, oldest first: what it said each time
            "versions": [{"version": i, "at": render.utc(v.at), "recorded_at": render.utc(v.recorded_at),
                          "status": v.status, "reason": free(v.reason), "recipient": to(v.recipient),
                          "as_of": v.as_of.isoformat(), "amount_overdue": fmt(v.amount_overdue), "template": v.template,
                          "template_sha256": v.template_hash, "body": free(v.body)}
                         for i, v in enumerate(versions, 1)],
            "events": [{"at": render.utc(e.at), "recorded_at": render.utc(e.recorded_at), "status": e.status,
                        "reason": free(e.reason), "by": e.actor, "recipient": to(e.recipient),
                        "provider_ref": e.provider_ref} for e in history]}
    if fmt_ is Format.json:
        render.json_out(data)
        return
    timeline = sorted([{"recorded_at": v["recorded_at"], "at": v["at"], "what": f"version {v['version']}",
                        "status": v["status"], "reason": v["reason"], "by": "", "recipient": v["recipient"],
                        "template_sha256": v["template_sha256"], "amount_overdue": v["amount_overdue"],
                        "body": v["body"]} for v in data["versions"]]
                      + [{"recorded_at": e["recorded_at"], "at": e["at"], "what": "event", "status": e["status"],
                          "reason": e["reason"], "by": e["by"], "recipient": e["recipient"], "template_sha256": None,
                          "amount_overdue": None, "body": None} for e in data["events"]],
                      key=lambda r: (r["recorded_at"], r["what"] == "event"))
    if fmt_ is Format.csv:
        render.records_out(fmt_, timeline, list(timeline[0]) if timeline else ["recorded_at"])
        return
    render.panel(f"Message {m.id}: {m.loan_id} {m.step} ({m.channel}), {m.status}",
                 [f"episode {m.episode}   as of {data['as_of']}   overdue {data['amount_overdue']}   to "
                  f"{data['recipient'] or '-'}", f"template {m.template}   template sha256 {m.template_hash}",
                  "", data["body"] or ""])
    for v in data["versions"][:-1]:  # the latest is the message above
        render.panel(f"Version {v['version']} of {len(data['versions'])}, written {v['at']}: {v['status']}",
                     [f"as of {v['as_of']}   overdue {v['amount_overdue']}   to {v['recipient'] or '-'}   "
                      f"template sha256 {v['template_sha256']}", "", v["body"] or v["reason"] or ""])
    render.table("History", [("recorded", "left"), ("at", "left"), ("what", "left"), ("status", "left"),
                             ("reason", "left"), ("by", "left")],
                 ([r["recorded_at"], r["at"] if r["at"] != r["recorded_at"] else "", r["what"], r["status"],
                   r["reason"] or "", r["by"]] for r in timeline))


outbox_app = typer.Typer(help="The outbox: every message the nightly run made, and what became of it.\n\n"
                              "Example: collect outbox --status suppressed --loan L00000044",
                         rich_markup_mode=None)
outbox_app.callback(invoke_without_command=True)(outbox_command)
outbox_app.command("show")(show_command)
