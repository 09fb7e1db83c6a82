"""Text as a person reads it: the forms of a rendered message that the content rules judge.

A reader does not see zero-width characters, does not tell full-width from half-width
letters or a Cyrillic "о" from a Latin "o", reads "p o l i c e" and "坐 牢" as one word,
and hears 座牢 and "zuo lao" as 坐牢. Each form below undoes one of these disguises, so a
rule is judged on what is read, not on how it was spelled.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import unicodedata
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

# Letters that look like Latin ones (Cyrillic, Greek, Armenian, small capitals, IPA), folded
# after NFKC and casefold, so "роliсе" or "ᴘᴏʟɪᴄᴇ" reads as "police".
_LOOKALIKES = str.maketrans({
    # Cyrillic (after casefold)
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ь": "b", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ӏ": "l", "ҫ": "c", "ү": "y", "һ": "h", "ѵ": "v",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "σ": "o", "ς": "c", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    # Armenian, IPA and others that pass for Latin letters
    "օ": "o", "ս": "u", "ց": "g", "հ": "h", "ո": "n", "ռ": "n", "ք": "p", "ɑ": "a", "ɡ": "g", "ı": "i",
    "ȷ": "j", "ɩ": "i", "ʋ": "u",
    # small capitals
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k",
    "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v",
    "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
})
# Letters that show nothing (fillers); zero-width and format characters are category Cf.
# U+FFFC and U+FFFD stand for an object or a lost character: nothing a reader reads (and the
# placeholder below must come only from a cut).
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u17b4", "\u17b5", "\u2800", "\ufffc", "\ufffd"}
_DROPPED = {"Cf", "Cc", "Cs", "Co", "Mn", "Me"}


def _fold_char(ch: str) -> str:
    if ch in _BLANK_LETTERS:
        return ""
    cat = unicodedata.category(ch)
    if ch in "\n\r":
        return "\n"
    if cat.startswith("Z") or ch == "\t":
        return " "
    if cat in _DROPPED:
        return ""
    # Latin letters with accents as their base letter ("pólícé" -> "police"); CJK unchanged
    base = unicodedata.normalize("NFKD", ch)
    base = "".join(c for c in base if not unicodedata.combining(c))
    return base.casefold().translate(_LOOKALIKES)


class _Folded(dict):
    """A str.translate table filled on first sight of each character: the common case, a
    character seen before, is a dictionary hit in C."""

    def __missing__(self, code: int) -> str:
        self[code] = folded = _fold_char(chr(code))
        return folded


_FOLD = _Folded()


def fold(text: str) -> str:
    """NFKC (full-width letters and digits, ideographic spaces, circled and mathematical
    letters), invisible characters removed, accents stripped, look-alikes folded, case folded."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


# Stands where a text was cut out (a ledger field, an everyday phrase): it survives every form
# and joins with nothing, so no word is made across the cut.
PLACEHOLDER = "\ufffc"


_NOT_LETTERS = re.compile(rf"[^\w{PLACEHOLDER}]|_")


def letters_of(folded: str) -> str:
    return _NOT_LETTERS.sub("", folded)


def compact(text: str) -> str:
    """Only the letters and digits of `fold(text)`: spaces, punctuation and symbols that split a
    word ("p.o.l.i.c.e", "坐 牢", "坐~牢") do not split it for a reader."""
    return letters_of(fold(text))


# Digits and symbols written for letters ("p0l1ce", "j@il").
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i",
                       "|": "l", "€": "e"})
_LEET_L = str.maketrans({"1": "l", "|": "l", "!": "l"})


def leet_forms(folded: str) -> tuple[str, str]:
    """Two readings of digits and symbols as letters (1 as i, and 1 as l), compacted."""
    return tuple(letters_of(folded.translate(table)) for table in (_LEET, _LEET_L))


_TONES = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")


@lru_cache(maxsize=1)
def _readings() -> dict[int, tuple[str, ...]]:
    """Each Chinese character (40,000 of them) to its readings, toneless, the usual one first;
    loaded when first needed. Read from pypinyin's data file without importing the package:
    its import also loads a phrase dictionary this does not use (46 MB more in every run)."""
    spec = importlib.util.find_spec("pypinyin")
    data = Path(spec.submodule_search_locations[0]) / "pinyin_dict.json" if spec else None
    if data is not None and data.is_file():
        table = json.loads(data.read_text("utf-8"))
    else:  # another layout of the package: its public table
        from pypinyin.pinyin_dict import pinyin_dict as table
    return {int(code): tuple(dict.fromkeys(sys.intern(r.translate(_TONES)) for r in readings.split(",")))
            for code, readings in table.items()}


@lru_cache(maxsize=1)
def _pinyin_table() -> dict[int, str]:
    return {code: readings[0] for code, readings in _readings().items()}


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0003134f"


class _Sounds(dict):
    """A str.translate table: each Chinese character to its toneless pinyin, on first sight."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        self[code] = sound = (_pinyin_table().get(code) if is_cjk(ch) else None) or ch
        return sound


_SOUNDS = _Sounds()
_ANY_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def phonetic(compacted: str) -> str:
    """How a compacted text sounds: each Chinese character as its toneless pinyin, other
    characters as they are. Homophones (座牢 for 坐牢), traditional characters (通訊錄) and
    pinyin typed in Latin letters ("zuo lao", "坐lao") all read the same."""
    return compacted.translate(_SOUNDS) if _ANY_CJK.search(compacted) else compacted


def soundings(compacted: str) -> list[str]:
    """The ways a word may be read aloud: its usual reading, and each reading where one of its
    characters takes another (曝光 is bao guang as well as pu guang; 还 is huan as well as
    hai). One character at a time: two rare readings at once hear words in everyday text."""
    usual = phonetic(compacted)
    out = [usual]
    for i, ch in enumerate(compacted):
        if is_cjk(ch):
            for other in _readings().get(ord(ch), ())[1:]:
                out.append(phonetic(compacted[:i]) + other + phonetic(compacted[i + 1:]))
    return list(dict.fromkeys(out))


# Strokes and radicals that stand between characters as a line, not as a word (坐丨牢).
_STROKES = "丨丶丿乛亅"
_NOT_HAN = re.compile(f"[^\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f{PLACEHOLDER}]|[{_STROKES}]")


def han_of(compacted: str) -> str:
    """Only the Chinese characters of a text: what a reader of Chinese reads when a symbol,
    a kana mark, a digit or a Latin letter stands between two characters (坐ー牢, 坐x牢)."""
    return _NOT_HAN.sub("", compacted)


_DIGIT_MARKS = re.compile(r"\d")


def without_digits(compacted: str) -> str:
    """Pinyin written with tone numbers ("zuo4 lao2") read without them."""
    return _DIGIT_MARKS.sub("", compacted)


# Characters that change the order of what follows (a right-to-left override makes 。牢坐会
# read 会坐牢。) or stand for an object: a text holding one is not read as it is stored.
_REORDERING = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufff9-\ufffc]")


def reordering_character(text: str) -> str | None:
    m = _REORDERING.search(text)
    return f"U+{ord(m.group(0)):04X}" if m else None


# Digits as a reader takes them in a number: any script's digits, Chinese numerals, 幺 (one).
_NUMERALS = {**{c: str(i) for i, c in enumerate("〇一二三四五六七八九")},
             **{c: str(i) for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")},
             **{c: str(i) for i, c in enumerate("○壹貳參肆伍陸柒捌玖")},  # traditional forms, ○ for zero
             "◯": "0", "⚪": "0", "幺": "1", "两": "2", "兩": "2", "叄": "3", "弎": "3",
             # lines that stand between digit groups as a dash
             "ー": "-", "ｰ": "-", "丨": "-"}


class _Digits(dict):
    def __missing__(self, code: int) -> str:
        ch = chr(code)
        self[code] = digit = _NUMERALS.get(ch) or (str(unicodedata.digit(ch, 0)) if ch.isdigit() else ch)
        return digit


_DIGITS = _Digits()


def digits_form(folded: str) -> str:
    """Every character that reads as a digit, as an ASCII digit."""
    return folded.translate(_DIGITS)


class _Reader(HTMLParser):
    """The text of a letter as printed: text outside <head>, <style>, <script> and elements
    hidden by their style; `unseen` has what it carries besides: titles, attribute values,
    comments and hidden text."""

    _SKIP = {"head", "style", "script", "template", "title"}
    _VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}
    _HIDDEN = ("display:none", "visibility:hidden", "font-size:0", "opacity:0")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.unseen: list[str] = []
        self._stack: list[bool] = []  # per open element: does it hide its content

    def _hidden(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag, attrs):
        style = "".join((dict(attrs).get("style") or "").split()).casefold()
        hides = tag in self._SKIP or "hidden" in dict(attrs) or any(h in style for h in self._HIDDEN)
        self.unseen.extend(v for _, v in attrs if v)
        if tag not in self._VOID:
            self._stack.append(hides)
        self.visible.append("\n")

    def handle_startendtag(self, tag, attrs):
        self.unseen.extend(v for _, v in attrs if v)
        self.visible.append("\n")

    def handle_endtag(self, tag):
        if tag not in self._VOID and self._stack:
            self._stack.pop()
        self.visible.append("\n")

    def handle_data(self, data):
        (self.unseen if self._hidden() else self.visible).append(data)

    def handle_comment(self, data):
        self.unseen.append(data)


def letter_text(html: str) -> tuple[str, str]:
    """(what a printed letter shows, what else it carries) of an HTML letter."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return "".join(reader.visible), "\n".join(reader.unseen)


# A letter is judged as printed, so its markup may only lay text out: no element, attribute
# or style that hides, reorders, generates or draws text (an image says what no check reads).
_LETTER_TAGS = {"html", "head", "meta", "title", "style", "body", "p", "br", "div", "span", "strong", "b", "em", "i",
                "u", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "td", "th",
                "caption", "colgroup", "col", "ul", "ol", "li", "hr", "section", "header", "footer", "address",
                "blockquote", "sup", "sub", "small", "a"}
_LETTER_ATTRS = {"style", "class", "id", "lang", "charset", "colspan", "rowspan", "href", "width", "align"}
# CSS properties that only lay out or set type; each value is checked below where it could hide
_LAYOUT = {"font-family", "font-size", "font-weight", "font-style", "line-height", "text-align", "text-decoration",
           "margin", "margin-top", "margin-bottom", "margin-left", "margin-right", "padding", "padding-top",
           "padding-bottom", "padding-left", "padding-right", "border", "border-top", "border-bottom",
           "border-left", "border-right", "border-collapse", "border-spacing", "border-width", "border-style",
           "border-color", "width", "max-width", "min-width", "page-break-before", "page-break-after",
           "page-break-inside", "break-before", "break-after", "break-inside", "vertical-align", "list-style",
           "list-style-type", "text-indent", "letter-spacing", "size", "color"}
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_RULE = re.compile(r"([^{}]*)\{([^{}]*)\}")
_SELECTOR = re.compile(r"^[\w\s.#,>*-]*$")
_NEGATIVE = re.compile(r"(?<![\w.])-\s*\d")
_FONT_SIZE = re.compile(r"^(\d*\.?\d+)(pt|px|em|rem|%)$")
_MIN_FONT = {"pt": 8.0, "px": 10.0, "em": 0.7, "rem": 0.7, "%": 70.0}
_DARK = {"black", "navy", "darkblue", "darkred", "maroon", "darkgreen", "dimgray", "dimgrey", "gray", "grey",
         "darkslategray", "darkslategrey", "midnightblue", "inherit", "currentcolor"}
_HEX = re.compile(r"^#([0-9a-f]{3}|[0-9a-f]{6})$")


def _css_problem(css: str, block: bool) -> str | None:
    css = _CSS_COMMENT.sub("", css)
    if "\\" in css or "@" in css.replace("@page", "") or "url(" in css.casefold() or "expression" in css.casefold():
        return "style escapes, rules or urls"
    if block:
        rules = _RULE.findall(css)
        if _RULE.sub("", css).strip():
            return "a style block that is not plain rules"
        if any(not _SELECTOR.match(sel.replace("@page", "")) for sel, _ in rules):
            return "a style selector other than element, class or id (:before, :after, [attr])"
        declarations = ";".join(body for _, body in rules)
    else:
        declarations = css
    for declaration in declarations.split(";"):
        if not declaration.strip():
            continue
        name, _, value = declaration.partition(":")
        name, value = name.strip().casefold(), " ".join(value.casefold().split()).replace("!important", "").strip()
        if name not in _LAYOUT:
            return f"the style {name!r}, which can hide, move, reorder or add text"
        if name.startswith(("margin", "text-indent", "letter-spacing", "padding")) and _NEGATIVE.search(value):
            return f"a negative {name}, which can move text off the page"
        if name == "font-size":
            m = _FONT_SIZE.match(value)
            if not (value in ("small", "medium", "large", "x-large", "xx-large", "larger", "inherit")
                    or (m and float(m.group(1)) >= _MIN_FONT[m.group(2)])):
                return f"font-size {value}, too small to read"
        if name == "font-family" and any(w in value for w in ("symbol", "dings", "marlett", "emoji")):
            return f"font-family {value}: a font that draws other signs than the letters"
        if name == "color" and not _dark(value):
            return f"color {value}: text is printed dark on white"
    return None


def _dark(value: str) -> bool:
    if value in _DARK:
        return True
    m = _HEX.match(value)
    if not m:
        return False
    h = m.group(1)
    r, g, b = (int(c * 2, 16) for c in h) if len(h) == 3 else (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b < 128


class _MarkupCheck(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problem: str | None = None
        self._in_style = False

    def _flag(self, problem: str) -> None:
        self.problem = self.problem or problem

    def handle_starttag(self, tag, attrs):
        if tag not in _LETTER_TAGS:
            self._flag(f"the element <{tag}>")
        for name, value in attrs:
            if name not in _LETTER_ATTRS:
                self._flag(f"the attribute {name}=")
            elif name == "style":
                problem = _css_problem(value or "", block=False)
                if problem:
                    self._flag(problem)
            elif name == "href" and not (value or "").strip().casefold().startswith(("http:", "https:", "mailto:",
                                                                                      "tel:", "#")):
                self._flag("a link that is not http, mailto or tel")
        if tag == "meta" and any(name != "charset" for name, _ in attrs):
            self._flag("a <meta> other than the charset")
        self._in_style = tag == "style"

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            problem = _css_problem(data, block=True)
            if problem:
                self._flag(problem)

    def handle_pi(self, data):
        self._flag("a processing instruction")

    def unknown_decl(self, data):
        self._flag("a markup declaration")


def markup_problem(html: str) -> str | None:
    """Why a letter's markup could show a reader other text than its words say (None: plain)."""
    check = _MarkupCheck()
    check.feed(html)
    check.close()
    return check.problem
