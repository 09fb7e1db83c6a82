"""Masking free text: numbers of nine digits and more (phones, IDs, cards), e-mails; the
dates and times records print are left as they are."""

import pytest

from collect_cli.domain.pii import mask_text


@pytest.mark.parametrize("text,shown", [
    ("call 13800138000 after six", "call *******8000 after six"),
    ("tel +86 138-0013-8000", "tel *********8000"),
    ("id 11010519491231002X", "id *************1002"),
    ("late entry, it happened at 2026-02-01 08:30 UTC", "late entry, it happened at 2026-02-01 08:30 UTC"),
    ("opt-out at 2026-11-20 10:05 UTC", "opt-out at 2026-11-20 10:05 UTC"),
    ("on 2026-02-01 from 13800138000", "on 2026-02-01 from *******8000"),
    ("2026-02-01-13800138000", "***************8000"),  # not a date: a date is not glued to digits
    ("mail li@example.com", "mail l***@example.com"),
])
def test_free_text_is_masked_except_its_dates(text, shown):
    assert mask_text(text) == shown
