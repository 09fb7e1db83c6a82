"""SQLAlchemy 2.0 typed models: the ledger as imported. Money in integer minor units.

Natural keys of the core system (loan_id, payment_id, borrower_id) are the primary keys:
they are what operators type and what every export carries.

Every record carries `recorded_at`, the real time it was written (REC-4), stamped by the
database's clock: no code path sets it, so no pretend clock (--now) and no forgotten
argument can change it. `at` is the moment on the clock the command acted on, which is the
real one except on demo stores.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = BigInteger  # integer minor units (fen / cents)
Key = String(64)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class db_clock(FunctionElement):
    """The database's clock as naive UTC, to the millisecond or better."""

    type = DateTime()
    inherit_cache = True


@compiles(db_clock, "sqlite")
def _sqlite_clock(element, compiler, **kw):
    return "strftime('%Y-%m-%d %H:%M:%f', 'now')"


@compiles(db_clock, "postgresql")
def _pg_clock(element, compiler, **kw):
    return "(statement_timestamp() AT TIME ZONE 'UTC')"


def recorded_at() -> Mapped[datetime]:
    """When the row was written, by the real clock (REC-4)."""
    return mapped_column(DateTime, server_default=db_clock(), nullable=False)


class StoreFact(Base):
    """What the store is, set once when it is made: `demo` marks a demo store, where --now may
    pretend the clock."""

    __tablename__ = "store_facts"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = recorded_at()


class ImportBatch(Base):
    """One imported file: its content hash makes a re-import of the same file a no-op."""

    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejects_path: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = recorded_at()


class Borrower(Base):
    __tablename__ = "borrowers"
    borrower_id: Mapped[str] = mapped_column(Key, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), index=True)  # E.164; indexed: who else has it (WHO-4)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    push_id: Mapped[str | None] = mapped_column(String(256), index=True)  # the app's push address
    address: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8), default="zh_CN")
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the configured default
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class Loan(Base):
    __tablename__ = "loans"
    loan_id: Mapped[str] = mapped_column(Key, primary_key=True)
    borrower_id: Mapped[str] = mapped_column(ForeignKey("borrowers.borrower_id"), index=True)
    principal: Mapped[int] = mapped_column(Money)
    disbursed_on: Mapped[date] = mapped_column(Date)
    annual_rate_ppm: Mapped[int | None] = mapped_column(Integer)  # 0.1825 -> 182500
    product: Mapped[str] = mapped_column(String(64), default="default")
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class Installment(Base):
    __tablename__ = "installments"
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_on: Mapped[date] = mapped_column(Date)
    principal_due: Mapped[int] = mapped_column(Money)
    interest_due: Mapped[int] = mapped_column(Money)
    fee_due: Mapped[int] = mapped_column(Money, default=0)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class InstallmentHistory(Base):
    """Previous values of a schedule row that a later import changed (e.g. a restructuring)."""

    __tablename__ = "installment_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(Key, index=True)
    seq: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    principal_due: Mapped[int] = mapped_column(Money)
    interest_due: Mapped[int] = mapped_column(Money)
    fee_due: Mapped[int] = mapped_column(Money)
    batch_id: Mapped[int] = mapped_column(Integer)  # the batch that had written these values
    replaced_by_batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))


class Payment(Base):
    """A payment is a fact: never overwritten; a different value for its id is a conflict.

    A reversal (冲正) is a row of its own that `reverses` one payment, dated the day of the
    reversal, with the payment's amount negated: from that day the two cancel out, and every
    sum of payments up to a date (the engine's, a report's) replays it without knowing of it.
    """

    __tablename__ = "payments"
    payment_id: Mapped[str] = mapped_column(Key, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"))
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Money)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))
    reverses: Mapped[str | None] = mapped_column(ForeignKey("payments.payment_id"), unique=True)
    link_ref: Mapped[str | None] = mapped_column(String(16))  # the payment link it came through
    reason: Mapped[str | None] = mapped_column(Text)  # a reversal's, as the core system gave it

    __table_args__ = (Index("ix_payments_loan_id_paid_on", "loan_id", "paid_on"),)


class LoanEvent(Base):
    """What the core system did to a loan from a date: written off (核销), transferred to
    another creditor (债权转让), settled early (提前结清), delinquency paused from `event_on`
    to `until` (both days paused), or a pause resumed early. Facts: append-only."""

    __tablename__ = "loan_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    event: Mapped[str] = mapped_column(String(16))  # write_off | transfer | settle | pause | resume
    event_on: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)  # pause: its last paused day
    amount: Mapped[int | None] = mapped_column(Money)  # write_off: the amount written off
    party: Mapped[str | None] = mapped_column(String(200))  # transfer: the new creditor
    reason: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))
    recorded_at: Mapped[datetime] = recorded_at()

    __table_args__ = (UniqueConstraint("loan_id", "event", "event_on"),)


class Hold(Base):
    """A hold placed or released on a loan, append-only. Each placed hold is an instance (its
    id); a release names the instance it ends (hold_id), so of two disputes one can end."""

    __tablename__ = "holds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    borrower_id: Mapped[str] = mapped_column(Key, index=True)
    reason: Mapped[str] = mapped_column(String(16))  # dispute, opt-out, bankruptcy, …
    channel: Mapped[str | None] = mapped_column(String(16))  # opt-out: which channel
    point: Mapped[str | None] = mapped_column(String(320), index=True)  # opt-out: the number or e-mail (WHO-4)
    action: Mapped[str] = mapped_column(String(8))  # place | release
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"))  # release: the instance it ends
    until: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class OutboxMessage(Base):
    """One message of the strategy: at most one per (loan, step, episode), enforced here."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"))
    borrower_id: Mapped[str] = mapped_column(Key)
    step: Mapped[str] = mapped_column(String(64))
    episode: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str | None] = mapped_column(String(32))  # from the step that sent it (what it must say)
    status: Mapped[str] = mapped_column(String(16))  # queued sent failed suppressed cancelled skipped
    reason: Mapped[str | None] = mapped_column(Text)  # "RULE-ID: why" when not queued/sent
    recipient: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(200))
    template_hash: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(Text)
    as_of: Mapped[date] = mapped_column(Date)  # the date the stated figures are for (AMT-1)
    amount_overdue: Mapped[int] = mapped_column(Money)  # the figures stated, minor units
    amount_due: Mapped[int] = mapped_column(Money)  # the next installment's amount (pre-due)
    figures: Mapped[str | None] = mapped_column(Text)  # JSON: every figure the body states (AMT-3)
    send_after: Mapped[datetime | None] = mapped_column(DateTime)  # UTC, inside the contact window
    send_on: Mapped[date | None] = mapped_column(Date)  # the borrower's local day of send_after
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_ref: Mapped[str | None] = mapped_column(Text)
    payment_ref: Mapped[str | None] = mapped_column(String(16), index=True)  # its payment link's (domain.links)
    parts: Mapped[int | None] = mapped_column(Integer)  # what the provider bills: an SMS's parts, 1 for others
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    recorded_at: Mapped[datetime] = recorded_at()

    __table_args__ = (
        UniqueConstraint("loan_id", "step", "episode"),
        Index("ix_outbox_status_send_after", "status", "send_after"),
        Index("ix_outbox_borrower_id_channel_send_on", "borrower_id", "channel", "send_on"),
        Index("ix_outbox_recipient_channel_send_after", "recipient", "channel", "send_after"),
    )


class OutboxVersion(Base):
    """What a message said each time the nightly run wrote it, append-only (REC-1): the outbox
    row is its latest version; a message suppressed and queued again later keeps here the
    text, figures and template it had before."""

    __tablename__ = "outbox_versions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC, the run's clock
    status: Mapped[str] = mapped_column(String(16))  # as written: queued, suppressed, skipped
    reason: Mapped[str | None] = mapped_column(Text)
    recipient: Mapped[str | None] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(200))
    template_hash: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str | None] = mapped_column(Text)
    as_of: Mapped[date] = mapped_column(Date)
    amount_overdue: Mapped[int] = mapped_column(Money)
    amount_due: Mapped[int] = mapped_column(Money)
    figures: Mapped[str | None] = mapped_column(Text)
    send_after: Mapped[datetime | None] = mapped_column(DateTime)
    recorded_at: Mapped[datetime] = recorded_at()

    __table_args__ = (Index("ix_outbox_versions_as_of", "as_of"),)


VERSIONED = ("status", "reason", "recipient", "template", "template_hash", "body", "as_of", "amount_overdue",
             "amount_due", "figures", "send_after")  # the columns of a message each version keeps


class OutboxEvent(Base):
    """Every change of a message and every send attempt, append-only (REC-1), with the
    recipient it went to and the provider's reference when it was sent."""

    __tablename__ = "outbox_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))  # the job or the operator
    recipient: Mapped[str | None] = mapped_column(Text)  # a send attempt: to whom
    provider_ref: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = recorded_at()


class Contact(Base):
    """A call, visit or reply, logged by a collector: append-only (REC-1)."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    borrower_id: Mapped[str] = mapped_column(Key, index=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC: when it happened (what the call rules count)
    channel: Mapped[str] = mapped_column(String(16))  # call | visit | sms-reply | email-reply
    direction: Mapped[str] = mapped_column(String(8), server_default="out")  # out | in (the borrower's own)
    outcome: Mapped[str] = mapped_column(String(16))
    party: Mapped[str | None] = mapped_column(String(100))  # None: the borrower; else who (WHO-2)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("contact_persons.id"))  # the third party
    number: Mapped[str | None] = mapped_column(String(20))  # the number dialled (WHEN-3 counts per number)
    note: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    override: Mapped[str | None] = mapped_column(Text)  # "WHEN-2: why" when a supervisor overrode a rule
    recording: Mapped[str | None] = mapped_column(String(200))  # REC-3: the call's recording (its reference)
    agency: Mapped[str | None] = mapped_column(String(100))  # an agency's contact (placements activity): which
    breach: Mapped[str | None] = mapped_column(Text)  # an agency's imported contact the rules refused: "RULE: why"
    logged_at: Mapped[datetime] = mapped_column(DateTime)  # UTC: when it was logged (later than `at`: a late entry)
    recorded_at: Mapped[datetime] = recorded_at()


class ContactPerson(Base):
    """Someone other than the borrower whom collectors may call (WHO-2, WHO-3, WHO-5): a record,
    so that a refusal binds to the person and their number however the name is typed."""

    __tablename__ = "contact_persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    borrower_id: Mapped[str] = mapped_column(Key, index=True)
    name: Mapped[str] = mapped_column(String(100))  # as typed
    name_key: Mapped[str] = mapped_column(String(100))  # normalised: how refusals find the person
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164
    source: Mapped[str] = mapped_column(String(200))  # where the number came from (WHO-3)
    relation: Mapped[str] = mapped_column(String(16))  # guarantor, spouse, parent, … (domain.people)
    note: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class NumberConfirmation(Base):
    """A phone number or e-mail that several borrowers share, confirmed as one borrower's (WHO-4)."""

    __tablename__ = "number_confirmations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    point: Mapped[str] = mapped_column(String(320), index=True)
    borrower_id: Mapped[str] = mapped_column(Key)
    note: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class Promise(Base):
    """A promise to pay: holds automated reminders until due_on + grace (HOLD-4), then the
    nightly run finds it kept, partly kept or broken from the ledger."""

    __tablename__ = "promises"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    borrower_id: Mapped[str] = mapped_column(Key)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    made_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Money)
    due_on: Mapped[date] = mapped_column(Date)
    grace_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # open | kept | partly_kept | broken
    paid: Mapped[int] = mapped_column(Money, default=0)  # paid from made_on to due_on + grace
    evaluated_on: Mapped[date | None] = mapped_column(Date)
    agent: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = recorded_at()


class AuditEntry(Base):
    """Who changed what and when: holds, releases, contacts, promises (append-only)."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    agent: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    loan_id: Mapped[str | None] = mapped_column(Key, index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = recorded_at()


class BureauRecord(Base):
    """What a bureau file said of an account (REC-2): a report, or a correction of an earlier
    report whose figures the ledger later proved wrong (a reversed payment, a payment
    imported late). Append-only: the latest record for (loan, as_of) is what the bureau holds."""

    __tablename__ = "bureau_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    as_of: Mapped[date] = mapped_column(Date)  # the day the figures are of
    record: Mapped[str] = mapped_column(String(16))  # report | correction
    dpd: Mapped[int] = mapped_column(Integer)
    classification: Mapped[str | None] = mapped_column(String(8))
    overdue: Mapped[int] = mapped_column(Money)
    outstanding: Mapped[int] = mapped_column(Money)
    file: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class Assignment(Base):
    """Who works an account on a day; the unique key makes two takers never share one."""

    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"))
    agent: Mapped[str] = mapped_column(String(64))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()

    __table_args__ = (UniqueConstraint("day", "loan_id"), Index("ix_assignments_day_agent", "day", "agent"))


class Escalation(Base):
    """An account moved to the legal or agency stage: append-only, the latest per loan counts."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # legal | agency
    agency: Mapped[str | None] = mapped_column(String(100))
    rule: Mapped[str | None] = mapped_column(Text)  # the rule that proposed it
    note: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class Waiver(Base):
    """A waiver granted (减免), append-only: `waiver_outcomes` says when it took effect or
    lapsed. A conditional one (if_paid_by) takes effect when `rest` is paid by that day."""

    __tablename__ = "waivers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    component: Mapped[str] = mapped_column(String(16))  # penalty | interest | principal
    amount: Mapped[int] = mapped_column(Money)
    granted_on: Mapped[date] = mapped_column(Date)  # the borrower's day it was granted
    if_paid_by: Mapped[date | None] = mapped_column(Date)
    rest: Mapped[int] = mapped_column(Money)  # to pay from granted_on for a conditional waiver
    agent: Mapped[str] = mapped_column(String(64))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class WaiverOutcome(Base):
    """A waiver took effect on a day (its schedule change is `batch_id`; none for penalty) or lapsed."""

    __tablename__ = "waiver_outcomes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    waiver_id: Mapped[int] = mapped_column(ForeignKey("waivers.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))  # applied | lapsed
    effective_on: Mapped[date] = mapped_column(Date)  # applied: from this day; lapsed: the day after if_paid_by
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class ScheduleChange(Base):
    """A schedule change dated by when it takes effect, not by when it was written: an
    installments file imported as the complete schedule of its loans (an early settlement, a
    core-system reschedule), or a waiver. A replay of an earlier day undoes it from
    installment_history, as it undoes a plan made later."""

    __tablename__ = "schedule_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))  # the batch that wrote it
    effective_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24))  # complete_schedule | waiver
    recorded_at: Mapped[datetime] = recorded_at()


class Plan(Base):
    """A restructuring plan as applied: the schedule it wrote is import batch `batch_id`
    (kind "plan"), and the rows it replaced are in installment_history."""

    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    plan_on: Mapped[date] = mapped_column(Date)  # the as-of date it was computed for
    kind: Mapped[str] = mapped_column(String(16))  # installments | extend
    installments: Mapped[int | None] = mapped_column(Integer)
    extend_days: Mapped[int | None] = mapped_column(Integer)
    first_due: Mapped[date] = mapped_column(Date)  # the first due date under the plan
    amount: Mapped[int] = mapped_column(Money)  # the unpaid money it re-scheduled
    classification: Mapped[str | None] = mapped_column(String(8))  # the loan's, on the plan date
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id"))
    note: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class RunPart(Base):
    """Where the nightly run of a day is cut into `parts` loan-id ranges (`run-reminders
    --part i/n`): the first part to start fixes the cuts, and every other part of that day
    reads them, so that loans imported between the hosts' starts fall in exactly one range
    (cuts recomputed later could leave a gap or an overlap between ranges)."""

    __tablename__ = "run_parts"
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    parts: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1..parts
    first_loan: Mapped[str | None] = mapped_column(Key)  # lo <= loan_id; None: from the first
    end_loan: Mapped[str | None] = mapped_column(Key)  # loan_id < hi; None: to the last
    recorded_at: Mapped[datetime] = recorded_at()


class Case(Base):
    """A dispute or complaint the rules give a deadline (CASE-1..3): what was received, when and
    from where, and the hold it placed. Append-only: what happens to it is in case_events."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    borrower_id: Mapped[str] = mapped_column(Key, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # dispute | bureau-dispute | complaint (domain.cases)
    received_on: Mapped[date] = mapped_column(Date)  # the lender's day it was received: the deadline counts from it
    source: Mapped[str] = mapped_column(String(16))  # manual | log | reply | hold | bureau-file
    reference: Mapped[str | None] = mapped_column(String(100))  # the bureau's reference, the contact id, …
    summary: Mapped[str | None] = mapped_column(Text)  # what the borrower says, in the operator's words
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("holds.id"), index=True)  # released on close
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()

    # one case per reference of a kind (the bureau's): two imports at once cannot open it twice
    __table_args__ = (UniqueConstraint("kind", "reference"),)


class CaseEvent(Base):
    """One step of a case, append-only: opened (owner, deadline), assigned, investigating,
    extended (the new deadline, its reason and approval), answered (the text and its letter),
    closed. The case as it stands is its events folded in order (domain.cases.fold)."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # open | assign | investigate | extend | answer | close
    day: Mapped[date] = mapped_column(Date)  # the lender's day of the step
    owner: Mapped[str | None] = mapped_column(String(64))
    due_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    answer: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), index=True)  # answer: its letter
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class AgencyVersion(Base):
    """An outside agency of the register (AGY-2), one row per version: adding it and every edit
    write the whole record anew; the latest row of a name is the agency as it stands."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(16))  # approved | suspended | removed (domain.agencies)
    contract_start: Mapped[date] = mapped_column(Date)
    contract_end: Mapped[date] = mapped_column(Date)
    commission: Mapped[str] = mapped_column(Text)  # "M3=15%,M4=20%" or "61-90=15%,91+=20%", normalised
    note: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class AgencyEvaluation(Base):
    """An evaluation of an agency (AGY-2): compliance, results and information security, each
    pass or fail, on a day; append-only."""

    __tablename__ = "agency_evaluations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency: Mapped[str] = mapped_column(String(100), index=True)
    evaluated_on: Mapped[date] = mapped_column(Date)
    compliance: Mapped[str] = mapped_column(String(8))
    results: Mapped[str] = mapped_column(String(8))
    security: Mapped[str] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class Placement(Base):
    """An account proposed to an outside agency (AGY-1): the notice to the borrower goes
    first; what happens next (notice, place, recall, cancel) is in placement_events."""

    __tablename__ = "placements"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    borrower_id: Mapped[str] = mapped_column(Key)
    agency: Mapped[str] = mapped_column(String(100), index=True)
    proposed_on: Mapped[date] = mapped_column(Date)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class PlacementEvent(Base):
    """One step of a placement, append-only: the notice queued (its message), placed (the
    bucket, DPD and commission rate at placement, the recall date, the file and the fields
    shared: AGY-3), recalled or cancelled (why)."""

    __tablename__ = "placement_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # notice | place | recall | cancel
    day: Mapped[date] = mapped_column(Date)
    recall_on: Mapped[date | None] = mapped_column(Date)
    bucket: Mapped[str | None] = mapped_column(String(16))
    dpd: Mapped[int | None] = mapped_column(Integer)
    rate_bp: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[int | None] = mapped_column(Money)  # place: the overdue amount placed
    file: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class LegalCase(Base):
    """A lawsuit over a debt (litigation), opened on a day; its stages are legal_events."""

    __tablename__ = "legal_cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    loan_id: Mapped[str] = mapped_column(ForeignKey("loans.loan_id"), index=True)
    borrower_id: Mapped[str] = mapped_column(Key)
    opened_on: Mapped[date] = mapped_column(Date)
    lawyer: Mapped[str | None] = mapped_column(String(200))  # the law firm acting
    note: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()


class LegalEvent(Base):
    """A stage a legal case reached (domain.legal.STAGES), append-only: its day, the court and
    case number, what it cost and what the court awarded; the lawyer's letter's message."""

    __tablename__ = "legal_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    legal_case_id: Mapped[int] = mapped_column(ForeignKey("legal_cases.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    on: Mapped[date] = mapped_column(Date)
    court: Mapped[str | None] = mapped_column(String(200))
    case_number: Mapped[str | None] = mapped_column(String(100))
    cost: Mapped[int] = mapped_column(Money, default=0)
    awarded: Mapped[int] = mapped_column(Money, default=0)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    note: Mapped[str | None] = mapped_column(Text)
    agent: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    recorded_at: Mapped[datetime] = recorded_at()
