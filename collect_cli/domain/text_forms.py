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
from typing import NamedTuple

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
    # Latin letters with a stroke or a slash, which have no base letter to fold to
    "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ŧ": "t", "ƀ": "b", "ɨ": "i", "ʉ": "u", "ƶ": "z", "ǥ": "g", "ɍ": "r",
    "ꝁ": "k", "ŀ": "l", "ɇ": "e", "ȼ": "c", "ɉ": "j",
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


@lru_cache(maxsize=1)
def _to_simplified():
    import opencc  # traditional characters read as the simplified ones they are (領導 is 领导)

    return opencc.OpenCC("t2s").convert


def fold(text: str) -> str:
    """NFKC (full-width letters and digits, ideographic spaces, circled and mathematical
    letters), traditional Chinese as simplified, invisible characters removed, accents
    stripped, look-alikes folded, case folded."""
    normal = unicodedata.normalize("NFKC", text)
    if _ANY_CJK.search(normal):
        normal = _to_simplified()(normal)
    return normal.translate(_FOLD)


# The characters a message of ours is written in: Latin (with accents), digits, punctuation
# and symbols, Chinese and its punctuation, full-width forms, enclosed numbers, emoji. Any
# other script (Greek, Cyrillic, Cherokee, Lisu, kana, radicals standing for characters…)
# can only be there to look like a letter or a character it is not.
_WRITTEN_IN = re.compile(
    "[^\u0000-\u02ff\u0300-\u036f\u1e00-\u1eff\u2000-\u2bff\u3000-\u303f\u3200-\u33ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe00-\ufe0f\ufe30-\ufe4f\ufe50-\ufe6f\uff00-\uffef\U0001f000-\U0001faff"
    "\U00020000-\U0003134f\U000e0000-\U000e007f]")


def foreign_character(text: str) -> str | None:
    """The first character (after NFKC) of a script no message of ours is written in."""
    m = _WRITTEN_IN.search(unicodedata.normalize("NFKC", text))
    return f"{m.group(0)!r} (U+{ord(m.group(0)):04X}, {unicodedata.name(m.group(0), 'unnamed')})" if m else None


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


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0003134f"


class _Sounds(dict):
    """A str.translate table: each Chinese character to its toneless pinyin, on first sight."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        readings = _readings().get(code) if is_cjk(ch) else None
        self[code] = sound = readings[0] if readings else ch
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
             "◯": "0", "⚪": "0", "幺": "1", "两": "2", "兩": "2", "叄": "3", "弎": "3", "参": "3",
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


# A "<" with no ">" before the next "<": html.parser takes time quadratic in such input, and
# a browser reads it in its own way. Found in one linear pass.
_LOOSE_LT = re.compile(r"<[^<>]*(?=<|\Z)")


def _unclosed_tag(html: str) -> bool:
    return _LOOSE_LT.search(html) is not None


# A letter is judged as printed, so its markup may only lay text out: no element, attribute
# or style that hides, reorders, generates or draws text (an image says what no check reads;
# a table's <thead> prints before the rows written above it).
_LETTER_TAGS = {"html", "head", "meta", "title", "style", "body", "p", "br", "div", "span", "strong", "b", "em", "i",
                "u", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tbody", "tr", "td", "th",
                "caption", "colgroup", "col", "ul", "ol", "li", "hr", "section", "header", "footer", "address",
                "blockquote", "sup", "sub", "small", "a"}
_LETTER_ATTRS = {"style", "class", "id", "lang", "charset", "colspan", "rowspan", "href", "width", "align"}
# CSS properties that only lay out or set type, each with the lengths it may take (px, after
# converting units) so that nothing is moved off the page, squeezed or blown up.
_LAYOUT = {"font-family", "font-size", "font-weight", "font-style", "line-height", "text-align", "text-decoration",
           "margin", "margin-top", "margin-bottom", "margin-left", "margin-right", "padding", "padding-top",
           "padding-bottom", "padding-left", "padding-right", "border", "border-top", "border-bottom",
           "border-left", "border-right", "border-collapse", "border-spacing", "border-width", "border-style",
           "border-color", "width", "max-width", "min-width", "page-break-before", "page-break-after",
           "page-break-inside", "break-before", "break-after", "break-inside", "vertical-align", "list-style",
           "list-style-type", "text-indent", "letter-spacing", "size", "color"}
_LENGTHS = {  # property prefix -> (least, most) in px; a percentage counts as that share of 800px
    "margin": (0, 200), "padding": (0, 200), "text-indent": (0, 100), "letter-spacing": (0, 4),
    "border": (0, 10), "width": (40, 1000), "max-width": (40, 1000), "min-width": (0, 1000), "font-size": (10, 64),
    "line-height": (12, 200), "size": (0, 10_000),
}
_UNITS = {"px": 1.0, "pt": 4 / 3, "pc": 16.0, "in": 96.0, "cm": 37.8, "mm": 3.78, "em": 16.0, "rem": 16.0,
          "ex": 8.0, "ch": 8.0, "%": 8.0}
_LENGTH = re.compile(r"(?<![#\w.])(-?\d*\.?\d+)([a-z%]*)")  # not the digits of a colour (#333)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_SELECTOR = re.compile(r"^[\w\s.#,>*-]*$")
_NEGATIVE = re.compile(r"(?<![\w.])-\s*\d")
_FONT_WORDS = ("small", "medium", "large", "x-large", "xx-large", "larger", "inherit")
_DARK = {"black", "navy", "darkblue", "darkred", "maroon", "darkgreen", "dimgray", "dimgrey", "gray", "grey",
         "darkslategray", "darkslategrey", "midnightblue", "inherit", "currentcolor"}
_HEX = re.compile(r"^#([0-9a-f]{3}|[0-9a-f]{6})$")
_SIGN_FONTS = ("symbol", "ding", "marlett", "emoji", "webding", "wingding")


def _rules(css: str) -> list[tuple[str, str]] | None:
    """A style block as (selector, declarations) pairs, in one pass; None when it is not plain
    rules."""
    chunks = css.split("}")
    if chunks[-1].strip():
        return None
    out = []
    for chunk in chunks[:-1]:
        selector, brace, body = chunk.partition("{")
        if not brace or "{" in body:
            return None
        out.append((selector, body))
    return out


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


def _css_problem(css: str, block: bool) -> str | None:
    css = _CSS_COMMENT.sub("", css)
    if "\\" in css or "@" in css.replace("@page", "") or "url(" in css.casefold() or "expression" in css.casefold():
        return "style escapes, rules or urls"
    if block:
        rules = _rules(css)
        if rules is None:
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
            return f"the style {_shown(name)!r}, which can hide, move, reorder or add text"
        if name.startswith(("margin", "text-indent", "letter-spacing", "padding")) and _NEGATIVE.search(value):
            return f"a negative {name}, which can move text off the page"
        problem = _length_problem(name, value)
        if problem:
            return problem
        if name == "font-family" and any(w in value for w in _SIGN_FONTS):
            return f"font-family {_shown(value)}: a font that draws other signs than the letters"
        if name == "color" and not _dark(value):
            return f"color {_shown(value)}: text is printed dark on white"
    return None


def _length_problem(name: str, value: str) -> str | None:
    """A length outside what the property needs to lay text out (off the page, squeezed, tiny)."""
    bounds = next((b for prefix, b in _LENGTHS.items() if name == prefix or name.startswith(prefix + "-")), None)
    if bounds is None or (name == "font-size" and value in _FONT_WORDS) or value in ("auto", "normal", "inherit"):
        return None
    least, most = bounds
    for number, unit in _LENGTH.findall(value):
        size = float(number)
        if name == "line-height" and not unit:
            size *= 16  # a multiple of the font size
        elif unit not in _UNITS:
            if unit or size != 0:
                return f"{name} {_shown(value)}: a length in {unit or 'no unit'}"
            size = 0.0
        else:
            size *= _UNITS[unit]
        if size < least and not (size == 0 and least == 0) or size > most:
            return f"{name} {_shown(value)}: outside what lays a letter out ({least}-{most}px)"
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


class _Letter(HTMLParser):
    """One reading of a letter: its text as printed (outside <head>, <style>, <script> and
    elements hidden by their style), what it carries besides (titles, attribute values,
    comments, hidden text), and the first thing in its markup that could show a reader other
    text than its words."""

    _SKIP = {"head", "style", "script", "template", "title"}
    _VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}
    _HIDDEN = ("display:none", "visibility:hidden", "font-size:0", "opacity:0")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.unseen: list[str] = []
        self.problem: str | None = None
        self._stack: list[bool] = []  # per open element: does it hide its content
        self._in_style = False

    def _flag(self, problem: str | None) -> None:
        self.problem = self.problem or problem

    def _check(self, tag, attrs) -> None:
        if tag not in _LETTER_TAGS:
            self._flag(f"the element <{_shown(tag)}>")
        for name, value in attrs:
            if name not in _LETTER_ATTRS:
                self._flag(f"the attribute {_shown(name)}=")
            elif name == "style":
                self._flag(_css_problem(value or "", block=False))
            elif name == "width":
                self._flag(_length_problem("width", (value or "").strip().casefold() + (
                    "" if (value or "").strip().endswith("%") else "px")))
            elif name == "href" and not (value or "").strip().casefold().startswith(("http:", "https:", "mailto:",
                                                                                      "tel:", "#")):
                self._flag("a link that is not http, mailto or tel")
        if tag == "meta" and any(name != "charset" for name, _ in attrs):
            self._flag("a <meta> other than the charset")
        self._in_style = tag == "style"

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        style = "".join((dict(attrs).get("style") or "").split()).casefold()
        hides = tag in self._SKIP or "hidden" in dict(attrs) or any(h in style for h in self._HIDDEN)
        self.unseen.extend(v for _, v in attrs if v)
        if tag not in self._VOID:
            self._stack.append(hides)
        self.visible.append("\n")

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)
        self.unseen.extend(v for _, v in attrs if v)
        self.visible.append("\n")

    def handle_endtag(self, tag):
        self._in_style = False
        if tag not in self._VOID and self._stack:
            self._stack.pop()
        self.visible.append("\n")

    def handle_data(self, data):
        if self._in_style:
            self._flag(_css_problem(data, block=True))
        (self.unseen if any(self._stack) else self.visible).append(data)

    def handle_comment(self, data):
        self.unseen.append(data)

    def handle_pi(self, data):
        self._flag("a processing instruction")

    def unknown_decl(self, data):
        self._flag("a markup declaration")


class LetterText(NamedTuple):
    visible: str  # what a printed letter shows
    unseen: str  # what else it carries
    problem: str | None  # why its markup could show a reader other text than its words (None: plain)


def read_letter(html: str) -> LetterText:
    """An HTML letter read once; markup that cannot be read is refused (problem) and taken as
    it is written."""
    if _unclosed_tag(html):
        return LetterText(html, "", 'a "<" that opens no tag (write &lt;)')
    letter = _Letter()
    try:
        letter.feed(html)
        letter.close()
    except Exception:  # html.parser gives up on some broken markup with an AssertionError
        return LetterText(html, "", "markup that cannot be read")
    return LetterText("".join(letter.visible), "\n".join(letter.unseen), letter.problem)


def letter_text(html: str) -> tuple[str, str]:
    """(what a printed letter shows, what else it carries) of an HTML letter."""
    return read_letter(html)[:2]


def markup_problem(html: str) -> str | None:
    """Why a letter's markup could show a reader other text than its words say (None: plain)."""
    return read_letter(html).problem
