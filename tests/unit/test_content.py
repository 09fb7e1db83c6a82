"""What a message may say, judged on the rendered text as a person reads it (domain.content):
a corpus of disguised wording, each suppressed with the right rule, and the texts that must
pass. The corpus is rendered through real templates, so a disguise made by template code
(concatenation, filters, format) is judged as it comes out."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from collect_cli.config import LocaleTexts, Messaging, Settings
from collect_cli.domain.compliance import ContactRules
from collect_cli.domain.content import (
    NO_FACTS,
    MessageFacts,
    judge,
    long_number,
    name_problem,
    states_bureau_notice,
)
from collect_cli.domain.lexicon import Lexicon
from collect_cli.domain.loan_state import Installment, loan_state
from collect_cli.domain.replies import stop_keyword
from collect_cli.messaging.templates import read_template
from collect_cli.services.messages import compose
from collect_cli.services.portfolio import Account

LEXICON = Lexicon.of()
# a clean overdue notice: creditor, name, amount, date, how to pay, how to dispute, contact number
CLEAN = ("{{ borrower_name }}您好，截至{{ as_of }}，您在{{ creditor_name }}的借款（{{ loan_ref }}）逾期金额"
         "{{ amount_overdue }}元，请通过{{ payment_channels }}还款。如有异议请通过{{ dispute_channel }}反馈，"
         "客服电话{{ service_phone }}。")


def account(name: str = "王小明", address: str | None = "上海市黄浦区中山东一路1号", locale: str = "zh_CN") -> Account:
    schedule = [Installment(1, date(2026, 9, 30), 1000_00, 50_00), Installment(2, date(2026, 10, 31), 1000_00, 40_00),
                Installment(3, date(2026, 11, 30), 1000_00, 30_00)]
    state = loan_state(schedule, [], date(2026, 11, 20))
    return Account(loan_id="L00001234", borrower_id="C1", borrower_name=name, phone="+8613812345678",
                   email="ming@example.com", address=address, locale=locale, timezone=None, product="消费贷",
                   principal=3000_00, disbursed_on=date(2026, 8, 31), state=state)


def rendered(tmp_path: Path, body: str, *, channel: str = "sms", purpose: str = "overdue_notice",
             settings: Settings | None = None, facts: MessageFacts = NO_FACTS, acc: Account | None = None,
             locale: str = "zh_CN"):
    path = tmp_path / f"t.{locale}.j2"
    path.write_text(f"{{#-\nchannel: {channel}\npurpose: {purpose}\n-#}}\n{body}\n", encoding="utf-8")
    return compose(acc or account(locale=locale), read_template(path), settings or Settings(), purpose=purpose,
                   facts=facts)


def rules(msg) -> set[str]:
    return {r.rule for r in msg.refusals}


def test_the_clean_notice_passes(tmp_path):
    msg = rendered(tmp_path, CLEAN)
    assert msg.refusals == [], msg.refusals


# Threats and insults disguised by template code or by spelling; each appended to a clean notice.
DISGUISED = {
    "concatenation": "{{ '坐' ~ '牢' }}",
    "format filter": "{{ '%s%s'|format('坐', '牢') }}",
    "reverse filter": "{{ '牢坐'|reverse }}",
    "join of a list": "{{ ['公', '安']|join }}",
    "str.format": "{{ '{}{}'.format('拘', '留') }}",
    "replace": "{{ '曝X光'|replace('X', '') }}",
    "zero-width space": "坐\u200b牢",
    "zero-width joiner and BOM": "通\u200d讯\ufeff录",
    "ideographic space": "曝\u3000光",
    "soft hyphen": "po\u00adlice",
    "punctuation inside": "上.门",
    "full-width latin": "ｐｏｌｉｃｅ",
    "cyrillic look-alikes": "роliсе",
    "greek look-alikes": "jαil",
    "small capitals": "ᴘᴏʟɪᴄᴇ",
    "accents": "pólícé",
    "leetspeak": "p0l1ce",
    "spaced letters": "a r r e s t",
    "mathematical letters": "𝐰𝐚𝐫𝐫𝐚𝐧𝐭",
    "pinyin": "zuo lao",
    "pinyin with tones": "zuò láo",
    "pinyin mixed with hanzi": "公an",
    "homophone": "座牢",
    "traditional characters": "通訊錄",
    "synonym: prison": "送进监狱",
    "synonym: detention": "刑拘",
    "synonym: the police station": "派出所",
    "synonym: exposure": "发朋友圈",
    "synonym: your family": "通知你的父母",
    "synonym: workplace": "你的领导",
    "insult": "老赖",
    "insult by sound": "老来",
    "insult in English": "deadbeat",
    "borrow to repay": "以贷养贷",
    "fees for collection": "催收费",
    "threat in English": "we know where you live",
}




@pytest.mark.parametrize("text", ["{{ '限' ~ '时' }}优惠", "提 额", "ｃａｓｈｂａｃｋ", "免息券{{ '' }}"])
def test_marketing_is_suppressed_say6(tmp_path, text):
    assert "SAY-6" in rules(rendered(tmp_path, CLEAN + text))


@pytest.mark.parametrize("field,value,rule", [
    ("creditor_name", "公安催收中心", "SAY-1"),
    ("payment_channels", "APP或借新还旧", "SAY-1"),
    ("dispute_channel", "限时优惠专线", "SAY-6"),
    ("sms_signature", "老赖曝光台", "SAY-1"),
])
def test_configured_texts_are_judged_as_sent(tmp_path, field, value, rule):
    base = Messaging().texts["zh_CN"].__dict__
    settings = Settings(messaging=Messaging(texts={"zh_CN": LocaleTexts(**{**base, field: value}),
                                                    "en": Messaging().texts["en"]}))
    assert rule in rules(rendered(tmp_path, CLEAN, settings=settings))


def test_the_configured_lexicon_extends_every_form(tmp_path):
    settings = Settings(messaging=Messaging(forbidden_words=("立即处理",), marketing_words=("秒借",)))
    assert "SAY-1" in rules(rendered(tmp_path, CLEAN + "请立 即 处 理", settings=settings))
    assert "SAY-6" in rules(rendered(tmp_path, CLEAN + "秒借", settings=settings))


@pytest.mark.parametrize("number", [
    "13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "１３８１２３４５６７８", "138\u200b1234\u200b5678",
    "一三八一二三四五六七八", "11010519491231002X", "6222 0212 3456 7890 123", "(415) 555-0100",
])
def test_full_numbers_are_suppressed_say4(tmp_path, number):
    assert "SAY-4" in rules(rendered(tmp_path, CLEAN + f"请联系{{{{ '{number}' }}}}"))


def test_the_engines_own_figures_next_to_each_other_are_no_number(tmp_path):
    msg = rendered(tmp_path, CLEAN + "（{{ as_of }} {{ next_due_on }} {{ amount_overdue }} {{ outstanding_principal }}）")
    assert "SAY-4" not in rules(msg)
    assert long_number("尾号1234，逾期51天") is None


def test_brackets_in_an_sms_body_say5(tmp_path):
    for text in ("【催收中心】", "〖通知〗"):
        assert "SAY-5" in rules(rendered(tmp_path, text + CLEAN))
    assert "SAY-5" not in rules(rendered(tmp_path, "【通知】" + CLEAN, channel="letter", purpose="overdue_notice"))


@pytest.mark.parametrize("missing", ["amount_overdue", "as_of", "creditor_name", "dispute_channel", "service_phone"])
def test_required_content_is_found_as_values_say2(tmp_path, missing):
    """Naming a variable is not showing its value: a dead branch, a wrong figure or another
    variable do not count."""
    body = CLEAN.replace("{{ " + missing + " }}", "{% if false %}{{ " + missing + " }}{% endif %}")
    msg = rendered(tmp_path, body)
    assert "SAY-2" in rules(msg) and missing in str(msg.refusals)


def test_a_figure_inside_a_larger_number_is_not_the_figure(tmp_path):
    body = CLEAN.replace("{{ amount_overdue }}", "1{{ amount_overdue }}")
    assert "SAY-2" in rules(rendered(tmp_path, body))


def test_the_steps_purpose_decides_what_a_message_must_say(tmp_path):
    """A template that declares itself a pre-due reminder but is sent by an overdue step must
    say what an overdue notice says."""
    predue = ("{{ borrower_name }}：{{ creditor_name }}提醒，{{ next_due_on }}应还{{ next_due_amount }}元，"
              "请通过{{ payment_channels }}还款，客服{{ service_phone }}。")
    path = tmp_path / "p.zh_CN.j2"
    path.write_text("{#-\nchannel: sms\npurpose: predue_reminder\n-#}\n" + predue + "\n", encoding="utf-8")
    src = read_template(path)
    assert compose(account(), src, Settings(), purpose="predue_reminder").refusals == []
    assert "SAY-2" in {r.rule for r in compose(account(), src, Settings(), purpose="overdue_notice").refusals}
    formal = compose(account(), read_template(path), Settings(), purpose="formal_notice")
    assert "REC-2" in {r.rule for r in formal.refusals}


def test_us_rules_need_the_notice_and_the_opt_out_in_the_text_say3(tmp_path):
    us = Settings(contact=ContactRules(rules="us"))
    english = ("{{ borrower_name }}: {{ creditor_name }} loan {{ loan_ref }} has {{ amount_overdue }} overdue as of "
               "{{ as_of }}. Pay: {{ payment_channels }}. Dispute: {{ dispute_channel }} / {{ service_phone }}.")
    assert "SAY-3" in rules(rendered(tmp_path, english, settings=us, locale="en"))
    assert "SAY-3" in rules(rendered(tmp_path, english + "{% if false %}{{ disclosure }}{% endif %}", settings=us,
                                     locale="en"))
    assert rendered(tmp_path, english + "{{ disclosure }}", settings=us, locale="en").refusals == []


@pytest.mark.parametrize("claim,facts", [
    ("我们已另函寄送正式通知。", MessageFacts(letter_sent_on=date(2026, 11, 1))),
    ("此前我们已多次提醒您。", MessageFacts(notices_sent=2)),
    ("再次提醒：", MessageFacts(notices_sent=1)),
    ("We have written to you before about this amount.", MessageFacts(notices_sent=1)),
    ("我们已寄送最终还款通知函。", MessageFacts(letter_sent_on=date(2026, 11, 1), final_letter_sent_on=date(2026, 11, 1))),
    ("您的欠款已移交第三方催收机构。", MessageFacts(placed_with="Acme")),
    ("我们已向法院提起诉讼。", MessageFacts(legal_filed_on=date(2026, 11, 1))),
    ("您的逾期信息已上报征信。", MessageFacts(bureau_reported_on=date(2026, 11, 1))),
])
def test_a_statement_of_fact_needs_its_record_say8(tmp_path, claim, facts):
    assert "SAY-8" in rules(rendered(tmp_path, CLEAN + claim))
    assert "SAY-8" not in rules(rendered(tmp_path, CLEAN + claim, facts=facts))


def test_legal_wording_only_on_debts_that_are_not_time_barred_say7(tmp_path):
    text = CLEAN + "如仍未还款，我们将通过法律途径维护自身权益。"
    assert "SAY-7" not in rules(rendered(tmp_path, text))
    assert "SAY-7" in rules(rendered(tmp_path, text, facts=MessageFacts(time_barred=True)))
    assert "SAY-7" in rules(rendered(tmp_path, CLEAN + "起{{ '诉' }}", facts=MessageFacts(time_barred=True)))


def test_the_bureau_notice_is_found_in_what_the_recipient_sees():
    assert states_bureau_notice("如逾期持续，我们将向金融信用信息基础数据库报送您的逾期信息。", "sms")
    assert not states_bureau_notice("<p>请还款</p><!-- 我们将报送征信 --><p style='display:none'>报送征信</p>", "letter")
    assert states_bureau_notice("<p>We will report it to the credit bureau.</p>", "letter")


def test_letters_are_judged_on_their_text_including_hidden_parts(tmp_path):
    letter = "<p>" + CLEAN + "</p>"
    assert rendered(tmp_path, letter, channel="letter").refusals == []
    assert "SAY-1" in rules(rendered(tmp_path, letter + '<p style="display:none">坐牢</p>', channel="letter"))
    assert "SAY-1" in rules(rendered(tmp_path, letter + "<!-- 老赖 -->", channel="letter"))
    hidden = letter.replace("{{ amount_overdue }}", '<span style="display: none">{{ amount_overdue }}</span>')
    assert "SAY-2" in rules(rendered(tmp_path, hidden, channel="letter"))


@pytest.mark.parametrize("name,problem", [
    ("王小明", None), ("Ming Wang", None), ("买买提·艾力", None), ("J. O'Brien", None), ("Jailani Ahmed", None),
    ("龚安", None),  # sounds like 公安: real names share sounds with everything; not judged by sound
    ("张三13800138000", "digits"), ("老赖王五", "word"), ("【通知】李四", "holds"), ("www.example.cn", "web"),
    ("王\u200b五", "holds"), ("Amy Police Chen", "word"), ("李四（VIP）", "holds"),
])
def test_names_are_data(name, problem):
    got = name_problem(name, LEXICON)
    assert (got is None) if problem is None else (problem in got), got


def test_a_name_that_cannot_stand_gets_a_neutral_salutation_not_a_suppression(tmp_path):
    msg = rendered(tmp_path, CLEAN, acc=account(name="老赖13800138000"))
    assert msg.refusals == [] and msg.body.startswith("客户您好")
    assert "13800138000" not in msg.body


def test_addresses_may_name_authorities_but_not_insult(tmp_path):
    letter = "<p>{{ address }}</p><p>" + CLEAN + "</p>"
    ok = rendered(tmp_path, letter, channel="letter", acc=account(address="北京市朝阳区公安局宿舍3号楼"))
    assert ok.refusals == []
    bad = rendered(tmp_path, letter, channel="letter", acc=account(address="老赖王五家 北京市1号"))
    assert "SAY-1" in rules(bad)
    phone = rendered(tmp_path, letter, channel="letter", acc=account(address="北京市1号 电话13812345678"))
    assert "SAY-4" in rules(phone)


def test_everyday_phrases_are_not_threats(tmp_path):
    for text in ("谨防诈骗，请勿向他人透露验证码。", "劳烦您尽快处理。", "APP显示的应还金额为准。", "还款同时请保留凭证。"):
        assert rendered(tmp_path, CLEAN + text).refusals == [], text
    english = ("{{ borrower_name }}: {{ creditor_name }} loan {{ loan_ref }} has {{ amount_overdue }} overdue as of "
               "{{ as_of }}. We are sympathetic and familiar with cumulative interest; as the due date gets closer, "
               "pay via {{ payment_channels }}. Dispute: {{ dispute_channel }} / {{ service_phone }}.")
    assert rendered(tmp_path, english, locale="en").refusals == []


@pytest.mark.parametrize("reply,word", [
    ("STOP", "stop"), ("stop.", "stop"), ("ＳＴＯＰ", "stop"), ("Stop texting me", "stop"), ("退订", "退订"),
    ("回复TD退订", "退订"), ("TD", "td"), ("Unsubscribe", "unsubscribe"), ("T", "t"), ("别再发了", "别再发"),
])
def test_stop_replies(reply, word):
    assert stop_keyword(reply) == word


@pytest.mark.parametrize("reply", ["好的，我明天还", "I will pay on Friday", "", None, "Tomorrow"])
def test_other_replies_are_no_opt_out(reply):
    assert stop_keyword(reply) is None


def test_judge_reads_every_form_once_per_message():
    """A direct call, as `send` makes it on a stored body."""
    context = {"borrower_name": "王小明", "creditor_name": "X公司", "amount_overdue": "1.00", "as_of": "2026-11-20",
               "payment_channels": "APP", "dispute_channel": "客服", "service_phone": "95188"}
    text = "王小明您好，截至2026-11-20，X公司借款逾期1.00元，请通过APP还款，异议请找客服，电话95188。"
    assert judge(text, channel="sms", purpose="overdue_notice", rules="cn", context=context, lexicon=LEXICON,
                 facts=MessageFacts()) == []


def test_the_sound_table_reads_pypinyins_data_either_way(monkeypatch):
    """The table is read from pypinyin's data file; a package laid out otherwise falls back to
    its public module, and both give the same sounds."""
    import importlib.util

    from collect_cli.domain import text_forms

    direct = text_forms._readings()
    text_forms._readings.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    try:
        assert text_forms._readings() == direct
    finally:
        text_forms._readings.cache_clear()
    direct = {code: readings[0] for code, readings in direct.items()}
    assert direct[ord("坐")] == direct[ord("座")] == "zuo" and direct[ord("訊")] == "xun"


# A second corpus, of the ways a reader still reads a word that the first forms split or hide.
READ_ANYWAY = {
    "right-to-left override": "\u202e。牢坐会就还不\u202c",
    "right-to-left isolate": "\u2067牢坐\u2069",
    "object replacement character": "坐\ufffc牢",
    "a stroke between": "坐丨牢",
    "a kana mark between": "坐ー牢",
    "an emoji between": "坐😀牢",
    "a latin letter between": "曝x光",
    "a digit between": "拘1留",
    "a polyphone's other reading": "暴光你",
    "a homophone of 还": "借新换旧",
    "pinyin with tone numbers": "zuo4 lao2",
    "short homophone of an insult": "辣鸡",
    "slang for the police": "进局子",
    "English slang for the police": "call the cops",
    "telling the family": "告诉你妈",
    "English: the family": "we will tell your mother",
    "an insult in the plural": "thieves",
}


@pytest.mark.parametrize("text", [*DISGUISED.values(), *READ_ANYWAY.values()],
                         ids=[*DISGUISED, *READ_ANYWAY])
def test_disguised_wording_is_suppressed_say1(tmp_path, text):
    msg = rendered(tmp_path, CLEAN + text)
    assert "SAY-1" in rules(msg), (text, msg.body)


LETTER = "<p>" + CLEAN + "</p>"


@pytest.mark.parametrize("markup", [
    "<p>坐<!--x-->牢</p>",  # a comment splits the word in the source, not on paper
    '<p>坐<span style="font-size:0">x</span>牢</p>',
    "<style>.t::after{content:'\\5750\\7262'}</style><p class=t></p>",
    "<p><bdo dir=rtl>牢坐就还不</bdo></p>",
    '<p dir="rtl">牢坐</p>',
    "<style>p.fine{display:none}</style><p class=fine>x</p>",
    "<style>p{display:\\6e one}</style>",
    '<p style="color:#ffffff">x</p>',
    '<p style="position:absolute;left:-9999px">x</p>',
    '<p style="margin-left:-9999px">x</p>',
    '<p style="flex-direction:row-reverse">x</p>',
    "<details><summary>x</summary>坐牢</details>",
    "<noscript>坐牢</noscript>",
    '<img src="data:image/svg+xml,<svg><text>坐牢</text></svg>">',
    "<svg><text>x</text></svg>",
])
def test_a_letters_markup_may_only_lay_text_out(tmp_path, markup):
    assert rendered(tmp_path, LETTER, channel="letter").refusals == []
    msg = rendered(tmp_path, LETTER + markup, channel="letter")
    assert "SAY-1" in rules(msg), (markup, msg.refusals)


def test_a_letter_keeps_plain_layout(tmp_path):
    letter = ('<!doctype html><html><head><meta charset="utf-8"><style>body{font-family:serif;max-width:40em;'
              'margin:3em auto;line-height:1.7}h1{text-align:center;font-size:1.4em}td{border:1px solid #333}'
              '</style></head><body><h1>通知</h1><table><tr><td colspan="2">' + CLEAN + '</td></tr></table>'
              '<p style="text-align:right;color:#222">落款</p></body></html>')
    assert rendered(tmp_path, letter, channel="letter").refusals == []


@pytest.mark.parametrize("claim,facts", [
    ("您已被起诉，法院已受理。", MessageFacts(legal_filed_on=date(2026, 11, 1))),
    ("您的案件已进入司法程序。", MessageFacts(legal_filed_on=date(2026, 11, 1))),
    ("您的欠款已移交法务部处理。", MessageFacts(legal_filed_on=date(2026, 11, 1))),
    ("We have started legal proceedings.", MessageFacts(legal_filed_on=date(2026, 11, 1))),
    ("You are being sued.", MessageFacts(legal_filed_on=date(2026, 11, 1))),
    ("您已被上报征信。", MessageFacts(bureau_reported_on=date(2026, 11, 1))),
    ("You have been reported to the credit bureau.", MessageFacts(bureau_reported_on=date(2026, 11, 1))),
    ("我们已给您寄了一封信。", MessageFacts(letter_sent_on=date(2026, 11, 1))),
    ("您应已收到我司的正式通知。", MessageFacts(letter_sent_on=date(2026, 11, 1))),
    ("第二次通知：", MessageFacts(notices_sent=1)),
    ("再一次提醒您，", MessageFacts(notices_sent=1)),
    ("This is our second notice.", MessageFacts(notices_sent=1)),
])
def test_more_statements_of_fact_need_their_record_say8(tmp_path, claim, facts):
    assert "SAY-8" in rules(rendered(tmp_path, CLEAN + claim)), claim
    assert "SAY-8" not in rules(rendered(tmp_path, CLEAN + claim, facts=facts)), claim


@pytest.mark.parametrize("text", ["否则我们将告你，法庭见，让你吃官司。", "我们将依法处理，法律后果自负。", "We may sue you.",
                                  "You could stand trial."])
def test_more_legal_wording_on_time_barred_debts_say7(tmp_path, text):
    assert "SAY-7" in rules(rendered(tmp_path, CLEAN + text, facts=MessageFacts(time_barred=True))), text


@pytest.mark.parametrize("number", ["壹叁捌壹贰參肆伍陆柒捌", "138○○○○1234", "l38l2345678", "138ー1234ー5678", "138丨1234丨5678"])
def test_more_spellings_of_full_numbers_say4(tmp_path, number):
    assert "SAY-4" in rules(rendered(tmp_path, CLEAN + f"请联系{{{{ '{number}' }}}}")), number


def test_the_signature_is_judged_for_numbers_too(tmp_path):
    base = Messaging().texts["zh_CN"].__dict__
    settings = Settings(messaging=Messaging(texts={"zh_CN": LocaleTexts(**{**base, "sms_signature": "13812345678"}),
                                                    "en": Messaging().texts["en"]}))
    assert "SAY-4" in rules(rendered(tmp_path, CLEAN, settings=settings))


@pytest.mark.parametrize("body", ["〔通知〕" + CLEAN, CLEAN + "[催收中心]"])
def test_more_brackets_say5(tmp_path, body):
    assert "SAY-5" in rules(rendered(tmp_path, body))


@pytest.mark.parametrize("address,rule", [
    ("北京市朝阳区建国路4号 你涉嫌诈骗即将被逮捕", "SAY-1"),
    ("上海市1号 借新还旧找我们", "SAY-1"),
    ("上海市1号 提额优惠 限时领取红包", "SAY-1"),  # SAY-6 words: the address check is SAY-1's
    ("上海市1号。请尽快还款！", "SAY-1"),
    ("上海市1号 你快还钱", "SAY-1"),
])
def test_an_address_names_a_place_and_says_nothing(tmp_path, address, rule):
    letter = "<p>{{ address }}</p>" + LETTER
    assert rule in rules(rendered(tmp_path, letter, channel="letter", acc=account(address=address))), address


@pytest.mark.parametrize("name,problem", [
    ("张伟你要座牢", "word"), ("Thieving Deadbeats", "word"), ("傻比", "word"), ("李一三八一二三四五六七八", "digits"),
    ("张伟要坐牢了啊", "sentence"), ("Wang Deadbeats", "word"), ("欧阳慕容雪晴", None), ("张一", None), ("阿卜杜拉·买买提", None),
])
def test_names_that_say_something(name, problem):
    got = name_problem(name, LEXICON)
    assert (got is None) if problem is None else (problem in got), got


def test_a_name_stays_in_the_text_as_spelled(tmp_path):
    """The name is no cover: 要坐 followed by 牢 reads 坐牢; but no word is made across a name
    (坐王小明牢 says nothing)."""
    assert "SAY-1" in rules(rendered(tmp_path, CLEAN + "你{{ borrower_name }}牢", acc=account(name="要坐")))
    assert rendered(tmp_path, CLEAN + "坐{{ borrower_name }}牢").refusals == []


@pytest.mark.parametrize("text", [
    "如需帮助请联系人工客服，请注意防范电信网络诈骗。", "经查，您本期款项尚未到账。", "金额单位：元。", "本次还款无手续费。",
    "领到还款凭证后请妥善保管。", "本金按合同计收罚息。",
])
def test_everyday_wording_that_sounds_like_a_listed_word(tmp_path, text):
    assert rendered(tmp_path, CLEAN + text).refusals == [], text


def test_a_real_address_is_not_heard_as_wording(tmp_path):
    letter = "<p>{{ address }}</p>" + LETTER
    for address in ("湖南省长沙市天心区解放路985号26栋808室", "北京市东城区正义路1号最高人民法院宿舍", "上海市第一中学教工宿舍"):
        assert rendered(tmp_path, letter, channel="letter", acc=account(address=address)).refusals == [], address


def test_a_denied_disclosure_is_not_made_say3(tmp_path):
    us = Settings(contact=ContactRules(rules="us"))
    english = ("{{ borrower_name }}: {{ creditor_name }} loan {{ loan_ref }} has {{ amount_overdue }} overdue as of "
               "{{ as_of }}. Pay: {{ payment_channels }}. Dispute: {{ dispute_channel }} / {{ service_phone }}. ")
    denied = english + "This is not an attempt to collect a debt. Do not reply STOP."
    assert "SAY-3" in rules(rendered(tmp_path, denied, settings=us, locale="en"))
    made = english + "This is an attempt to collect a debt. Reply STOP to opt out."
    assert rendered(tmp_path, made, settings=us, locale="en").refusals == []


# A second review's classes: scripts a message is not written in, traditional characters,
# markup that moves or hides text by its lengths, broken markup, and more statements.
@pytest.mark.parametrize("text", ["上⻔", "pøłice", "ꓮꓣꓣꓰꓢꓔ", "ᏢᎾᏞᏆᏟᎬ", "jaił", "通知你的領導", "牢飯", "網警", "賤人"])
def test_other_scripts_and_traditional_spellings_say1(tmp_path, text):
    assert "SAY-1" in rules(rendered(tmp_path, CLEAN + text)), text


def test_a_name_in_another_script_is_no_foreign_wording(tmp_path):
    assert rendered(tmp_path, CLEAN, acc=account(name="Иван Петров")).refusals == []


@pytest.mark.parametrize("markup", [
    '<p style="margin-left:30000px">x</p>', '<p style="text-indent:5000px">x</p>', '<p style="line-height:0">x</p>',
    '<p style="width:0">x</p>', '<p style="font-size:9999pt">x</p>', '<p style="font-family:Zapf Dingbats">x</p>',
    '<table width="30000"><tr><td>x</td></tr></table>', "<table><tbody><tr><td>x</td></tr></tbody>"
    "<thead><tr><td>y</td></tr></thead></table>", '<p style="letter-spacing:40px">x</p>',
    '<p style="border-left:3000px solid #000">x</p>', "<p>附注<![ 见背面</p>",
])
def test_markup_that_moves_squeezes_or_breaks_text(tmp_path, markup):
    assert "SAY-1" in rules(rendered(tmp_path, LETTER + markup, channel="letter")), markup


def test_broken_markup_is_refused_quickly_not_parsed_for_minutes():
    import time

    from collect_cli.domain.text_forms import letter_text, markup_problem

    start = time.perf_counter()
    for html in ("<a\n" * 6000, "<style>" + "a" * 20000 + "</style>", "<p>附注<![ 见背面</p>"):
        assert markup_problem(html) is not None
        letter_text(html)
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("claim", [
    "我司已于11月1日向您致函。", "我司已将您的案件提交至法院。", "上周寄给您的催款函请查收。", "案件已由法院受理。",
    "您的逾期已被征信系统记录。", "已记入个人信用报告。", "您的欠款已由专业催收团队接管。", "上次短信您未回复。",
    "Further to our correspondence, ", "Despite our reminders, ", "Our solicitors have been instructed.",
    "Judgment was entered.", "It appears on your credit report.", "We have informed Experian.",
    "Your account is handled by an outside collection agency.",
])
def test_statements_of_fact_in_other_phrasings_say8(tmp_path, claim):
    assert "SAY-8" in rules(rendered(tmp_path, CLEAN + claim)), claim


@pytest.mark.parametrize("text", ["请于2026-12-03之前通知我们。", "如有变动，我们会再通知您。", "Valid until further notice.",
                                  "这是您的第2次分期。"])
def test_what_is_not_a_statement_of_fact(tmp_path, text):
    assert "SAY-8" not in rules(rendered(tmp_path, CLEAN + text)), text


@pytest.mark.parametrize("text", ["我们将申请支付令。", "将进行诉前调解。", "将被限制高消费。", "财产将被拍賣。", "You may get a CCJ.",
                                  "We may file suit.", "We can take you to small claims."])
def test_legal_steps_in_other_words_on_time_barred_debts_say7(tmp_path, text):
    assert "SAY-7" in rules(rendered(tmp_path, CLEAN + text, facts=MessageFacts(time_barred=True))), text


def test_a_number_spelled_in_words_say4(tmp_path):
    msg = rendered(tmp_path, CLEAN + "Call one three eight zero zero one three eight zero zero zero.", locale="zh_CN")
    assert "SAY-4" in rules(msg)
    assert "SAY-4" not in rules(rendered(tmp_path, CLEAN + "Pay one or two instalments."))
