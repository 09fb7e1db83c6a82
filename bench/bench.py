"""The benchmark: collect against the raw floor, on generated books, on SQLite and PostgreSQL.

    python bench/bench.py --loans 100000 --loans 1000000 [--pg postgresql://postgres@127.0.0.1:5432/test]
    python bench/bench.py --loans 10000000 --pg URL --backends postgresql --skip 'report floor'  # the big book

For each size it generates the demo book once (deterministic: seed 20261120, as of
2026-11-20; streamed, so memory does not grow with the book), then measures, each in a
fresh process, wall time and peak memory (RSS):
  (a) the raw floor: the loans, schedules and payments parsed with the csv module and
      inserted with plain sqlite3.executemany, no validation, into equivalent tables:
      collect's own, made by its migrations (so the ratio measures what collect adds:
      validation and its upsert logic); SQLite only;
  (b) collect import (the reversals and loan events too); (c) collect run-reminders;
  (d) collect send (the file spool); (e) collect report buckets, then the report's floor
      (bench/floor.py: a bulk read of the columns and a vectorised DPD, held to collect's
      figures loan by loan), and report rolls over a month; (f) collect queue;
and writes a Markdown table with the machine it ran on to --out, rewritten after every step
(a long run that is stopped keeps what it measured).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import operator
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

AS_OF = "2026-11-20"
SEED = "20261120"
TARGETS = {  # SQLite, 100,000 loans (issue 6)
    "import": "≥ ½ of the floor's rows/s (ratio ≤ 2.0)",
    "run-reminders": "< 30 s",
    "report buckets": "< 5 s",
    "report rolls": "< 5 s",
    "queue": "a few seconds",
}


def timed(argv: list[str], env: dict | None = None, cwd: Path | None = None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (KB) of the command's process tree, and its stdout."""
    wrapper = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
               "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True); "
               "w = time.perf_counter() - t; sys.stdout.write(p.stdout + '\\n'); "
               "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)")
    # the books are replayed on the day they were exported: --now, allowed as in the tests
    p = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True, cwd=cwd,
                       env={**os.environ, "COLLECT_ALLOW_CLOCK": "1", **(env or {})})
    stdout, _, last = p.stdout.rstrip("\n").rpartition("\n")
    wall, rss, code = last.split()
    if code not in ("0", "3"):  # 3: some rows rejected (none are, in the demo book)
        raise SystemExit(f"bench: {' '.join(argv)} failed ({code}):\n{p.stderr[-2000:]}")
    return float(wall), int(rss), stdout


# The floor's statements: collect's own tables, fed the text of the demo files' columns as is.
FLOOR_FILES = (  # (file, encoding, [(statement, positions of the file's columns)])
    ("loans.csv", "gb18030", [
        ("INSERT OR IGNORE INTO borrowers (borrower_id, name, phone, email, address, locale, timezone, batch_id)"
         " VALUES (?, ?, ?, ?, ?, ?, ?, 1)", (1, 2, 3, 8, 9, 10, 11)),
        ("INSERT INTO loans (loan_id, borrower_id, principal, disbursed_on, annual_rate_ppm, product, batch_id)"
         " VALUES (?, ?, ?, ?, ?, ?, 1)", (0, 1, 4, 5, 6, 7)),
    ]),
    ("installments.csv", "utf-8-sig", [
        ("INSERT INTO installments (loan_id, seq, due_on, principal_due, interest_due, fee_due, batch_id)"
         " VALUES (?, ?, ?, ?, ?, ?, 1)", (0, 1, 2, 3, 4, 5)),
    ]),
    ("payments.csv", "utf-8", [
        ("INSERT INTO payments (payment_id, loan_id, paid_on, amount, batch_id) VALUES (?, ?, ?, ?, 1)",
         (0, 1, 2, 3)),
    ]),
)


def floor(folder: Path, db: Path) -> int:
    """(a) in this process: parse with csv, insert with sqlite3.executemany, no validation, into
    the same tables as collect's (created by its migrations: same keys, indexes and foreign
    keys, the connection set up as collect's), one transaction per file, 10,000 rows per
    executemany. Returns the file rows written."""
    from collect_cli.store.database import open_engine

    open_engine(str(db)).dispose()  # the schema, by collect's own migrations
    con = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode = WAL", "foreign_keys = ON", "synchronous = NORMAL"):
        con.execute(f"PRAGMA {pragma}")
    con.execute("INSERT INTO import_batches (id, file_name, sha256, kind, encoding, operator, started_at,"
                " rows_read, inserted, updated, unchanged, rejected)"
                " VALUES (1, 'floor', '', 'floor', '', '', '2026-11-20 00:00:00.000000', 0, 0, 0, 0, 0)")
    total = 0
    for name, encoding, statements in FLOOR_FILES:
        with open(folder / name, encoding=encoding, newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            con.execute("BEGIN")
            while batch := list(itertools.islice(reader, 10_000)):
                for sql, positions in statements:
                    pick = operator.itemgetter(*positions)
                    con.executemany(sql, map(pick, batch))
                total += len(batch)
            con.execute("COMMIT")
    con.close()
    return total


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GB RAM"
    except (OSError, StopIteration):
        pass
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}){mem}; Python "
            f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}")


def run(sizes: list[int], pg: str | None, backends: list[str], workers: int, skip: set[str], work: Path,
        out: Path) -> None:
    collect = [sys.executable, "-m", "collect_cli"]
    floor_py = Path(__file__).resolve().parent / "floor.py"
    lines = [f"# Benchmarks\n\nMachine: {machine()}. Run on {date.today().isoformat()} with "
             f"`python bench/bench.py {' '.join(f'--loans {n}' for n in sizes)}"
             f"{' --pg …' if pg else ''} --backends {','.join(backends)} --workers {workers}`; "
             f"each step in a fresh process, books as of {AS_OF}.\n",
             "| backend | loans | ledger rows | step | wall | rows/s | peak RSS | target (SQLite, 100k) |",
             "|---|---|---|---|---|---|---|---|"]
    peaks: dict[tuple[str, str], dict[int, int]] = {}  # (backend, step) -> {loans: peak RSS MB}

    def row(*cells) -> None:  # one table row, and the file rewritten: a stopped run keeps its rows
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")

    for n in sizes:
        folder = work / f"book-{n}"
        if not (folder / "loan_events.csv").exists():  # (a book of before issue 14 has no events)
            print(f"bench: generating {n:,} loans in {folder}", file=sys.stderr)
            timed([*collect, "demo", "generate", str(folder), "--loans", str(n), "--seed", SEED, "--as-of", AS_OF])
        files = ("loans.csv", "installments.csv", "payments.csv", "reversals.csv", "loan_events.csv")
        rows = sum(sum(1 for _ in open(folder / f, "rb")) - 1 for f in files)
        floor_rate = None
        if "sqlite" in backends and "raw floor" not in skip:
            floor_db = work / f"floor-{n}.db"
            for stale in work.glob(f"floor-{n}.db*"):
                stale.unlink()
            wall, rss, _ = timed([sys.executable, __file__, "--floor", str(folder), str(floor_db)])
            floor_db.unlink()
            floor_rate = rows / wall
            row("sqlite", f"{n:,}", f"{rows:,}", "(a) raw floor: csv + executemany into collect's tables",
                f"{wall:.1f} s", f"{floor_rate:,.0f}", f"{rss // 1024} MB", "")
        for backend in backends:
            if backend == "sqlite":
                db = str(work / f"collect-{n}.db")
                for stale in work.glob(f"collect-{n}.db*"):
                    stale.unlink()
            else:
                db = _fresh_pg(pg)
            spool = work / f"spool-{backend}-{n}"
            subprocess.run(["rm", "-rf", str(spool)], check=True)
            spool.mkdir()
            steps = [
                ("import", [*collect, "--db", db, "import", *(str(folder / f) for f in files)]),
                ("run-reminders", [*collect, "--db", db, "run-reminders", "--as-of", AS_OF, "--now", f"{AS_OF}T02:00",
                                   "--workers", str(workers)]),
                ("send", [*collect, "--db", db, "send", "--now", f"{AS_OF}T10:00"]),
                ("report buckets", [*collect, "--db", db, "report", "buckets", "--as-of", AS_OF]),
                ("report floor", [sys.executable, str(floor_py), db, "--as-of", AS_OF, "--check"]),
                ("report rolls", [*collect, "--db", db, "report", "rolls", "--from", "2026-10-20", "--to", AS_OF]),
                ("queue", [*collect, "--db", db, "queue", "--as-of", AS_OF, "--limit", "20"]),
            ]
            for name, argv in [(name, argv) for name, argv in steps if name not in skip]:
                print(f"bench: {backend} {n:,} {name}", file=sys.stderr)
                if argv[:len(collect)] == collect:
                    argv = [*argv, "--format", "json"]
                wall, rss, output = timed(argv, cwd=spool)  # send's file spool is ./outbox
                rate = ""
                if name == "import":  # the floor is SQLite's: the ratio only means something there
                    rate = f"{rows / wall:,.0f}" + (f" (floor ÷ this: {floor_rate / (rows / wall):.2f})"
                                                   if backend == "sqlite" and floor_rate else "")
                elif name == "report floor":  # its own read + compute; the check against collect is not timed
                    got = json.loads(output)
                    wall = got["read_s"] + got["compute_s"]
                    rate = (f"read {got['read_s']:.1f} s + numpy {got['compute_s']:.1f} s; "
                            f"{got['loans_differing']} loans differ from collect's")
                elif name == "send":  # its --format json: per outcome and channel, and the totals
                    done = json.loads(output)["totals"]
                    rate = f"{done['sent']:,} sent, {done['cancelled']:,} cancelled, {done['waiting']:,} waiting"
                target = TARGETS.get(name, "") if backend == "sqlite" and n == 100_000 else ""
                row(backend, f"{n:,}", f"{rows:,}", name, f"{wall:.1f} s", rate, f"{rss // 1024} MB", target)
                peaks.setdefault((backend, name), {})[n] = rss // 1024
            subprocess.run(["rm", "-rf", str(spool)], check=True)
    if len(sizes) > 1:  # the memory target: under 500 MB and not growing with the book
        lines.extend(["\nPeak memory (RSS) by book size:\n",
                      "| backend | step | " + " | ".join(f"{n:,} loans" for n in sizes) + " |",
                      "|---|---|" + "---|" * len(sizes)])
        lines.extend(f"| {backend} | {name} | " + " | ".join(f"{by_size.get(n, '')} MB" for n in sizes) + " |"
                     for (backend, name), by_size in peaks.items())
    lines.append("\nThe floor inserts into collect's own tables (made by its migrations: same keys, indexes "
                 "and foreign keys), so the ratio is what validating and upserting every row costs. The report "
                 "floor's time is its read and its numpy computation, without the check against collect. Peak RSS "
                 "is the largest process of the step (the import's reading process and the parallel report "
                 "workers each hold about as much as the main process). Time on shared machines varies by "
                 "up to a fifth between runs.\n")
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"bench: written to {out}", file=sys.stderr)


def _fresh_pg(url: str) -> str:
    """A new empty database `collect_bench` on the server of `url` (dropped first if there)."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(url.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS collect_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE collect_bench")
    return base.set(database="collect_bench").render_as_string(hide_password=False)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--floor":
        print(json.dumps(floor(Path(sys.argv[2]), Path(sys.argv[3]))), file=sys.stderr)
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loans", type=int, action="append", help="book size (repeatable); default 100000")
    ap.add_argument("--pg", help="a PostgreSQL server to measure too: its database collect_bench is (re)created")
    ap.add_argument("--backends", default=None,
                    help="comma-separated, of sqlite and postgresql; default sqlite, and postgresql with --pg")
    ap.add_argument("--workers", type=int, default=1, help="run-reminders --workers (default 1)")
    ap.add_argument("--skip", action="append", default=[], metavar="STEP",
                    help="leave a step out (repeatable): e.g. 'report floor', whose numpy columns hold the "
                         "whole book in memory")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "collect-bench",
                    help="where books and databases go (books are kept and reused)")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "BENCHMARKS.md")
    a = ap.parse_args()
    backends = a.backends.split(",") if a.backends else ["sqlite"] + (["postgresql"] if a.pg else [])
    if not set(backends) <= {"sqlite", "postgresql"} or ("postgresql" in backends and not a.pg):
        ap.error("--backends: sqlite and/or postgresql (postgresql needs --pg)")
    a.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    run(a.loans or [100_000], a.pg, backends, a.workers, set(a.skip), a.work, a.out)
    print(f"bench: {time.perf_counter() - started:.0f} s in all", file=sys.stderr)


if __name__ == "__main__":
    main()
