"""Masking personal data for display: outputs show it only with --show-pii."""

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


def mask_name(name: str) -> str:
    """'王小明' -> '王**': enough for a collector to greet, not enough to identify."""
    if not name:
        return ""
    if name.isascii():
        first, _, rest = name.partition(" ")
        return f"{first} {rest[:1]}." if rest else first[:1] + "*" * (len(first) - 1)
    return name[0] + "*" * (len(name) - 1)
