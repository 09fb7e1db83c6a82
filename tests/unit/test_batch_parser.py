"""The import's batch parser: the column-by-column fast path gives exactly what parsing each
row on its own gives, for good rows and bad."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from collect_cli.ledger.kinds import COLUMNS, ParseOptions, batch_parser

HEADER = {kind: [c.name for c in cols] for kind, cols in COLUMNS.items()}

# texts that are valid for some column, nearly valid, or odd (spaces, full-width, newlines)
cell = st.one_of(
    st.sampled_from(["L1", " L1", "L1 ", "L\n1", "", " ", "x" * 64, "x" * 65, "1", "12", "0", "00",
                     "0.00", "12.5", "1,234.50", "¥1,031.00", "-5", "１２３", "2026-02-30", "2026-01-31",
                     "2026/1/31", "20260131", "31/01/2026", "13812345678", "+8613812345678", "0.18",
                     "18%", "zh_CN", "en", "Asia/Shanghai", "Mars/Base", "王小明", "default"]),
    st.text(max_size=8),
)


KEY = ["L1", "L2", " L1", "L2 ", "x" * 64, "王"]
AMOUNT = ["1,000.00", "500", "0.01", "¥2000", "10.5"]
DAY = ["2026-01-31", "2026/1/5", "20260131"]
VALID = {  # valid texts per column, some needing the converter (outer spaces, separators)
    "loan_id": KEY, "borrower_id": KEY, "payment_id": KEY, "borrower_name": ["王小明", " Ann "],
    "phone": ["13812345678", "+86 139 0000 1111"], "principal": AMOUNT, "amount": AMOUNT,
    "disbursed_on": DAY, "due_on": DAY, "paid_on": DAY, "annual_rate": ["", "0.18", "18%"],
    "product": ["", "消费贷"], "email": ["", "a@b.c"], "address": ["", "北京"], "locale": ["", "en", "zh_CN"],
    "timezone": ["", "Asia/Shanghai"], "seq": ["1", "12"], "principal_due": ["0", "10.5", "1,234.56"],
    "interest_due": ["0", "7"], "fee_due": ["", "1"],
    "reversed_on": DAY, "reversal_id": ["", "R1"], "reason": ["", "退票"], "event": ["pause", "核销", "transfer"],
    "event_on": DAY, "until": ["", "2026-03-01"], "party": ["", "资产管理公司"],
    "push_id": ["", "u0001", "device:AbC-12_3.x"], "link_ref": ["", "BCDFGHJKLM", "https://pay.example/p/BCDFGHJKLM"],
}


def one_by_one(parse, rows):
    """Each row parsed in a batch of its own with an irregular row, which forces row by row."""
    records, errors = [], {}
    for i, row in enumerate(rows):
        got, bad = parse([row, ["short"]])
        if 0 in bad:
            errors[i] = str(bad[0])
        else:
            records.append(got[0])
    return records, errors


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(COLUMNS)), st.data())
def test_columns_and_rows_agree(kind, data):
    width = len(HEADER[kind])
    mostly_valid = st.tuples(*(st.one_of(st.sampled_from(VALID[name]), cell) if data.draw(st.booleans())
                               else st.sampled_from(VALID[name]) for name in HEADER[kind])).map(list)
    rows = data.draw(st.lists(mostly_valid, min_size=1, max_size=12))
    parse = batch_parser(kind, {name: i for i, name in enumerate(HEADER[kind])}, width, ParseOptions())
    records, errors = parse(rows)
    want_records, want_errors = one_by_one(parse, rows)
    assert records == want_records
    assert {i: str(e) for i, e in errors.items()} == want_errors


def test_a_clean_batch_takes_the_fast_path_and_converts_every_column():
    parse = batch_parser("installments", {n: i for i, n in enumerate(HEADER["installments"])}, 6, ParseOptions())
    rows = [["L1", "1", "2026-02-01", "1,000.50", "10", ""], ["L1", "2", "2026/03/01", "¥500", "5.5", "1"]]
    records, errors = parse(rows)
    assert errors == {}
    assert [tuple(r) for r in records] == [
        ("L1", 1, date(2026, 2, 1), 100050, 1000, 0),
        ("L1", 2, date(2026, 3, 1), 50000, 550, 100),
    ]
