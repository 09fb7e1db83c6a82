"""What the records say about a batch of accounts at a moment: the facts the contact policy
(domain.policy) and the content rules (domain.content) are judged on.

Gathered for a whole batch in one query per kind of record, never one per loan; the nightly
run, `send`, the queue, `log`, the bureau file and placements all build their situations
here, so every path judges a contact from the same facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from collect_cli.config import Settings
from collect_cli.domain.content import (
    COLLECTION_PURPOSES,
    MessageFacts,
    Sent,
    episode_facts,
)
from collect_cli.domain.legal import LegalState, stops_automated
from collect_cli.domain.legal import fold as legal_fold
from collect_cli.domain.limitation import limitation_ends, time_barred
from collect_cli.domain.policy import CALLS, CAPPED, CONNECTED, HoldFact, PromiseFact, Situation
from collect_cli.domain.promises import holds_reminders
from collect_cli.services.portfolio import Account
from collect_cli.store import queries as q

RECIPIENT = {"sms": "phone", "email": "email", "push": "push_id", "letter": "address"}


def recipient_for(channel: str, account: Account) -> str | None:
    """The number or address a message goes to, from the ledger in force (WHO-1)."""
    return getattr(account, RECIPIENT[channel]) or None


def hold_facts(rows) -> tuple[HoldFact, ...]:
    """Hold instances as the store gives them (active_holds), as the policy reads them."""
    return tuple(HoldFact(h.id, h.reason, h.channel, h.point) for h in rows)


def transferred(account: Account) -> tuple[date, str] | None:
    """XFER-1: the loan's transfer to another creditor, when it is done by the state's date."""
    s = account.state.standing
    return (s.transferred_on, s.transferred_to or "") if s.transferred_on is not None else None


def zone_of(account: Account, settings: Settings) -> ZoneInfo:
    return ZoneInfo(account.timezone or settings.timezone)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    """The day a moment (naive UTC) falls on in `zone`."""
    return moment.replace(tzinfo=UTC).astimezone(zone).date()


def day_start(day: date, zone: ZoneInfo) -> datetime:
    """The first moment of `day` in `zone`, as naive UTC."""
    return datetime.combine(day, time(0), zone).astimezone(UTC).replace(tzinfo=None)


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The first moment after `day` in `zone` (naive UTC): a view of a day knows what had been
    recorded before it (REC-4)."""
    return day_start(day + timedelta(days=1), zone)


class Planned:
    """Messages of the capped channels planned or sent in this run that the store does not show
    yet, by channel, borrower and number (or push id)."""

    def __init__(self):
        self._all: list[datetime] = []
        self._by: dict[tuple[str, str], list[int]] = defaultdict(list)

    def add(self, channel: str, borrower_id: str, point: str | None, at: datetime) -> None:
        self._all.append(at)
        for key in (f"b:{borrower_id}", f"p:{point}" if point else None):
            if key:
                self._by[channel, key].append(len(self._all) - 1)

    def of(self, channel: str, borrower_id: str, point: str | None) -> list[datetime]:
        """Each message of `channel` to the borrower or to the point, once."""
        found = set(self._by.get((channel, f"b:{borrower_id}"), ()))
        if point:
            found.update(self._by.get((channel, f"p:{point}"), ()))
        return [self._all[i] for i in found]


class BatchRecords:
    """The records of a batch of accounts, read once, and the situations built from them."""

    def __init__(self, conn: Connection, accounts: Sequence[Account], *, on: date, now: datetime,
                 settings: Settings, payments: dict | None = None, contacts: dict | None = None,
                 pending: Planned | None = None):
        self.settings, self.on, self.now = settings, on, now
        self.accounts = {a.loan_id: a for a in accounts}
        ids = list(self.accounts)
        borrower_ids = sorted({a.borrower_id for a in accounts})
        points = sorted({p for a in accounts for p in a.points})
        self.holds = {loan: hold_facts(rows)
                      for loan, rows in q.active_holds(conn, ids, borrower_ids, on, points).items()}
        self.promises = {p.loan_id: PromiseFact(p.amount, p.due_on, p.grace_days) for p in q.open_promises(conn, ids)
                         if holds_reminders(p.due_on, p.grace_days, on)}
        self.all_promises = q.promises_of(conn, ids)
        self.sent = q.sent_messages(conn, ids)
        self.shared_points = q.shared_points(conn, points)
        self.confirmed = q.confirmed_owners(conn, list(self.shared_points))
        self.stages = q.current_stages(conn, ids)
        # while an agency works an account, this lender's automated messages stop (configurable)
        self.placed = q.placed_loans(conn, ids) if settings.placements.pause_messages else {}
        self.legal = legal_states(conn, ids, now)
        self.reported = q.bureau_reported(conn, ids)
        self.payments = payments if payments is not None else q.payments_of(conn, ids, on)
        years = settings.limitation.years
        self.contacts = contacts if contacts is not None else q.contacts_of(
            conn, ids, datetime.combine(on - timedelta(days=366 * years + 1), time(0)))
        since, until = day_start(on - timedelta(days=8), ZoneInfo("UTC")), day_start(on + timedelta(days=9),
                                                                                       ZoneInfo("UTC"))
        # WHEN-5: (channel, borrower id or point) -> the channel's messages planned around `on`
        self._capped: dict[tuple[str, str], list] = defaultdict(list)
        for channel in CAPPED:
            reached = [recipient_for(channel, a) for a in accounts]
            for row in q.planned(conn, channel, borrower_ids, [p for p in reached if p], since, until):
                self._capped[channel, f"b:{row.borrower_id}"].append(row)
                if row.recipient:
                    self._capped[channel, f"p:{row.recipient}"].append(row)
        self.pending = pending if pending is not None else Planned()

    # --- automated messages ---------------------------------------------------------------

    def zone(self, acc: Account) -> ZoneInfo:
        return zone_of(acc, self.settings)

    def sent_of(self, acc: Account) -> list[Sent]:
        zone = self.zone(acc)
        return [Sent(m.episode, m.channel, m.purpose, local_day(m.sent_at, zone)) for m in self.sent[acc.loan_id]
                if m.sent_at <= self.now]

    def message_facts(self, acc: Account, episode: str | None) -> MessageFacts:
        stage = self.stages.get(acc.loan_id)
        reported = self.reported.get(acc.loan_id)
        return episode_facts(episode, self.sent_of(acc),
                             placed_with=stage.agency if stage is not None and stage.stage == "agency" else None,
                             bureau_reported_on=local_day(reported, self.zone(acc)) if reported else None,
                             time_barred=self.time_barred(acc),
                             legal_filed_on=self.legal[acc.loan_id].filed_on if acc.loan_id in self.legal else None)

    def time_barred(self, acc: Account) -> bool:
        """LIM-1, from the ledger and the records up to `on`."""
        unpaid = [p.installment.due_on for p in acc.state.positions
                  if p.unpaid > 0 and p.installment.due_on < acc.state.as_of]
        zone = self.zone(acc)
        demands = [m.on for m in self.sent_of(acc) if (m.purpose or "overdue_notice") in COLLECTION_PURPOSES]
        demands += [local_day(c.at, zone) for c in self.contacts.get(acc.loan_id, [])
                    if c.party is None and c.outcome in CONNECTED]
        renewals = {"payment": [d for d, _ in self.payments.get(acc.loan_id, [])],
                    "promise": [p.made_on for p in self.all_promises.get(acc.loan_id, [])],
                    "demand": demands}
        renewals = {k: [d for d in v if d <= self.on] for k, v in renewals.items()}
        rules = self.settings.limitation
        return time_barred(self.on, limitation_ends(min(unpaid, default=None), renewals, years=rules.years,
                                                    renewed_by=rules.renewed_by))

    def load(self, acc: Account, channel: str, day: date, exclude: int | None = None) -> tuple[int, int]:
        """WHEN-5: automated messages of `channel` (sms, push) to the borrower or to their number
        or push id (under any borrower id) on `day`, and in the 7 days up to it, by the
        borrower's day in their zone now (a zone changed meanwhile opens no second slot)."""
        zone = self.zone(acc)
        point = recipient_for(channel, acc)
        times = {r.id: r.send_after for r in self._capped.get((channel, f"b:{acc.borrower_id}"), ())}
        if point:
            times.update({r.id: r.send_after for r in self._capped.get((channel, f"p:{point}"), ())})
        times.pop(exclude, None)
        days = [local_day(at, zone) for at in (*times.values(), *self.pending.of(channel, acc.borrower_id, point))]
        return (sum(d == day for d in days), sum(day - timedelta(days=6) <= d <= day for d in days))

    def note(self, acc: Account, channel: str, at: datetime) -> None:
        """A message of a capped channel planned (or sent) in this run, counted before it
        reaches the store."""
        if channel in CAPPED:
            self.pending.add(channel, acc.borrower_id, recipient_for(channel, acc), at)

    def shared(self, acc: Account, point: str | None) -> bool:
        """WHO-4: the number or e-mail is on file for another borrower id too, and has not been
        confirmed as this borrower's."""
        return bool(point) and point in self.shared_points and self.confirmed.get(point) != acc.borrower_id

    def automated(self, acc: Account, channel: str, purpose: str, day: date, *,
                  exclude: int | None = None) -> Situation:
        """The situation of an automated message to `acc` on the borrower's `day`."""
        recipient = recipient_for(channel, acc)
        today, week = self.load(acc, channel, day, exclude) if channel in CAPPED else (0, 0)
        return Situation(holds=self.holds.get(acc.loan_id, ()), purpose=purpose, transferred=transferred(acc),
                         placed_with=self.placed.get(acc.loan_id),
                         legal_stop=legal_stop(self.legal.get(acc.loan_id), day,
                                               self.settings.legal.stop_automated_from),
                         promise=self.promises.get(acc.loan_id), recipient=recipient,
                         shared_recipient=self.shared(acc, recipient), sent_today=today, sent_7_days=week,
                         rules=self.settings.contact)


def legal_states(conn: Connection, loan_ids: Sequence[str], known_by: datetime) -> dict[str, LegalState]:
    """The open legal case of each loan, as recorded by `known_by` (one query per batch)."""
    out = {}
    for c, events in q.legal_with_events(conn, loan_ids=loan_ids, known_by=known_by):
        state = legal_fold(c.opened_on, events)
        if state.open:
            out[c.loan_id] = state
    return out


def legal_stop(state: LegalState | None, day: date, from_stage: str | None) -> str | None:
    """Why a legal case's stage on `day` stops this contact (None: it does not)."""
    if from_stage and stops_automated(state, day, from_stage):
        return f"the legal case is at {state.stage} (since {state.stage_on.isoformat()}; from {from_stage} on)"
    return None


# --- calls, visits and third parties ------------------------------------------------------

CALL_HISTORY_DAYS = 8  # what the call rules look back on (WHEN-4's seven days and a margin)


def call_zones(account: Account, settings: Settings) -> tuple[ZoneInfo, ...]:
    """WHEN-6: the zones a call's window must hold in: the borrower's, or, when it is unknown,
    every zone the lender serves (as the nightly run and `send` plan messages)."""
    if account.timezone:
        return (ZoneInfo(account.timezone),)
    return tuple(ZoneInfo(z) for z in (settings.contact.served_timezones or (settings.timezone,)))


def shared_unconfirmed(conn: Connection, accounts: Sequence[Account]) -> set[str]:
    """WHO-4: the loans whose borrower's phone number is on file for another borrower id too and
    has not been confirmed as this borrower's (one query per batch)."""
    phones = sorted({a.phone for a in accounts if a.phone})
    shared = q.shared_points(conn, phones)
    confirmed = q.confirmed_owners(conn, list(shared))
    return {a.loan_id for a in accounts if a.phone in shared and confirmed.get(a.phone) != a.borrower_id}


def call_situation(acc: Account, *, holds: tuple[HoldFact, ...], contacts: Sequence, now: datetime,
                   settings: Settings, number: str | None, connected: bool = True,
                   shared: bool = False, legal: LegalState | None = None) -> Situation:
    """A call (or visit) to `number` about `acc` at `now`: the borrower's day so far, in their zone.
    `contacts` are the borrower's and that number's recent contacts (contacts_around); `shared`:
    the number is the borrower's own and another borrower id's too, not confirmed (WHO-4)."""
    zone = zone_of(acc, settings)
    today = local_day(now, zone)
    moment = now.replace(tzinfo=UTC)
    zones = call_zones(acc, settings)
    if acc.timezone or not settings.contact.served_timezones:
        local, served = moment.astimezone(zone).time(), ()
    else:  # WHEN-6: the window must hold in every served zone
        local, served = None, tuple((z.key, moment.astimezone(z).time()) for z in zones)
    # the daily caps count the whole day: a call logged late (--at) sees the calls after it too
    outbound = [c for c in contacts if c.channel in CALLS and c.direction == "out" and local_day(c.at, zone) <= today]
    theirs = [c for c in outbound if c.borrower_id == acc.borrower_id and c.party is None]
    # a call recorded before numbers were kept went to the borrower's phone
    dialled = [c for c in outbound if (c.number or (acc.phone if c.party is None else None)) == number]
    about_it = [c for c in theirs if c.loan_id == acc.loan_id]
    # WHEN-4: any conversation about the debt, whoever started it (an inbound call, a visit)
    talks = [local_day(c.at, zone) for c in contacts
             if c.at <= now and c.borrower_id == acc.borrower_id and c.party is None and c.loan_id == acc.loan_id
             and c.channel in (*CALLS, "visit") and c.outcome in CONNECTED]
    return Situation(
        holds=holds, transferred=transferred(acc), local_time=local, served_times=served, connected=connected, shared_recipient=shared,
        connected_today=sum(c.outcome in CONNECTED and local_day(c.at, zone) == today for c in theirs),
        attempts_today=sum(local_day(c.at, zone) == today for c in dialled),
        calls_7_days=sum((today - local_day(c.at, zone)).days < 7 for c in about_it),
        conversation_days_ago=(today - max(talks)).days if talks else None,
        legal_stop=legal_stop(legal, today, settings.legal.stop_calls_from),
        rules=settings.contact,
    )
