"""What a borrower's reply asks for: a reply that says STOP places an opt-out (HOLD-2).

Read as a person reads it (any case, width or spacing): "STOP", "Stop.", "ＳＴＯＰ",
"退订", "回复TD退订", "unsubscribe", "T"… A reply that only contains such a word ("please
stop texting me") counts too: an opt-out wrongly placed costs a reminder, one missed costs
the borrower their say.
"""

from __future__ import annotations

from collect_cli.domain.text_forms import compact

# the whole reply is one of these (short words that are parts of other words)
EXACT = ("stop", "td", "t", "n", "end", "quit", "cancel", "unsub", "stopall", "取消", "退出", "拒收", "不要")
# the reply contains one of these
CONTAINED = ("退订", "unsubscribe", "optout", "stop", "拒收短信", "不要再发", "别再发", "别发了", "停止发送")


def stop_keyword(text: str | None) -> str | None:
    """The opt-out word the reply uses, None when it asks for none."""
    words = compact(text or "")
    if not words:
        return None
    if words in EXACT:
        return words
    return next((k for k in CONTAINED if k in words), None)
