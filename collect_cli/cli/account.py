"""`collect account LOAN`: the account card."""

from __future__ import annotations

from typing import Annotated

import typer

from collect_cli.cli import render
from collect_cli.cli.options import AsOf, FormatOpt, ShowPii, as_of_date
from collect_cli.cli.render import Format
from collect_cli.domain.money import fmt, fmt_grouped
from collect_cli.domain.pii import free_text, mask_address, mask_email, mask_phone, mask_push_id
from collect_cli.services.account import account_card

SECTIONS = ("borrower", "loans", "schedule", "payments", "events", "messages", "contacts", "promises", "holds", "cases",
            "plans", "waivers", "people")


def account_command(
    ctx: typer.Context,
    loan: Annotated[str, typer.Argument(help="Any loan of the borrower.")],
    as_of: AsOf = None,
    show_pii: ShowPii = False,
    section: Annotated[str | None, typer.Option(
        help=f"With --format csv: the section to print ({', '.join(SECTIONS)}).")] = None,
    fmt_: FormatOpt = Format.table,
) -> None:
    """The account card: the borrower, every loan of theirs as of the date, the schedule with
    what is paid, payments (and reversals) up to the date, the core system's loan events
    (write-off, transfer, early settlement, delinquency pauses), and all messages, contacts, promises, holds and
    restructuring plans (with their status as of the date).

    Example: collect account L00000044 --as-of 2026-11-20
    """
    if fmt_ is Format.csv and section not in SECTIONS:
        raise typer.BadParameter(f"a card is many tables: name one with --section ({', '.join(SECTIONS)}), or use "
                                 "--format json for all of it", param_hint="--section")
    if section is not None and fmt_ is not Format.csv:
        raise typer.BadParameter("--section goes with --format csv", param_hint="--section")
    app = ctx.obj
    day = as_of_date(as_of, app.today())
    with app.engine().connect() as conn:
        card = account_card(conn, loan_id=loan, as_of=day, settings=app.settings)
    main = card.accounts[0]
    phone = main.phone if show_pii else mask_phone(main.phone)
    free = free_text(show_pii)  # notes and labels: numbers typed into them
    address = main.address if show_pii else mask_address(main.address)
    loans = [{"loan_id": a.loan_id, "product": a.product, "allocation": a.rule.strategy,
              "principal": fmt(a.principal),
              "disbursed_on": a.disbursed_on.isoformat(), "status": a.state.status, "dpd": a.state.dpd,
              "calendar_dpd": a.state.calendar_dpd,
              "bucket": a.state.bucket, "classification": a.state.classification, "overdue": fmt(a.state.overdue),
              "outstanding": fmt(a.state.outstanding_principal), "credit": fmt(a.state.credit),
              "penalty_owed": fmt(card.penalty[a.loan_id][0]), "penalty_paid": fmt(card.penalty[a.loan_id][1]),
              "next_due_on": a.state.next_due_on.isoformat() if a.state.next_due_on else None}
             for a in card.accounts]
    reversed_by = {p.reverses: p.payment_id for p in card.payments if p.reverses}
    schedule = [{"seq": p.installment.seq, "due_on": p.installment.due_on.isoformat(),
                 "due": fmt(p.installment.total_due), "paid": fmt(p.paid), "unpaid": fmt(p.unpaid),
                 "overdue": bool(p.unpaid and p.installment.due_on < day)} for p in main.state.positions]
    data = {
        "as_of": day.isoformat(),
        "borrower": {"borrower_id": main.borrower_id, "name": main.borrower_name, "phone": phone,
                     "email": main.email if show_pii else mask_email(main.email),
                     "push_id": main.push_id if show_pii else mask_push_id(main.push_id), "address": address,
                     "locale": main.locale, "timezone": main.timezone or app.settings.timezone,
                     # WHO-4: on file for other borrower ids too, not confirmed as theirs: no debt message
                     "shared_phone": card.shared.get("phone", []), "shared_email": card.shared.get("email", []),
                     "shared_push": card.shared.get("push", []),
                     "name_check": card.name_problem},
        "loans": loans, "schedule": schedule,
        "payments": [{"payment_id": p.payment_id, "loan_id": p.loan_id, "paid_on": p.paid_on.isoformat(),
                      "amount": fmt(p.amount), "reverses": p.reverses, "reason": free(p.reason),
                      "reversed_by": reversed_by.get(p.payment_id)} for p in card.payments],
        "events": [{"loan_id": loan_id, "event": e.event, "on": e.event_on.isoformat(),
                    "until": e.until.isoformat() if e.until else None,
                    "amount": fmt(e.amount) if e.amount is not None else None, "party": e.party,
                    "reason": free(e.reason), "in_force": e.event_on <= day} for loan_id, e in card.events],
        "messages": [{"id": m.id, "loan_id": m.loan_id, "step": m.step, "channel": m.channel, "status": m.status,
                      "as_of": m.as_of.isoformat(), "reason": free(m.reason)} for m in card.messages],
        "contacts": [{"at": render.utc(c.at, "minutes"), "loan_id": c.loan_id,
                      "channel": c.channel, "outcome": c.outcome, "party": free(c.party) or "borrower",
                      "agent": free(c.agent), "agency": c.agency, "note": free(c.note), "override": c.override,
                      "recording": c.recording, "breach": c.breach,
                      # REC-4: logged after it happened (--at): both times
                      "late_entry": f"logged {render.utc(c.logged_at, 'minutes')}" if c.logged_at > c.at else None}
                     for c in card.contacts],
        "promises": [{"loan_id": p.loan_id, "amount": fmt(p.amount), "due_on": p.due_on.isoformat(),
                      "status": p.status, "paid": fmt(p.paid)} for p in card.promises],
        "holds": [{"hold": h.id if h.action == "place" else h.hold_id, "loan_id": h.loan_id, "reason": h.reason,
                   "action": h.action, "channel": h.channel,
                   "until": h.until.isoformat() if h.until else None, "by": h.actor,
                   "at": render.utc(h.at, "minutes")} for h in card.holds],
        "cases": [{**{k: r[k] for k in ("case", "loan_id", "kind", "rule", "status", "owner", "received_on",
                                        "due_on", "days_left", "overdue", "hold", "letter")}, "owner": free(r["owner"])}
                  for r in (v.row() for v in card.cases)],
        "plans": [{"plan": p.id, "loan_id": p.loan_id, "plan_on": p.plan_on.isoformat(),
                   "terms": f"{p.installments} installments" if p.kind == "installments" else f"+{p.extend_days} days",
                   "amount": fmt(p.amount), "first_due": p.first_due.isoformat(), "status": status, "by": p.agent}
                  for x in card.plans for p, status in [(x["plan"], x["status"])]],
        "waivers": [{"waiver": w.id, "loan_id": w.loan_id, "component": w.component, "amount": fmt(w.amount),
                     "granted_on": w.granted_on.isoformat(),
                     "if_paid_by": w.if_paid_by.isoformat() if w.if_paid_by else None,
                     "status": _waiver_status(w, day), "by": w.agent, "approved_by": w.approved_by}
                    for w in card.waivers],
        "people": [{"id": p.id, "name": p.name, "relation": p.relation,
                    "phone": p.phone if show_pii else mask_phone(p.phone), "source": free(p.source)}
                   for p in card.people],
    }
    if fmt_ is Format.json:
        render.json_out(data)
        return
    if fmt_ is Format.csv:
        rows = [data["borrower"]] if section == "borrower" else data[section]
        if not rows:
            render.note(f"{section}: none")
            return
        render.records_out(fmt_, ({k: "; ".join(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows),
                           list(rows[0]))
        return
    b = data["borrower"]
    flags = [f"{kind} also on file for {', '.join(ids)}: no debt message until confirmed (WHO-4)"
             for kind, ids in (("phone", b["shared_phone"]), ("e-mail", b["shared_email"]),
                               ("push id", b["shared_push"])) if ids]
    if b["name_check"]:
        flags.append(f"the name {b['name_check']}: messages greet the borrower neutrally")
    flags += [f"{a.loan_id}: {line}" for a in card.accounts for line in standing_lines(a.state)]
    flags += [f"{a.loan_id}: payments allocated by {a.rule.strategy} (its product's rule)"
              for a in card.accounts if a.rule.by_payment]
    flags += [f"{r['loan_id']}: penalty interest owed {r['penalty_owed']}, paid {r['penalty_paid']}"
              for r in loans if (r["penalty_owed"], r["penalty_paid"]) != ("0.00", "0.00")]
    flags += [f"{r['loan_id']}: credit {r['credit']} (paid beyond the schedule)"
              for r in loans if r["credit"] != "0.00"]
    flags += [f"{c['loan_id']}: case {c['case']} ({c['kind']}, {c['rule']}) {c['status']}, due {c['due_on']}"
              + (" OVERDUE" if c["overdue"] else "") for c in data["cases"] if c["status"] != "closed"]
    render.panel(f"{b['name']} ({b['borrower_id']}) as of {day.isoformat()}",
                 [f"phone {b['phone']}   language {b['locale']}   time zone {b['timezone']}",
                  f"e-mail {b['email'] or '-'}   app push {b['push_id'] or '-'}", f"address {b['address'] or '-'}",
                  *flags])
    render.table("Loans", [("loan", "left"), ("product", "left"), ("status", "left"), ("dpd", "right"),
                           ("bucket", "left"), ("class", "left"), ("overdue", "right"), ("outstanding", "right"),
                           ("next due", "left")],
                 ([r["loan_id"], r["product"], r["status"], _dpd(a.state), r["bucket"] or "",
                   r["classification"] or "", fmt_grouped(a.state.overdue), fmt_grouped(a.state.outstanding_principal),
                   r["next_due_on"] or ""] for a, r in zip(card.accounts, loans, strict=True)))

    render.table(f"Schedule of {main.loan_id}", [("seq", "right"), ("due on", "left"), ("due", "right"),
                                                 ("paid", "right"), ("unpaid", "right"), ("", "left")],
                 ([r["seq"], r["due_on"], r["due"], r["paid"], r["unpaid"], "overdue" if r["overdue"] else ""]
                  for r in schedule))
    sections = [("Payments", "payments"), ("Loan events", "events"), ("Messages", "messages"), ("Contacts", "contacts"),
                ("Promises", "promises"), ("Holds", "holds"), ("Cases", "cases"), ("Plans", "plans"),
                ("Waivers", "waivers"), ("Contact persons", "people")]
    for title, key in sections:
        rows = data[key]
        if rows:
            fields = list(rows[0])
            render.table(title, [(f, "left") for f in fields],
                         ([r[f] if r[f] is not None else "" for f in fields] for r in rows))
        else:
            render.note(f"{title}: none")


def _dpd(state) -> str:
    """Effective DPD, and the calendar's when a pause made them differ."""
    return f"{state.dpd} ({state.calendar_dpd} calendar)" if state.calendar_dpd != state.dpd else str(state.dpd)


def standing_lines(state) -> list[str]:
    """What the loan's events mean for it on the card's date, in words."""
    s, lines = state.standing, []
    if s.settled_on:
        lines.append(f"settled early on {s.settled_on.isoformat()}")
    if s.written_off_on:
        lines.append(f"written off on {s.written_off_on.isoformat()} ({fmt_grouped(s.written_off)}); still collected")
    if s.transferred_on:
        lines.append(f"transferred to {s.transferred_to} on {s.transferred_on.isoformat()}: no longer collected by "
                     "this lender (XFER-1)")
    elif s.transfer_ahead:
        on, party = s.transfer_ahead
        lines.append(f"to be transferred to {party} on {on.isoformat()}: the borrower is told before (XFER-1)")
    if s.paused_today:
        p = s.paused_today
        lines.append(f"delinquency paused {p.start.isoformat()}..{p.end.isoformat()}"
                     + (f" ({p.reason})" if p.reason else "") + ": days past due do not age")
    return lines


def _waiver_status(w, day) -> str:
    """As of the card's date: in effect (from when), lapsed, or waiting for the rest to be paid."""
    if w.outcome == "applied" and w.effective_on <= day:
        return f"in effect from {w.effective_on.isoformat()}"
    if w.outcome == "lapsed" and w.effective_on <= day:
        return f"lapsed ({w.if_paid_by.isoformat()} passed)"
    return f"waiting: the rest paid by {w.if_paid_by.isoformat()}" if w.if_paid_by else "granted"
