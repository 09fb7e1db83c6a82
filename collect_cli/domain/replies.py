"""What a borrower's reply asks for: a reply that says STOP places an opt-out (HOLD-2).

Read as a person reads it, through the same forms the content rules judge a message on
(domain.text_forms): any case, width, spacing or punctuation ("STOP", "Stop.", "ＳＴＯＰ",
"s t o p"), traditional or simplified characters and the same sound ("退订", "退訂", "tuiding"),
"回复TD退订", "unsubscribe", "T"… A reply that only contains such a word ("please stop
texting me", "请不要再给我发短信") counts too: an opt-out wrongly placed costs a reminder,
one missed costs the borrower their say.
"""

from __future__ import annotations

from functools import lru_cache

from collect_cli.domain.text_forms import compact, is_cjk, phonetic

# the whole reply is one of these (short words that are parts of other words)
EXACT = ("stop", "td", "t", "n", "end", "quit", "cancel", "unsub", "stopall", "取消", "退出", "拒收", "不要", "停",
         "别发", "不用发")
# the reply contains one of these
CONTAINED = (
    "退订", "取消订阅", "订阅取消", "拒收短信", "不要再发", "不要发", "别再发", "别发了", "不要给我发", "别给我发",
    "不要再给我发", "停止", "停发", "拒绝接收", "不再接收", "不想收到", "屏蔽",
    "unsubscribe", "optout", "stop", "nomoretext", "nomoremessage", "nomoresms", "nomoreemail", "nomoremail",
    "donottext", "donttext", "dontmessage", "donotmessage", "donotcontact", "dontcontact", "donotemail",
    "dontemail", "donotsms", "dontsms", "removeme", "takemeoff", "leavemealone", "ceasecontact",
)


@lru_cache(maxsize=1)
def _forms() -> tuple[tuple[tuple[str, str, str | None], ...], tuple[tuple[str, str, str | None], ...]]:
    """(keyword, its compact form, its sound when it is Chinese) for EXACT and CONTAINED."""
    def of(words):
        out = []
        for k in words:
            c = compact(k)
            out.append((k, c, phonetic(c) if any(is_cjk(ch) for ch in c) else None))
        return tuple(out)
    return of(EXACT), of(CONTAINED)


def stop_keyword(text: str | None) -> str | None:
    """The opt-out word the reply uses, None when it asks for none."""
    words = compact(text or "")
    if not words:
        return None
    sound = phonetic(words)
    exact, contained = _forms()
    for k, c, s in exact:
        if words == c or (s is not None and sound == s):
            return k
    for k, c, s in contained:
        if c in words or (s is not None and s in sound):
            return k
    return None
