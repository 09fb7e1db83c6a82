"""The root of the CLI: global options, the application context, and error handling."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperGroup

from collect_cli import __version__
from collect_cli.cli import render
from collect_cli.cli.options import COMMAND_WORDS
from collect_cli.config import Settings, load_settings
from collect_cli.errors import CollectError, UsageError
from collect_cli.services import stores

ALLOW_CLOCK = "COLLECT_ALLOW_CLOCK"  # =1: --now on any store (tests)


class CollectGroup(TyperGroup):
    """Turns every CollectError into `Error: …` on stderr and its exit code: no traceback."""

    def invoke(self, ctx):
        # the command and its arguments, after the global options (so never --db's value), for
        # the audit of --show-pii and --now
        ctx.meta[COMMAND_WORDS] = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            return super().invoke(ctx)
        except CollectError as exc:
            render.error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except SQLAlchemyError as exc:  # e.g. a database that went read-only or away mid-command
            render.error(f"database: {getattr(exc, 'orig', None) or exc.__class__.__name__}")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            render.error("interrupted; the file being imported was rolled back")
            raise typer.Exit(130) from None


@dataclass
class App:
    """What every command gets: settings, and the store opened (and migrated) on first use."""

    settings: Settings
    words: list[str] = field(default_factory=list)  # the command line after the global options
    _engine: Engine | None = field(default=None, repr=False)
    _pretending: bool = field(default=False, repr=False)

    def engine(self, create: bool = False) -> Engine:
        """The store; `create`: make it when there is none (import, db upgrade, demo --import)."""
        if self._engine is None:
            self._engine = stores.open_store(self.settings.db, create)
        return self._engine

    def today(self) -> date:
        """Today in the configured time zone (the CLI, not the services, reads the clock)."""
        return datetime.now(self.settings.zone).date()

    @staticmethod
    def operator() -> str:
        """Who runs the command, for the records."""
        import getpass

        try:
            return getpass.getuser()[:64]
        except (KeyError, OSError):
            return "unknown"

    @staticmethod
    def utcnow() -> datetime:
        """Now as the store keeps times: naive UTC."""
        return datetime.now(UTC).replace(tzinfo=None)

    def record_shown_pii(self) -> None:
        """--show-pii: who asked, when and by which command goes in the audit, before the
        command prints anything (a pipe cut by `| head` cannot skip it)."""
        with self.engine().begin() as conn:
            stores.audit(conn, at=self.utcnow(), agent=self.operator(), action="show-pii", detail=self.command_line)

    def pretend_clock(self, value: str) -> None:
        """--now: allowed on a demo store, or where COLLECT_ALLOW_CLOCK=1 (tests), with a
        warning and an audit entry; the records still carry the real time they are written."""
        if self._pretending:
            return
        with self.engine().begin() as conn:
            demo = stores.is_demo(conn)
            if not demo and os.environ.get(ALLOW_CLOCK) != "1":
                raise UsageError(f"--now {value}: a pretend clock is for demo stores (`collect db init --demo`, "
                                 f"`collect demo generate --import`) or with {ALLOW_CLOCK}=1; this store runs on "
                                 "the real clock. A contact logged after it happened takes --at TIME")
            why = "demo store" if demo else f"{ALLOW_CLOCK}=1"
            stores.audit(conn, at=self.utcnow(), agent=self.operator(), action="clock",
                         detail=f"--now {value} ({why}): {self.command_line}")
        self._pretending = True
        render.note(f"warning: --now {value} pretends the clock ({why}); every record keeps the real time "
                    "it is written")

    @property
    def command_line(self) -> str:
        return "collect " + " ".join(self.words)

    @property
    def db_display(self) -> str:
        return stores.display_url(self.settings.db)


app = typer.Typer(
    cls=CollectGroup,
    name="collect",
    help="Collections operations for a consumer lender: import ledgers, days past due, buckets, work queue.\n\n"
         "Example: collect --db sample.db report buckets --as-of 2026-11-20",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals would print personal data
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"collect {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="COLLECT_DB", show_envvar=True, metavar="PATH|URL",
        help="SQLite file or database URL (postgresql://…); default ./collect.db.")] = None,
    config: Annotated[str | None, typer.Option(
        "--config", envvar="COLLECT_CONFIG", show_envvar=True, metavar="PATH",
        help="Settings file; default ./collect.toml when present.")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    ctx.obj = App(settings=load_settings(db=db, config=config), words=ctx.meta.get(COMMAND_WORDS, []))


def _register() -> None:
    from collect_cli.cli import (
        account,
        agencies,
        bureau,
        cases,
        collector,
        db,
        demo,
        dialer,
        escalation,
        imports,
        legal,
        links,
        outbox,
        people,
        placements,
        plan,
        queue,
        reminders,
        replies,
        report,
        templates,
        waive,
    )

    app.command("import", help=imports.HELP, no_args_is_help=True)(imports.import_command)
    app.command("run-reminders", help=reminders.RUN_HELP)(reminders.run_command)
    app.command("send")(outbox.send_command)
    app.add_typer(outbox.outbox_app, name="outbox")
    app.add_typer(queue.app, name="queue")
    app.command("account")(account.account_command)
    app.command("log")(collector.log_command)
    app.command("promises")(collector.promises_command)
    app.command("audit")(collector.audit_command)
    app.command("plan")(plan.plan_command)
    app.command("waive")(waive.waive_command)
    app.command("hold")(reminders.hold_command)
    app.command("release")(reminders.release_command)
    app.add_typer(cases.app, name="case")
    app.command("cases")(cases.cases_command)
    app.add_typer(report.app, name="report")
    app.add_typer(db.app, name="db")
    app.add_typer(templates.app, name="templates")
    app.add_typer(bureau.app, name="bureau")
    app.command("escalations")(escalation.escalations_command)
    app.command("escalate")(escalation.escalate_command)
    for name in ("propose", "place", "recall", "activity", "list", "statement"):
        escalation.placements.command(name)(getattr(placements, f"{name}_command"))
    app.add_typer(escalation.placements, name="placements")
    app.add_typer(agencies.app, name="agencies")
    app.add_typer(legal.app, name="legal")
    app.add_typer(demo.app, name="demo")
    app.add_typer(people.people, name="people")
    app.add_typer(people.numbers, name="numbers")
    app.add_typer(replies.app, name="replies")
    app.add_typer(links.app, name="links")
    app.add_typer(dialer.app, name="dialer")


_register()


def main() -> None:
    # The program's own objects (modules, classes, the CLI) are never garbage: frozen, the
    # cyclic collector's full passes skip them. Bulk paths allocate millions of short-lived
    # rows, and without this the import spent a third of its time in the collector.
    gc.freeze()
    app()
