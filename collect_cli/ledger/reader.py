"""Opening a ledger CSV: encoding detection, content hash, header mapping, rows with line numbers."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from collect_cli.errors import UnusableInput
from collect_cli.ledger.kinds import COLUMNS, canonical_name, detect_kind

CHUNK = 1 << 20
NL = b"\n"
ENCODINGS = ("utf-8", "gb18030")  # tried in this order; GBK is a subset of GB18030
ENCODING_NAMES = {"utf8": "utf-8", "utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "gbk": "gb18030",
                  "gb2312": "gb18030", "gb18030": "gb18030"}

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long addresses; the row length is checked


@dataclass(frozen=True)
class Sniffed:
    encoding: str  # a Python codec name: utf-8-sig, utf-8 or gb18030
    sha256: str
    size: int


def sniff(path: Path, encoding: str | None = None) -> Sniffed:
    """Hash the file and find the encoding its whole content decodes with (streamed)."""
    forced = None
    if encoding:
        forced = ENCODING_NAMES.get(encoding.lower())
        if forced is None:
            raise UnusableInput(f"{path}: --encoding {encoding} is not one of utf-8, utf-8-sig, gbk, gb18030")
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
            if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                raise UnusableInput(f"{path}: UTF-16 text is not supported; save it as CSV (UTF-8 or GBK)")
            bom = head.startswith(codecs.BOM_UTF8)
            candidates = [forced] if forced else (["utf-8-sig"] if bom else list(ENCODINGS))
            digest = hashlib.sha256()
            fh.seek(0)
            size = 0
            decoders = {name: codecs.getincrementaldecoder(name)("strict") for name in candidates}
            failed: dict[str, str] = {}
            line = 1
            non_ascii_ok = 0
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if b"\x00" in chunk:
                    at = line + chunk[: chunk.index(b"\x00")].count(b"\n")
                    raise UnusableInput(f"{path}: line {at}: binary data (NUL byte); not a CSV text file")
                for name, dec in list(decoders.items()):
                    try:
                        text = dec.decode(chunk)
                        if name == "utf-8":
                            non_ascii_ok += len(text) - len(text.encode("ascii", "ignore"))
                    except UnicodeDecodeError as exc:
                        failed[name] = f"line {line + chunk[: exc.start].count(NL)}"
                        if name == "utf-8":
                            good = chunk[: exc.start].decode("utf-8", "ignore")
                            non_ascii_ok += len(good) - len(good.encode("ascii", "ignore"))
                        if name == "utf-8" and non_ascii_ok >= 3 and not forced:
                            # the first line UTF-8 cannot read may come after the change: GB18030
                            # bytes are valid UTF-8 now and then (肖伟 reads as "Фΰ")
                            _one_encoding(path)
                            raise UnusableInput(
                                f"{path}: {failed[name]}: mixed encodings: UTF-8 text before this line, "
                                "other bytes here; export the whole file in one encoding"
                            ) from None
                        del decoders[name]
                line += chunk.count(b"\n")
            for name, dec in list(decoders.items()):
                try:
                    dec.decode(b"", final=True)
                except UnicodeDecodeError:
                    if name.startswith("utf-8") and (non_ascii_ok or forced or bom):
                        # UTF-8 to the last bytes: a cut file, not another encoding's text
                        raise UnusableInput(f"{path}: line {line}: the file ends in the middle of a "
                                            "character (cut short?); nothing was imported") from None
                    failed[name] = "the end of the file (truncated character)"
                    del decoders[name]
    except OSError as exc:
        raise UnusableInput(f"{path}: cannot read: {exc.strerror}") from None
    if not forced and not bom:
        _one_encoding(path)  # before "undecodable": a file in two encodings says where it changes
    if not decoders:
        where = ", ".join(f"{n} fails at {w}" for n, w in failed.items())
        raise UnusableInput(f"{path}: undecodable bytes ({where}); use --encoding if you know it")
    chosen = next(iter(decoders))
    return Sniffed(encoding=chosen, sha256=digest.hexdigest(), size=size)


# what a Chinese ledger row holds besides ASCII: Latin-1 (¥, ·), punctuation, Chinese
_NOT_CHINESE = re.compile("[^\x00-\xff\u2000-\u206f\u2100-\u214f\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_HAN = re.compile("[\u3400-\u9fff]")


def _chinese(text: str) -> bool:
    """Chinese text: a Chinese character at least, and nothing a Chinese ledger row does not hold."""
    return _HAN.search(text) is not None and _NOT_CHINESE.search(text) is None


def _line_encoding(line: bytes) -> str | None:
    """The encoding a non-ASCII line is Chinese text in: UTF-8 first (GB18030 bytes seldom form
    valid UTF-8, and then not Chinese: 郑梅 in GB18030 reads as "֣÷"), else GB18030 (which
    decodes any bytes, UTF-8 included); None when it is Chinese in neither."""
    for name in ("utf-8", "gb18030"):
        try:
            if _chinese(line.decode(name)):
                return name
        except UnicodeDecodeError:
            pass
    return None


def _one_encoding(path: Path) -> None:
    """A file whose Chinese rows are in two encodings is refused, naming the first line of the
    second one: decoded as one, the other's rows would be stored as mojibake (张三 as 寮犱笁)."""
    first: dict[str, int] = {}
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            if line.isascii():
                continue
            name = _line_encoding(line)
            if name is not None:
                first.setdefault(name, number)
            if len(first) == 2:
                was, now = sorted(first, key=first.get)
                show = {"utf-8": "UTF-8", "gb18030": "GB18030"}
                raise UnusableInput(f"{path}: line {first[now]}: mixed encodings: {show[was]} text before this "
                                    f"line, {show[now]} here; export the whole file in one encoding (nothing was "
                                    "imported)")


@dataclass
class Header:
    raw: list[str]
    kind: str
    index: dict[str, int]  # canonical column name -> position
    unknown: list[str] = field(default_factory=list)


REJECT_COLUMNS = ["line", "reason"]  # what a rejects file adds to the header of its input


def has_reject_columns(header: list[str]) -> bool:
    """A rejects file fed back in: it ends with its own `line` and `reason` columns."""
    return len(header) > 2 and [h.strip() for h in header[-2:]] == REJECT_COLUMNS


def read_header(path: Path, raw: list[str] | None, kind: str | None) -> Header:
    if not raw or all(not h.strip() for h in raw):
        raise UnusableInput(f"{path}: line 1: no header row (the file is empty)")
    index: dict[str, int] = {}
    unknown = []
    # a reversal's or an event's own reason column comes before a rejects file's
    ours = len(raw) - 2 if has_reject_columns(raw) else len(raw)
    for pos, h in enumerate(raw[:ours]):
        name = canonical_name(h)
        if name is None:
            if h.strip():
                unknown.append(h.strip())
            continue
        if name in index:
            raise UnusableInput(
                f"{path}: line 1: columns {raw[index[name]].strip()!r} and {h.strip()!r} "
                f"both mean {name}; keep one"
            )
        index[name] = pos
    detected = kind or detect_kind(set(index))
    if detected is None:
        raise UnusableInput(
            f"{path}: line 1: unknown kind of file: the header names no column of loans, "
            "installments, payments, reversals or loan events (use --kind if the names differ)"
        )
    if detected not in COLUMNS:
        raise UnusableInput(f"{path}: --kind {detected} is not one of {', '.join(COLUMNS)}")
    missing = [c.name for c in COLUMNS[detected] if c.required and c.name not in index]
    if missing:
        raise UnusableInput(
            f"{path}: line 1: a {detected} file needs the column(s) {', '.join(missing)}; "
            "nothing was imported from it"
        )
    known = {c.name for c in COLUMNS[detected]}
    unknown += [raw[pos].strip() for name, pos in index.items() if name not in known]
    index = {name: pos for name, pos in index.items() if name in known}
    return Header(raw=raw, kind=detected, index=index, unknown=unknown)


class LedgerFile:
    """A ledger CSV opened for one streamed pass: header first, then (line, fields) rows."""

    def __init__(self, path: Path, sniffed: Sniffed, kind: str | None = None):
        self.path = path
        self.sniffed = sniffed
        self._binary: BinaryIO = path.open("rb")
        self._text = io.TextIOWrapper(self._binary, encoding=sniffed.encoding, newline="")
        self._reader = csv.reader(self._text, strict=True)
        try:
            first = next(self._reader, None)
        except csv.Error as exc:
            self.close()
            raise UnusableInput(f"{path}: line 1: {exc}") from None
        except BaseException:
            self.close()
            raise
        self._line = self._reader.line_num
        try:
            self.header = read_header(path, first, kind)
        except BaseException:
            self.close()
            raise

    @property
    def bytes_read(self) -> int:
        return self._binary.tell()

    def batches(self, size: int) -> Iterator[tuple[list[int], list[list[str]]]]:
        """Up to `size` rows at a time: (the line each row starts on, its fields); blank lines
        are skipped."""
        reader, line = self._reader, self._line
        lines: list[int] = []
        rows: list[list[str]] = []
        try:
            for fields in reader:
                start, line = line + 1, reader.line_num
                if "".join(fields).strip():  # not a blank line nor only separators
                    lines.append(start)
                    rows.append(fields)
                    if len(rows) == size:
                        yield lines, rows
                        lines, rows = [], []
        except csv.Error as exc:
            raise UnusableInput(f"{self.path}: line {line + 1}: broken CSV: {exc}") from None
        if rows:
            yield lines, rows

    def close(self) -> None:
        self._text.close() if not self._text.closed else None
        self._binary.close()

    def __enter__(self) -> LedgerFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
