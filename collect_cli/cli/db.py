"""`collect db …`: schema migrations of an existing store."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.errors import UsageError
from collect_cli.services import stores

app = typer.Typer(help="The store: make one, show its schema revision, upgrade it.\n\nExample: collect db current",
                  no_args_is_help=True, rich_markup_mode=None)


@app.command("init")
def init_command(
    ctx: typer.Context,
    demo: Annotated[bool, typer.Option("--demo", help="A demo store: --now may pretend the clock on it.")] = False,
) -> None:
    """Make a new, empty store at --db (a file, or an empty PostgreSQL database). A demo store
    is for demonstrations and training: on it --now pretends the clock (audited; records
    still carry the real time). A store that exists already is left alone (exit 2).

    Example: collect --db training.db db init --demo
    """
    app_ = ctx.obj
    revision = stores.revision(app_.settings.db, create=True)
    if revision is not None:
        raise UsageError(f"{app_.db_display} already holds a store (revision {revision}); db init makes a new one")
    engine = app_.engine(create=True)
    if demo:
        with engine.begin() as conn:
            stores.mark_demo(conn)
    typer.echo(f"{app_.db_display}: new {'demo ' if demo else ''}store at revision "
               f"{stores.current_revision(engine)}")


@app.command("upgrade")
def upgrade_command(ctx: typer.Context) -> None:
    """Migrate the database to the schema of this version of collect.

    Every command does this on first use; run it explicitly after an upgrade of collect.

    Example: collect --db /srv/collect/collect.db db upgrade
    """
    engine = ctx.obj.engine(create=True)  # opening migrates (and makes a new store)
    typer.echo(f"{ctx.obj.db_display}: at revision {stores.current_revision(engine)} (head)")


@app.command("current")
def current_command(ctx: typer.Context) -> None:
    """Show the schema revision of the database and whether it is up to date.

    Example: collect db current
    """
    current, head = stores.revision(ctx.obj.settings.db), stores.head_revision()
    state = "up to date" if current == head else f"behind head {head}: run `collect db upgrade`"
    typer.echo(f"{ctx.obj.db_display}: revision {current or 'none (empty database)'}, {state}")
