"""`collect demo …`: a deterministic demo portfolio (the one in sample.db)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.imports import exit_code
from collect_cli.cli.options import AsOf, as_of_date
from collect_cli.errors import CollectError, UsageError
from collect_cli.services import stores
from collect_cli.services.demo import generate_portfolio
from collect_cli.services.importer import ImportOptions, import_files

app = typer.Typer(help="Demo data: a realistic, deterministic portfolio as ledger CSV files.\n\nExample: collect demo generate demo-data --loans 500",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("generate")
def generate_command(
    ctx: typer.Context,
    out_dir: Annotated[Path, typer.Argument(metavar="DIR", help="Folder for loans.csv, installments.csv, payments.csv.")],
    loans: Annotated[int, typer.Option(min=1, max=10_000_000, help="Number of loans.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 20261120,
    as_of: AsOf = None,
    do_import: Annotated[bool, typer.Option(
        "--import", help="Also import the files into --db: a new store, or a demo one; it is marked a demo store "
                         "(--now may pretend the clock on it).")] = False,
) -> None:
    """Write a demo portfolio as the core system would export it on --as-of.

    loans.csv is GB18030 with Chinese headers, installments.csv UTF-8 with BOM and Chinese
    headers, payments.csv plain UTF-8: every encoding the importer reads.

    \b
    Example (how sample.db is built):
      collect --db sample.db demo generate demo-data --loans 2000 --as-of 2026-11-20 --import
    """
    app_ = ctx.obj
    day = as_of_date(as_of, app_.today())
    if not date(2000, 1, 1) <= day <= date(2099, 12, 31):  # loans start up to two years earlier
        raise typer.BadParameter("the demo portfolio is made for dates from 2000 to 2099", param_hint="--as-of")
    engine = app_.engine(create=True) if do_import else None
    if engine is not None:
        with engine.connect() as conn:
            if not stores.is_demo(conn) and stores.has_imports(conn):
                raise UsageError(f"{app_.db_display} holds a store that is not a demo store: demo data goes "
                                 "into a new store (collect --db demo.db demo generate DIR --import)")
    try:
        files = generate_portfolio(out_dir, loans=loans, seed=seed, as_of=day)
    except OSError as exc:
        raise CollectError(f"{out_dir}: cannot write the demo files: {exc.strerror}") from None
    for kind, count in files.counts.items():
        render.note(f"{kind}: {count:,} rows")
    if engine is not None:
        with engine.begin() as conn:  # marked once the files are there: a demo store, --now allowed
            stores.mark_demo(conn)
        with render.file_progress() as progress:
            results = import_files(engine=engine,
                                   paths=files.paths,
                                   options=ImportOptions(), now=app_.utcnow, progress=progress)
        for r in results:
            render.note(f"{r.path.name}: {r.status}, {r.inserted:,} inserted, {r.rejected:,} rejected")
        raise typer.Exit(exit_code(results))
