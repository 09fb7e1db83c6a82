"""Masking personal data for display: outputs show it only with --show-pii.

Names are shown: a collector greets the borrower by name; numbers identify and are masked.
"""

from __future__ import annotations


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


def mask_point(point: str | None) -> str:
    """A phone number or an e-mail, masked."""
    return mask_email(point) if point and "@" in point else mask_phone(point)
