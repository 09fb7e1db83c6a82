"""Money: `Decimal` at the edges, integer minor units (fen, cents) inside. Never float."""

from __future__ import annotations

from decimal import Decimal

CENT = Decimal("0.01")


def to_minor(amount: Decimal) -> int:
    """Decimal currency units -> integer minor units; more than 2 decimals is an error."""
    if amount != amount.quantize(CENT):
        raise ValueError(f"{amount} has more than 2 decimals")
    return int(amount.scaleb(2))


def from_minor(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2).quantize(CENT)


def fmt(minor: int) -> str:
    """'1234.50': the form used in JSON and CSV output."""
    return f"{from_minor(minor):.2f}"


def fmt_grouped(minor: int) -> str:
    """'1,234.50': the form used in tables for people."""
    return f"{from_minor(minor):,.2f}"
