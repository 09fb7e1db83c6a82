"""What a message may say, judged on the rendered text as a person reads it (compliance.md,
"What a message may say"): after rendering, and again at send time.

A rule is never judged on a template's source or its own declarations: the words are found
in the text however they are spelled (text_forms, lexicon), SAY-2's required content is
found as the values the engine computed, and SAY-8's statements of fact are held against
the records as they are at that moment (MessageFacts). What a message must contain follows
from its purpose, which the strategy step that sends it gives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from collect_cli.domain.compliance import Refusal
from collect_cli.domain.headed import HEADS, form_problem
from collect_cli.domain.lexicon import Forms, Lexicon
from collect_cli.domain.text_forms import (
    PLACEHOLDER,
    compact,
    digits_form,
    fold,
    foreign_character,
    is_cjk,
    letter_text,
    letters_of,
    read_letter,
    reordering_character,
)

PURPOSES = ("predue_reminder", "overdue_notice", "formal_notice", "final_demand", "bureau_notice", "transfer_notice")
COLLECTION_PURPOSES = ("overdue_notice", "formal_notice", "final_demand", "bureau_notice")
BUREAU_NOTICE_PURPOSES = ("formal_notice", "bureau_notice")  # they must carry the REC-2 pre-notice
# The written answer to a case (CASE-1..3): sent by `collect case answer`, never by a strategy
# step, and the one letter a dispute or complaint under review lets through (HOLD-1).
CASE_ANSWER = "case_answer"
# AGY-1: the borrower is told before an outside agency gets the account, and which agency
# (PIPL Art 23: who receives their data); sent by `collect placements propose`, never by a step.
AGENCY_NOTICE = "agency_notice"
LAWYER_LETTER = "lawyer_letter"  # 律师函: sent by `collect legal letter` for a legal case, with its law firm
COMMAND_PURPOSES = (CASE_ANSWER, AGENCY_NOTICE, LAWYER_LETTER)  # messages a command queues, not the strategy
# us: they say they are from a debt collector
DEBT_NOTICE_PURPOSES = (*COLLECTION_PURPOSES, CASE_ANSWER, AGENCY_NOTICE, LAWYER_LETTER)

# SAY-2: the values a message of each purpose must show (context names).
REQUIRED = {
    "predue_reminder": ("creditor_name", "borrower_name", "next_due_amount", "next_due_on", "payment_channels",
                        "service_phone"),
    **{p: ("creditor_name", "borrower_name", "amount_overdue", "as_of", "payment_channels", "dispute_channel",
           "service_phone") for p in COLLECTION_PURPOSES},
    # XFER-1 (《民法典》 Art 546): who the debt goes to and from when, told by the lender it leaves
    "transfer_notice": ("creditor_name", "borrower_name", "transfer_party", "transfer_on", "service_phone"),
    # what was received and when, the answer itself, who answers and how to reach them
    CASE_ANSWER: ("creditor_name", "borrower_name", "case_received_on", "case_answer", "service_phone"),
    # who, from when, how to object or query before it happens
    # (how to pay is in the letter; an SMS of three parts cannot hold it beside the rest)
    AGENCY_NOTICE: ("creditor_name", "borrower_name", "amount_overdue", "as_of", "placement_agency", "placement_from",
                    "dispute_channel", "service_phone"),
    LAWYER_LETTER: ("creditor_name", "borrower_name", "amount_overdue", "as_of", "payment_channels", "dispute_channel",
                    "service_phone", "legal_lawyer"),
}
# Engine values: figures and dates that may stand beside each other without making a number.
ENGINE_VALUES = ("as_of", "next_due_on", "amount_overdue", "next_due_amount", "outstanding_principal",
                 "overdue_principal", "overdue_interest", "overdue_fees", "penalty_interest", "loan_ref",
                 "service_phone", "letter_sent_on", "formal_letter_sent_on", "final_letter_sent_on", "transfer_on",
                 "case_received_on", "placement_from")
LEDGER_FIELDS = ("borrower_name", "address", "transfer_party")  # data, judged by the field checks below


@dataclass(frozen=True)
class MessageFacts:
    """What the records prove at the moment a message is judged (SAY-8, LIM-1)."""

    letter_sent_on: date | None = None  # a letter of this episode was sent (the latest)
    formal_letter_sent_on: date | None = None  # a formal notice letter of this episode
    final_letter_sent_on: date | None = None  # a final demand letter of this episode
    notices_sent: int = 0  # collection messages of this episode sent before now
    placed_with: str | None = None  # the agency the account is placed with
    legal_filed_on: date | None = None  # a lawsuit filed, by the legal case's records
    bureau_reported_on: date | None = None  # the account was in a credit-bureau file
    time_barred: bool = False  # LIM-1: the limitation period has run out


@dataclass(frozen=True)
class Sent:
    """A message that was sent, as the records show it."""

    episode: str
    channel: str
    purpose: str | None  # None: recorded before messages kept their purpose (a collection message)
    on: date  # the recipient's day it was sent


def episode_facts(episode: str | None, sent: Iterable[Sent], *, placed_with: str | None = None,
                  bureau_reported_on: date | None = None, time_barred: bool = False,
                  legal_filed_on: date | None = None) -> MessageFacts:
    """The facts a message of `episode` may state: what was sent in that episode before it."""
    mine = [m for m in sent if m.episode == episode and (m.purpose or "overdue_notice") in COLLECTION_PURPOSES]
    letters = [m for m in mine if m.channel == "letter"]

    def latest(messages, purpose=None):
        return max((m.on for m in messages if purpose is None or m.purpose == purpose), default=None)

    return MessageFacts(letter_sent_on=latest(letters), formal_letter_sent_on=latest(letters, "formal_notice"),
                        final_letter_sent_on=latest(letters, "final_demand"), notices_sent=len(mine),
                        placed_with=placed_with, bureau_reported_on=bureau_reported_on, time_barred=time_barred,
                        legal_filed_on=legal_filed_on)


NO_FACTS = MessageFacts()  # nothing sent, nothing recorded


# SAY-8: statements of fact, found on the letters form (folded, letters and digits only), and
# the record each needs.
_CLAIMS: tuple[tuple[str, re.Pattern, str, object], ...] = tuple(
    (name, re.compile(pattern), needs, proven) for name, pattern, needs, proven in (
        ("a letter was sent",
         r"另函|(已|曾|已经).{0,16}(寄送|寄出|邮寄|发出|发送|送达|寄发|寄了|寄过|寄给|寄去|寄到|投递).{0,12}"
         r"(函|信|书面通知|正式通知|通知书|告知书)|(应已|应该已|想必已|已经|已)(经)?收到.{0,12}(函|信|书面通知|正式通知|通知书|告知书)"
         r"|(已|已经|曾)(于.{0,12})?(向您|给您|对您)?(致函|去函|发函)|(寄给|寄送给|发给)(您|你)的.{0,8}(函|信)"
         r"|(we|wehave|weve|wealready)(sent|mailed|posted)(you)?(a|our|an)?(formal|final|separate|written)?"
         r"(letter|notice)|inourletter|ourletter(of|dated|sent)|our(earlier|previous|last)letter"
         r"|letter(was|has been|hasbeen|had been)sent|separateletter|underseparatecover|ourletterto"
         r"|(received|receive|got)(our|the)(formal|final|written)?(letter|notice)|furthertoour"
         r"|(letter|notice)we(mailed|sent|posted|wrote)|ourcorrespondence|ourprevious",
         "a letter of this episode sent", lambda f: f.letter_sent_on is not None),
        ("a final letter was sent",
         r"(已|曾).{0,16}(寄送|寄出|邮寄|发出|发送|送达).{0,8}(最终|最后)|(sent|mailed|posted)(you)?(a|our|the)?final",
         "a final demand letter of this episode sent", lambda f: f.final_letter_sent_on is not None),
        ("notices were sent several times",
         r"(多次|屡次|反复|一再|再三|数次|几次|多番)(向您|对您)?(提醒|通知|催告|联系|告知|催收|发送|致函|去函)"
         r"|(several|many|multiple|repeated|numerous)(times|reminders|notices|letters|messages)"
         r"|(reminded|contacted|written|wrote|told|notified)(to)?you(several|many|repeatedly|numerous|again and again)"
         r"|repeatedly(reminded|contacted|written|wrote|asked|told)",
         "two collection messages of this episode sent", lambda f: f.notices_sent >= 2),
        ("we wrote before",
         r"(此前|之前|先前|日前|前期)((我们|我司|本公司)(已|已经|曾)?|已|已经|曾)(多次)?(向您|对您)?"
         r"(提醒|通知|告知|催告|发送|联系|致函|去函)|曾(经)?(多次)?(向您|对您)?(提醒|通知|告知|催告|联系)"
         r"|(已|曾)(于.{0,12})?(电话|短信)?(提醒|通知|告知|催告|联系)(过)?您|上(次|回|一次)的?.{0,6}(短信|通知|提醒|来电|电话|信)"
         r"|再次(提醒|通知|告知|催告)|再度提醒|(又|再)一次(提醒|通知|告知|催告)"
         r"|第(二|三|四|五|2|3|4|5|n)次(提醒|通知|催告|告知|致函|来函|发送|联系)"
         r"|(we|wehave|weve|wehad|asweve|aswe|wealready)(already)?(written|wrote|reminded|contacted|told|notified)"
         r"|(reminded|wrote to|written to|contacted)you(before|previously|already|earlier)"
         r"|previously(sent|written|wrote|reminded|notified)|(previous|earlier|last)(notice|reminder|message)"
         r"|remindyouagain|againremind|(second|third|fourth|2nd|3rd|4th|another|followup)"
         r"(notice|reminder|letter|message|attempt)|(once|yet)again|despiteour|youhavenotreplied|didnotreply",
         "a collection message of this episode sent", lambda f: f.notices_sent >= 1),
        ("the account was passed to an agency",
         r"(移交|转交|委托|交由|外包|转给).{0,10}(第三方|催收机构|催收公司|外包|律师事务所|律所|合作机构|专业机构)"
         r"|(passed|referred|handed|assigned|transferred|sent)(over|on)?to(a|an|our|the)?"
         r"(collectionagency|agency|thirdparty|debtcollector|collector|solicitor|lawyer|attorney|lawfirm)"
         r"|placedwith|(由|交由|转由).{0,8}(催收|外包|第三方).{0,6}(团队|机构|公司)?(接管|处理|跟进)"
         r"|(handled|managed|collected)by(an|a|our)?(outside|external|thirdparty)",
         "a placement with an agency", lambda f: f.placed_with is not None),
        ("legal action was filed",
         r"(已|已经|现已)(被)?(向法院|向人民法院)?(起诉|立案|提起诉讼|提起仲裁|申请仲裁|申请强制执行|申请执行|提交法院|诉至法院)"
         r"|(法院|仲裁委|法庭).{0,4}(已|已经)(受理|立案|判决|开庭)|(已|已经)(进入|启动|开始)(司法|诉讼|法律|仲裁)(程序|流程)"
         r"|(已|已经).{0,6}(移交|转交|交给|交由|委托)(给)?.{0,6}(律师|法务|法律部|诉讼)"
         r"|(已|已经)?(将|把)?.{0,8}(提交|诉至|起诉至|移送)(至|到)?(法院|仲裁)|(案件|诉讼).{0,4}(已|已经)(被|由)?(法院)?(受理|立案)"
         r"|(legalaction|lawsuit|claim|case|proceedings)(was|has been|hasbeen|have been|havebeen|is|are)"
         r"(filed|started|commenced|taken|brought|issued)|we(have)?(sued|filed)|filed(a)?(lawsuit|claim|case)"
         r"|(started|commenced|begun|begin|initiated|taken|brought)(legal|court)(action|proceedings|steps)"
         r"|(being|been)sued|(with|to)(our|the)?(lawyers|attorneys|solicitors|legalteam|legaldepartment)"
         r"|lodgedwith(the)?court|(solicitors|lawyers|attorneys)(have been|hasbeen|havebeen|were|are)instructed"
         r"|judg(e)?ment(was|has been|hasbeen)(entered|obtained|granted)",
         "a lawsuit filed", lambda f: f.legal_filed_on is not None),
        ("the account was reported to the credit bureau",
         r"(已|已经|现已)(被)?(上报|报送|录入|纳入|提交|报).{0,8}(征信|信用信息)|征信.{0,4}(已|已经)(上报|报送|录入|有记录)"
         r"|(已|已经)(被)?(征信系统|信用报告|征信报告).{0,4}(记录|记入|收录)|(已|已经)(记入|录入|计入).{0,6}(信用报告|征信)"
         r"|(have|has been|hasbeen|was|were|been|being)reported(you|this|it|youraccount|theaccount)?to(the|a)?credit"
         r"|(appears|shows|listed|recorded)on(your)?credit(report|file)|(notified|informed|told)(the)?"
         r"(creditbureau|creditbureaus|creditreference|experian|equifax|transunion)",
         "a credit-bureau file holding the account", lambda f: f.bureau_reported_on is not None),
    )
)
_SPACE = re.compile(r"\s+")

# REC-2: the pre-notice names the bureau and the reporting.
_BUREAU = ("征信", "金融信用信息基础数据库", "信用信息基础数据库", "信用报告", "creditbureau", "creditreporting",
           "creditreference")
_REPORTING = ("报送", "上报", "报告", "提供", "记录", "report")
# SAY-3 (us): the debt-collection notice and the opt-out, as a reader finds them.
_DEBT_NOTICE = ("attempttocollectadebt", "fromadebtcollector", "催收债务", "债务催收")
_REPLY_STOP = ("replystop", "textstop", "sendstop", "optout", "unsubscribe", "回复stop", "回复td", "回复退订", "退订回",
               "回td", "回t退订")
_OPT_OUT = {"sms": _REPLY_STOP, "email": _REPLY_STOP,  # a push cannot be answered: the app's setting is the way
            "push": ("turnoffnotifications", "turnoffpush", "关闭推送", "关闭通知")}
# WHO-1 on a lock screen: a push states no amount and no word of the debt (the app shows them)
LOCK_SCREEN_FIGURES = ("amount_overdue", "next_due_amount", "outstanding_principal", "overdue_principal",
                       "overdue_interest", "overdue_fees", "penalty_interest")
_DEBT_WORDS = ("逾期", "欠款", "欠钱", "拖欠", "催收", "催缴", "债务", "欠债", "违约", "overdue", "pastdue", "debt",
               "arrears", "delinquen", "collection", "latepayment", "missedpayment")
# a required statement that is denied is not made ("this is not an attempt to collect a debt")
_NEGATED = re.compile(r"(not|never|no|nt)(an|a)?attempttocollect|(donot|dont|never|no)(need(to)?)?(reply|text|send)")
_BRACKETS = re.compile(r"[【】〖〗〘〙〚〛〔〕]|^\s*\[[^\]]{1,16}\]|\[[^\]]{1,16}\]\s*$")
_LONG_NUMBER = 10  # digits: a phone (CN mobile 11, US 10), an ID (18) or a card number (15-19)


def readable(text: str, channel: str) -> tuple[str, str]:
    """(what the recipient sees, what else the message carries: a letter's comments, attributes
    and hidden parts, judged too)."""
    if channel == "letter":
        return letter_text(text)
    return text, ""


def judge(text: str, *, channel: str, purpose: str, rules: str, context: Mapping[str, object], lexicon: Lexicon,
          facts: MessageFacts, signature: str | None = None) -> list[Refusal]:
    """Every rule the message breaks, in rule order; none means it may be sent.

    `context` holds the values the message was rendered from (message_context): SAY-2 looks
    for them, the engine's figures may stand side by side without making a long number, and
    the ledger fields (name, address) are judged by their own checks, not as wording, since
    real names and addresses contain sounds and words (龚安, 公安局宿舍) that wording must not."""
    seen, unseen, markup = read_letter(text) if channel == "letter" else (text, "", None)
    folded_seen = fold(seen)
    folded_all = folded_seen + ("\n" + fold(unseen) if unseen else "")
    found: list[Refusal] = []
    odd = reordering_character(text)
    if odd:
        found.append(Refusal("SAY-1", f"holds {odd}, a character that reorders or replaces what is read"))
    foreign = foreign_character(_without(text + (signature or ""), [context.get(k) for k in LEDGER_FIELDS]))
    if foreign:
        found.append(Refusal("SAY-1", f"holds {foreign}, of a script this message is not written in: it can only "
                                      "stand for a letter or a character it looks like"))
    if channel in HEADS and (form := form_problem(text, channel)):
        found.append(Refusal("TPL", form))
    if markup:
        found.append(Refusal("SAY-1", f"the letter's markup can show other text than its words ({markup}); a "
                                      "letter is judged as printed, so it may only lay text out"))
    signed = "\n" + fold(signature) if signature else ""
    address, name = context.get("address"), context.get("borrower_name")
    terms: dict = {}
    rules_ = ("SAY-1", "SAY-6", "SAY-7") if facts.time_barred else ("SAY-1", "SAY-6")
    for folded in (folded_seen + signed, fold(unseen)):  # as printed, and what a letter carries besides
        if not folded:
            continue
        # the address is judged by its own check (real ones name police stations and courts); the
        # name is in the text as spelled (a name 要坐 makes 你要坐牢) but not by sound (龚安 is no 公安)
        spelled = _cut(folded, [address])
        terms.update(dict.fromkeys(lexicon.find(Forms.spelled(spelled), rules=rules_,
                                                heard=Forms.of(_cut(spelled, [name]), folded=True))))
    for rule, why in (("SAY-1", "threat, insult, false authority, shaming or pressure"),
                      ("SAY-6", "marketing in a notification"),
                      ("SAY-7", "legal action on a time-barred debt (LIM-1)")):
        words = [t.word for t in terms if t.rule == rule]
        if words:
            found.append(Refusal(rule, f"{why}: {', '.join(map(repr, words[:3]))}"))
    fields = (("borrower_name", name_problem),) + ((("address", address_problem),) if channel == "letter" else ())
    for field, check in fields:
        value = context.get(field)
        problem = check(str(value), lexicon) if value else None
        if problem:
            found.append(Refusal("SAY-4" if "digits" in problem else "SAY-1", f"the {field.replace('_', ' ')} {problem}"))
    number = _long_number(folded_all + signed, [context.get(k) for k in ENGINE_VALUES])
    if number:
        found.append(Refusal("SAY-4", f"an unmasked number {number[:3]}… ({len(number)} digits): mask phone, ID "
                                      "and card numbers (尾号1234)"))
    if channel == "sms" and _BRACKETS.search(folded_seen):
        found.append(Refusal("SAY-5", "no 【】 in an SMS body: the channel adds the 【signature】"))
    letters = letters_of(_cut(folded_all, [address, name]))
    for claim, pattern, needs, proven in _CLAIMS:
        if pattern.search(letters) and not proven(facts):
            found.append(Refusal("SAY-8", f"states that {claim}, but no record shows {needs}"))
    if channel == "push":  # WHO-1: a lock screen is read by whoever holds the phone
        told = [k for k in LOCK_SCREEN_FIGURES if context.get(k) not in (None, "", "0.00")
                and shows_value(folded_seen, context.get(k), k)]
        told += [w for w in _DEBT_WORDS if w in letters]
        if told:
            found.append(Refusal("WHO-1", f"a push shows on a lock screen that others see: it names no amount and "
                                          f"no debt, the app does ({', '.join(told[:3])})"))
    required = ("creditor_name",) if channel == "push" else REQUIRED.get(purpose, ())
    missing = [k for k in required if not shows_value(folded_seen, context.get(k), k)]
    if missing:
        found.append(Refusal("SAY-2", f"a {purpose} must show {', '.join(missing)} (the values, in the text)"))
    if rules == "us":
        shown = _NEGATED.sub(PLACEHOLDER, letters_of(folded_seen))
        if purpose in DEBT_NOTICE_PURPOSES and channel != "push" and not any(p in shown for p in _DEBT_NOTICE):
            found.append(Refusal("SAY-3", 'under the us rules a collection message says "This is an attempt to '
                                          'collect a debt"'))
        if channel in _OPT_OUT and not any(p in shown for p in _OPT_OUT[channel]):
            found.append(Refusal("SAY-3", 'under the us rules every SMS, email and push carries an opt-out '
                                          '("Reply STOP"; in a push, how to turn it off)'))
    if purpose in BUREAU_NOTICE_PURPOSES and not _tells_bureau(letters_of(folded_seen)):
        found.append(Refusal("REC-2", "a formal notice tells the borrower before adverse data goes to the credit "
                                      "bureau; this text does not"))
    return found


def _without(text: str, values: Iterable[object]) -> str:
    """`text` without these values as written (the ledger fields: a name may be in any script)."""
    for value in values:
        if value:
            text = text.replace(str(value), " ")
    return text


def _cut(folded: str, values: Iterable[object]) -> str:
    """`folded` with each value (of at least two letters) replaced by the placeholder."""
    for value in values:
        v = _fold_value(str(value)) if value else ""
        if len(letters_of(v)) >= 2:
            folded = folded.replace(v, PLACEHOLDER)
    return folded


@lru_cache(maxsize=8192)
def _fold_value(value: str) -> str:
    return fold(value).strip()


def long_number(text: str, known: Iterable[object] = ()) -> str | None:
    """A run of 10 or more digits a reader takes as one number (SAY-4): digits of any script and
    Chinese numerals, split by spaces, dashes, dots or invisible characters, count together;
    the engine's own figures, dates and the service line are cut out first."""
    return _long_number(fold(text), known)


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven",
                                                    "eight", "nine"))} | {"oh": "0"}
_NUMBER_WORD = re.compile(r"(?<![a-z])(" + "|".join(_NUMBER_WORDS) + r")(?![a-z])")


def _long_number(folded: str, known: Iterable[object]) -> str | None:
    # a number may be spelled out in words ("one three eight …")
    spelled = _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1)], folded) if "o" in folded or "e" in folded \
        else folded
    digits = digits_form(_cut(spelled, known))
    runs = ("".join(ch for ch in m.group(0) if ch.isdigit() or ch in _DIGIT_LETTERS) for m in _DIGIT_RUN.finditer(digits))
    return max((r for r in runs if len(r) >= _LONG_NUMBER), key=len, default=None)


# digits with nothing but spaces and punctuation between them (a letter or a cut ends the run)
# ... and l, i, o among digits read as 1, 1, 0 ("l38l2345678")
_DIGIT_LETTERS = "lio"
_DIGIT_RUN = re.compile(rf"[{_DIGIT_LETTERS}]?\d(?:(?:[^\w{PLACEHOLDER}]|[{_DIGIT_LETTERS}])*\d)*[{_DIGIT_LETTERS}]?")


def shows_value(folded: str, value: object, name: str) -> bool:
    """Whether the text (folded) shows this value, as written or in a usual other spelling (a
    date as 2026年11月20日, an amount without its thousands separator)."""
    if value is None or str(value).strip() == "":
        return False
    spellings = {str(value)}
    if name in ("as_of", "next_due_on", "transfer_on", "case_received_on", "placement_from"):
        try:
            d = date.fromisoformat(str(value))
            spellings |= {f"{d.year}年{d.month}月{d.day}日", f"{d:%Y/%m/%d}", f"{d:%Y.%m.%d}", f"{d.year}/{d.month}/{d.day}"}
        except ValueError:
            pass
    if name in _NUMERIC:
        spellings.add(str(value).replace(",", ""))
        return any(_stands_alone(folded, _fold_value(v)) for v in spellings)
    text = _SPACE.sub("", folded)
    return any(_SPACE.sub("", fold(v)) in text for v in spellings)


def _stands_alone(text: str, figure: str) -> bool:
    """`figure` in `text` as itself, not as part of a larger number (1,790.00 in 11,790.00)."""
    start = text.find(figure)
    while start >= 0:
        before, after = text[max(start - 2, 0):start], text[start + len(figure):start + len(figure) + 2]
        if not (before[-1:].isdigit() or (before[-1:] in ",." and before[:1].isdigit())
                or after[:1].isdigit() or (after[:1] in ",." and after[1:2].isdigit())):
            return True
        start = text.find(figure, start + 1)
    return False


_NUMERIC = ("amount_overdue", "next_due_amount", "as_of", "next_due_on", "outstanding_principal", "overdue_principal",
            "overdue_interest", "overdue_fees", "penalty_interest")


def states_bureau_notice(text: str, channel: str) -> bool:
    """REC-2: whether the text, as the recipient sees it, tells that adverse data may go to the
    credit bureau."""
    seen, _ = readable(text, channel)
    return _tells_bureau(letters_of(fold(seen)))


def _tells_bureau(shown: str) -> bool:
    return any(b in shown for b in _BUREAU) and any(r in shown for r in _REPORTING)


_NAME_MARKS = set(" .'-·•‧・’ʼ")
_WEB = re.compile(r"www\.|https?|\.(com|cn|net|org|top|xyz|info|io|me|co|cc|vip|app|shop|site)\b")
MAX_NAME = 50
MAX_HAN_NAME = 6  # a Chinese name: 2-4 characters, up to 6 with compound surnames; longer ones use ·
USUAL_HAN_NAME = 4  # a longer one is also judged by sound (a short one shares its sound with everything)
_NUMERAL_RUN = re.compile(r"\d{4}")  # 张一, 李三 are names; four numerals in a row are a number


def _stem(word: str) -> str:
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


@lru_cache(maxsize=4096)
def name_problem(name: str, lexicon: Lexicon) -> str | None:
    """Why a borrower name cannot stand in a message as it is (None: it can). A name is letters,
    spaces and the marks names use (·, ., ', -); digits, brackets, web addresses and words
    of the lexicon are data smuggled into a salutation."""
    folded = fold(name).strip()
    if not folded:
        return "is empty"
    if len(folded) > MAX_NAME:
        return f"is {len(folded)} characters long; a name has at most {MAX_NAME}"
    odd = next((ch for ch in name if not (ch.isalpha() or ch in _NAME_MARKS or ch in "\u00b7")), None)
    if odd is not None:
        if odd.isdigit() or digits_form(odd).isdigit():
            return "holds digits (a number is no part of a name)"
        return f"holds {odd!r} (U+{ord(odd):04X}), which no name has"
    if _WEB.search(folded):
        return "holds a web address"
    if _NUMERAL_RUN.search(digits_form(folded)):
        return "holds digits (a number is no part of a name)"
    parts = [t for t in re.split(r"[\s.'\-·•‧・’ʼ\u00b7]+", folded) if t]
    longest = max((len(t) for t in parts if all(map(is_cjk, t))), default=0)
    if longest > MAX_HAN_NAME:
        return f"has more than {MAX_HAN_NAME} Chinese characters without a separator (·): a sentence, not a name"
    if longest > USUAL_HAN_NAME:  # long enough to say something: heard as well as read
        said = lexicon.find(Forms.of(folded, folded=True), rules=("SAY-1", "SAY-6"))
        if said:
            return f"holds the word {said[0].word!r}"
    tokens = re.findall(r"[^\W\d_]+", folded)
    runs = ["".join(tokens[i:j]) for i in range(len(tokens)) for j in range(i + 1, min(len(tokens), i + 4) + 1)]
    runs += [_stem(r) for r in runs if r.isascii()]  # "deadbeats" is "deadbeat"
    term = lexicon.in_name(letters_of(folded), runs)
    if term is not None:
        return f"holds the word {term.word!r}"
    return None


# Words real addresses hold (a police station, a court, a prison, a school, a work unit's
# housing): an address is no message, so only these may stand in one.
PLACE_WORDS = {"公安", "派出所", "检察院", "法院", "监狱", "看守所", "学校", "单位", "村委", "居委会", "政府部门", "法庭",
               "司法", "执行局", "仲裁", "律师", "police", "court", "prison", "jail", "school", "arrest"}
# What a place never says: the reader or the writer, and sentences.
_PERSONAL = re.compile(r"[你您我]|(?<![a-z])(you|your|we)(?![a-z])")
_SENTENCE = re.compile(r"[。！？!?]")


@lru_cache(maxsize=4096)
def address_problem(address: str, lexicon: Lexicon) -> str | None:
    """Why a postal address cannot be printed on a letter: wording in it (SAY-1, SAY-6) other
    than the names of places, the reader or the writer addressed, or a sentence. Words are
    found as spelled only (解放路 must not sound like 家访); a full phone number in it is found
    by SAY-4 on the whole letter."""
    folded = fold(address)
    words = [t.word for t in lexicon.find(Forms.spelled(folded), rules=("SAY-1", "SAY-6", "SAY-7"), spelled=True)
             if compact(t.word) not in _PLACES]
    if words:
        return f"holds the word {words[0]!r}"
    if _PERSONAL.search(folded):
        return "speaks to someone (你, 您, 我, you, we): an address names a place"
    if _SENTENCE.search(folded):
        return "holds a sentence: an address names a place"
    return None


_PLACES = {compact(w) for w in PLACE_WORDS}
