"""Tests of the demo portfolio generator (collect_cli.services.demo)."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

from collect_cli.services.demo import DemoFiles, generate_portfolio

AS_OF = date(2026, 11, 20)
N = 2000


def _fen(text: str) -> int:
    """'1234.50', '1,234.50', '¥1,234.50' -> 123450 (test-local parser, no float)."""
    value = Decimal(text.replace("¥", "").replace(",", ""))
    assert value == value.quantize(Decimal("0.01")), text
    return int(value * 100)


def _rows(path: Path, encoding: str) -> list[dict[str, str]]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return generate_portfolio(tmp_path_factory.mktemp("demo"), loans=N, as_of=AS_OF)


@pytest.fixture(scope="module")
def book(portfolio: DemoFiles):
    loans = _rows(portfolio.loans, "gb18030")
    installments = _rows(portfolio.installments, "utf-8-sig")
    payments = _rows(portfolio.payments, "utf-8")
    return loans, installments, payments


def _bytes(files: DemoFiles) -> tuple[bytes, bytes, bytes]:
    return files.loans.read_bytes(), files.installments.read_bytes(), files.payments.read_bytes()


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    a = generate_portfolio(tmp_path / "a", loans=300, seed=7, as_of=AS_OF)
    b = generate_portfolio(tmp_path / "b", loans=300, seed=7, as_of=AS_OF)
    assert _bytes(a) == _bytes(b)
    assert a.counts == b.counts


def test_different_seed_gives_different_files(tmp_path: Path) -> None:
    a = generate_portfolio(tmp_path / "a", loans=300, seed=7, as_of=AS_OF)
    b = generate_portfolio(tmp_path / "b", loans=300, seed=8, as_of=AS_OF)
    ba, bb = _bytes(a), _bytes(b)
    assert ba[0] != bb[0] and ba[1] != bb[1] and ba[2] != bb[2]


def test_creates_out_dir_and_counts_rows(tmp_path: Path) -> None:
    files = generate_portfolio(tmp_path / "x" / "y", loans=50, as_of=AS_OF)
    assert [files.loans.name, files.installments.name, files.payments.name] == [
        "loans.csv", "installments.csv", "payments.csv"]
    for kind, path, enc in (("loans", files.loans, "gb18030"), ("installments", files.installments, "utf-8-sig"),
                            ("payments", files.payments, "utf-8")):
        assert len(_rows(path, enc)) == files.counts[kind]
    assert files.counts["loans"] == 50


def test_encodings_and_headers(portfolio: DemoFiles) -> None:
    loans_raw = portfolio.loans.read_bytes()
    assert not loans_raw.startswith(b"\xef\xbb\xbf")
    loans_text = loans_raw.decode("gb18030")
    assert loans_text.splitlines()[0] == "借据号,客户号,客户姓名,手机号,贷款本金,放款日期,年利率,产品,邮箱,地址,语言,时区,推送ID"
    with pytest.raises(UnicodeDecodeError):  # really GB18030, not UTF-8 that happens to decode
        loans_raw.decode("utf-8")

    inst_raw = portfolio.installments.read_bytes()
    assert inst_raw.startswith(b"\xef\xbb\xbf")
    assert inst_raw.decode("utf-8-sig").splitlines()[0] == "借据号,期次,应还日期,应还本金,应还利息,应还费用"

    pay_raw = portfolio.payments.read_bytes()
    assert not pay_raw.startswith(b"\xef\xbb\xbf")
    header = pay_raw.split(b"\r\n", 1)[0]
    assert header.decode("ascii") == "payment_id,loan_id,paid_on,amount"
    pay_raw.decode("utf-8")


def test_loan_fields(book) -> None:
    loans, _, _ = book
    assert len(loans) == N
    ids = [r["借据号"] for r in loans]
    assert len(set(ids)) == N and ids[0] == "L00000001"
    by_borrower: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in loans:
        by_borrower[r["客户号"]].append(r)
        assert 100_000 <= _fen(r["贷款本金"]) <= 5_000_000
        assert Decimal("0.0730") <= Decimal(r["年利率"]) <= Decimal("0.2400")
        assert r["产品"] in {"消费贷", "现金贷", "分期购"}
        assert r["语言"] in {"zh_CN", "en"}
        assert r["时区"] in {"", "Asia/Urumqi", "America/Los_Angeles"}
        assert AS_OF - relativedelta(months=24) <= date.fromisoformat(r["放款日期"]) < AS_OF
    multi = sum(1 for v in by_borrower.values() if len(v) > 1)
    assert 0.08 < multi / len(by_borrower) < 0.25
    assert max(len(v) for v in by_borrower.values()) <= 3

    phones = {}
    for borrower, rows in by_borrower.items():
        assert len({(r["客户姓名"], r["手机号"]) for r in rows}) == 1  # one borrower, one identity
        digits = "".join(c for c in rows[0]["手机号"] if c.isdigit())
        digits = digits[2:] if len(digits) == 13 and digits.startswith("86") else digits
        assert len(digits) == 11 and digits[0] == "1", rows[0]["手机号"]
        phones[digits] = borrower
    assert len(phones) == len(by_borrower)  # unique per borrower
    n = len(by_borrower)
    assert any("-" in r["手机号"] for r in loans) and any("+86" in r["手机号"] for r in loans)
    assert 0.5 < sum(1 for v in by_borrower.values() if v[0]["邮箱"]) / n < 0.7
    assert 0.7 < sum(1 for v in by_borrower.values() if v[0]["地址"]) / n < 0.9
    assert any(v[0]["语言"] == "en" for v in by_borrower.values())


def test_schedule_sums_to_principal_and_due_dates_clamp(book) -> None:
    loans, installments, _ = book
    principal = {r["借据号"]: _fen(r["贷款本金"]) for r in loans}
    disbursed = {r["借据号"]: date.fromisoformat(r["放款日期"]) for r in loans}
    sums: dict[str, int] = defaultdict(int)
    seqs: dict[str, list[int]] = defaultdict(list)
    for r in installments:
        loan = r["借据号"]
        assert loan in principal
        seq = int(r["期次"])
        sums[loan] += _fen(r["应还本金"])
        seqs[loan].append(seq)
        assert date.fromisoformat(r["应还日期"]) == disbursed[loan] + relativedelta(months=seq)
        assert _fen(r["应还利息"]) >= 0 and _fen(r["应还费用"]) >= 0
    assert sums == principal
    assert {len(s) for s in seqs.values()} <= {3, 6, 12, 24}
    assert all(s == list(range(1, len(s) + 1)) for s in seqs.values())
    with_fee = {r["借据号"] for r in installments if _fen(r["应还费用"]) > 0}
    assert 0.1 < len(with_fee) / N < 0.3


def test_month_arithmetic_matches_relativedelta() -> None:
    from collect_cli.services.demo import _add_months

    assert _add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert _add_months(date(2026, 1, 31), 2) == date(2026, 3, 31)
    assert _add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    start = date(2024, 1, 1)
    for offset in range(0, 1100, 3):
        d = start + relativedelta(days=offset)
        for months in (1, 2, 11, 12, 13, 24):
            assert _add_months(d, months) == d + relativedelta(months=months)


def test_payments_valid(book) -> None:
    loans, _, payments = book
    loan_ids = {r["借据号"] for r in loans}
    disbursed = {r["借据号"]: date.fromisoformat(r["放款日期"]) for r in loans}
    ids = [r["payment_id"] for r in payments]
    assert len(set(ids)) == len(ids) and ids[0] == "P000000001"
    for r in payments:
        assert r["loan_id"] in loan_ids
        paid_on = date.fromisoformat(r["paid_on"])
        assert disbursed[r["loan_id"]] < paid_on <= AS_OF
        assert _fen(r["amount"]) > 0
    assert any(r["amount"].startswith("¥") for r in payments)
    assert any("," in r["amount"] and not r["amount"].startswith("¥") for r in payments)


def _dpd_book(book) -> tuple[dict[str, int | None], dict[str, int]]:
    """DPD per loan as of AS_OF (None for a fully paid loan), and the credit per loan."""
    loans, installments, payments = book
    paid: dict[str, int] = defaultdict(int)
    for r in payments:
        if date.fromisoformat(r["paid_on"]) <= AS_OF:
            paid[r["loan_id"]] += _fen(r["amount"])
    schedule: dict[str, list[tuple[date, int, int]]] = defaultdict(list)
    for r in installments:
        total = _fen(r["应还本金"]) + _fen(r["应还利息"]) + _fen(r["应还费用"])
        schedule[r["借据号"]].append((date.fromisoformat(r["应还日期"]), int(r["期次"]), total))
    dpd: dict[str, int | None] = {}
    credit: dict[str, int] = {}
    for loan in (r["借据号"] for r in loans):
        left = paid[loan]
        oldest_unpaid_overdue = None
        unpaid_any = False
        for due_on, _seq, total in sorted(schedule[loan]):
            applied = min(left, total)
            left -= applied
            if applied < total:
                unpaid_any = True
                if due_on < AS_OF and oldest_unpaid_overdue is None:
                    oldest_unpaid_overdue = due_on
        credit[loan] = left
        if not unpaid_any:
            dpd[loan] = None
        else:
            dpd[loan] = (AS_OF - oldest_unpaid_overdue).days if oldest_unpaid_overdue else 0
    return dpd, credit


def test_portfolio_reaches_every_bucket(book) -> None:
    dpd, credit = _dpd_book(book)
    open_dpd = [d for d in dpd.values() if d is not None]
    closed = sum(1 for d in dpd.values() if d is None)
    assert closed > 0
    ranges = {"current": (0, 0), "1-30": (1, 30), "31-60": (31, 60), "61-90": (61, 90),
              "91-180": (91, 180), ">180": (181, 10**6)}
    counts = {name: sum(1 for d in open_dpd if lo <= d <= hi) for name, (lo, hi) in ranges.items()}
    assert all(counts.values()), counts
    assert max(open_dpd) > 400
    delinquent = sum(1 for d in open_dpd if d > 0)
    assert 0.05 <= delinquent / len(open_dpd) <= 0.30, (delinquent, len(open_dpd))
    assert any(c > 0 for c in credit.values())  # overpayers leave a credit
