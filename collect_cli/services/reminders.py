"""`collect run-reminders`: the nightly job that turns the strategy into outbox messages.

Per loan: the engine's state as of the run's date, the steps of its current bucket that are
due in this episode (domain.strategy), then the gates of reminders.md in order, each refusal
recorded with its rule id. Loans are handled in batches, each batch one transaction; the
unique (loan, step, episode) key makes a re-run after a crash, or a concurrent run, queue
nothing twice.

A big book's run is split by loan-id range: `part` (i, n) takes the i-th of n ranges (one
host of n), whose cuts the first part of the day to start records for the others; `workers`
forks processes on this host, each taking a range of the part. Runs side by side lock the
borrowers and numbers of a batch before counting what they were sent (q.lock_keys), so the
caps hold across them.
"""

from __future__ import annotations

from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.compliance import Refusal, send_after
from collect_cli.domain.money import fmt
from collect_cli.domain.policy import decide as policy_decide
from collect_cli.domain.promises import evaluate, holds_reminders
from collect_cli.domain.strategy import Decision, Step, decide, qualifies
from collect_cli.errors import UsageError
from collect_cli.messaging.lint import PER_MESSAGE, Finding
from collect_cli.messaging.templates import (
    LOCALES,
    TemplateProblem,
    TemplateSet,
    TemplateSource,
)
from collect_cli.services.cases import Deadlines, deadlines
from collect_cli.services.contact_facts import BatchRecords, Planned, local_day, recipient_for
from collect_cli.services.forks import in_forks
from collect_cli.services.messages import (
    compose,
    link_secret,
    lint_findings,
    payment_link,
    penalty_for,
    template_for,
    too_long,
)
from collect_cli.services.placements import recall_due
from collect_cli.services.portfolio import Account, episode_of, iter_accounts
from collect_cli.services.reports import history_since, segment_of
from collect_cli.services.waivers import settle as settle_waivers
from collect_cli.services.watchlist import watch_scores
from collect_cli.store import queries as q
from collect_cli.store.database import export_snapshot, share_snapshot
from collect_cli.store.locks import run_lock

BATCH = 500
ACTOR = "run-reminders"
EXIT_LINT = 5


@dataclass
class StepCounts:
    queued: int = 0
    suppressed: Counter = field(default_factory=Counter)  # by rule id
    skipped: int = 0


@dataclass
class RunSummary:
    as_of: date
    dry_run: bool
    steps: dict[str, StepCounts]
    lint: dict[str, list[Finding]]  # template path -> findings, for templates the strategy uses
    accounts: int = 0  # open loans looked at
    promises: Counter = field(default_factory=Counter)  # promises settled tonight, by verdict
    loans: q.Part = q.WHOLE  # the loan-id range the run covered
    cases: Deadlines | None = None  # unanswered cases due soon and overdue (CASE-1..3), the whole book's
    recalled: int = 0  # placements that came back from their agency tonight (part 1 of a split run)

    def add(self, other: RunSummary) -> None:
        """Count in what a worker on another range of the run found."""
        self.accounts += other.accounts
        for name, c in other.steps.items():
            mine = self.steps[name]
            mine.queued += c.queued
            mine.skipped += c.skipped
            mine.suppressed.update(c.suppressed)

    @property
    def lint_suppressed(self) -> bool:
        """A template, or the text it rendered for some account, broke a content rule."""
        return any(rule.startswith("SAY") or rule in ("REC-2", "TPL", "META")
                   for c in self.steps.values() for rule in c.suppressed)

    @property
    def exit_code(self) -> int:
        return EXIT_LINT if self.lint_suppressed else 0


def run_reminders(*, engine: Engine, settings: Settings, as_of: date, now: datetime, dry_run: bool = False,
                  part: tuple[int, int] = (1, 1), workers: int = 1) -> RunSummary:
    """Queue what the strategy asks for on `as_of`. `now` (naive UTC) sets send_after.
    `part` (i, n): only the i-th of the day's n loan-id ranges; `workers`: processes."""
    number, parts = part
    if not 1 <= number <= parts:
        raise UsageError(f"--part {number}/{parts}: the part is a number from 1 to {parts}")
    if workers < 1:
        raise UsageError(f"--workers {workers}: at least 1")
    if dry_run and workers > 1:  # a dry run counts what earlier batches planned in memory (WHEN-5)
        raise UsageError("--dry-run runs in one process: its workers could not see what the others "
                         "would have queued; leave out --workers")
    link_secret(settings)  # before any work: a run that cannot sign its links stops here
    templates = TemplateSet(settings.messaging.template_dirs)
    chosen = _templates_of(settings.checked_strategy(), templates)
    # each template as its step sends it: what it must say follows from the step's purpose
    lint = {(step.name, str(src.path)): lint_findings(src, settings, step.purpose)
            for step in settings.strategy for src in chosen[step.name].values()}
    summary = RunSummary(as_of, dry_run, {s.name: StepCounts() for s in settings.strategy},
                         {path: findings for (_, path), findings in lint.items()})
    job = _Job(settings, as_of, now, chosen, lint, summary, dry_run)
    if not dry_run and number == 1:  # before the messages: an account back from its agency is ours to remind
        with engine.begin() as conn:
            summary.recalled = len(recall_due(conn, as_of=as_of, now=now, settings=settings, agent=ACTOR))
    if dry_run:
        job.run_part(engine, part, workers)
    elif parts == 1:
        with run_lock(engine, "run-reminders"):
            job.run_part(engine, part, workers)
    else:  # parts run side by side, but not beside a whole run, nor twice the same
        with run_lock(engine, "run-reminders", shared=True), \
                run_lock(engine, f"run-reminders-part-{number}-of-{parts}"):
            job.run_part(engine, part, workers)
    if not dry_run:  # `send` and the queue read the outbox next: plan them on the rows now there
        with engine.begin() as conn:
            q.refresh_statistics(conn, ["outbox"])
    with engine.connect() as conn:
        summary.cases = deadlines(conn, as_of=as_of, settings=settings)
    return summary


def _templates_of(steps: tuple[Step, ...], templates: TemplateSet) -> dict[str, dict[str, TemplateSource]]:
    """step -> locale -> template; a step without a template is a configuration error."""
    chosen = {}
    for step in steps:
        try:
            chosen[step.name] = {loc: template_for(templates, step.template, loc) for loc in LOCALES}
        except TemplateProblem as exc:
            raise UsageError(f"strategy step {step.name}: {exc}") from None
        wrong = [s for s in chosen[step.name].values() if s.channel not in (None, step.channel)]
        if wrong:
            raise UsageError(f"strategy step {step.name} is a {step.channel} step but {wrong[0].path} "
                             f"is a {wrong[0].channel} template")
    return chosen


class _Job:
    def __init__(self, settings: Settings, as_of: date, now: datetime, chosen, lint, summary: RunSummary,
                 dry_run: bool):
        self.settings = settings
        self.as_of = as_of
        self.now = now
        self.chosen = chosen
        self.lint = lint
        self.summary = summary
        self.dry_run = dry_run
        self.default_zones = [ZoneInfo(z) for z in (settings.contact.served_timezones or (settings.timezone,))]
        # a dry run writes nothing, so what earlier batches planned is counted here (WHEN-5)
        self.planned = Planned()
        self.by_segment = any(step.segment for step in settings.strategy)
        self.by_watch = any(step.min_watch_score for step in settings.strategy)

    def run_part(self, engine: Engine, part: tuple[int, int], workers: int) -> None:
        """Settle the promises and waivers of the part's loans, then queue its messages, in
        this process or in `workers` forked ones, each over a range of the part."""
        self.summary.loans = loans = self._range_of(engine, *part)
        with engine.connect() as write:
            self._settle_promises(write, loans)
        ranges = [loans]
        if workers > 1:
            with engine.connect() as conn:
                ranges = q.cut_into(conn, workers, loans)
        # the ledger is read as of one moment, so a file imported meanwhile is either wholly
        # in every message of the run or in none
        if len(ranges) == 1:
            with engine.connect() as read:
                share_snapshot(read, None)
                self.run(engine, loans, read)
            return
        engine.dispose()  # no SQLite connection may cross a fork
        with ExitStack() as stack:
            snapshot = None  # SQLite: each worker takes its own
            if engine.dialect.name == "postgresql":  # every worker reads the state this one exported
                snapshot = export_snapshot(stack.enter_context(engine.connect()))
            done = in_forks(engine, snapshot, self._run_range, ranges,
                            "a worker of the nightly run died (out of memory?); what the others queued "
                            "stands: run it again to finish")
        for found in done:
            self.summary.add(found)

    def _range_of(self, engine: Engine, number: int, parts: int) -> q.Part:
        """The loan-id range of part `number` of `parts`: the day's recorded cuts, or cuts made
        now and recorded (a dry run records nothing)."""
        if parts == 1:
            return q.WHOLE
        with engine.connect() as conn, conn.begin():
            q.lock_keys(conn, ["run-parts"])  # the parts starting together cut the book once
            ranges = q.run_parts_of(conn, self.as_of, parts)
            if not ranges:
                ranges = q.cut_into(conn, parts)
                if not self.dry_run:
                    q.record_run_parts(conn, self.as_of, ranges)
        return ranges[number - 1]

    def _run_range(self, read: Connection, loans: q.Part) -> RunSummary:
        """In a worker: the messages of its range, counted afresh (the parent adds them up)."""
        self.summary = RunSummary(self.as_of, self.dry_run, {name: StepCounts() for name in self.summary.steps},
                                  self.summary.lint)
        self.run(read.engine, loans, read)
        return self.summary

    def run(self, engine: Engine, loans: q.Part, read: Connection) -> None:
        """Queue the messages of the loans in the range, read from `read` (a snapshot)."""
        with engine.connect() as write:
            growing = q.GrowingTables(write, "outbox")
            batch: list[Account] = []
            for acc in iter_accounts(read, as_of=self.as_of, settings=self.settings, part=loans):
                if acc.state.status == "closed":  # a transferred loan may still owe its transfer notice
                    continue
                self.summary.accounts += acc.state.status == "open"
                if any(qualifies(step, acc.state) for step in self.settings.strategy):
                    batch.append(acc)
                if len(batch) >= BATCH:
                    growing.wrote(write, self._batch(read, write, batch))
                    batch = []
            self._batch(read, write, batch)

    def _settle_promises(self, conn: Connection, loans: q.Part) -> None:
        """The part's promises whose date + grace has passed: kept, partly kept or broken, from
        the ledger; and its conditional waivers. Parts whose ranges overlap settle one after
        the other, so nothing is settled twice."""
        with conn.begin() as trans:
            q.lock_keys(conn, ["settle"])
            due = [p for p in q.open_promises(conn) if q.within(loans, p.loan_id)
                   and not holds_reminders(p.due_on, p.grace_days, self.as_of)]
            pays = q.payments_of(conn, sorted({p.loan_id for p in due}), self.as_of, reversed_out=True)
            settled, audit = [], []
            for p in due:
                verdict = evaluate(amount=p.amount, made_on=p.made_on, due_on=p.due_on, grace_days=p.grace_days,
                                   payments=pays[p.loan_id], as_of=self.as_of)
                settled.append({"id": p.id, "status": verdict.status, "paid": verdict.paid,
                                "evaluated_on": self.as_of})
                audit.append({"at": self.now, "agent": ACTOR, "action": f"promise {verdict.status}",
                              "loan_id": p.loan_id, "detail": f"promise {p.id}: {fmt(verdict.paid)} of "
                                                              f"{fmt(p.amount)} paid by {p.due_on.isoformat()} + "
                                                              f"{p.grace_days} days"})
                self.summary.promises[verdict.status] += 1
            q.settle_promises(conn, settled)
            q.add_audit(conn, audit)
            # conditional waivers: in effect from the day the rest was paid, or lapsed (before
            # the messages, so that they state the debt as it is with them)
            settle_waivers(conn, self.as_of, self.now, self.settings, part=loans)
            if self.dry_run:
                trans.rollback()

    def _batch(self, ledger: Connection, conn: Connection, batch: list[Account]) -> int:
        """Decide and write a batch's messages in one transaction on `conn`; payments come
        from the `ledger` snapshot the accounts were read from. Returns the messages written."""
        if not batch:
            return 0
        loan_ids = [a.loan_id for a in batch]
        trans = conn.begin()
        try:
            # before anything is counted: another run beside this one may message the same people
            q.lock_keys(conn, [k for a in batch for k in (a.borrower_id, *a.points)])
            pays = q.payments_of(ledger, loan_ids, self.as_of)
            existing = q.messages_of(conn, loan_ids)
            records = BatchRecords(conn, batch, on=self.as_of, now=self.now, settings=self.settings, payments=pays,
                                   pending=self.planned if self.dry_run else None)
            segments = self._segments(conn, batch, pays) if self.by_segment else {}
            watch = watch_scores(ledger, batch, self.as_of, self.settings) if self.by_watch else {}
            new, changed = [], []
            for acc in batch:
                start = None
                if acc.state.dpd > 0:
                    start = episode_of(acc, pays[acc.loan_id], self.as_of)
                rows = existing[acc.loan_id]
                recorded = {key for key, r in rows.items() if r.status in q.RECORDED}
                penalty = penalty_for(acc, pays.get(acc.loan_id, []), self.settings)
                for decision in decide(self._steps_for(acc), acc.state, start, recorded,
                                       segments.get(acc.loan_id, "standard"), watch.get(acc.loan_id, 0)):
                    row = self._message(acc, decision, records, penalty)
                    before = rows.get((decision.step.name, decision.episode))
                    if before is None:
                        new.append(row)
                    elif (before.status, before.reason) != (row["status"], row["reason"]):
                        # a suppressed or cancelled message gets another chance each run
                        changed.append({"id": before.id, **{k: v for k, v in row.items() if k != "created_at"}})
                    self._count(decision.step.name, row)
            inserted = q.insert_messages(conn, new)
            q.update_messages(conn, changed)
            # what each message says is kept for good: a message written again is a new version
            ids = {(r.loan_id, r.step, r.episode): r.id for r in inserted}
            q.add_versions(conn, self.now, [{**m, "id": ids[m["loan_id"], m["step"], m["episode"]]} for m in new
                                            if (m["loan_id"], m["step"], m["episode"]) in ids] + changed)
            q.add_events(conn, [{"message_id": r.id, "at": self.now, "status": r.status, "reason": r.reason,
                                 "actor": ACTOR} for r in inserted]
                         + [{"message_id": r["id"], "at": self.now, "status": r["status"], "reason": r["reason"],
                             "actor": ACTOR} for r in changed])
        except BaseException:
            trans.rollback()
            raise
        if self.dry_run:
            trans.rollback()
            return 0
        trans.commit()
        return len(inserted)

    def _steps_for(self, acc: Account) -> tuple[Step, ...]:
        """The strategy, without the steps of a channel the borrower has no address for when
        they are only for borrowers with one."""
        steps = self.settings.strategy
        if any(s.only_with_address and recipient_for(s.channel, acc) is None for s in steps):
            return tuple(s for s in steps if not s.only_with_address or recipient_for(s.channel, acc) is not None)
        return steps

    def _segments(self, conn: Connection, batch: list[Account], pays: dict) -> dict[str, str]:
        """Only when a step has a segment condition: the history it needs, one query a kind."""
        ids = [a.loan_id for a in batch]
        promises = q.promises_of(conn, ids)
        contacts = q.contacts_of(conn, ids, history_since(self.as_of))
        return {a.loan_id: segment_of(a, as_of=self.as_of, payments=pays.get(a.loan_id, []),
                                      promises=promises[a.loan_id], contacts=contacts[a.loan_id],
                                      zone=ZoneInfo(a.timezone or self.settings.timezone))
                for a in batch}

    def _message(self, acc: Account, decision: Decision, records: BatchRecords, penalty: int) -> dict:
        step = decision.step
        src = self.chosen[step.name].get(acc.locale) or self.chosen[step.name]["zh_CN"]
        row = {
            "loan_id": acc.loan_id, "borrower_id": acc.borrower_id, "step": step.name,
            "episode": decision.episode, "channel": step.channel, "purpose": step.purpose, "as_of": self.as_of,
            "amount_overdue": acc.state.overdue, "amount_due": acc.state.next_due_amount,
            "template": f"{src.path.parent.name}/{src.path.name}", "template_hash": src.content_hash,
            "recipient": None, "body": None, "figures": None, "send_after": None, "send_on": None, "attempts": 0,
            "provider_ref": None, "payment_ref": None, "parts": None, "created_at": self.now,
            "updated_at": self.now,
        }
        if decision.action == "skip":
            return {**row, "status": "skipped", "reason": "superseded by a later step of the same channel"}
        zone = records.zone(acc)
        try:
            # inside the window, and not before the as-of date has begun where the borrower is:
            # "1 day overdue" is false while it is still the due date there
            when = send_after(self.now, [zone] if acc.timezone else self.default_zones, self.settings.contact.window,
                              day=self.as_of)
        except ValueError as exc:
            return {**row, "status": "suppressed", "reason": str(Refusal("WHEN-6", str(exc)))}
        day = local_day(when, zone)  # the borrower's day (the configured zone's when theirs is unknown)
        refusal = self._gates(acc, step, src, records, day, row, penalty, decision.episode)
        if refusal:
            return {**row, "status": "suppressed", "reason": str(refusal)}
        records.note(acc, step.channel, when)
        return {**row, "status": "queued", "reason": None, "send_after": when, "send_on": day}

    def _gates(self, acc: Account, step: Step, src: TemplateSource, records: BatchRecords, day: date, row: dict,
               penalty: int, episode: str) -> Refusal | None:
        """The contact policy (hold, promise, opt-out, frequency, address, shared number), then
        the template's lint, then the text as rendered for this account, then its length."""
        situation = records.automated(acc, step.channel, step.purpose, day)
        row["recipient"] = situation.recipient
        refusal = policy_decide(step.channel, situation)
        if refusal:
            return refusal
        findings = [f for f in self.lint[(step.name, str(src.path))] if f.rule not in PER_MESSAGE]
        if findings:
            return Refusal(findings[0].rule, f"template {row['template']} failed lint: {findings[0].reason} "
                                             f"({len(findings)} finding(s); see `collect templates lint`)")
        link, row["payment_ref"] = payment_link(self.settings, loan_id=acc.loan_id, step=step.name, episode=episode,
                                                as_of=self.as_of)
        try:
            msg = compose(acc, src, self.settings, purpose=step.purpose, penalty=penalty,
                          facts=records.message_facts(acc, episode), extra={"payment_link": link})
        except TemplateProblem as exc:
            return Refusal("TPL", str(exc))
        row["body"], row["figures"], row["parts"] = msg.body, msg.figures, msg.sms_parts or 1
        return msg.refusals[0] if msg.refusals else too_long(msg, self.settings)

    def _count(self, step: str, row: dict) -> None:
        c = self.summary.steps[step]
        if row["status"] == "queued":
            c.queued += 1
        elif row["status"] == "skipped":
            c.skipped += 1
        else:
            c.suppressed[row["reason"].split(":", 1)[0]] += 1
