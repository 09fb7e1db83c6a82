"""Composing one message for an account: the template for the borrower's language, rendered
with the engine's figures for the as-of date and the facts of the records, then judged as
the borrower will read it (domain.content)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from collect_cli.config import Settings
from collect_cli.domain import links
from collect_cli.domain.allocation import positions_by_payment
from collect_cli.domain.compliance import Refusal
from collect_cli.domain.content import NO_FACTS, MessageFacts, judge, name_problem, readable, shows_value
from collect_cli.domain.headed import push_length
from collect_cli.domain.notice import (
    COMMAND_DEFAULTS,
    ENGINE_FIELDS,
    FIGURES,
    NEUTRAL_NAME,
    disclosure,
    engine_values,
    facts_context,
)
from collect_cli.domain.penalty import penalty_interest
from collect_cli.domain.sms import signed, sms_length
from collect_cli.domain.text_forms import fold
from collect_cli.errors import ConfigError
from collect_cli.messaging.lint import Finding, lint
from collect_cli.messaging.templates import (
    TemplateProblem,
    TemplateSet,
    TemplateSource,
    render,
)
from collect_cli.services.contact_facts import recipient_for
from collect_cli.services.portfolio import Account


@dataclass(frozen=True)
class Rendered:
    template: TemplateSource
    body: str
    recipient: str | None  # phone, email or postal address; None when the borrower has none
    sms_parts: int | None
    context: dict  # the values it was rendered from
    refusals: list[Refusal]  # the content rules the text breaks (none: it may be sent)

    @property
    def figures(self) -> str:
        """The engine's values the message was made from, as JSON: send checks them again (AMT-3)."""
        return json.dumps({k: self.context[k] for k in ENGINE_FIELDS}, ensure_ascii=False)


def template_for(templates: TemplateSet, name: str, locale: str) -> TemplateSource:
    src = templates.find(name, locale)
    if src is None:
        raise TemplateProblem(f"no template {name!r} (looked in {', '.join(map(str, templates.folders))})")
    return src


def penalty_for(account: Account, payments: list[tuple[date, int]], settings: Settings) -> int:
    """Penalty interest owed on the as-of date, when the loan's product charges one (AMT-2
    capped, in `account.rule`): accrued, less what payments paid of it (under the
    penalty-first rule) and what penalty waivers in effect by then took off. `payments`: the
    loan's payments by then, a reversal negative (a by-payment rule uses the account's own)."""
    if not account.rule.penalty_rate or account.state.dpd == 0:
        return 0
    return penalty_position(account, payments)[0]


def penalty_position(account: Account, payments: list[tuple[date, int]]) -> tuple[int, int]:
    """(owed, paid) of the loan's penalty interest on its date, as `penalty_for` says."""
    rate = account.rule.penalty_rate
    if not rate:
        return 0, 0
    schedule = [p.installment for p in account.state.positions]
    if account.payments is None:  # the sum paid on each day decides; nothing pays penalty
        accrued, paid = penalty_interest(schedule, payments, account.state.as_of, rate), 0
    else:
        _, allocated = positions_by_payment(schedule, account.payments, account.state.as_of, account.rule,
                                            account.penalty_off)
        accrued, paid = allocated.penalty_accrued, allocated.penalty_paid
    owed = max(0, accrued - paid - account.penalty_waived) if account.state.dpd else 0
    return owed, paid


def salutation(name: str, locale: str, settings: Settings) -> str:
    """The borrower's name, or a neutral salutation when the name on file holds what a name
    does not (digits, brackets, a web address, words of the lexicon): ledger fields are data."""
    if name_problem(name, settings.messaging.lexicon) is None:
        return name
    return NEUTRAL_NAME.get(locale, NEUTRAL_NAME["zh_CN"])


def texts_for(settings: Settings, locale: str):
    return settings.messaging.texts.get(locale) or settings.messaging.texts["zh_CN"]


def context_for(account: Account, locale: str, channel: str, settings: Settings, *, purpose: str, engine: dict,
                facts: MessageFacts) -> dict:
    """The values a message of `purpose` is rendered from: the engine's (`engine_values`), the
    configuration's, the ledger's name and address, and the facts of the records."""
    texts = texts_for(settings, locale)
    transfer = account.state.standing.transfer
    return {
        "borrower_name": salutation(account.borrower_name, locale, settings),
        **engine,
        "creditor_name": texts.creditor_name,
        "service_phone": settings.messaging.service_phone,
        "payment_channels": texts.payment_channels,
        "dispute_channel": texts.dispute_channel,
        "address": account.address or "",
        "disclosure": disclosure(rules=settings.contact.rules, locale=locale, purpose=purpose, channel=channel),
        "transfer_party": transfer[1] if transfer else "",  # XFER-1: the new creditor, and from when
        "transfer_on": transfer[0].isoformat() if transfer else "",
        "payment_link": "",  # a message's own (payment_link): the nightly run's
        **facts_context(facts),
        **COMMAND_DEFAULTS,  # a case answer or a placement notice brings its own values (services.one_off)
    }


def judged(body: str, *, channel: str, locale: str, purpose: str, context: dict, settings: Settings,
           facts: MessageFacts) -> list[Refusal]:
    """The content rules `body` breaks, read as the recipient will read it."""
    return judge(body, channel=channel, purpose=purpose, rules=settings.contact.rules, context=context,
                 lexicon=settings.messaging.lexicon, facts=facts,
                 signature=texts_for(settings, locale).sms_signature if channel == "sms" else None)


def compose(account: Account, src: TemplateSource, settings: Settings, *, purpose: str, penalty: int = 0,
            facts: MessageFacts = NO_FACTS, extra: dict | None = None) -> Rendered:
    """Render and judge; TemplateProblem when the template cannot render. `extra`: values of
    the message's own (a case's answer)."""
    channel = src.channel or "sms"
    context = {**context_for(account, src.locale, channel, settings, purpose=purpose,
                             engine=engine_values(account.loan_id, account.state, penalty), facts=facts),
               **(extra or {})}
    body = render(src, context)
    refusals = judged(body, channel=channel, locale=src.locale, purpose=purpose, context=context, settings=settings,
                      facts=facts)
    signature = texts_for(settings, src.locale).sms_signature
    parts = sms_length(signed(body, signature, settings.contact.rules)).parts if channel == "sms" else None
    return Rendered(src, body, recipient_for(channel, account), parts, context, refusals)


def too_long(msg: Rendered, settings: Settings) -> Refusal | None:
    """LEN: an SMS past its parts, a push past what the phone shows: blocked, never cut."""
    m = settings.messaging
    if msg.sms_parts and msg.sms_parts > m.sms_max_parts:
        return Refusal("LEN", f"{msg.sms_parts} SMS parts (limit {m.sms_max_parts})")
    if msg.template.channel == "push" and (problem := push_length(msg.body, m.push_title_max, m.push_text_max)):
        return Refusal("LEN", problem)
    return None


def stated_figures(body: str, channel: str, figures: dict) -> dict:
    """Of the engine's figures a message was made from, those its text states."""
    seen = fold(readable(body, channel)[0])
    return {k: v for k, v in figures.items() if k in FIGURES and v not in ("", "0.00") and shows_value(seen, v, k)}


def link_secret(settings: Settings) -> bytes | None:
    """The secret payment links are signed with; None when no payment page is configured."""
    m = settings.messaging
    if not m.payment_url:
        return None
    if not m.payment_secret or len(m.payment_secret) < 16:
        raise ConfigError("messaging.payment_url: payment links are signed with the secret in "
                          "COLLECT_PAYMENT_SECRET (at least 16 characters), which is not set")
    return m.payment_secret


def payment_link(settings: Settings, *, loan_id: str, step: str, episode: str,
                 as_of: date) -> tuple[str, str | None]:
    """(the link, its reference) of a message, good through `as_of` + payment_link_days;
    ("", None) when no payment page is configured."""
    secret = link_secret(settings)
    if secret is None:
        return "", None
    ref = links.reference(secret, loan_id, step, episode)
    until = as_of + timedelta(days=settings.messaging.payment_link_days)
    return f"{settings.messaging.payment_url}/{links.token(secret, ref, until)}", ref


def lint_findings(src: TemplateSource, settings: Settings, purpose: str | None = None) -> list[Finding]:
    m = settings.messaging
    # the longest link a message may carry, so that its length is checked too
    link = f"{m.payment_url}/{links.ALPHABET[0] * links.TOKEN_CHARS}" if m.payment_url else ""
    return lint(src, texts=m.texts, service_phone=m.service_phone, max_parts=m.sms_max_parts,
                push_limits=(m.push_title_max, m.push_text_max), payment_link=link,
                rules=settings.contact.rules, lexicon=m.lexicon, penalty=bool(settings.penalty.products),
                purpose=purpose)
