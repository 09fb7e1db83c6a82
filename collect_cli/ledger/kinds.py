"""The kinds of ledger file: their columns, Chinese aliases, and how a row is parsed."""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import repeat
from operator import itemgetter

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
        Column("push_id", False, ("推送ID", "APP用户ID", "app_user_id", "device_token")),
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
        Column("link_ref", False, ("付款链接", "支付链接", "链接编号", "payment_link")),
    ),
    # a reversal (冲正) names the payment it undoes and the day; loan_id and amount, when the
    # export has them, must be the payment's (a reversal is of a whole payment)
    "reversals": (
        Column("payment_id", True, ("还款流水号", "交易流水号", "原交易流水号", "原还款流水号")),
        Column("reversed_on", True, ("冲正日期", "撤销日期")),
        Column("reversal_id", False, ("冲正流水号",)),
        Column("loan_id", False, LOAN_ID.aliases),
        Column("amount", False, ("还款金额", "交易金额")),
        Column("reason", False, ("原因", "冲正原因", "事由")),
    ),
    "loan_events": (
        LOAN_ID,
        Column("event", True, ("事件", "事件类型")),
        Column("event_on", True, ("事件日期", "生效日期")),
        Column("until", False, ("结束日期", "截止日期")),
        Column("amount", False, ("核销金额", "金额")),
        Column("party", False, ("受让方", "受让人", "transferee")),
        Column("reason", False, ("原因", "冲正原因", "事由")),
    ),
}

# Files are imported in this order whatever the order of the arguments: loans first.
KIND_ORDER = ("loans", "installments", "payments", "reversals", "loan_events")

# A column only one kind has hints at the kind when no kind's required columns are all there.
_MARKERS = (("reversed_on", "reversals"), ("event", "loan_events"), ("payment_id", "payments"), ("seq", "installments"), ("borrower_id", "loans"),
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
    # ledger fields are data: a borrower name that could not stand in a message (why, or None)
    # rejects its row; None: names are imported as given (and greeted neutrally when odd)
    name_problem: Callable[[str], str | None] | None = None


class RowError(ValueError):
    """Why a row is rejected; `column` names the field, None for the row as a whole."""

    def __init__(self, column: str | None, reason: str):
        super().__init__(f"{column}: {reason}" if column else reason)
        self.column = column
        self.reason = reason


def _positive_money(text: str) -> int:
    amount = v.parse_money(text)
    if amount == 0:
        raise ValueError("is zero")
    return amount


def _optional_money(text: str) -> int:
    return v.parse_money(text) if text.strip() else 0


def _optional(parse: Callable[[str], object], text: str):
    return parse(text) if text.strip() else None


def _optional_key(text: str) -> str | None:
    return _optional(v.parse_key, text)


def _optional_positive_money(text: str) -> int | None:
    return _optional(_positive_money, text)


# What core systems call each loan event (English, and the Chinese of their exports).
EVENTS = {
    "write_off": ("write_off", "write-off", "writeoff", "charge_off", "charge-off", "核销"),
    "transfer": ("transfer", "sale", "sold", "转让", "债权转让"),
    "settle": ("settle", "settled", "early_settlement", "提前结清", "结清"),
    "pause": ("pause", "暂停", "暂停计逾"),
    "resume": ("resume", "恢复", "恢复计逾"),
}
_EVENT_NAMES = {name.casefold(): event for event, names in EVENTS.items() for name in names}


def _event(text: str) -> str:
    event = _EVENT_NAMES.get(text.strip().casefold())
    if event is None:
        raise ValueError(f"unknown event {text.strip()!r}; one of {', '.join(EVENTS)}")
    return event


def _product(text: str) -> str:
    return v.parse_optional_text(text, 64) or "default"


def _name(text: str, problem: Callable[[str], str | None] | None) -> str:
    name = v.parse_text(text, 200)
    why = problem(name) if problem else None
    if why:
        raise ValueError(f"{why}; a name that messages cannot greet (ledger.suspicious_names = \"flag\" imports "
                         "it and greets the borrower neutrally)")
    return name


# Keys are the one high-cardinality column whose common shape needs no conversion: one
# regular expression over the whole column checks that every text is what parse_key would
# return (1-64 characters, no outer spaces), else the column is parsed text by text.
_KEY_COLUMN = re.compile(r"\S(?:[^\n]{0,62}\S)?(?:\n\S(?:[^\n]{0,62}\S)?)*")


def _key_column(texts: list[str]) -> list | None:
    return texts if _KEY_COLUMN.fullmatch("\n".join(texts)) else None


# A record field: (its key in the record, the file column it comes from, how the text is parsed).
Spec = tuple[str, str, Callable[[str], object]]


def _specs(kind: str, opts: ParseOptions) -> tuple[Spec, ...]:
    day = partial(v.parse_date, date_format=opts.date_format)
    return {
        "loans": (
            ("loan_id", "loan_id", v.parse_key),
            ("borrower_id", "borrower_id", v.parse_key),
            ("name", "borrower_name", partial(_name, problem=opts.name_problem)),
            ("phone", "phone", v.parse_phone),
            ("principal", "principal", _positive_money),
            ("disbursed_on", "disbursed_on", day),
            ("annual_rate_ppm", "annual_rate", v.parse_rate),
            ("product", "product", _product),
            ("email", "email", v.parse_email),
            ("push_id", "push_id", v.parse_push_id),
            ("address", "address", partial(v.parse_optional_text, limit=1000)),
            ("locale", "locale", v.parse_locale),
            ("timezone", "timezone", v.parse_timezone),
        ),
        "installments": (
            ("loan_id", "loan_id", v.parse_key),
            ("seq", "seq", v.parse_seq),
            ("due_on", "due_on", day),
            ("principal_due", "principal_due", v.parse_money),
            ("interest_due", "interest_due", v.parse_money),
            ("fee_due", "fee_due", _optional_money),
        ),
        "payments": (
            ("payment_id", "payment_id", v.parse_key),
            ("loan_id", "loan_id", v.parse_key),
            ("paid_on", "paid_on", day),
            ("amount", "amount", _positive_money),
            ("link_ref", "link_ref", v.parse_link_ref),
        ),
        "reversals": (
            ("payment_id", "payment_id", v.parse_key),
            ("reversed_on", "reversed_on", day),
            ("reversal_id", "reversal_id", _optional_key),
            ("loan_id", "loan_id", _optional_key),
            ("amount", "amount", _optional_positive_money),
            ("reason", "reason", partial(v.parse_optional_text, limit=1000)),
        ),
        "loan_events": (
            ("loan_id", "loan_id", v.parse_key),
            ("event", "event", _event),
            ("event_on", "event_on", day),
            ("until", "until", partial(_optional, day)),
            ("amount", "amount", _optional_positive_money),
            ("party", "party", partial(v.parse_optional_text, limit=200)),
            ("reason", "reason", partial(v.parse_optional_text, limit=1000)),
        ),
    }[kind]


# The typed record of each kind: a named tuple of the record fields, in the order above.
RECORDS = {kind: namedtuple(f"{kind.title()}Record", [key for key, _, _ in _specs(kind, ParseOptions())])
           for kind in COLUMNS}


def _check_installment(rec) -> None:
    if rec.principal_due + rec.interest_due + rec.fee_due == 0:
        raise RowError("principal_due", "the installment asks for no money at all")


def _check_event(rec) -> None:
    """Each event has what it needs and nothing it cannot use."""
    needs = {"write_off": "amount", "transfer": "party", "pause": "until"}.get(rec.event)
    if needs and getattr(rec, needs) is None:
        raise RowError(needs, f"a {rec.event} event needs its {needs}")
    if rec.until is not None and rec.event != "pause":
        raise RowError("until", f"only a pause has an end date, not a {rec.event}")
    if rec.until is not None and rec.until < rec.event_on:
        raise RowError("until", f"the pause ends ({rec.until.isoformat()}) before it starts "
                                f"({rec.event_on.isoformat()})")
    if rec.amount is not None and rec.event != "write_off":
        raise RowError("amount", f"only a write-off has an amount, not a {rec.event}")
    if rec.party is not None and rec.event != "transfer":
        raise RowError("party", f"only a transfer has a party, not a {rec.event}")


_CHECKS: dict[str, Callable[[tuple], None]] = {"installments": _check_installment, "loan_events": _check_event}

# rows -> (the records of the good rows, in order; {position of a bad row: why})
BatchParser = Callable[[list[list[str]]], tuple[list[tuple], dict[int, "RowError"]]]


def batch_parser(kind: str, index: dict[str, int], width: int, opts: ParseOptions) -> BatchParser:
    """The parser of one file's rows, a batch at a time. A bad row gets the RowError naming
    its first bad column (or its stray fields beyond the header's `width`); a column the
    file lacks reads as empty.

    A regular batch (every row `width` fields, all valid) is converted column by column, each
    distinct text parsed once by the same converter; any irregular or bad row sends the batch
    row by row, which names it. Both ways give the same records."""
    plan = [(index.get(column, width), convert, column) for _, column, convert in _specs(kind, opts)]
    record_type = RECORDS[kind]
    check = _CHECKS.get(kind)
    pad = [""] * (width + 1)

    def by_columns(rows: list[list[str]]) -> list[tuple]:
        columns = []
        for pos, convert, _ in plan:
            texts = list(map(itemgetter(pos), rows)) if pos < width else [""] * len(rows)
            values = _key_column(texts) if convert is v.parse_key else None
            if values is None:
                parsed = {text: convert(text) for text in set(texts)}  # each distinct text once
                values = map(parsed.__getitem__, texts)
            columns.append(values)
        # record_type._make for each row, without a Python call per row
        records = list(map(tuple.__new__, repeat(record_type), zip(*columns, strict=True)))
        if check:
            for record in records:
                check(record)
        return records

    def by_row(fields: list[str]) -> tuple:
        if len(fields) > width and any(f.strip() for f in fields[width:]):
            raise RowError(None, f"row has {len(fields)} fields; the header has {width}")
        cells = fields if len(fields) > width else fields + pad[len(fields):]
        values = []
        for pos, convert, column in plan:
            try:
                values.append(convert(cells[pos]))
            except ValueError as exc:
                raise RowError(column, str(exc)) from None
        record = record_type._make(values)
        if check:
            check(record)
        return record

    def parse(rows: list[list[str]]) -> tuple[list[tuple], dict[int, RowError]]:
        if set(map(len, rows)) == {width}:
            try:
                return by_columns(rows), {}
            except ValueError:
                pass  # some row is bad: find it
        records, errors = [], {}
        for i, fields in enumerate(rows):
            try:
                records.append(by_row(fields))
            except RowError as exc:
                errors[i] = exc
        return records, errors

    return parse


# The key of a record within its kind: a repeated key is an update (or, for payments, a conflict).
# A loan's events are written one after another, each judged against those before it.
KEYS = {"loans": ("loan_id",), "installments": ("loan_id", "seq"), "payments": ("payment_id",),
        "reversals": ("payment_id",), "loan_events": ("loan_id",)}
