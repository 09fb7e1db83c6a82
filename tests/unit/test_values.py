"""Parsing of ledger values: the formats ledger.md accepts and the ones it rejects."""

from datetime import date

import pytest

from collect_cli.ledger.values import (
    parse_date,
    parse_locale,
    parse_money,
    parse_phone,
    parse_rate,
    parse_seq,
    parse_timezone,
)


@pytest.mark.parametrize("text", ["2026-01-31", "2026/01/31", "20260131", "2026年1月31日",
                                  "2026-1-31", " 2026/01/31 00:00:00 ", "２０２６－０１－３１"])
def test_dates_always_accepted(text):
    assert parse_date(text) == date(2026, 1, 31)


@pytest.mark.parametrize("text,why", [("31/01/2026", "ambiguous"), ("01/31/2026", "ambiguous"),
                                      ("2026-02-30", "not a real date"), ("0000-00-00", "not a real date"),
                                      ("", "empty"), ("yesterday", "not a date")])
def test_dates_rejected(text, why):
    with pytest.raises(ValueError, match=why):
        parse_date(text)


def test_date_format_resolves_the_ambiguity():
    assert parse_date("31/01/2026", "dmy") == date(2026, 1, 31)
    assert parse_date("01/31/2026", "mdy") == date(2026, 1, 31)
    assert parse_date("31.01.2026", "%d.%m.%Y") == date(2026, 1, 31)


@pytest.mark.parametrize("text,minor", [("1234.5", 123450), ("1,234.50", 123450), ("¥1,234.50", 123450),
                                        ("￥1234.50", 123450), ("0.01", 1), ("12", 1200),
                                        ("１２３", 12300), ("100元", 10000)])
def test_money_accepted(text, minor):
    assert parse_money(text) == minor


@pytest.mark.parametrize("text,why", [("-5", "negative"), ("-0", "negative"), ("1.234", "2 decimals"),
                                      ("1e309", "not an amount"), ("NaN", "not an amount"),
                                      ("1,23", "not an amount"), ("1.234,50", "not an amount"),
                                      ("", "empty"), ("9" * 20, "too large")])
def test_money_rejected(text, why):
    with pytest.raises(ValueError, match=why):
        parse_money(text)


@pytest.mark.parametrize("text", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678",
                                  "8613812345678", "008613812345678"])
def test_mainland_mobiles_normalised(text):
    assert parse_phone(text) == "+8613812345678"


def test_other_numbers_must_be_e164():
    assert parse_phone("+1 415 555 0100") == "+14155550100"
    for bad in ("12345", "010-12345678", "+86 10 1234 5678", "4155550100"):
        with pytest.raises(ValueError):
            parse_phone(bad)


def test_rates():
    assert parse_rate("0.1825") == 182500
    assert parse_rate("18.25%") == 182500
    assert parse_rate("") is None
    with pytest.raises(ValueError, match="percentage"):
        parse_rate("18.25")


def test_seq_locale_timezone():
    assert parse_seq("3") == 3
    for bad in ("0", "-1", "1.5", "x"):
        with pytest.raises(ValueError):
            parse_seq(bad)
    assert parse_locale("") == "zh_CN" and parse_locale("EN") == "en"
    with pytest.raises(ValueError):
        parse_locale("fr")
    assert parse_timezone("Asia/Urumqi") == "Asia/Urumqi" and parse_timezone("") is None
    with pytest.raises(ValueError):
        parse_timezone("Mars/Olympus")
