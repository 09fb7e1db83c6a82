"""`collect import`: stream ledger files into the store, one transaction per file."""

from __future__ import annotations

import csv
import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable

from sqlalchemy import Engine

from collect_cli.errors import UnusableInput, UsageError
from collect_cli.ledger.kinds import KEYS, KIND_ORDER, PARSERS, ParseOptions, RowError
from collect_cli.ledger.reader import LedgerFile, Sniffed, sniff
from collect_cli.store import queries as q

BATCH_ROWS = 2000


@dataclass(frozen=True)
class ImportOptions:
    kind: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    rejects: Path | None = None
    force: bool = False  # import again even if this exact file was imported before


@dataclass
class FileResult:
    path: Path
    status: str = "imported"  # imported | already imported | unusable
    kind: str | None = None
    encoding: str | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects_path: Path | None = None
    unknown_columns: list[str] = field(default_factory=list)
    batch_id: int | None = None
    message: str | None = None  # why unusable, or when it was imported before


# progress(path, bytes_read, total_bytes) is called after each batch.
ProgressFn = Callable[[Path, int, int], None]


def import_files(*, engine: Engine, paths: list[Path], options: ImportOptions,
                 progress: ProgressFn | None = None) -> list[FileResult]:
    """Import every file, loans first whatever the order given; unusable files are reported."""
    if options.rejects and len(paths) > 1 and not options.rejects.is_dir():
        raise UsageError(f"--rejects {options.rejects}: with several files it must be an existing folder")
    prepared: list[tuple[FileResult, Sniffed | None]] = []
    for path in paths:
        result = FileResult(path=path)
        try:
            sniffed = sniff(path, options.encoding)
            with LedgerFile(path, sniffed, options.kind) as lf:
                result.kind = lf.header.kind
                result.encoding = sniffed.encoding
            prepared.append((result, sniffed))
        except UnusableInput as exc:
            result.status, result.message = "unusable", str(exc)
            prepared.append((result, None))
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    prepared.sort(key=lambda p: order.get(p[0].kind or "", len(order)))  # stable: argument order
    for result, sniffed in prepared:
        if sniffed is not None:
            _import_one(engine, result, sniffed, options, progress)
    return [r for r, _ in prepared]


def _import_one(engine: Engine, result: FileResult, sniffed: Sniffed, options: ImportOptions,
                progress: ProgressFn | None) -> None:
    rejects = _RejectsWriter(_rejects_path(result.path, options.rejects), sniffed.encoding)
    try:
        with engine.begin() as conn, LedgerFile(result.path, sniffed, options.kind) as lf:
            before = None if options.force else q.find_imported(conn, sniffed.sha256)
            if before is not None:
                result.status = "already imported"
                result.batch_id = before.id
                result.message = (f"same content as import batch {before.id} "
                                  f"({before.file_name}, {before.finished_at:%Y-%m-%d %H:%M} UTC); "
                                  "nothing changed (use --force to import it again)")
                return
            result.unknown_columns = lf.header.unknown
            batch_id = q.start_batch(
                conn, file_name=str(result.path.resolve()), sha256=sniffed.sha256, kind=result.kind,
                encoding=sniffed.encoding, operator=_operator(), started_at=q.utcnow(),
                rows_read=0, inserted=0, updated=0, unchanged=0, rejected=0,
            )
            result.batch_id = batch_id
            rejects.header = _strip_reject_columns(lf.header.raw)
            _stream_rows(conn, lf, batch_id, result, rejects, options, progress)
            rejects.commit()
            q.finish_batch(
                conn, batch_id, finished_at=q.utcnow(), rows_read=result.rows_read,
                inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
                rejected=result.rejected, rejects_path=str(rejects.path) if result.rejected else None,
            )
        result.rejects_path = rejects.path if result.rejected else None
    except UnusableInput as exc:  # found mid-file (e.g. broken quoting): nothing of it is kept
        rejects.discard()
        _reset(result, "unusable", str(exc))
    except BaseException:
        rejects.discard()
        raise


def _stream_rows(conn, lf: LedgerFile, batch_id: int, result: FileResult, rejects: _RejectsWriter,
                 options: ImportOptions, progress: ProgressFn | None) -> None:
    kind = result.kind
    parse, key_fields, write = PARSERS[kind], KEYS[kind], q.WRITERS[kind]
    parse_opts = ParseOptions(date_format=options.date_format)
    width = len(lf.header.raw)
    names = list(lf.header.index.items())
    pending: list[tuple[int, list[str], dict]] = []
    keys: set[tuple] = set()

    def flush() -> None:
        outcomes = write(conn, batch_id, [rec for _, _, rec in pending])
        for (line, fields, _), outcome in zip(pending, outcomes, strict=True):
            if outcome == q.INSERTED:
                result.inserted += 1
            elif outcome == q.UPDATED:
                result.updated += 1
            elif outcome == q.UNCHANGED:
                result.unchanged += 1
            else:
                result.rejected += 1
                rejects.write(fields, line, outcome)
        pending.clear()
        keys.clear()
        if progress:
            progress(result.path, lf.bytes_read, lf.sniffed.size)

    for line, fields in lf.rows():
        result.rows_read += 1
        if len(fields) > width and any(f.strip() for f in fields[width:]):
            result.rejected += 1
            rejects.write(fields, line, f"row has {len(fields)} fields; the header has {width}")
            continue
        try:
            record = parse({name: fields[pos] if pos < len(fields) else "" for name, pos in names},
                           parse_opts)
        except RowError as exc:
            result.rejected += 1
            rejects.write(fields, line, str(exc))
            continue
        key = tuple(record[k] for k in key_fields)
        if key in keys:  # the same key twice in a batch: write the first before the second
            flush()
        keys.add(key)
        pending.append((line, fields, record))
        if len(pending) >= BATCH_ROWS:
            flush()
    flush()


def _reset(result: FileResult, status: str, message: str) -> None:
    result.status, result.message = status, message
    result.rows_read = result.inserted = result.updated = result.unchanged = result.rejected = 0
    result.rejects_path = None
    result.batch_id = None


def _rejects_path(path: Path, option: Path | None) -> Path:
    name = f"{path.stem}.rejects.csv"
    if option is None:
        return path.with_name(name)
    return option / name if option.is_dir() else option


def _strip_reject_columns(header: list[str]) -> list[str]:
    """A rejects file fed back in keeps its own line/reason columns out of the new one."""
    if [h.strip() for h in header[-2:]] == ["line", "reason"]:
        return header[:-2]
    return header


def _operator() -> str:
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):
        return "unknown"


class _RejectsWriter:
    """Rejected rows, unchanged, plus `line` and `reason`; written to a temporary file that
    replaces the rejects file only when the import commits."""

    def __init__(self, path: Path, encoding: str):
        self.path = path
        self.encoding = encoding
        self.header: list[str] = []
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._fh = None
        self._writer = None

    def write(self, fields: list[str], line: int, reason: str) -> None:
        if self._writer is None:
            try:
                fd = os.open(self._tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
            except OSError as exc:
                raise UnusableInput(f"{self.path}: cannot write the rejects file: {exc.strerror}") from None
            self._fh = open(fd, "w", encoding=self.encoding, newline="")
            self._writer = csv.writer(self._fh)
            self._writer.writerow([*self.header, "line", "reason"])
        width = len(self.header)
        row = fields[:width] + [""] * (width - len(fields))
        # fields beyond the header go after `reason`, so line and reason stay in their columns
        self._writer.writerow([*row, line, reason, *fields[width:]])

    def commit(self) -> None:
        if self._fh is not None:
            self._fh.close()
            os.replace(self._tmp, self.path)
            self._fh = None

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self._tmp.unlink(missing_ok=True)
