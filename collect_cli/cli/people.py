"""`collect people` and `collect numbers`: contact persons (WHO-2, WHO-3, WHO-5) and numbers
that several borrowers share (WHO-4)."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.collector import Agent, agent_name
from collect_cli.cli.options import FormatOpt, ShowPii
from collect_cli.cli.render import Format
from collect_cli.domain.people import RELATIONS
from collect_cli.domain.pii import free_text, mask_phone, mask_point
from collect_cli.ledger.values import parse_phone, parse_point
from collect_cli.services import listings
from collect_cli.services.contacts import add_person
from collect_cli.services.numbers import confirm_number, shared_numbers

people = typer.Typer(help="Contact persons of a borrower: the only third parties collectors may call (WHO-2, WHO-3, "
                          "WHO-5).\n\nExample: collect people add L00000044 --name 张伟 --phone 13900000000 "
                          "--relation spouse --source 'loan application form'",
                     no_args_is_help=True, rich_markup_mode=None)


@people.command("add")
def add_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="A loan of the borrower.")],
    name: Annotated[str, typer.Option(help="Their name.")],
    relation: Annotated[str, typer.Option(help=" | ".join(RELATIONS))],
    source: Annotated[str, typer.Option(help="Where their number came from (WHO-3), e.g. 'loan application form'.")],
    phone: Annotated[str | None, typer.Option(help="Their number (any common spelling); required (WHO-3).")] = None,
    note: Annotated[str | None, typer.Option(help="Anything else.")] = None,
    agent: Agent = None,
) -> None:
    """Record a contact person: name, number, the source of the number (WHO-3; a phone's address
    book is refused) and the relation. A guarantor answers for the debt (WHO-1); everyone else
    is only asked to help reach the borrower once the borrower is recorded unreachable (WHO-5),
    is never told of the debt (WHO-2) and, once they refuse, is never contacted again, under any
    spelling of their name or at their number.

    Example: collect people add L00000044 --name 张伟 --phone 139-0000-0000 --relation spouse --source "loan application"
    """
    number = None
    if phone is not None:
        try:
            number = parse_phone(phone)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--phone") from None
    app_ = ctx.obj
    person_id = add_person(engine=app_.engine(), loan_id=loan, name=name, phone=number, relation=relation,
                           source=source, note=note, agent=agent_name(app_, agent), now=app_.utcnow())
    render.note(f"{loan}: contact person {person_id} recorded ({relation}); log a call with --party {person_id}")


@people.command("list")
def list_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="A loan of the borrower.")],
    show_pii: ShowPii = False,
    fmt_: FormatOpt = Format.table,
) -> None:
    """The borrower's contact persons, and whether they refused to help.

    Example: collect people list L00000044
    """
    with ctx.obj.engine().connect() as conn:
        borrower, rows, refused = listings.persons_of_loan(conn, loan)
    records = [{"id": p.id, "name": p.name, "relation": p.relation, "related": RELATIONS.get(p.relation),
                "phone": p.phone if show_pii else mask_phone(p.phone), "source": free_text(show_pii)(p.source),
                "refused": p.id in refused, "by": p.agent} for p in rows]
    fields = ["id", "name", "relation", "related", "phone", "source", "refused", "by"]
    if fmt_ is not Format.table:
        render.records_out(fmt_, records, fields)
        return
    render.table(f"Contact persons of borrower {borrower} ({len(records)})", [(f, "left") for f in fields],
                 ([r[f] for f in fields] for r in records))


numbers = typer.Typer(help="Numbers and e-mails that several borrower ids share (WHO-4): no message about a debt "
                           "goes to them until it is confirmed whose they are.\n\nExample: collect numbers shared",
                      no_args_is_help=True, rich_markup_mode=None)


@numbers.command("shared")
def shared_command(ctx: typer.Context, show_pii: ShowPii = False, fmt_: FormatOpt = Format.table) -> None:
    """Every number or e-mail on file for more than one borrower id, with the ids and the one it
    was confirmed for, if any.

    Example: collect numbers shared --format csv
    """
    with ctx.obj.engine().connect() as conn:
        rows = shared_numbers(conn)
    records = [{**r, "point": r["point"] if show_pii else mask_point(r["point"])} for r in rows]
    fields = ["point", "borrowers", "confirmed_for"]
    if fmt_ is not Format.table:
        render.records_out(fmt_, records, fields)
        return
    render.table(f"Shared numbers and e-mails ({len(records)})", [(f, "left") for f in fields],
                 ([r[f] or "" for f in fields] for r in records))


@numbers.command("confirm")
def confirm_command(
    ctx: typer.Context,
    point: Annotated[str, typer.Argument(metavar="NUMBER|EMAIL|PUSH_ID",
                                         help="The shared number, e-mail or app push id.")],
    borrower: Annotated[str, typer.Option(help="The borrower id it belongs to.")],
    note: Annotated[str | None, typer.Option(help="How it was confirmed.")] = None,
    agent: Agent = None,
) -> None:
    """Confirm whose a shared number, e-mail or push id is: messages to that borrower may use it again;
    the other ids that share it still get none through it.

    Example: collect numbers confirm 13812345678 --borrower C0000037 --note "confirmed on a call with the borrower"
    """
    try:
        point = parse_point(point)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="NUMBER|EMAIL|PUSH_ID") from None
    app_ = ctx.obj
    confirm_number(engine=app_.engine(), point=point, borrower_id=borrower, note=note, agent=agent_name(app_, agent),
                   now=app_.utcnow())
    render.note(f"{mask_point(point)} confirmed as borrower {borrower}'s")
