"""Hostile ledger files: each ends with its rows rejected with a reason, or a clean `Error:`
for the file (exit 2) with nothing of it written; never a traceback, never half a file."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import Cli

LOANS = "loan_id,borrower_id,borrower_name,phone,principal,disbursed_on\nL1,B1,王小明,13812345678,1000,2026-01-01\n"
PAY_HEAD = "payment_id,loan_id,paid_on,amount\n"
GOOD = "P0,L1,2026-02-01,10\n"


def outcome(cli: Cli, path) -> tuple[int, str, dict | None]:
    r = cli("import", str(path), "--format", "json")
    assert "Traceback" not in r.stdout + r.stderr
    assert r.exit_code in (0, 2, 3), r.stderr
    if r.exit_code == 2:
        assert r.stderr.startswith("Error: ") or "Error: " in r.stderr
    return r.exit_code, r.stderr, (json.loads(r.stdout)[0] if r.stdout.strip() else None)


def payments_in(db: str) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return sorted(con.execute("SELECT payment_id, loan_id, paid_on, amount FROM payments"))


@pytest.fixture
def store(tmp_path) -> Cli:
    cli = Cli(str(tmp_path / "collect.db"))
    (tmp_path / "loans.csv").write_text(LOANS, encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv")).exit_code == 0
    return cli


# (what, the payments file's bytes, "file" for an unusable file or the reason of the bad row)
ROWS = [
    ("impossible date", "P1,L1,2026-02-30,10\n", "paid_on: '2026-02-30' is not a real date"),
    ("year zero", "P1,L1,0000-00-00,10\n", "paid_on: '0000-00-00' is not a real date"),
    ("1e309", "P1,L1,2026-02-01,1e309\n", "amount: '1e309' is not an amount"),
    ("NaN", "P1,L1,2026-02-01,NaN\n", "amount: 'NaN' is not an amount"),
    ("minus zero", "P1,L1,2026-02-01,-0\n", "amount: '-0' is negative"),
    ("German separators", 'P1,L1,2026-02-01,"1.234,56"\n', "amount: '1.234,56' is not an amount"),
    ("French separators", 'P1,L1,2026-02-01,"1 234,56"\n', "amount: '1 234,56' is not an amount"),
    ("Swiss separators", "P1,L1,2026-02-01,1'234.56\n", "amount: \"1'234.56\" is not an amount"),
    ("formula", "=cmd|' /C calc'!A0,L1,2026-02-01,10\n", None),  # a key like any other: stored as text
    ("formula amount", "P1,L1,2026-02-01,=1+2\n", "amount: '=1+2' is not an amount"),
    ("quote and newline in a field", 'P1,"L\n1",2026-02-01,10\n', "loan_id: unknown loan 'L\\n1'"),
    ("a BOM in the middle", "P1,\ufeffL1,2026-02-01,10\n", "loan_id: unknown loan '\\ufeffL1'"),
    ("too many fields", "P1,L1,2026-02-01,10,extra\n", "row has 5 fields; the header has 4"),
    ("10 MB field", "P1,L1,2026-02-01," + "9" * 10_000_000 + "\n", "amount: '9999999999999999999999999999999999999999'"
     "… (10,000,000 characters) is too large"),
    ("10 MB key", "P" + "1" * 10_000_000 + ",L1,2026-02-01,10\n", "payment_id: is longer than 64 characters"),
]


@pytest.mark.parametrize("what,row,reason", ROWS, ids=[r[0] for r in ROWS])
def test_a_hostile_row_is_rejected_with_its_reason_and_the_good_rows_go_in(store, tmp_path, what, row, reason):
    f = tmp_path / "pay.csv"
    f.write_text(PAY_HEAD + GOOD + row, encoding="utf-8")
    code, err, summary = outcome(store, f)
    if reason is None:  # a text a spreadsheet would run: stored as text, and the rejects/exports are Excel-safe
        assert code == 0 and summary["inserted"] == 2
        return
    assert code == 3 and summary["inserted"] == 1 and summary["rejected"] == 1
    with (tmp_path / "pay.rejects.csv").open(encoding="utf-8", newline="") as fh:
        (rejected,) = csv.DictReader(fh)
    assert reason in rejected["reason"] and rejected["line"] == "3"
    assert payments_in(store.db) == [("P0", "L1", "2026-02-01", 1000)]


FILES = [
    ("empty", b"", "no header row"),
    ("binary garbage", bytes(range(256)) * 40, "binary data"),
    ("truncated in a character", (PAY_HEAD + "P0,L1,2026-02-01,10\nP1,王小明,2026-02-01,10 王").encode()[:-1],
     "ends in the middle of a character"),
    ("truncated in a quote", (PAY_HEAD + GOOD + 'P1,"L1').encode(), "broken CSV"),
    ("mixed encodings", (PAY_HEAD + "P0,王小明,2026-02-01,10\n").encode() + "P1,李四,2026-02-01,10\n".encode("gbk"),
     "mixed encodings"),
    ("UTF-16", (PAY_HEAD + GOOD).encode("utf-16"), "UTF-16"),
    ("duplicate headers", b"payment_id,loan_id,paid_on,amount,amount\nP0,L1,2026-02-01,10,10\n", "both mean amount"),
    ("a million columns", (",".join(f"c{i}" for i in range(1_000_000)) + "\n").encode(), "unknown kind"),
    ("a million columns and the real ones",
     (PAY_HEAD.strip() + "," + ",".join(f"c{i}" for i in range(1_000_000)) + "\n" + GOOD).encode(), None),
]


@pytest.mark.parametrize("what,content,error", FILES, ids=[f[0] for f in FILES])
def test_a_hostile_file_is_refused_whole_or_imported_whole(store, tmp_path, what, content, error):
    f = tmp_path / "pay.csv"
    f.write_bytes(content)
    code, err, summary = outcome(store, f)
    if error is None:
        assert code == 0 and payments_in(store.db) == [("P0", "L1", "2026-02-01", 1000)]
        return
    assert code == 2 and error in err and str(f) in err
    assert payments_in(store.db) == []
    assert not (tmp_path / "pay.rejects.csv").exists()


cells = st.one_of(st.text(max_size=12), st.sampled_from(["P1", "L1", "2026-02-01", "10", "", '"', "\n", "\r", ",",
                                                        "\ufeff", "\x00", "１２３", "1e309", "-0"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cells, max_size=6).map(lambda c: ",".join(c)), max_size=6),
       encoding=st.sampled_from(["utf-8", "gb18030", "utf-8-sig"]), cut=st.integers(0, 40))
def test_any_file_is_imported_whole_or_not_at_all(store, tmp_path, rows, encoding, cut):
    """Whatever the bytes: the rows written are exactly the ones the summary counts as
    inserted (a file refused writes none), and no traceback."""
    text = PAY_HEAD + GOOD + "\n".join(rows)
    try:
        content = text.encode(encoding)
    except UnicodeEncodeError:
        content = text.encode("utf-8")
    content = content[: len(content) - cut] if cut else content
    f = tmp_path / "pay.csv"
    f.write_bytes(content)
    before = payments_in(store.db)
    code, err, summary = outcome(store, f)
    after = payments_in(store.db)
    if code == 2:
        assert after == before
    else:
        assert len(after) - len(before) == summary["inserted"]


# Issue 13, item 5: a file mixing encodings is refused with the line where it changes, in both
# directions, never stored as mojibake.
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强晓红玉兰春梅海燕丹萍鹏辉玲"
_NAMES = st.builds(lambda s, g: s + g, st.sampled_from(_SURNAMES), st.text(_GIVEN, min_size=1, max_size=2))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(names=["王丹", "肖伟", "王丹"], odd=0, main="gb18030")  # 肖伟 in GB18030 is valid UTF-8 ("Фΰ")
@given(names=st.lists(_NAMES, min_size=2, max_size=8), odd=st.integers(min_value=0), main=st.sampled_from(
    ["gb18030", "utf-8"]))
def test_a_file_mixing_encodings_is_refused_at_the_line_where_it_changes(tmp_path_factory, names, odd, main):
    other = "utf-8" if main == "gb18030" else "gb18030"
    at = odd % len(names)
    folder = tmp_path_factory.mktemp("mixed")
    rows = [f"L{i},B{i},{name},138{i:08d},300,2025-12-31\n".encode(other if i == at else main)
            for i, name in enumerate(names)]
    (folder / "loans.csv").write_bytes(b"loan_id,borrower_id,borrower_name,phone,principal,disbursed_on\n"
                                       + b"".join(rows))
    cli = Cli(str(folder / "c.db"))
    r = cli("import", str(folder / "loans.csv"))
    assert r.exit_code == 2 and "mixed encodings" in r.stderr, (main, at, names, r.stderr)
    changed = int(r.stderr.split("line ")[1].split(":")[0])
    assert changed in (at + 2, 3)  # the odd row, or the row after it when the odd one came first
    with sqlite3.connect(folder / "c.db") as con:
        assert con.execute("SELECT count(*) FROM borrowers").fetchone()[0] == 0  # nothing stored
