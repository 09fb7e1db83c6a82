"""Payment links: a message's link to the lender's payment page carries a signed, expiring
token and nothing personal.

The token is the message's reference (keyed on the loan, the step and the episode, so a
message rendered again gets the same one), the last day it may be used, and an HMAC of the
two with the lender's secret: the payment page checks the signature and the day with the
same secret, and reports the reference with each payment it takes, which attributes the
payment to the message (the collections report). Written in consonants only, so no word,
no sound and no long number can appear in it for the content rules to misread.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, timedelta

ALPHABET = "BCDFGHJKLMNPQRSTVWXZbcdfghjkmnpqrstvwxz"  # no vowels, no digits (and no l beside L)
EPOCH = date(2020, 1, 1)
REF_BYTES, MAC_BYTES = 6, 6  # 48 bits each: the payment page checks every token it is shown


def _encode(data: bytes, width: int) -> str:
    n, out = int.from_bytes(data, "big"), []
    for _ in range(width):
        n, r = divmod(n, len(ALPHABET))
        out.append(ALPHABET[r])
    return "".join(reversed(out))


def _decode(text: str) -> int:
    n = 0
    for ch in text:
        n = n * len(ALPHABET) + ALPHABET.index(ch)
    return n


def _width(nbytes: int) -> int:
    """Characters enough for `nbytes` bytes."""
    width, capacity = 0, 1
    while capacity < 256 ** nbytes:
        width, capacity = width + 1, capacity * len(ALPHABET)
    return width


REF_CHARS = _width(REF_BYTES)  # the reference as the payment page reports it: the token's start
TOKEN_CHARS = REF_CHARS + _width(2) + _width(MAC_BYTES)


def reference(secret: bytes, loan_id: str, step: str, episode: str) -> str:
    """The message's reference: the same for the same message, unguessable without the secret."""
    digest = hmac.new(secret, f"ref\x1f{loan_id}\x1f{step}\x1f{episode}".encode(), hashlib.sha256).digest()
    return _encode(digest[:REF_BYTES], REF_CHARS)


def token(secret: bytes, ref: str, expires_on: date) -> str:
    """The reference, the last valid day and their signature, as one URL-safe word."""
    day = (expires_on - EPOCH).days.to_bytes(2, "big")
    mac = hmac.new(secret, f"link\x1f{ref}".encode() + day, hashlib.sha256).digest()[:MAC_BYTES]
    return ref + _encode(day, _width(2)) + _encode(mac, _width(MAC_BYTES))


def genuine(secret: bytes, text: str) -> tuple[str, date] | None:
    """(reference, last valid day) of a token this secret signed, else None."""
    if len(text) != TOKEN_CHARS or any(ch not in ALPHABET for ch in text):
        return None
    ref, days = text[:REF_CHARS], _decode(text[REF_CHARS:REF_CHARS + _width(2)])
    if days >= 256 ** 2:
        return None
    expires_on = EPOCH + timedelta(days=days)
    if not hmac.compare_digest(token(secret, ref, expires_on), text):
        return None
    return ref, expires_on


def verify(secret: bytes, text: str, today: date) -> str | None:
    """The reference of a genuine token still valid on `today`, else None."""
    found = genuine(secret, text)
    return found[0] if found and today <= found[1] else None


def word_of(text: str) -> str:
    """The last part of a link's path (its query and fragment aside), or the text itself."""
    return text.strip().partition("#")[0].partition("?")[0].rstrip("/").rpartition("/")[2]


def ref_of(text: str) -> str | None:
    """The reference in what a payment file names: the reference itself, a token or the link;
    None for anything else."""
    word = word_of(text)
    if len(word) not in (REF_CHARS, TOKEN_CHARS) or any(ch not in ALPHABET for ch in word):
        return None
    return word[:REF_CHARS]
