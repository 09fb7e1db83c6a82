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
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u17b4", "\u17b5", "\u2800"}
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
def _pinyin_table() -> dict[int, str]:
    """Each Chinese character (40,000 of them) to its first reading, toneless; loaded when first
    needed. Read from pypinyin's data file without importing the package: its import also loads
    a phrase dictionary this does not use (46 MB more in every nightly run and import)."""
    spec = importlib.util.find_spec("pypinyin")
    data = Path(spec.submodule_search_locations[0]) / "pinyin_dict.json" if spec else None
    if data is not None and data.is_file():
        readings = json.loads(data.read_text("utf-8"))
    else:  # another layout of the package: its public table
        from pypinyin.pinyin_dict import pinyin_dict as readings
    return {int(code): sys.intern(r.split(",", 1)[0].translate(_TONES)) for code, r in readings.items()}


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


# Digits as a reader takes them in a number: any script's digits, Chinese numerals, 幺 (one).
_NUMERALS = {**{c: str(i) for i, c in enumerate("〇一二三四五六七八九")},
             **{c: str(i) for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}, "幺": "1", "两": "2", "貳": "2", "陸": "6"}


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
    hidden by their style; `everything` also has titles, attribute values and comments."""

    _SKIP = {"head", "style", "script", "template", "title"}
    _VOID = {"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"}
    _HIDDEN = ("display:none", "visibility:hidden", "font-size:0", "opacity:0")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.everything: list[str] = []
        self._stack: list[bool] = []  # per open element: does it hide its content

    def _hidden(self) -> bool:
        return any(self._stack)

    def handle_starttag(self, tag, attrs):
        style = "".join((dict(attrs).get("style") or "").split()).casefold()
        hides = tag in self._SKIP or "hidden" in dict(attrs) or any(h in style for h in self._HIDDEN)
        self.everything.extend(v for _, v in attrs if v)
        if tag not in self._VOID:
            self._stack.append(hides)
        self.visible.append("\n")

    def handle_startendtag(self, tag, attrs):
        self.everything.extend(v for _, v in attrs if v)
        self.visible.append("\n")

    def handle_endtag(self, tag):
        if tag not in self._VOID and self._stack:
            self._stack.pop()
        self.visible.append("\n")

    def handle_data(self, data):
        self.everything.append(data)
        if not self._hidden():
            self.visible.append(data)

    def handle_comment(self, data):
        self.everything.append(data)


def letter_text(html: str) -> tuple[str, str]:
    """(what a printed letter shows, every text it carries) of an HTML letter."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return "".join(reader.visible), "\n".join(reader.everything)
