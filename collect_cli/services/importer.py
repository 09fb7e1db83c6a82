"""`collect import`: stream ledger files into the store, one transaction per file."""

from __future__ import annotations

import csv
import getpass
import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from itertools import repeat
from multiprocessing import get_context
from operator import attrgetter
from pathlib import Path

from sqlalchemy import Engine

from collect_cli.domain.content import name_problem
from collect_cli.errors import CollectError, UnusableInput, UsageError
from collect_cli.ledger.kinds import (
    KEYS,
    KIND_ORDER,
    RECORDS,
    ParseOptions,
    batch_parser,
)
from collect_cli.ledger.reader import REJECT_COLUMNS, LedgerFile, Sniffed, has_reject_columns, sniff
from collect_cli.services.analytics import cores
from collect_cli.store import queries as q

PARALLEL_MIN_BYTES = 4 << 20  # a smaller file is read before a second process would start
BATCH_ROWS = 10_000  # rows per write: big enough that per-query costs vanish, small enough to stream


@dataclass(frozen=True)
class ImportOptions:
    kind: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    rejects: Path | None = None
    force: bool = False  # import again even if this exact file was imported before
    name_problem: Callable[[str], str | None] | None = None  # why a borrower name cannot stand in a message
    names: str = "reject"  # such a name: reject its row | flag: import it (messages greet neutrally)
    # installments files are the complete schedules of their loans from this day: rows they
    # lack are retired, and a replay of an earlier day still sees the schedule before
    complete_from: date | None = None


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
    flagged_names: int = 0  # borrower names imported that messages greet neutrally (ledger.suspicious_names = flag)
    batch_id: int | None = None
    message: str | None = None  # why unusable, or when it was imported before


# progress(path, bytes_read, total_bytes) is called after each batch.
ProgressFn = Callable[[Path, int, int], None]


def import_files(*, engine: Engine, paths: list[Path], options: ImportOptions,
                 now: Callable[[], datetime], progress: ProgressFn | None = None) -> list[FileResult]:
    """Import every file, loans first whatever the order given; unusable files are reported.

    `now` gives the (naive UTC) time recorded on each import batch.
    """
    paths = list(dict.fromkeys(paths))  # a file named twice is imported once
    targets = _rejects_targets(paths, options.rejects)
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
    if options.complete_from and not any(r.kind == "installments" for r, _ in prepared):
        raise UsageError("--complete-schedule is for installments files: none of the files is one")
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    prepared.sort(key=lambda p: order.get(p[0].kind or "", len(order)))  # stable: argument order
    for result, sniffed in prepared:
        if sniffed is not None:
            rejects = _RejectsWriter(targets[result.path], sniffed.encoding)
            _import_one(engine, result, sniffed, rejects, options, now, progress)
    written = {r.kind for r, _ in prepared if r.batch_id is not None and (r.inserted or r.updated)}
    if written:  # after the commits, outside them: statistics of what is now there
        with engine.begin() as conn:
            q.refresh_statistics(conn, written)
    return [r for r, _ in prepared]


def _import_one(engine: Engine, result: FileResult, sniffed: Sniffed, rejects: _RejectsWriter,
                options: ImportOptions, now: Callable[[], datetime], progress: ProgressFn | None) -> None:
    """One file, one transaction. A file imported before is skipped when that import was clean;
    otherwise it is read again (rows rejected then, e.g. for a loan imported since, may pass
    now) and the transaction is kept only if the ledger changed."""
    with engine.connect() as conn, LedgerFile(result.path, sniffed, options.kind) as lf:
        trans = conn.begin()
        try:
            before = q.find_imported(conn, sniffed.sha256)
            if before is not None and before.rejected == 0 and not options.force:
                trans.rollback()
                _already_imported(result, before, "nothing changed (use --force to read it again)")
                return
            result.unknown_columns = lf.header.unknown
            batch_id = q.start_batch(
                conn, file_name=str(result.path.resolve()), sha256=sniffed.sha256, kind=result.kind,
                encoding=sniffed.encoding, operator=_operator(), started_at=now(),
                rows_read=0, inserted=0, updated=0, unchanged=0, rejected=0,
            )
            rejects.header, rejects.strip_old = _strip_reject_columns(lf.header.raw)
            complete = defaultdict(set) if options.complete_from and result.kind == "installments" else None
            _stream_rows(conn, lf, batch_id, result, rejects, options, progress, complete)
            if complete is not None and result.rejected:
                raise UnusableInput(
                    f"{result.path}: --complete-schedule: {result.rejected:,} row(s) are rejected, so the file is "
                    "not the whole schedule of its loans and no row may be retired: nothing of it was written "
                    "(import it without --complete-schedule to see why in its rejects file, fix them, import again)")
            if complete:  # the schedule of each of its loans is the file's, from that day
                result.updated += q.retire_missing(conn, batch_id, complete)
                q.add_schedule_changes(conn, batch_id, options.complete_from, "complete_schedule")
            rejects.finish(lambda: LedgerFile(result.path, sniffed, options.kind))
            if before is not None and result.inserted == result.updated == 0:
                trans.rollback()  # nothing new: no batch either, the store stays as it was
                still = f"; {result.rejected:,} row(s) still rejected" if result.rejected else ""
                _already_imported(result, before, f"read again, nothing changed{still}")
                result.rejects_path = rejects.path if result.rejected else None
                return
            q.finish_batch(
                conn, batch_id, finished_at=now(), rows_read=result.rows_read,
                inserted=result.inserted, updated=result.updated, unchanged=result.unchanged,
                rejected=result.rejected, rejects_path=str(rejects.path) if result.rejected else None,
            )
            trans.commit()
            result.batch_id = batch_id
            result.rejects_path = rejects.path if result.rejected else None
        except UnusableInput as exc:  # found mid-file (e.g. broken quoting): nothing of it is kept
            trans.rollback()
            rejects.discard()
            _reset(result, "unusable", str(exc))
        except BaseException:
            trans.rollback()
            rejects.discard()
            raise


def _already_imported(result: FileResult, before, outcome: str) -> None:
    result.status = "already imported"
    result.batch_id = before.id
    result.message = (f"same content as import batch {before.id} ({before.file_name}, "
                      f"{before.finished_at:%Y-%m-%d %H:%M} UTC); {outcome}")


def _stream_rows(conn, lf: LedgerFile, batch_id: int, result: FileResult, rejects: _RejectsWriter,
                 options: ImportOptions, progress: ProgressFn | None, complete: dict | None = None) -> None:
    """The file's rows, parsed and written a batch at a time; with `complete`, the seqs of
    each loan's rows written, by loan."""
    kind = result.kind
    rejecting = options.name_problem if options.names == "reject" else None
    parse = batch_parser(kind, lf.header.index, len(lf.header.raw),
                         ParseOptions(date_format=options.date_format, name_problem=rejecting))
    flagging = options.name_problem if kind == "loans" and options.names == "flag" else None
    key_of, write = attrgetter(*KEYS[kind]), q.WRITERS[kind]
    parallel = lf.sniffed.size >= PARALLEL_MIN_BYTES and cores() > 1
    parsed = _parsed_in_process(lf, parse, RECORDS[kind]) if parallel else _parsed(lf, parse)
    growing = q.GrowingTables(conn, kind, in_transaction=True)  # each batch reads back what it writes
    for lines, records, errors, bytes_read in parsed:
        result.rows_read += len(lines)
        if flagging is not None:
            result.flagged_names += sum(flagging(name) is not None for name in {r.name for r in records})
        refused = [(lines[i], reason) for i, reason in errors.items()]
        kept = [line for i, line in enumerate(lines) if i not in errors] if errors else lines
        if kind == "loan_events":  # a loan's events are judged in date order, whatever the file's
            order = sorted(range(len(records)), key=lambda i: records[i].event_on)
            records, kept = [records[i] for i in order], [kept[i] for i in order]
        for part in _without_repeats(records, key_of):
            outcomes = write(conn, batch_id, records[part])
            if complete is not None:
                for r, outcome in zip(records[part], outcomes, strict=True):
                    if outcome in q.WRITTEN:
                        complete[r.loan_id].add(r.seq)
            counts = Counter(outcomes)
            growing.wrote(conn, counts[q.INSERTED])
            result.inserted += counts.pop(q.INSERTED, 0)
            result.updated += counts.pop(q.UPDATED, 0)
            result.unchanged += counts.pop(q.UNCHANGED, 0)
            if counts:  # the rest are reasons for rejecting
                refused += [(line, outcome) for line, outcome in zip(kept[part], outcomes, strict=True)
                            if outcome not in q.WRITTEN]
        result.rejected += len(refused)
        rejects.add(sorted(refused))
        if progress:
            progress(result.path, bytes_read, lf.sniffed.size)


# A parsed batch: (the line of each row read, the records of the good rows, {position of a bad
# row: why}, bytes of the file read so far)
Parsed = tuple[list[int], list[tuple], dict[int, str], int]


def _parsed(lf: LedgerFile, parse) -> Iterator[Parsed]:
    for lines, rows in lf.batches(BATCH_ROWS):
        records, errors = parse(rows)
        yield lines, records, {i: str(e) for i, e in errors.items()}, lf.bytes_read


def _parsed_in_process(lf: LedgerFile, parse, record_type) -> Iterator[Parsed]:
    """_parsed, run by a forked process while this one writes: reading and checking the rows
    is as much work as storing them, and a second core does it at the same time. Records
    travel as plain tuples (named tuples pickle five times slower); at most a batch or two
    is in flight, as the pipe blocks the reader."""
    context = get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def produce() -> None:  # in the child: it never touches the parent's database connection
        receive.close()
        try:
            for lines, records, errors, read in _parsed(lf, parse):
                send.send((lines, list(map(tuple, records)), errors, read))
            send.send(None)
        except UnusableInput as exc:
            send.send(exc)
        except BrokenPipeError:
            pass  # the importer is gone (killed, or it failed): so is the point of reading on

    child = context.Process(target=produce, name=f"collect import: reading {lf.path.name}", daemon=True)
    child.start()
    send.close()
    try:
        while (item := receive.recv()) is not None:
            if isinstance(item, UnusableInput):
                raise item
            lines, rows, errors, read = item
            # record_type._make for each row, without a Python call per row
            yield lines, list(map(tuple.__new__, repeat(record_type), rows)), errors, read
    except EOFError:
        raise CollectError(f"{lf.path}: the process reading the file stopped (out of memory?); "
                           "nothing of the file was imported") from None
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()


def _without_repeats(records: list[dict], key_of) -> list[slice]:
    """The batch cut into consecutive parts that hold no key twice, so a repeated key is
    written after the row before it (an update, or for a payment, a conflict)."""
    keys = list(map(key_of, records))
    if len(set(keys)) == len(keys):
        return [slice(None)]
    parts, seen, start = [], set(), 0
    for i, key in enumerate(keys):
        if key in seen:
            parts.append(slice(start, i))
            seen, start = set(), i
        seen.add(key)
    return [*parts, slice(start, None)]


def _reset(result: FileResult, status: str, message: str) -> None:
    result.status, result.message = status, message
    result.rows_read = result.inserted = result.updated = result.unchanged = result.rejected = 0
    result.rejects_path = None
    result.batch_id = None


def _rejects_targets(paths: list[Path], option: Path | None) -> dict[Path, Path]:
    """Where each file's rejects go; refused when one would overwrite an input or another's."""
    if option is not None and len(paths) > 1 and not option.is_dir():
        raise UsageError(f"--rejects {option}: with several files it must be an existing folder")
    targets: dict[Path, Path] = {}
    for path in paths:
        name = f"{path.stem}.rejects.csv"
        targets[path] = path.with_name(name) if option is None else option / name if option.is_dir() else option
    inputs = {p.resolve() for p in paths}
    seen: dict[Path, Path] = {}
    for path, target in targets.items():
        where = target.resolve()
        if where in inputs:
            raise UsageError(f"the rejects file of {path} would overwrite the input {target}; use --rejects")
        if where in seen:
            raise UsageError(f"{seen[where]} and {path} would share the rejects file {target}; "
                             "rename one or import them one at a time")
        seen[where] = path
    return targets


def _strip_reject_columns(header: list[str]) -> tuple[list[str], bool]:
    """A rejects file fed back in keeps its old line/reason columns out of the new one."""
    if has_reject_columns(header):
        return header[:-2], True
    return header, False


def _operator() -> str:
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):
        return "unknown"


class _RejectsWriter:
    """Rejected rows as read (padded to the header's width), plus `line` and `reason`, in line
    order. Reasons are spooled to a temporary file as rows are rejected (whichever process
    read them); at the end, one more pass over the input picks the rejected rows, into a
    temporary file that replaces the rejects file only when the import finishes. A run
    without rejects removes an old rejects file, so what is there is always the last run's."""

    def __init__(self, path: Path, encoding: str):
        self.path = path
        self.encoding = encoding
        self.header: list[str] = []
        self.strip_old = False  # the input is a rejects file: drop its old line/reason fields
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._spool = None  # (line, reason) rows, in line order

    def add(self, refused: list[tuple[int, str]]) -> None:
        if not refused:
            return
        if self._spool is None:
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
        csv.writer(self._spool).writerows(refused)

    def finish(self, reopen: Callable[[], LedgerFile]) -> None:
        if self._spool is None:
            self.path.unlink(missing_ok=True)
            return
        self._spool.seek(0)
        refused = ((int(line), reason) for line, reason in csv.reader(self._spool))
        try:
            fd = os.open(self._tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise UnusableInput(f"{self.path}: cannot write the rejects file: {exc.strerror}") from None
        with open(fd, "w", encoding=self.encoding, newline="") as fh, reopen() as lf:
            writer = csv.writer(fh)
            writer.writerow([*self.header, *REJECT_COLUMNS])
            want, reason = next(refused)
            for lines, rows in lf.batches(BATCH_ROWS):
                for line, fields in zip(lines, rows, strict=True):
                    if line == want:
                        writer.writerow(self._row(fields, line, reason))
                        want, reason = next(refused, (None, None))
                if want is None:
                    break
        self._close_spool()
        os.replace(self._tmp, self.path)

    def _row(self, fields: list[str], line: int, reason: str) -> list:
        width = len(self.header)
        extra = fields[width + 2:] if self.strip_old else fields[width:]
        row = fields[:width] + [""] * (width - len(fields))
        # fields beyond the header go after `reason`, so line and reason stay in their columns
        return [*row, line, reason, *extra]

    def discard(self) -> None:
        self._close_spool()
        self._tmp.unlink(missing_ok=True)

    def _close_spool(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def name_check(settings) -> Callable[[str], str | None]:
    """Why a borrower name cannot stand in a message (content.name_problem with the lexicon)."""
    return partial(name_problem, lexicon=settings.messaging.lexicon)
