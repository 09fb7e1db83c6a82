"""`collect templates …`: check message templates against the compliance rules, preview one."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import AsOf, FormatOpt, as_of_date
from collect_cli.cli.render import Format
from collect_cli.errors import UsageError
from collect_cli.messaging.lint import Finding, lint_texts
from collect_cli.messaging.templates import (
    TemplateProblem,
    TemplateSet,
    read_template,
    template_files,
)
from collect_cli.services import listings
from collect_cli.services.contact_facts import BatchRecords
from collect_cli.services.messages import (
    compose,
    lint_findings,
    penalty_for,
    template_for,
)
from collect_cli.services.portfolio import episode_of, iter_accounts

app = typer.Typer(help="Message templates: compliance lint and preview.\n\nExample: collect templates lint",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("lint")
def lint_command(
    ctx: typer.Context,
    paths: Annotated[list[Path] | None, typer.Argument(
        metavar="[PATH]...", help="Template files or folders; default: every template in use.")] = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Early feedback for authors: each template rendered for a worst-case account (with nothing
    sent before, and with every earlier notice sent) and judged as the run judges every
    message: SAY-1..8 (wording however spelled, required content as values, opt-out,
    masking, 【】, marketing, legal wording on time-barred debts, statements the records must
    prove), REC-2 (the credit-bureau pre-notice) and the SMS length limit; the source is read
    line by line too. A template is judged for the purpose of the strategy step that sends it
    (its own `purpose:` only when no step does). The configured texts ([messaging]) are read
    as well. SAY-7 and SAY-8 findings are judged per message at run time and do not stop a step.

    Exit 0 when clean, 1 with findings (template, line, rule id, reason).

    Example: collect templates lint my-templates/
    """
    settings = ctx.obj.settings
    problems: list[Finding] = []
    if paths:
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise UsageError(f"{missing[0]}: no such file or folder")
        sources = []
        for path in template_files(paths):
            try:
                sources.append(read_template(path))
            except TemplateProblem as exc:
                problems.append(Finding(str(path), 1, "TPL", str(exc)))
    else:
        templates = TemplateSet(settings.messaging.template_dirs)
        sources = templates.all()
        problems = [Finding(str(exc).split(":", 1)[0], 1, "TPL", str(exc)) for exc in templates.problems]
        problems += lint_texts(settings.messaging.texts, settings.messaging.service_phone, settings.messaging.lexicon,
                               str(settings.config_path or "configuration"))
    purposes: dict[str, set[str]] = {}
    for step in settings.checked_strategy():
        purposes.setdefault(step.template, set()).add(step.purpose)
    findings = problems + [f for src in sorted(sources, key=lambda s: str(s.path))
                           for purpose in sorted(purposes.get(src.name) or {src.purpose or ""})
                           for f in lint_findings(src, settings, purpose or None)]
    records = [{"template": f.template, "line": f.line, "rule": f.rule, "reason": f.reason} for f in findings]
    if fmt_ is not Format.table:
        render.records_out(fmt_, records, ["template", "line", "rule", "reason"])
    elif findings:
        render.table(f"{len(findings)} finding(s) in {len(sources)} template(s)",
                     [("template", "left"), ("line", "right"), ("rule", "left"), ("reason", "left")],
                     ([r["template"], r["line"], r["rule"], r["reason"]] for r in records))
    else:
        render.note(f"{len(sources)} template(s), no findings")
    raise typer.Exit(1 if findings else 0)


@app.command("preview")
def preview_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Template name, e.g. m1_notice.")],
    loan: Annotated[str, typer.Option("--loan", help="The loan whose figures fill the message.")],
    as_of: AsOf = None,
    locale: Annotated[str | None, typer.Option(help="zh_CN or en; default: the borrower's language.")] = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """Render one message for a real account, as run-reminders would on that date: the text
    on stdout (with --format json or csv, with what it is and why it would be suppressed).

    Example: collect templates preview m1_notice --loan L00000044 --as-of 2026-11-20
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    if locale not in (None, "zh_CN", "en"):
        raise typer.BadParameter("zh_CN or en", param_hint="--locale")
    with app_.engine().connect() as conn:
        account = next(iter_accounts(conn, as_of=day, settings=app_.settings, loan_ids=[loan]), None)
        if account is None:
            raise UsageError(f"--loan {loan}: no such loan disbursed by {day.isoformat()}")
        payments = listings.payments_of(conn, loan, day)
        records = BatchRecords(conn, [account], on=day, now=app_.utcnow(), settings=app_.settings, payments={
            loan: payments})
        facts = records.message_facts(account, _episode(account, payments, day))
    src = template_for(TemplateSet(app_.settings.messaging.template_dirs), name, locale or account.locale)
    step = next((s for s in app_.settings.checked_strategy() if s.template == name), None)
    purpose = step.purpose if step else src.purpose or "overdue_notice"
    msg = compose(account, src, app_.settings, purpose=purpose, penalty=penalty_for(account, payments, app_.settings),
                  facts=facts)
    if fmt_ is not Format.table:
        render.records_out(fmt_, [{"template": str(src.path), "channel": src.channel, "purpose": purpose,
                                   "step": step.name if step else None, "locale": src.locale,
                                   "sms_parts": msg.sms_parts or None, "body": msg.body,
                                   "suppressed_by": "; ".join(str(r) for r in msg.refusals) or None}],
                           ["template", "channel", "purpose", "step", "locale", "sms_parts", "body", "suppressed_by"])
        return
    parts = f", {msg.sms_parts} SMS part(s) with the signature" if msg.sms_parts else ""
    render.note(f"{src.path} ({src.channel}, {purpose}{' as step ' + step.name if step else ''}, {src.locale}){parts}")
    for refusal in msg.refusals:
        render.note(f"would be suppressed: {refusal}")
    typer.echo(msg.body)


def _episode(account, payments, day) -> str | None:
    start = episode_of(account, payments, day)
    return f"dpd-{start.isoformat()}" if start else None
