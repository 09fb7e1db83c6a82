"""The three kinds of ledger file: their columns, Chinese aliases, and how a row is parsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from collect_cli.ledger import values as v


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    aliases: tuple[str, ...] = ()


LOAN_ID = Column("loan_id", True, ("借据号", "贷款编号", "合同号"))

COLUMNS: dict[str, tuple[Column, ...]] = {
    "loans": (
        LOAN_ID,
        Column("borrower_id", True, ("客户号", "客户编号")),
        Column("borrower_name", True, ("客户姓名", "姓名")),
        Column("phone", True, ("手机号", "手机号码", "联系电话")),
        Column("principal", True, ("贷款本金", "放款金额")),
        Column("disbursed_on", True, ("放款日期",)),
        Column("annual_rate", False, ("年利率",)),
        Column("product", False, ("产品",)),
        Column("email", False, ("邮箱",)),
        Column("address", False, ("地址",)),
        Column("locale", False, ("语言",)),
        Column("timezone", False, ("时区",)),
    ),
    "installments": (
        LOAN_ID,
        Column("seq", True, ("期次", "期数")),
        Column("due_on", True, ("应还日期", "到期日")),
        Column("principal_due", True, ("应还本金",)),
        Column("interest_due", True, ("应还利息",)),
        Column("fee_due", False, ("应还费用",)),
    ),
    "payments": (
        Column("payment_id", True, ("还款流水号", "交易流水号")),
        LOAN_ID,
        Column("paid_on", True, ("还款日期", "交易日期")),
        Column("amount", True, ("还款金额", "交易金额")),
    ),
}

# Files are imported in this order whatever the order of the arguments: loans first.
KIND_ORDER = ("loans", "installments", "payments")

# A column only one kind has hints at the kind when no kind's required columns are all there.
_MARKERS = (("payment_id", "payments"), ("seq", "installments"), ("borrower_id", "loans"),
            ("disbursed_on", "loans"), ("due_on", "installments"), ("principal", "loans"))


def canonical_name(header: str) -> str | None:
    """'借据号' or ' Loan_ID ' -> 'loan_id'; None for a column no kind knows."""
    h = header.replace("\ufeff", "").strip().casefold()
    return _ALIASES.get(h)


_ALIASES: dict[str, str] = {}
for _cols in COLUMNS.values():
    for _c in _cols:
        _ALIASES[_c.name] = _c.name
        for _a in _c.aliases:
            _ALIASES[_a.casefold()] = _c.name


def detect_kind(names: set[str]) -> str | None:
    """The kind whose required columns the header has (a loans file may carry a 到期日 column);
    failing that, the kind a marker column suggests, so the error can name what is missing."""
    complete = [k for k in KIND_ORDER if all(c.name in names for c in COLUMNS[k] if c.required)]
    if len(complete) == 1:
        return complete[0]
    for marker, kind in _MARKERS:
        if marker in names:
            return kind
    return None


@dataclass(frozen=True)
class ParseOptions:
    date_format: str | None = None


# Each parser takes the row as {canonical name: text} and returns the typed record, or raises
# RowError naming the column. Records are plain tuples-as-dicts ready for the store.


class RowError(ValueError):
    def __init__(self, column: str, reason: str):
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


def _field(row: dict[str, str], column: str, parse: Callable, *args):
    try:
        return parse(row.get(column, ""), *args)
    except ValueError as exc:
        raise RowError(column, str(exc)) from None


def parse_loan(row: dict[str, str], opts: ParseOptions) -> dict:
    return {
        "loan_id": _field(row, "loan_id", v.parse_key),
        "borrower_id": _field(row, "borrower_id", v.parse_key),
        "name": _field(row, "borrower_name", v.parse_text, 200),
        "phone": _field(row, "phone", v.parse_phone),
        "principal": _positive(row, "principal"),
        "disbursed_on": _field(row, "disbursed_on", v.parse_date, opts.date_format),
        "annual_rate_ppm": _field(row, "annual_rate", v.parse_rate),
        "product": _field(row, "product", v.parse_optional_text, 64) or "default",
        "email": _field(row, "email", v.parse_optional_text, 320),
        "address": _field(row, "address", v.parse_optional_text, 1000),
        "locale": _field(row, "locale", v.parse_locale),
        "timezone": _field(row, "timezone", v.parse_timezone),
    }


def parse_installment(row: dict[str, str], opts: ParseOptions) -> dict:
    rec = {
        "loan_id": _field(row, "loan_id", v.parse_key),
        "seq": _field(row, "seq", v.parse_seq),
        "due_on": _field(row, "due_on", v.parse_date, opts.date_format),
        "principal_due": _field(row, "principal_due", v.parse_money),
        "interest_due": _field(row, "interest_due", v.parse_money),
        "fee_due": _field(row, "fee_due", v.parse_money) if row.get("fee_due", "").strip() else 0,
    }
    if rec["principal_due"] + rec["interest_due"] + rec["fee_due"] == 0:
        raise RowError("principal_due", "the installment asks for no money at all")
    return rec


def parse_payment(row: dict[str, str], opts: ParseOptions) -> dict:
    return {
        "payment_id": _field(row, "payment_id", v.parse_key),
        "loan_id": _field(row, "loan_id", v.parse_key),
        "paid_on": _field(row, "paid_on", v.parse_date, opts.date_format),
        "amount": _positive(row, "amount"),
    }


def _positive(row: dict[str, str], column: str) -> int:
    amount = _field(row, column, v.parse_money)
    if amount == 0:
        raise RowError(column, "is zero")
    return amount


PARSERS = {"loans": parse_loan, "installments": parse_installment, "payments": parse_payment}
# The key of a record within its kind: a repeated key is an update (or, for payments, a conflict).
KEYS = {"loans": ("loan_id",), "installments": ("loan_id", "seq"), "payments": ("payment_id",)}
