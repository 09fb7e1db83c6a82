"""The words a collection message must not use, by rule and category (compliance.md SAY-1,
SAY-6, SAY-7), and how they are found in text whatever the spelling.

Each category lists the words and their synonyms in Chinese and English. Pinyin and
homophones need no list of their own: a Chinese word is also found by its sound
(text_forms.phonetic), so 座牢, 通訊錄 and "zuo lao" are found as 坐牢, 通讯录 and 坐牢.
Operators add words in collect.toml ([messaging] forbidden_words, marketing_words,
legal_words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from operator import add

from collect_cli.domain.text_forms import (
    PLACEHOLDER,
    compact,
    fold,
    han_of,
    is_cjk,
    leet_forms,
    letters_of,
    phonetic,
    soundings,
    without_digits,
)

# Homophones of listed words that are themselves listed, as written: too short to be found by
# their sound without hearing everyday speech (辣鸡 for 垃圾, 暴光 for 曝光, 通辑 for 通缉).
HOMOPHONES = {
    "insult": ("辣鸡", "拉圾", "垃鸡", "傻比", "煞笔", "傻叉", "沙雕", "老癞", "剑人", "贱货", "畜牲", "王巴"),
    "arrest or prison": ("通辑",),
    "public shaming or third parties": ("暴光",),
}

SAY1 = {
    "arrest or prison": (
        "坐牢", "蹲监狱", "进监狱", "送进监狱", "监狱", "牢房", "牢饭", "大牢", "入狱", "坐监", "班房", "判刑",
        "拘留", "拘役", "刑拘", "逮捕", "抓捕", "抓人", "抓你", "抓起来", "关起来", "手铐", "通缉", "刑事责任",
        "刑事案件", "追究刑事", "犯罪", "罪犯", "诈骗", "涉嫌", "恶意透支", "拒执罪", "局子", "看守所",
        "坐大牢", "吃牢饭", *HOMOPHONES["arrest or prison"],
        "arrest", "jail", "prison", "imprison", "behind bars", "lock you up", "locked up", "detain",
        "detention", "custody", "criminal", "crime", "felony", "warrant", "handcuff", "penitentiary",
        "prosecute", "prosecution", "fraud", "bailiff", "cops", "behind the bars",
    ),
    "false authority": (
        "公安", "警察", "警方", "民警", "刑警", "经侦", "网警", "派出所", "检察院", "检察官", "传票", "法官", "法警",
        "执法人员", "执法部门", "司法机关", "政府部门", "报警", "报案",
        "police", "sheriff", "marshal", "law enforcement", "summons", "subpoena",
    ),
    "public shaming or third parties": (
        "曝光", *HOMOPHONES["public shaming or third parties"], "公之于众", "公示", "挂网", "网上公布", "朋友圈", "微信群", "发到群", "通讯录", "通知联系人",
        "你的联系人", "您的联系人", "联系人都", "所有联系人", "通知亲友", "你妈", "你爸", "您的母亲", "您的父亲",
        "亲朋好友", "亲友", "家人", "家属", "亲属", "父母", "爸妈", "配偶", "老婆", "老公", "子女", "孩子",
        "单位", "领导", "老板", "同事", "邻居", "村委", "居委会", "学校", "黑名单", "失信", "丢人", "丢脸",
        "身败名裂", "社死",
        "shame", "shaming", "expose", "social media", "facebook", "your contacts", "contact list",
        "address book", "your family", "family members", "relatives", "your parents", "your spouse",
        "your wife", "your husband", "your children", "your kids", "your employer", "your boss",
        "your manager", "coworkers", "co-workers", "colleagues", "your workplace", "your neighbours",
        "your neighbors", "your friends", "blacklist", "your mom", "your mother", "your dad", "your father",
        "your mum",
    ),
    "insult": (
        "老赖", "赖账", "骗子", "无赖", "垃圾", "废物", "畜生", "王八", "混蛋", "去死", "不要脸", "人渣", "败类",
        "傻逼", "傻b", "贱人", "滚蛋", "狗东西", "白眼狼", "没良心", "丧尽天良", "死全家", "穷鬼", "蠢货",
        *HOMOPHONES["insult"],
        "deadbeat", "you loser", "you scum", "idiot", "stupid", "you liar", "thief", "cheater", "fraudster",
        "worthless", "you are pathetic", "bitch", "bastard", "moron", "thieving", "thieves", "scumbag",
    ),
    "threat or pressure": (
        "后果自负", "后果严重", "严重后果", "走着瞧", "等着瞧", "小心点", "别怪我", "对你不客气", "暴力", "弄死", "打断",
        "上门", "登门", "家访", "外访", "到你家", "堵门", "倾家荡产", "不得安宁", "最后通牒",
        "or else we", "or else you", "you will regret", "you'll regret", "we know where you live", "hurt you", "kill you",
        "violence", "come to your home", "visit your home", "come to your house", "at your door",
        "knock on your door", "last warning", "final warning", "watch out",
    ),
    "borrowing to repay": (
        "借新还旧", "以贷养贷", "拆东墙补西墙", "套现", "借钱还", "借钱来还", "向亲友借", "找朋友借", "其他平台借",
        "borrow to repay", "borrow money to", "take another loan", "take out a loan", "payday loan",
        "cash advance", "borrow from friends", "borrow from family",
    ),
    "fees for collection": (
        "手续费", "催收费", "外访费", "上门费", "催收服务费", "调查费",
        "collection fee", "collection charge", "processing fee", "handling fee", "visit fee",
    ),
}
SAY6 = {
    "marketing": (
        "提额", "提升额度", "额度提升", "优惠", "促销", "抽奖", "限时", "免息券", "再借", "新客", "红包", "福利",
        "秒批", "秒到账", "折扣", "返现", "特惠", "领取", "低息", "立即借", "可借",
        "promotion", "promo", "discount", "special offer", "limited time", "borrow more", "new loan",
        "cashback", "cash back", "bonus", "voucher", "coupon", "pre-approved", "preapproved",
        "increase your limit", "higher limit", "apply now", "click here", "free gift",
    ),
}
# SAY-7 / LIM-1: legal action, which a message must not mention on a time-barred debt.
SAY7 = {
    "legal action": (
        "起诉", "诉讼", "法院", "法律途径", "合法途径", "司法途径", "司法程序", "法律程序", "法律手段", "法律行动",
        "法律责任", "强制执行", "仲裁", "律师", "立案", "判决", "财产保全", "查封", "冻结", "拍卖", "维护自身权益",
        "依法追偿", "依法追究", "告你", "告您", "法庭", "官司", "依法处理", "法律后果", "司法", "执行局",
        "支付令", "诉前调解", "诉讼调解", "限制高消费", "失信被执行", "被执行人", "督促程序",
        "lawsuit", "sue you", "we will sue", "to sue", "in court", "to court", "the court", "a court",
        "court action", "court order", "legal action", "legal proceedings", "legal steps", "legal means",
        "attorney", "lawyer", "solicitor", "litigation", "judgment", "judgement", "garnish", "seize",
        "the law allow", "further steps", "further action", "arbitration", "enforcement", "may sue", "could sue",
        "will sue", "suing you", "stand trial", "on trial", "to trial", "judge", "courthouse", "tribunal",
        "ccj", "small claims", "levy", "writ of", "file suit", "bailiffs", "debt claim",
    ),
}

MIN_SOUND = 5  # a word is also found by its sound when that is at least this many letters
# Words whose sound is also that of everyday words (限时 xianshi: 显示 "shows", 同事 tongshi:
# 同时 "at the same time", 牢饭 laofan: 劳烦 "may we trouble you"): found only as spelled.
SPELLED_ONLY = {"限时", "同事", "公示", "牢饭", "牢房", "通缉", "可借", "立即借", "再借", "网警", "暴力", "畜生", "村委",
                "拍卖", "冻结", "班房", "大牢", "贱人", "拘留",
                # 领到 (received), 行径 (conduct), 外方 (the foreign side), 劳工 (labour), 经查 (on checking)
                "领导", "刑警", "外访", "老公", "警察", "局子", "告你", "告您", "官司", "司法",
                *(w for words in HOMOPHONES.values() for w in words)}
# Everyday phrases that contain a listed word but say something else ("beware of fraud").
BENIGN = ("谨防诈骗", "防范诈骗", "警惕诈骗", "防止诈骗", "预防诈骗", "谨防电信诈骗", "防范电信诈骗", "反诈骗", "防诈骗",
          "谨防电信网络诈骗", "防范电信网络诈骗", "警惕电信网络诈骗", "电信网络诈骗", "金额单位", "计量单位", "单位元",
          "单位:元", "无手续费", "免手续费", "不收取手续费", "不收手续费", "联系人工", "经查",
          # words ending in "shi" before 信 (xin) would sound like 失信 (shixin): "经核实，信息无误"
          "核实", "属实", "事实", "真实", "如实", "证实", "落实", "确实", "及时",
          "beware of fraud", "beware of scams", "protect yourself from fraud", "warranty", "warranties")


@dataclass(frozen=True)
class Term:
    word: str  # as listed
    rule: str  # SAY-1, SAY-6, SAY-7
    category: str


@dataclass(frozen=True)
class Forms:
    """The forms of one text that words are looked for in (text_forms)."""

    letters: str  # compact: letters and digits only
    leet: tuple[str, str]  # digits and symbols read as letters
    sound: str  # Chinese as pinyin
    han: str = ""  # the Chinese characters only (a sign, a digit or a letter between two is skipped)
    sounds: tuple[str, ...] = ()  # more ways it sounds: the Chinese only, pinyin without tone numbers

    @classmethod
    def of(cls, text: str, folded: bool = False) -> Forms:
        """`folded`: the text is fold()ed already (and may hold placeholders where fields were cut)."""
        folded = text if folded else fold(text)
        letters = _without_benign(letters_of(folded))
        # digits and symbols are read as letters only where they touch a Latin letter ("p0l1ce")
        leet = tuple(map(_without_benign, leet_forms(folded))) if _LEET_SPOT.search(folded) else (letters, letters)
        sound = phonetic(letters)
        han = han_of(letters)
        sounds = tuple(f for f in dict.fromkeys((phonetic(han), without_digits(sound))) if f != sound)
        return cls(letters, leet, sound, han if han != letters else "", sounds)

    @classmethod
    def spelled(cls, folded: str) -> Forms:
        """The forms `Lexicon.find(spelled=True)` reads: as written, and its Chinese alone."""
        letters = _without_benign(letters_of(folded))
        han = han_of(letters)
        return cls(letters, (letters, letters), "", han if han != letters else "")


_LEET_SPOT = re.compile(r"[a-z][\W\d_]*[0-9@$!|€]|[0-9@$!|€][\W\d_]*[a-z]")
_BENIGN = tuple(sorted({compact(b) for b in BENIGN}, key=len, reverse=True))


def _without_benign(letters: str) -> str:
    for phrase in _BENIGN:
        if phrase in letters:
            letters = letters.replace(phrase, PLACEHOLDER)
    return letters


class Lexicon:
    """Terms indexed by their first two characters in each form: a text is scanned once per
    form, whatever the number of terms."""

    def __init__(self, terms: Iterable[Term]):
        self.terms = tuple(dict.fromkeys(terms))
        self._letters: dict[str, list[tuple[str, Term]]] = {}
        self._latin: dict[str, list[tuple[str, Term]]] = {}
        self._sound: dict[str, list[tuple[str, Term]]] = {}
        self._chinese: dict[str, list[tuple[str, Term]]] = {}  # for names: Chinese words as spelled
        self._latin_words: dict[str, Term] = {}  # for names: Latin words, matched whole
        for term in self.terms:
            spelled = compact(term.word)
            if len(spelled) < 2:
                continue
            self._add(self._letters, spelled, term)
            if term.rule in ("SAY-1", "SAY-6"):
                if spelled.isascii():
                    self._latin_words.setdefault(spelled, term)
                else:
                    self._add(self._chinese, spelled, term)
            if any(map(is_cjk, spelled)):
                if term.word in SPELLED_ONLY:
                    continue
                for sound in soundings(spelled):
                    if len(sound) >= MIN_SOUND:
                        self._add(self._sound, sound, term)
            else:
                self._add(self._latin, spelled, term)

    @staticmethod
    def _add(index: dict, form: str, term: Term) -> None:
        index.setdefault(form[:2], []).append((form, term))

    @classmethod
    def of(cls, *, forbidden: Iterable[str] = (), marketing: Iterable[str] = (), legal: Iterable[str] = ()) -> Lexicon:
        terms = [Term(w, rule, cat) for rule, table in (("SAY-1", SAY1), ("SAY-6", SAY6), ("SAY-7", SAY7))
                 for cat, words in table.items() for w in words]
        terms += [Term(w, "SAY-1", "configured") for w in forbidden]
        terms += [Term(w, "SAY-6", "configured") for w in marketing]
        terms += [Term(w, "SAY-7", "configured") for w in legal]
        return cls(terms)

    def in_name(self, letters: str, words: Iterable[str]) -> Term | None:
        """A SAY-1/SAY-6 term in a name: Chinese ones as spelled anywhere in its `letters`, Latin
        ones only as whole `words` (so Jailani is not "jail"); not by sound, which real names
        share with everything."""
        for i in range(len(letters) - 1):
            for form, term in self._chinese.get(letters[i:i + 2], ()):
                if letters.startswith(form, i):
                    return term
        return next((self._latin_words[w] for w in words if w in self._latin_words), None)

    def find(self, forms: Forms, rules: Iterable[str] | None = None, spelled: bool = False,
             heard: Forms | None = None) -> list[Term]:
        """The terms the text contains, in any of its forms (of the given rules only). `spelled`:
        only as written (letters, and the Chinese characters alone), not by sound or leetspeak;
        `heard`: the forms to read by sound and leetspeak instead (the text with its name cut)."""
        wanted = set(rules) if rules is not None else None
        hits: dict[Term, None] = {}
        scans = [(self._letters, forms.letters), (self._letters, forms.han)]
        if not spelled:
            heard = heard or forms
            scans.append((self._sound, heard.sound))
            scans += [(self._sound, sound) for sound in heard.sounds]
            scans += [(self._latin, leet) for leet in dict.fromkeys(heard.leet) if leet != heard.letters]
        for index, text in scans:
            if not text:
                continue
            # the pairs of characters that start a term and are in the text: a small index's keys
            # looked for in the text, or the text's pairs (built in C) met with a large one's
            # (each key looked for costs a pass over the text: measured, the pairs win from about
            # a hundred keys whatever the length)
            keys = [k for k in index if k in text] if len(index) <= 100 else \
                index.keys() & set(map(add, text, text[1:]))
            for key in keys:
                for form, term in index[key]:
                    if (wanted is None or term.rule in wanted) and form in text:
                        hits[term] = None
        return list(hits)
