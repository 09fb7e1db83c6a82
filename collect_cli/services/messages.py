"""Composing one message for an account: the template for the borrower's language, rendered
with the engine's figures for the as-of date."""

from __future__ import annotations

from dataclasses import dataclass

from collect_cli.config import Settings
from collect_cli.domain.notice import disclosure, message_context
from collect_cli.domain.sms import signed, sms_length
from collect_cli.messaging.lint import Finding, lint
from collect_cli.messaging.templates import TemplateProblem, TemplateSet, TemplateSource, render
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


def compose(account: Account, src: TemplateSource, settings: Settings) -> Rendered:
    texts = settings.messaging.texts.get(src.locale) or settings.messaging.texts["zh_CN"]
    rules = settings.contact.rules
    context = message_context(
        loan_id=account.loan_id, borrower_name=account.borrower_name, address=account.address,
        state=account.state, creditor_name=texts.creditor_name, service_phone=settings.messaging.service_phone,
        payment_channels=texts.payment_channels, dispute_channel=texts.dispute_channel,
        disclosure=disclosure(rules=rules, locale=src.locale, purpose=src.purpose, channel=src.channel),
    )
    body = render(src, context)
    parts = sms_length(signed(body, texts.sms_signature, rules)).parts if src.channel == "sms" else None
    return Rendered(src, body, recipient_for(src.channel or "", account), parts)


def lint_findings(src: TemplateSource, settings: Settings) -> list[Finding]:
    m = settings.messaging
    return lint(src, texts=m.texts, service_phone=m.service_phone, max_parts=m.sms_max_parts,
                rules=settings.contact.rules, forbidden=m.forbidden_words)
