"""Masking personal data for display: outputs show it only with --show-pii.

Names are shown: a collector greets the borrower by name; numbers identify and are masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def mask_phone(phone: str | None) -> str:
    """'+8613812345678' -> '+86 138****5678'; other E.164 numbers keep country code and last 4."""
    if not phone:
        return ""
    if phone.startswith("+86") and len(phone) == 14:
        return f"+86 {phone[3:6]}****{phone[-4:]}"
    if len(phone) <= 8:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 8) + phone[-4:]



def mask_email(email: str | None) -> str:
    """'ming.wang@example.com' -> 'm***@example.com'."""
    if not email:
        return ""
    user, at, host = email.partition("@")
    return f"{user[:1]}***{at}{host}" if at else "***"


def mask_push_id(push_id: str | None) -> str:
    """An app push address (a user id or device token): its last 4 characters."""
    return f"****{push_id[-4:]}" if push_id else ""


def mask_point(point: str | None) -> str:
    """A phone number (E.164, +digits), an e-mail or a push id (neither), masked."""
    if not point:
        return ""
    return mask_email(point) if "@" in point else mask_phone(point) if point.startswith("+") else mask_push_id(point)


# Numbers typed into free text (notes, party labels, a provider's error body): a run of nine
# or more digits (a phone, an ID, a card; not a date or a loan id), with the spaces, dashes,
# brackets and + people write between them; an ID number may end in X. E-mail addresses too.
_NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9.,])\+?\(?\d(?:[\s\-()]*\d){8,}(?:[\s\-]*[xX](?![a-zA-Z]))?")
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_text(text: str | None) -> str | None:
    """Free text with the phone, ID and card numbers and e-mails in it masked (the last four
    digits kept, as a collector says 尾号1234)."""
    if not text:
        return text

    def number(m: re.Match) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return "*" * max(len(digits) - 4, 3) + digits[-4:]

    # \d is any script's digit (full-width ones too); the text itself is left as written, and
    # the dates and times in it (2026-02-01 08:30, as records print them) are not numbers
    parts = _DATE_IN_TEXT.split(text)
    masked = "".join(part if i % 2 else _NUMBER_IN_TEXT.sub(number, part) for i, part in enumerate(parts))
    return _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), masked)


_DATE_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
                           r"(?:[ T](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d)?)?)(?![\d\-])")


def mask_address(address: str | None) -> str:
    """A postal address with only its first part shown (the city, not the door)."""
    if not address:
        return ""
    keep = min(6, max(len(address) // 3, 1))
    return address[:keep] + "****"


def mask_recipient(channel: str, recipient: str | None) -> str | None:
    """Whom a message goes to, masked as its channel's kind of address is."""
    return {"sms": mask_phone, "email": mask_email, "push": mask_push_id,
            "letter": mask_address}.get(channel, mask_text)(recipient)


def free_text(show_pii: bool) -> Callable[[str | None], str | None]:
    """How free text is shown: as typed with --show-pii, else with its numbers masked."""
    return (lambda text: text) if show_pii else mask_text
