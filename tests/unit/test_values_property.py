"""Whatever text a ledger cell holds, a parser either returns a value or raises ValueError."""

from hypothesis import given, settings
from hypothesis import strategies as st

from collect_cli.ledger import values as v

cells = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[-+¥￥]?[0-9０-９,.eE]{0,40}%?元?", fullmatch=True),
    st.from_regex(r"[0-9]{1,4}[-/年.][0-9]{1,3}[-/月.][0-9]{1,4}日?( [0-9:]{0,8})?", fullmatch=True),
)
PARSERS = [v.parse_date, v.parse_money, v.parse_phone, v.parse_rate, v.parse_seq, v.parse_locale,
           v.parse_timezone, v.parse_key]


@settings(max_examples=400, deadline=None)
@given(cells)
def test_parsers_fail_only_with_value_error(text):
    for parse in PARSERS:
        try:
            parse(text)
        except ValueError:
            pass


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False))
def test_money_round_trips_through_its_text_forms(amount):
    minor = int(amount * 100)
    assert v.parse_money(f"{amount:.2f}") == minor
    assert v.parse_money(f"¥{amount:,.2f}") == minor
