"""`collect db …`: schema migrations of an existing store."""

from __future__ import annotations

import typer

from collect_cli.store.database import (
    create_store_engine,
    current_revision,
    head_revision,
)

app = typer.Typer(help="Database schema: show the revision, upgrade to the current one.\n\nExample: collect db current",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("upgrade")
def upgrade_command(ctx: typer.Context) -> None:
    """Migrate the database to the schema of this version of collect.

    Every command does this on first use; run it explicitly after an upgrade of collect.

    Example: collect --db /srv/collect/collect.db db upgrade
    """
    engine = ctx.obj.engine(create=True)  # opening migrates (and makes a new store)
    typer.echo(f"{ctx.obj.db_display}: at revision {current_revision(engine)} (head)")


@app.command("current")
def current_command(ctx: typer.Context) -> None:
    """Show the schema revision of the database and whether it is up to date.

    Example: collect db current
    """
    engine = create_store_engine(ctx.obj.settings.db, create=False)
    current, head = current_revision(engine), head_revision()
    state = "up to date" if current == head else f"behind head {head}: run `collect db upgrade`"
    typer.echo(f"{ctx.obj.db_display}: revision {current or 'none (empty database)'}, {state}")
