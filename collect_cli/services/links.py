"""`collect links check`: what the payment page asks of a link it is shown: genuine, still
valid, which message and loan, and what is owed on it today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine

from collect_cli.config import Settings
from collect_cli.domain import links
from collect_cli.errors import Refused, UsageError
from collect_cli.services.contacts import account_at
from collect_cli.services.messages import link_secret
from collect_cli.store import queries as q


@dataclass(frozen=True)
class LinkCheck:
    reference: str
    expires_on: date
    message_id: int
    loan_id: str
    step: str
    channel: str
    overdue: int  # on the loan today, minor units (the engine's figure)
    next_due_on: date | None
    next_due_amount: int


def check_link(*, engine: Engine, settings: Settings, link: str, now: datetime, today: date) -> LinkCheck:
    """Refused when the link is not one this lender signed, has expired, or names no message."""
    secret = link_secret(settings)
    if secret is None:
        raise UsageError("messaging.payment_url is not set: this lender sends no payment links")
    found = links.genuine(secret, links.word_of(link))
    if found is None:
        raise Refused("not a payment link this lender signed (or it was changed)")
    ref, expires_on = found
    if today > expires_on:
        raise Refused(f"the link expired on {expires_on.isoformat()}; the borrower's next message carries a new one")
    with engine.connect() as conn:
        msg = q.message_of_link(conn, ref)
        if msg is None:
            raise Refused(f"no message on file has the link {ref}")
        state = account_at(conn, msg.loan_id, now, settings).state
    return LinkCheck(ref, expires_on, msg.id, msg.loan_id, msg.step, msg.channel, state.overdue, state.next_due_on,
                     state.next_due_amount)
