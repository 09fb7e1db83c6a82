"""What a borrower's reply asks for: a reply that says STOP places an opt-out (HOLD-2); one
that disputes the debt or complains opens a case (domain.cases: CASE-2, CASE-3); one that
says it was paid is a claim to verify against the ledger.

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


# a reply containing one of these disputes the debt (CASE-3) or complains (CASE-2); both may
# hold at once (a claim to have paid is not a dispute: it is verified against the ledger).
# `cases.dispute_words` / `cases.complaint_words` add to them.
DISPUTE = (
    "异议", "有异议", "有误", "不是我借", "不是我的", "没借过", "没有借", "从未借", "不认可", "不承认", "不认这笔",
    "金额不对", "金额有误", "数额不对", "账不对", "算错", "多扣", "冒名", "冒用", "盗用",
    "被盗", "身份被", "诈骗", "没借", "我不欠", "不欠你们", "不欠钱", "不是本人", "非本人", "本人没有", "不是我办",
    "dispute", "notmyloan", "notmydebt", "notmine", "neverborrowed", "wrongamount", "incorrectamount",
    "identitytheft", "fraud", "nevertook", "isntmyloan", "isnotmyloan", "notmyaccount", "dontowe", "donotowe",
    "owenothing", "neverappliedfor", "neversigned",
)
# said to deny a dispute ("没有异议，下周还"): taken out before the words above are looked for
NO_DISPUTE = ("没有异议", "无异议", "不存在异议", "没异议", "并无异议", "nodispute", "notdisputing", "idontdispute")
COMPLAINT = (
    "投诉", "举报", "申诉", "监管", "银保监", "金融监管", "消保", "12378",
    "complain", "complaint", "regulator", "ombudsman", "cfpb", "reportyou",
)


# a reply containing one of these says it was paid: a claim the ledger is asked about
# (`replies.paid_words` adds to them)
PAID = ("已还", "已经还", "还过了", "还了", "已还款", "已经还款", "已结清", "还清了", "已付", "已经付", "已转账", "已经转账",
        "paid", "alreadypaid", "ipaid", "havepaid", "madethepayment", "madeapayment", "paidit", "paidoff",
        "settledit", "transferredthemoney")
# said to deny it ("还没还", "not paid yet"): taken out first
NOT_PAID = ("没还", "未还", "还没还", "没有还", "还未还", "不还", "没付", "未付", "notpaid", "haventpaid", "havenotpaid",
            "didntpay", "didnotpay", "cantpay", "cannotpay", "unpaid", "notyetpaid")

_NO_DISPUTE = tuple(sorted((compact(w) for w in NO_DISPUTE), key=len, reverse=True))
_NOT_PAID = tuple(sorted((compact(w) for w in NOT_PAID), key=len, reverse=True))


def _of(words) -> tuple[tuple[str, str, str | None], ...]:
    """(keyword, its compact form, its sound when it is Chinese)."""
    out = []
    for k in words:
        c = compact(k)
        out.append((k, c, phonetic(c) if any(is_cjk(ch) for ch in c) else None))
    return tuple(out)


@lru_cache(maxsize=1)
def _forms() -> tuple[tuple[tuple[str, str, str | None], ...], tuple[tuple[str, str, str | None], ...]]:
    return _of(EXACT), _of(CONTAINED)


@lru_cache(maxsize=8)
def _case_forms(extra_dispute: tuple[str, ...], extra_complaint: tuple[str, ...]):
    return _of(DISPUTE + extra_dispute), _of(COMPLAINT + extra_complaint)


def _contained(words: str, sound: str, forms) -> str | None:
    for k, c, s in forms:
        if c in words or (s is not None and s in sound):
            return k
    return None


def case_keywords(text: str | None, extra_dispute: tuple[str, ...] = (),
                  extra_complaint: tuple[str, ...] = ()) -> dict[str, str]:
    """{case kind: the word that says it} for a reply that disputes the debt or complains."""
    words = compact(text or "")
    for denial in _NO_DISPUTE:
        words = words.replace(denial, " ")
    if not words.strip():
        return {}
    sound = phonetic(words)
    dispute, complaint = _case_forms(tuple(extra_dispute), tuple(extra_complaint))
    found = {"dispute": _contained(words, sound, dispute), "complaint": _contained(words, sound, complaint)}
    return {kind: word for kind, word in found.items() if word}


def stop_keyword(text: str | None, extra: tuple[str, ...] = ()) -> str | None:
    """The opt-out word the reply uses, None when it asks for none. `extra`: more words that
    opt out when the reply contains them (replies.stop_words)."""
    words = compact(text or "")
    if not words:
        return None
    sound = phonetic(words)
    exact, contained = _forms()
    for k, c, s in exact:
        if words == c or (s is not None and sound == s):
            return k
    return _contained(words, sound, contained + _extra_forms(tuple(extra)))


def paid_keyword(text: str | None, extra: tuple[str, ...] = ()) -> str | None:
    """The words by which the reply says it was paid ("已还", "paid"), None when it does not."""
    words = compact(text or "")
    for denial in _NOT_PAID:
        words = words.replace(denial, " ")
    if not words.strip():
        return None
    return _contained(words, phonetic(words), _extra_forms(PAID + tuple(extra)))


@lru_cache(maxsize=16)
def _extra_forms(words: tuple[str, ...]):
    return _of(words)
