"""Options shared by several commands, and the conversion of their values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from collect_cli.cli.render import Format
from collect_cli.ledger.values import parse_date

AsOf = Annotated[
    str | None,
    typer.Option("--as-of", metavar="DATE",
                 help="Compute as of this date (2026-01-31); default: today in the configured time zone."),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output: table, json or csv.")]
COMMAND_WORDS = "collect.words"  # the root context's meta: the command line after the global options


def _note_show_pii(ctx: typer.Context, value: bool) -> bool:
    """--show-pii is recorded in the audit as it is parsed, before the command prints anything."""
    root = ctx.find_root()
    if value and root.obj is not None:
        root.obj.record_shown_pii()
    return value


ShowPii = Annotated[bool, typer.Option("--show-pii", callback=_note_show_pii,
                                       help="Show full phone numbers (masked by default; recorded in the audit).")]
def _known_product(ctx: typer.Context, value: str | None) -> str | None:
    """--product must name a product of the ledger: a typo would print zeros."""
    app = ctx.find_root().obj
    if value is None or app is None:
        return value
    from collect_cli.services import listings

    with app.engine().connect() as conn:
        known = listings.products(conn)
    if value not in known:
        raise typer.BadParameter(f"{value!r} is not a product of the ledger; known: {', '.join(known) or 'none'}",
                                 param_hint="--product")
    return value


Product = Annotated[str | None, typer.Option("--product", callback=_known_product,
                                             help="Only loans of this product (one the ledger knows).")]


def as_of_date(value: str | None, today: date) -> date:
    if value is None:
        return today
    try:
        return parse_date(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--as-of") from None


def not_after_today(day: date, today: date) -> date:
    """A file for others (the bureau, an agency) states what is true on its date: a date still
    to come would count notices and holds that cannot be known yet."""
    if day > today:
        raise typer.BadParameter(f"{day.isoformat()} is after today ({today.isoformat()}): a file is written "
                                 "as of a day that has come", param_hint="--as-of")
    return day


def date_option(value: str | None, hint: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=hint) from None


Now = Annotated[
    str | None,
    typer.Option("--now", metavar="DATETIME",
                 help="Pretend it is this moment (2026-11-21T09:00, in the configured zone unless an offset is "
                      "given): demo stores only (or COLLECT_ALLOW_CLOCK=1), audited; records keep the real time "
                      "they are written. Default: the clock."),
]


def moment(value: str | None, app) -> datetime:
    """--now as naive UTC (where a pretend clock is allowed), or the clock."""
    if value is None:
        return app.utcnow()
    utc = parse_moment(value, app.settings.zone, "--now")
    app.pretend_clock(value)
    return utc


def day_of(at: datetime, app) -> date:
    """The day a moment (naive UTC) falls on in the configured zone: today, by --now or the clock."""
    return at.replace(tzinfo=UTC).astimezone(app.settings.zone).date()


def parse_moment(value: str, zone, hint: str) -> datetime:
    """A date and time as naive UTC; in `zone` unless it carries an offset."""
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date and time such as 2026-11-21T09:00", param_hint=hint) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=zone)
    try:
        utc = t.astimezone(UTC).replace(tzinfo=None)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not MOMENTS[0] <= utc.year <= MOMENTS[1]:  # days are added to it, in every zone
        raise typer.BadParameter(f"{value!r} is out of range ({MOMENTS[0]} to {MOMENTS[1]})",
                                 param_hint=hint) from None
    return utc


MOMENTS = (1900, 9000)  # the years a moment given may fall in
