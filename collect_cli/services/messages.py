"""Composing one message for an account: the template for the borrower's language, rendered
with the engine's figures for the as-of date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from collect_cli.config import Settings
from collect_cli.domain.notice import disclosure, message_context
from collect_cli.domain.penalty import capped_daily_rate, penalty_interest
from collect_cli.domain.sms import signed, sms_length
from collect_cli.messaging.lint import Finding, lint
from collect_cli.messaging.templates import (
    TemplateProblem,
    TemplateSet,
    TemplateSource,
    render,
)
from collect_cli.services.portfolio import Account


@dataclass(frozen=True)
class Rendered:
    template: TemplateSource
    body: str
    recipient: str | None  # phone, email or postal address; None when the borrower has none
    sms_parts: int | None


def recipient_for(channel: str, account: Account) -> str | None:
    return {"sms": account.phone, "email": account.email, "letter": account.address}.get(channel) or None


def template_for(templates: TemplateSet, name: str, locale: str) -> TemplateSource:
    src = templates.find(name, locale)
    if src is None:
        raise TemplateProblem(f"no template {name!r} (looked in {', '.join(map(str, templates.folders))})")
    return src


def penalty_for(account: Account, payments: list[tuple[date, int]], settings: Settings) -> int:
    """Penalty interest accrued by the as-of date, when the loan's product charges one (AMT-2 capped)."""
    configured = settings.penalty.products.get(account.product)
    if configured is None or account.state.dpd == 0:
        return 0
    lpr = None
    if settings.penalty.lpr:
        lpr = settings.penalty.lpr_on(account.disbursed_on)
        if lpr is None:
            return 0  # disbursed before the LPR table starts: the all-in cap cannot be checked
    rate = capped_daily_rate(configured, account.annual_rate_ppm, lpr=lpr, lpr_multiple=settings.penalty.lpr_multiple)
    schedule = [p.installment for p in account.state.positions]
    return penalty_interest(schedule, payments, account.state.as_of, rate)


def compose(account: Account, src: TemplateSource, settings: Settings, penalty: int = 0) -> Rendered:
    texts = settings.messaging.texts.get(src.locale) or settings.messaging.texts["zh_CN"]
    rules = settings.contact.rules
    context = message_context(
        loan_id=account.loan_id, borrower_name=account.borrower_name, address=account.address,
        state=account.state, creditor_name=texts.creditor_name, service_phone=settings.messaging.service_phone,
        payment_channels=texts.payment_channels, dispute_channel=texts.dispute_channel,
        disclosure=disclosure(rules=rules, locale=src.locale, purpose=src.purpose, channel=src.channel),
        penalty=penalty,
    )
    body = render(src, context)
    parts = sms_length(signed(body, texts.sms_signature, rules)).parts if src.channel == "sms" else None
    return Rendered(src, body, recipient_for(src.channel or "", account), parts)


def lint_findings(src: TemplateSource, settings: Settings) -> list[Finding]:
    m = settings.messaging
    return lint(src, texts=m.texts, service_phone=m.service_phone, max_parts=m.sms_max_parts,
                rules=settings.contact.rules, forbidden=m.forbidden_words, penalty=bool(settings.penalty.products))
