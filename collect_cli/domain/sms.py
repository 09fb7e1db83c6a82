"""SMS length: how many parts a text takes (GSM-7 or UCS-2), as compliance.md defines it."""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 basic character set (one septet each) and its extension table (two septets each).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}[]~\\|€\f")


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, characters (UTF-16 code units) for UCS-2
    parts: int


def sms_length(text: str) -> SmsLength:
    """Parts of a concatenated SMS: GSM-7 160 in one part, 153 per part when split (extension
    characters count two); otherwise UCS-2, 70 in one part, 67 per part."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2  # a character beyond the BMP takes two
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SmsLength(encoding, units, 1 if units else 0)
    return SmsLength(encoding, units, -(-units // multi))


def signed(text: str, signature: str, rules: str) -> str:
    """The SMS as the handset shows it: mainland platforms put the 【signature】 first (SAY-5)."""
    return f"【{signature}】{text}" if rules == "cn" else f"{signature}: {text}"
