"""`collect templates lint`: every template against the SAY-* rules of compliance.md."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jinja2 import TemplateSyntaxError, meta
from jinja2.sandbox import SecurityError

from collect_cli.domain.compliance import LEXICON
from collect_cli.domain.notice import (
    COLLECTION_PURPOSES,
    CONTEXT_DOC,
    disclosure,
    sample_context,
)
from collect_cli.domain.sms import signed, sms_length
from collect_cli.messaging.templates import (
    PURPOSES,
    TemplateProblem,
    TemplateSource,
    environment,
    render,
)

CHANNELS = ("sms", "letter", "email")
COLLECTION = set(COLLECTION_PURPOSES)

# SAY-2: what each purpose must state (variables the template must use).
REQUIRED = {
    "predue_reminder": {"creditor_name", "borrower_name", "next_due_amount", "next_due_on",
                        "payment_channels", "service_phone"},
    **{p: {"creditor_name", "borrower_name", "amount_overdue", "as_of", "payment_channels",
           "dispute_channel", "service_phone"} for p in COLLECTION},
}
# SAY-6: a notification carries no marketing.
MARKETING = ("提额", "优惠", "促销", "抽奖", "限时", "免息券", "再借", "新客", "promotion", "discount",
             "special offer", "borrow more", "new loan")
# SAY-4: identifying numbers: an 11-digit mobile, an 18-character ID, a 16-19 digit card.
_NUMBERS = re.compile(r"(?<!\d)(1[3-9]\d{9}|\d{17}[\dXx]|\d{16,19})(?!\d)")
_COMMENT = re.compile(r"\{#.*?#\}", re.S)


@dataclass(frozen=True)
class Finding:
    template: str
    line: int
    rule: str
    reason: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.rule}: {self.reason}"


def lint(src: TemplateSource, *, texts: dict, service_phone: str, max_parts: int, rules: str = "cn",
         forbidden: tuple[str, ...] = (), penalty: bool = False) -> list[Finding]:
    """Findings for one template; none means it may be sent. `texts` are the LocaleTexts."""
    found: list[Finding] = []

    def add(line: int, rule: str, reason: str) -> None:
        found.append(Finding(str(src.path), line, rule, reason))

    if src.problem:
        add(1, "TPL", src.problem)
        return found

    if src.channel not in CHANNELS:
        add(1, "META", f"declare the channel in the front matter: channel: {' | '.join(CHANNELS)}")
    if src.purpose not in PURPOSES:
        add(1, "META", f"declare the purpose in the front matter: purpose: {' | '.join(PURPOSES)}")
    try:
        ast = environment(html=src.channel == "letter").parse(src.text)
    except TemplateSyntaxError as exc:
        add(exc.lineno or 1, "TPL", f"syntax error: {exc.message}")
        return found

    body = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), src.text)  # keep line numbers
    lines = body.splitlines()
    for word in (*LEXICON, *forbidden):
        for n, line in enumerate(lines, 1):
            if word.casefold() in line.casefold():
                add(n, "SAY-1", f"forbidden wording {word!r} (threat, shaming, false authority or pressure)")
    for word in MARKETING:
        for n, line in enumerate(lines, 1):
            if word.casefold() in line.casefold():
                add(n, "SAY-6", f"marketing wording {word!r} in a notification")
    for n, line in enumerate(lines, 1):
        for m in _NUMBERS.finditer(line):
            add(n, "SAY-4", f"unmasked number {m.group(0)[:3]}…: mask phone, ID and card numbers (尾号1234)")
        if src.channel == "sms" and ("【" in line or "】" in line):
            add(n, "SAY-5", "no 【】 in an SMS body: the channel adds the 【signature】")

    used = meta.find_undeclared_variables(ast)
    unknown = sorted(used - set(CONTEXT_DOC))
    if unknown:
        add(1, "TPL", f"unknown variable(s) {', '.join(unknown)} (known: {', '.join(CONTEXT_DOC)})")
    missing = sorted(REQUIRED.get(src.purpose, set()) - used)
    if missing:
        add(1, "SAY-2", f"a {src.purpose} must state {', '.join(missing)}")
    flat = body.casefold()
    if rules == "us" and "disclosure" not in used and (src.purpose in COLLECTION or src.channel in ("sms", "email")):
        add(1, "SAY-3", "under the us rules a collection message carries the debt-collection notice and "
                        "every SMS and email an opt-out: use {{ disclosure }}")
    if src.purpose == "formal_notice" and not ("征信" in flat or "credit bureau" in flat):
        add(1, "REC-2", "a formal notice tells the borrower before adverse data goes to the credit bureau")

    if unknown or src.locale not in texts:
        return found
    t = texts[src.locale]
    sample = sample_context(locale=src.locale, creditor_name=t.creditor_name, service_phone=service_phone,
                            payment_channels=t.payment_channels, dispute_channel=t.dispute_channel,
                            disclosure=disclosure(rules=rules, locale=src.locale, purpose=src.purpose,
                                                  channel=src.channel), penalty=penalty)
    try:
        text = render(src, sample)
    except (TemplateProblem, SecurityError) as exc:
        add(1, "TPL", f"does not render: {exc}")
        return found
    for m in _NUMBERS.finditer(text):
        add(1, "SAY-4", f"renders an unmasked number {m.group(0)[:3]}…")
    if src.channel == "sms":
        parts = sms_length(signed(text, t.sms_signature, rules)).parts
        if parts > max_parts:
            add(1, "LEN", f"renders to {parts} SMS parts with the signature (limit {max_parts})")
    return found
