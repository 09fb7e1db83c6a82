"""People other than the borrower (WHO-2, WHO-5), and whether the borrower is reachable.

A contact person is a record, not a label typed on a call: their refusal binds to the
person, found by a name key or by their number, so "张伟 ", "张 伟", "張偉", "Zhang Wei" and
the same number under another name are one person (over-matching a refused person is the
safe direction). Every contact person has a number with its source, never a phone's
address book (WHO-3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from collect_cli.domain.policy import CALLS
from collect_cli.domain.text_forms import compact, fold, is_cjk, leet_forms, letters_of, phonetic

# relation -> whether the person is related to the debt (WHO-5): a guarantor is liable for it
# (WHO-1: collection messages may go to them where the contract allows); a spouse may be,
# where the loan paid household costs. Everyone else is unrelated: only asked to help reach
# the borrower, never told of the debt.
RELATIONS = {
    "guarantor": "debt-related",
    "spouse": "debt-related",
    "parent": "unrelated",
    "child": "unrelated",
    "sibling": "unrelated",
    "relative": "unrelated",
    "friend": "unrelated",
    "colleague": "unrelated",
    "employer": "unrelated",
    "emergency": "unrelated",
    "other": "unrelated",
}
UNREACHABLE_DAYS = 3  # default: no connected contact with the borrower for this many days


def name_key(name: str) -> str:
    """A name as refusals find it: case, width, spaces and punctuation do not matter, and a name
    is keyed by how it sounds, so traditional and simplified characters (張偉, 张伟) and the
    pinyin typed in Latin letters ("Zhang Wei") are one key."""
    return phonetic(compact(name))[:100]


# Where a number must never come from (WHO-3): a phone's address book, in any spelling. Judged
# on the folded, compacted, leetspeak and sound forms of the source as written.
ADDRESS_BOOK_WORDS = (
    "通讯录", "通讯簿", "通信录", "电话簿", "电话本", "手机联系人", "手机通讯", "联系人列表", "通讯名单", "手机名单",
    "addressbook", "phonebook", "contactsapp", "contactapp", "phonecontact", "mobilecontact", "devicecontact",
    "simcontact", "contactlist", "contactbook", "addresslist", "addrbook",
)


def _source_forms(text: str) -> set[str]:
    folded = fold(text)
    compacted = letters_of(folded)
    return {compacted, phonetic(compacted), *leet_forms(folded), *(phonetic(f) for f in leet_forms(folded))}


def address_book_word(source: str) -> str | None:
    """The address-book word a number's source names (WHO-3), None when it names none."""
    forms = _source_forms(source)
    for word in ADDRESS_BOOK_WORDS:
        c = compact(word)
        sounds = {c, phonetic(c)} if any(is_cjk(ch) for ch in c) else {c}
        if any(w in f for f in forms for w in sounds):
            return word
    return None


@dataclass(frozen=True)
class Attempt:
    """A contact with the borrower themselves (not a third party): when and how it ended."""

    at: datetime  # UTC
    connected: bool
    wrong_number: bool


def borrower_attempt(*, at: datetime, channel: str, inbound: bool, connected: bool, wrong_number: bool,
                     number: str | None, phone: str | None) -> Attempt | None:
    """What one contact with the borrower says of their reachability (WHO-5), None when it says
    nothing. Anything the borrower initiated (a reply, a call they made, a visit to us) and any
    connected contact is contact with them. A failed attempt counts only for a call to the
    number on file now (a call to an old number says nothing of the new one) or a visit; a
    wrong number only for a call to the number on file now (a visit finds no wrong number)."""
    if inbound or connected:
        return Attempt(at, True, False)
    if channel in CALLS:
        if not number or number != phone:
            return None
        return Attempt(at, False, wrong_number)
    if channel == "visit":
        return Attempt(at, False, False)
    return None


def unreachable(attempts: Iterable[Attempt], now: datetime, days: int) -> tuple[bool, str]:
    """Whether the borrower is recorded unreachable at `now` (WHO-5), and why (or why not).

    Never while the borrower was reached (or got in touch) within the last `days` days: that
    comes first. Then unreachable: the latest attempt found a wrong number on the number on
    file, or attempts have failed for at least `days` days without a connected contact since.
    Never without attempts on record. `attempts` are those borrower_attempt keeps."""
    history = sorted((a for a in attempts if a.at <= now), key=lambda a: a.at)
    if not history:
        return False, "no attempt to reach the borrower is on record"
    connected = [a for a in history if a.connected]
    since = connected[-1].at if connected else None
    if since is not None and now - since < timedelta(days=days):
        return False, f"the borrower was reached {_ago(now - since)} ago"
    last = history[-1]
    if last.wrong_number:
        return True, "the latest call to the number on file found a wrong number"
    failing = [a for a in history if not a.connected and (since is None or a.at > since)]
    if not failing:
        return False, "no failed attempt since the borrower was last reached"
    if now - failing[0].at < timedelta(days=days):
        return False, f"attempts have failed for {_ago(now - failing[0].at)}, less than {days} days"
    return True, f"no connected contact for {days} days or more while trying since {failing[0].at:%Y-%m-%d}"


def _ago(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} day(s)" if hours >= 24 else f"{hours} hour(s)"
