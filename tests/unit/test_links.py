"""Payment links: a token only the secret makes, good through its day, with nothing personal
and nothing the content rules could read as a word or a number."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from collect_cli.domain import links

SECRET = b"a-secret-of-the-lender-32-bytes!"


def test_a_token_verifies_through_its_last_day_and_not_after():
    ref = links.reference(SECRET, "L00000044", "m1_email", "dpd-2026-10-03")
    token = links.token(SECRET, ref, date(2026, 11, 27))
    assert len(token) == links.TOKEN_CHARS == 24 and token.startswith(ref)
    assert links.verify(SECRET, token, date(2026, 11, 27)) == ref
    assert links.verify(SECRET, token, date(2026, 11, 28)) is None  # expired
    assert links.verify(b"another-secret-of-32-bytes-long!", token, date(2026, 11, 1)) is None


def test_the_reference_is_the_messages_own_and_reveals_nothing():
    ref = links.reference(SECRET, "L00000044", "m1_email", "dpd-2026-10-03")
    assert ref == links.reference(SECRET, "L00000044", "m1_email", "dpd-2026-10-03")  # rendered again: the same
    others = {links.reference(SECRET, loan, step, episode) for loan in ("L00000044", "L00000045")
              for step in ("m1_email", "m1_push") for episode in ("dpd-2026-10-03", "dpd-2026-11-03")}
    assert len(others) == 8 and "0044" not in ref


def test_a_changed_character_or_a_later_day_is_refused():
    ref = links.reference(SECRET, "L1", "s", "e")
    token = links.token(SECRET, ref, date(2026, 11, 27))
    for i in range(len(token)):
        for ch in "BZz":
            forged = token[:i] + ch + token[i + 1:]
            if forged != token:
                assert links.verify(SECRET, forged, date(2026, 11, 1)) is None
    later = links.token(b"x" * 32, ref, date(2027, 11, 27))
    assert links.verify(SECRET, ref + later[len(ref):], date(2026, 11, 1)) is None


@given(st.binary(min_size=16, max_size=64), st.text(max_size=20), st.dates(min_value=date(2020, 1, 1),
                                                                         max_value=date(2199, 1, 1)))
def test_tokens_have_no_vowel_and_no_digit(secret, loan, day):
    token = links.token(secret, links.reference(secret, loan, "s", "e"), day)
    assert not set(token) & set("AEIOUYaeiouy0123456789l") and links.verify(secret, token, day) is not None


def test_a_payment_file_may_name_the_reference_the_token_or_the_link():
    ref = links.reference(SECRET, "L1", "s", "e")
    token = links.token(SECRET, ref, date(2026, 11, 27))
    for named in (ref, token, f"https://pay.lender.example/p/{token}", f" https://pay.lender.example/p/{token}/ ",
                  f"https://pay.lender.example/p/{token}?next=/home#top"):
        assert links.ref_of(named) == ref
    for other in ("P0001", "https://pay.lender.example/p/", "https://shop.example/receipt/BCDFGHJKLMNPQ", token + "B",
                  ref[:-1]):
        assert links.ref_of(other) is None  # no link of ours: the payment stays, unattributed
