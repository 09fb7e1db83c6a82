"""Parsing one CSV value: dates, money, phones, rates. Each parser raises ValueError(reason)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collect_cli.domain.links import ref_of
from collect_cli.domain.money import to_minor

_YMD = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", re.ASCII)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII)
_CHINESE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日", re.ASCII)
_AMBIGUOUS = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}", re.ASCII)
# Exports from Excel and core systems often add a midnight time to dates; it is dropped.
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", re.ASCII)

def _shown(text: str) -> str:
    """The text as a reason quotes it: repr, cut short, so a 10 MB field makes a short reason."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + f"… ({len(text):,} characters)"


def _fold(text: str) -> str:
    """Full-width forms (１２３, ￥, ，) as Chinese exports sometimes write them -> ASCII."""
    return unicodedata.normalize("NFKC", text).strip()


DATE_FORMAT_SHORTCUTS = {"dmy": "%d/%m/%Y", "mdy": "%m/%d/%Y"}


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_PLAIN_MONEY = re.compile(r"(\d{1,13})(?:\.(\d{1,2}))?", re.ASCII)


def parse_date(text: str, date_format: str | None = None) -> date:
    if _ISO.fullmatch(text):  # the common case, a third of the cost of the general path
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{_shown(text)} is not a real date") from None
    s = _TIME_SUFFIX.sub("", _fold(text))
    if not s:
        raise ValueError("is empty")
    for pattern in (_YMD, _COMPACT, _CHINESE):
        m = pattern.fullmatch(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            try:
                return date(y, mo, d)
            except ValueError:
                raise ValueError(f"{_shown(text)} is not a real date") from None
    if date_format:
        try:
            return datetime.strptime(s, DATE_FORMAT_SHORTCUTS.get(date_format, date_format)).date()
        except ValueError:
            raise ValueError(f"{_shown(text)} does not match --date-format {date_format}") from None
    if _AMBIGUOUS.fullmatch(s):
        raise ValueError(
            f"{_shown(text)} is ambiguous (day-first or month-first?); use --date-format dmy or mdy"
        )
    raise ValueError(f"{_shown(text)} is not a date (use 2026-01-31, 2026/01/31, 20260131 or 2026年1月31日)")


_MONEY = re.compile(r"(\d{1,3}(,\d{3})+|\d+)(\.\d+)?", re.ASCII)


def parse_money(text: str) -> int:
    """'¥1,234.50' -> 123450 (minor units). Negative, malformed or over 2 decimals: ValueError."""
    plain = _PLAIN_MONEY.fullmatch(text)
    if plain:  # the common case '1234.5', in integers
        whole, cents = plain.groups()
        return int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    s = _fold(text)
    if not s:
        raise ValueError("is empty")
    body = s.removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
    if body.startswith("-") or body.startswith("("):
        raise ValueError(f"{_shown(text)} is negative")
    if body.startswith("+"):
        body = body[1:]
    if not _MONEY.fullmatch(body):
        raise ValueError(f"{_shown(text)} is not an amount (use 1234.50, 1,234.50 or ¥1,234.50)")
    whole, _, cents = body.replace(",", "").partition(".")
    if len(whole.lstrip("0")) > 13:
        raise ValueError(f"{_shown(text)} is too large")
    try:
        return to_minor(Decimal(body.replace(",", "")))
    except ValueError:
        raise ValueError(f"{_shown(text)} has more than 2 decimals") from None


_RATE = re.compile(r"\d{1,3}(\.\d{1,8})?|\.\d{1,8}", re.ASCII)
_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_E164 = re.compile(r"\+[1-9]\d{6,14}", re.ASCII)
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


def parse_phone(text: str) -> str:
    """Mainland 11-digit mobiles become +86…; anything else must already be E.164."""
    s = _PHONE_SEPARATORS.sub("", _fold(text))
    if not s:
        raise ValueError("is empty")
    if s.startswith("00"):
        s = "+" + s[2:]
    national = s.removeprefix("+86") if s.startswith("+86") else s.removeprefix("86") if len(s) == 13 else s
    if _MAINLAND_MOBILE.fullmatch(national):
        return "+86" + national
    if s.startswith("+86"):
        raise ValueError(f"{_shown(text)} is not a mainland mobile number (11 digits starting with 1)")
    if _E164.fullmatch(s):
        return s
    raise ValueError(f"{_shown(text)} is neither an 11-digit mainland mobile nor an E.164 number (+country…)")


def email_point(text: str) -> str:
    """An e-mail as opt-outs, caps and shared-number checks compare it (WHO-4): NFKC, outer
    spaces stripped, lower case, so " B6@Example.COM " and "b6@example.com" are one address."""
    return unicodedata.normalize("NFKC", text).strip().lower()


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def parse_email(text: str) -> str | None:
    """An e-mail address, normalised (email_point); empty -> None. It must look like
    local@domain: one @, something either side, no spaces or invisible characters."""
    s = email_point(text)
    if not s:
        return None
    if len(s) > 320:
        raise ValueError("is longer than 320 characters")
    if not _EMAIL.fullmatch(s) or any(unicodedata.category(ch)[0] in "CZ" for ch in s) or s.endswith(".") \
            or ".." in s.partition("@")[2] or s.partition("@")[2].startswith("."):
        raise ValueError(f"{_shown(text)} is not an e-mail address (local@domain, no spaces)")
    return s


_PUSH_ID = re.compile(r"[A-Za-z0-9._:\-]{1,256}")


def parse_push_id(text: str) -> str | None:
    """The app's push address (an app user id or a device token, as the push gateway knows
    it): letters, digits and . _ : -, up to 256; empty -> None."""
    s = text.strip()
    if not s:
        return None
    if not _PUSH_ID.fullmatch(s):
        raise ValueError(f"{_shown(text)} is not a push id (letters, digits and . _ : -, up to 256)")
    return s


def parse_link_ref(text: str) -> str | None:
    """The payment link a payment came through: its reference, its token or the whole link
    (domain.links). Anything else is None: the payment is a fact of the ledger whatever its
    link column says, and a value that is no link of ours only leaves it unattributed."""
    return ref_of(text)


def parse_point(text: str) -> str:
    """Where a person is reached, as the records keep it: an e-mail (it has an @), a phone
    number, else an app push id."""
    if "@" in text:
        return email_point(text)
    try:
        return parse_phone(text)
    except ValueError as phone:
        try:
            push_id = parse_push_id(text)
        except ValueError:
            raise phone from None
        if push_id is None:
            raise ValueError("is empty") from None
        return push_id


def parse_rate(text: str) -> int | None:
    """'0.1825' or '18.25%' -> 182500 parts per million; empty -> None."""
    s = text.strip()
    if not s:
        return None
    percent = s.endswith("%")
    number = s.rstrip("%").strip()
    if not _RATE.fullmatch(number):
        raise ValueError(f"{_shown(text)} is not a rate (use 0.1825 or 18.25%)")
    value = Decimal(number)
    if percent:
        value /= 100
    elif value > 1:
        raise ValueError(f"{_shown(text)} looks like a percentage; write 0.1825 or 18.25%")
    if value > 1:
        raise ValueError(f"{_shown(text)} is above 100 % a year")
    ppm = value * 1_000_000
    if ppm != ppm.to_integral_value():
        raise ValueError(f"{_shown(text)} has more precision than 0.0001 %")
    return int(ppm)


def parse_seq(text: str) -> int:
    s = text.strip()
    if not s.isascii() or not s.isdigit() or not 0 < int(s) < 10_000:
        raise ValueError(f"{_shown(text)} is not an installment number (1, 2, 3 …)")
    return int(s)


def parse_key(text: str) -> str:
    s = text.strip()
    if not s:
        raise ValueError("is empty")
    if len(s) > 64:
        raise ValueError("is longer than 64 characters")
    return s


_LOCALES = {"zh_cn": "zh_CN", "zh-cn": "zh_CN", "zh": "zh_CN", "en": "en", "en_us": "en", "en-us": "en"}


def parse_locale(text: str) -> str:
    s = text.strip().lower()
    if not s:
        return "zh_CN"
    try:
        return _LOCALES[s]
    except KeyError:
        raise ValueError(f"{_shown(text)} is not a supported language (zh_CN or en)") from None


def parse_timezone(text: str) -> str | None:
    s = text.strip()
    if not s:
        return None
    try:
        ZoneInfo(s)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{_shown(text)} is not an IANA time zone such as Asia/Shanghai") from None
    return s


def parse_text(text: str, limit: int) -> str:
    s = text.strip()
    if not s:
        raise ValueError("is empty")
    if len(s) > limit:
        raise ValueError(f"is longer than {limit} characters")
    return s


def parse_optional_text(text: str, limit: int) -> str | None:
    s = text.strip()
    if len(s) > limit:
        raise ValueError(f"is longer than {limit} characters")
    return s or None
