"""`collect templates lint`: early feedback for template authors, before any message is sent.

What a message may say is decided on its rendered text at run and send time
(domain.content). The linter gives the same verdicts sooner: it reads the template source
line by line for wording, numbers and brackets, renders the template for a worst-case
account (once with nothing sent yet, once with every earlier notice sent) and judges those
texts as the run would, for the purpose of the strategy step that sends it. It also reads the
configured texts ([messaging] and [messaging.<locale>]), which every message carries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SecurityError

from collect_cli.domain.content import (
    COMMAND_PURPOSES,
    NO_FACTS,
    PURPOSES,
    MessageFacts,
    judge,
    long_number,
)
from collect_cli.domain.headed import push_length
from collect_cli.domain.lexicon import Forms, Lexicon
from collect_cli.domain.notice import CONTEXT_DOC, disclosure, sample_context
from collect_cli.domain.sms import signed, sms_length
from collect_cli.domain.strategy import CHANNELS
from collect_cli.messaging.templates import (
    TemplateProblem,
    TemplateSource,
    environment,
    render,
)

# Findings that the run judges per message, on the facts of each account (a claim that a
# letter was sent is true for some accounts; legal wording is wrong only on time-barred
# debts): reported by `templates lint`, but they do not stop a step.
PER_MESSAGE = ("SAY-7", "SAY-8")
TEMPLATE_PURPOSES = (*PURPOSES, *COMMAND_PURPOSES)  # a case's answer, a placement notice: sent by commands
_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_BRACKETS = re.compile(r"[【】〖〗]")
# the worst case with every earlier notice sent, so that statements made under those facts are checked too
_ALL_SENT = MessageFacts(letter_sent_on=date(2026, 12, 20), formal_letter_sent_on=date(2026, 12, 20),
                         final_letter_sent_on=date(2026, 12, 21), notices_sent=3, placed_with="Acme Recoveries")


@dataclass(frozen=True)
class Finding:
    template: str
    line: int
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.rule}: {self.reason}"


def lint(src: TemplateSource, *, texts: dict, service_phone: str, max_parts: int, rules: str = "cn",
         lexicon: Lexicon | None = None, penalty: bool = False, purpose: str | None = None,
         push_limits: tuple[int, int] = (40, 350), payment_link: str = "") -> list[Finding]:
    """Findings for one template, as the step of `purpose` sends it (default: the purpose its
    front matter declares); none means its messages may be sent. `texts` are the LocaleTexts;
    `payment_link`: the longest link a message may carry (empty: none configured)."""
    lexicon = lexicon or Lexicon.of()
    purpose = purpose or src.purpose
    found: list[Finding] = []

    def add(line: int, rule: str, reason: str) -> None:
        found.append(Finding(str(src.path), line, rule, reason))

    if src.problem:
        add(1, "TPL", src.problem)
        return found
    if src.channel not in CHANNELS:
        add(1, "META", f"declare the channel in the front matter: channel: {' | '.join(CHANNELS)}")
    if purpose not in TEMPLATE_PURPOSES:
        add(1, "META", f"declare the purpose in the front matter: purpose: {' | '.join(TEMPLATE_PURPOSES)}")
    try:
        ast = environment(html=src.channel == "letter").parse(src.text)
    except TemplateSyntaxError as exc:
        add(exc.lineno or 1, "TPL", f"syntax error: {exc.message}")
        return found

    body = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), src.text)  # keep line numbers
    for n, line in enumerate(body.splitlines(), 1):
        for term in lexicon.find(Forms.of(line), rules=("SAY-1", "SAY-6")):
            why = "marketing wording" if term.rule == "SAY-6" else "forbidden wording (threat, shaming, false " \
                                                                   "authority or pressure)"
            add(n, term.rule, f"{why} {term.word!r}")
        number = long_number(line)
        if number:
            add(n, "SAY-4", f"unmasked number {number[:3]}…: mask phone, ID and card numbers (尾号1234)")
        if src.channel == "sms" and _BRACKETS.search(line):
            add(n, "SAY-5", "no 【】 in an SMS body: the channel adds the 【signature】")

    unknown = sorted(meta.find_undeclared_variables(ast) - set(CONTEXT_DOC))
    if unknown:
        add(1, "TPL", f"unknown variable(s) {', '.join(unknown)} (known: {', '.join(CONTEXT_DOC)})")
    if unknown or src.locale not in texts or purpose not in TEMPLATE_PURPOSES or src.channel not in CHANNELS:
        return found
    t = texts[src.locale]
    seen: set[tuple[str, str]] = set()
    for facts in (NO_FACTS, _ALL_SENT):
        sample = sample_context(locale=src.locale, creditor_name=t.creditor_name, service_phone=service_phone,
                                payment_channels=t.payment_channels, dispute_channel=t.dispute_channel,
                                disclosure=disclosure(rules=rules, locale=src.locale, purpose=purpose,
                                                      channel=src.channel), penalty=penalty, facts=facts,
                                payment_link=payment_link)
        try:
            text = render(src, sample)
        except (TemplateProblem, SecurityError) as exc:
            add(1, "TPL", f"does not render: {exc}")
            return found
        when = "with nothing sent before" if facts is NO_FACTS else "with earlier notices sent"
        for refusal in judge(text, channel=src.channel, purpose=purpose, rules=rules, context=sample,
                             lexicon=lexicon, facts=facts, signature=t.sms_signature if src.channel == "sms" else None):
            if (refusal.rule, refusal.reason) not in seen:
                seen.add((refusal.rule, refusal.reason))
                add(1, refusal.rule, f"renders, {when}, a text that breaks it: {refusal.reason}")
        too_long = None
        if src.channel == "sms":
            parts = sms_length(signed(text, t.sms_signature, rules)).parts
            if parts > max_parts:
                too_long = f"renders to {parts} SMS parts with the signature (limit {max_parts})"
        elif src.channel == "push":
            too_long = push_length(text, *push_limits)
        if too_long and ("LEN", "") not in seen:
            seen.add(("LEN", ""))
            add(1, "LEN", too_long if src.channel == "sms" else f"renders a text that is too long: {too_long}")
    return found


def lint_texts(texts: dict, service_phone: str, lexicon: Lexicon, where: str) -> list[Finding]:
    """The configured texts every message carries: the same wording and number rules."""
    found = []
    items = [("messaging.service_phone", service_phone)]
    for locale, t in texts.items():
        items += [(f"messaging.{locale}.{k}", getattr(t, k)) for k in
                  ("creditor_name", "payment_channels", "dispute_channel", "sms_signature")]
    for key, value in items:
        for term in lexicon.find(Forms.of(value), rules=("SAY-1", "SAY-6")):
            found.append(Finding(where, 1, term.rule, f"{key}: {term.word!r} ({term.category})"))
        if key != "messaging.service_phone" and long_number(value):
            found.append(Finding(where, 1, "SAY-4", f"{key}: a full number; mask it (尾号1234)"))
    return found
