"""`collect run-reminders`: the nightly job that turns the strategy into outbox messages.

Per loan: the engine's state as of the run's date, the steps of its current bucket that are
due in this episode (domain.strategy), then the gates of reminders.md in order, each refusal
recorded with its rule id. Loans are handled in batches, each batch one transaction; the
unique (loan, step, episode) key makes a re-run after a crash, or a concurrent run, queue
nothing twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.compliance import (
    Hold,
    Refusal,
    frequency_gate,
    hold_gate,
    opt_out_gate,
    promise_gate,
    send_after,
)
from collect_cli.domain.episodes import episode_start
from collect_cli.domain.money import fmt
from collect_cli.domain.promises import evaluate, holds_reminders
from collect_cli.domain.strategy import Decision, Step, decide, qualifies
from collect_cli.errors import UsageError
from collect_cli.messaging.lint import Finding
from collect_cli.messaging.templates import (
    LOCALES,
    TemplateProblem,
    TemplateSet,
    TemplateSource,
)
from collect_cli.services.messages import (
    compose,
    lint_findings,
    penalty_for,
    recipient_for,
    template_for,
)
from collect_cli.services.portfolio import Account, iter_accounts
from collect_cli.services.reports import history_since, segment_of
from collect_cli.services.watchlist import watch_scores
from collect_cli.store import queries as q
from collect_cli.store.database import begin_snapshot
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

    @property
    def lint_suppressed(self) -> bool:
        return any(rule.startswith("SAY") or rule in ("REC-2", "TPL", "META")
                   for c in self.steps.values() for rule in c.suppressed)

    @property
    def exit_code(self) -> int:
        return EXIT_LINT if self.lint_suppressed else 0


def run_reminders(*, engine: Engine, settings: Settings, as_of: date, now: datetime,
                  dry_run: bool = False) -> RunSummary:
    """Queue what the strategy asks for on `as_of`. `now` (naive UTC) sets send_after."""
    templates = TemplateSet(settings.messaging.template_dirs)
    chosen = _templates_of(settings.strategy, templates)
    used = {str(src.path): src for by_locale in chosen.values() for src in by_locale.values()}
    lint = {path: lint_findings(src, settings) for path, src in used.items()}
    summary = RunSummary(as_of, dry_run, {s.name: StepCounts() for s in settings.strategy}, lint)
    job = _Job(settings, as_of, now, chosen, lint, summary, dry_run)
    if dry_run:
        job.run(engine)
    else:
        with run_lock(engine, "run-reminders"):
            job.run(engine)
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
        self.pending_sms: Counter = Counter()  # (borrower, day) queued in this run, not yet committed
        self.by_segment = any(step.segment for step in settings.strategy)
        self.by_watch = any(step.min_watch_score for step in settings.strategy)

    def run(self, engine: Engine) -> None:
        with engine.connect() as read, engine.connect() as write:
            self._settle_promises(write)
            # the ledger is read as of one moment, so a file imported meanwhile is either
            # wholly in every message of the run or in none
            begin_snapshot(read)
            batch: list[Account] = []
            for acc in iter_accounts(read, as_of=self.as_of, settings=self.settings):
                if acc.state.status != "open":
                    continue
                self.summary.accounts += 1
                if any(qualifies(step, acc.state) for step in self.settings.strategy):
                    batch.append(acc)
                if len(batch) >= BATCH:
                    self._batch(read, write, batch)
                    batch = []
            self._batch(read, write, batch)

    def _settle_promises(self, conn: Connection) -> None:
        """Promises whose date + grace has passed: kept, partly kept or broken, from the ledger."""
        with conn.begin() as trans:
            due = [p for p in q.open_promises(conn) if not holds_reminders(p.due_on, p.grace_days, self.as_of)]
            pays = q.payments_of(conn, sorted({p.loan_id for p in due}), self.as_of)
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
            if self.dry_run:
                trans.rollback()

    def _batch(self, ledger: Connection, conn: Connection, batch: list[Account]) -> None:
        """Decide and write a batch's messages in one transaction on `conn`; payments come
        from the `ledger` snapshot the accounts were read from."""
        if not batch:
            return
        loan_ids = [a.loan_id for a in batch]
        borrower_ids = sorted({a.borrower_id for a in batch})
        trans = conn.begin()
        try:
            late = [a.loan_id for a in batch if a.state.dpd > 0]
            pays = q.payments_of(ledger, late, self.as_of)
            existing = q.messages_of(conn, loan_ids)
            holds = q.active_holds(conn, loan_ids, borrower_ids, self.as_of)
            promised = {p.loan_id: p for p in q.open_promises(conn, loan_ids)
                        if holds_reminders(p.due_on, p.grace_days, self.as_of)}
            segments = self._segments(conn, batch, pays) if self.by_segment else {}
            watch = watch_scores(ledger, batch, self.as_of, self.settings) if self.by_watch else {}
            first, last = self.as_of - timedelta(days=7), self.as_of + timedelta(days=7)
            counts = q.sms_counts(conn, borrower_ids, first, last)
            new, changed = [], []
            for acc in batch:
                start = None
                if acc.state.dpd > 0:
                    schedule = [p.installment for p in acc.state.positions]
                    start = episode_start(schedule, pays[acc.loan_id], self.as_of)
                rows = existing[acc.loan_id]
                recorded = {key for key, r in rows.items() if r.status in q.RECORDED}
                held = [Hold(h.reason, h.channel) for h in holds[acc.loan_id]]
                penalty = penalty_for(acc, pays.get(acc.loan_id, []), self.settings)
                for decision in decide(self.settings.strategy, acc.state, start, recorded,
                                       segments.get(acc.loan_id, "standard"), watch.get(acc.loan_id, 0)):
                    row = self._message(acc, decision, held, counts[acc.borrower_id], penalty,
                                        promised.get(acc.loan_id))
                    before = rows.get((decision.step.name, decision.episode))
                    if before is None:
                        new.append(row)
                    elif (before.status, before.reason) != (row["status"], row["reason"]):
                        # a suppressed or cancelled message gets another chance each run
                        changed.append({"id": before.id, **{k: v for k, v in row.items() if k != "created_at"}})
                    self._count(decision.step.name, row)
            inserted = q.insert_messages(conn, new)
            q.update_messages(conn, changed)
            q.add_events(conn, [{"message_id": r.id, "at": self.now, "status": r.status, "reason": r.reason,
                                 "actor": ACTOR} for r in inserted]
                         + [{"message_id": r["id"], "at": self.now, "status": r["status"], "reason": r["reason"],
                             "actor": ACTOR} for r in changed])
        except BaseException:
            trans.rollback()
            raise
        if self.dry_run:
            trans.rollback()
        else:
            trans.commit()
            self.pending_sms.clear()  # committed: the next batch reads them from the store

    def _segments(self, conn: Connection, batch: list[Account], pays: dict) -> dict[str, str]:
        """Only when a step has a segment condition: the history it needs, one query a kind."""
        ids = [a.loan_id for a in batch]
        promises = q.promises_of(conn, ids)
        contacts = q.contacts_of(conn, ids, history_since(self.as_of))
        return {a.loan_id: segment_of(a, as_of=self.as_of, payments=pays.get(a.loan_id, []),
                                      promises=promises[a.loan_id], contacts=contacts[a.loan_id],
                                      zone=ZoneInfo(a.timezone or self.settings.timezone))
                for a in batch}

    def _message(self, acc: Account, decision: Decision, holds: list[Hold], sms_by_day: dict, penalty: int,
                 promise) -> dict:
        step = decision.step
        src = self.chosen[step.name].get(acc.locale) or self.chosen[step.name]["zh_CN"]
        row = {
            "loan_id": acc.loan_id, "borrower_id": acc.borrower_id, "step": step.name,
            "episode": decision.episode, "channel": step.channel, "as_of": self.as_of,
            "amount_overdue": acc.state.overdue, "amount_due": acc.state.next_due_amount, "template": f"{src.path.parent.name}/{src.path.name}",
            "template_hash": src.content_hash, "recipient": recipient_for(step.channel, acc),
            "body": None, "send_after": None, "send_on": None, "attempts": 0, "provider_ref": None,
            "created_at": self.now, "updated_at": self.now,
        }
        if decision.action == "skip":
            return {**row, "status": "skipped", "reason": "superseded by a later step of the same channel"}
        zones = [ZoneInfo(acc.timezone)] if acc.timezone else self.default_zones
        when = send_after(self.now, zones, self.settings.contact.window)
        # the borrower's day (the configured zone when theirs is unknown): what WHEN-5 counts
        day = when.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(acc.timezone or self.settings.timezone)).date()
        refusal = self._gates(acc, step, src, holds, sms_by_day, day, row, penalty, promise)
        if refusal:
            return {**row, "status": "suppressed", "reason": str(refusal)}
        if step.channel == "sms":
            self.pending_sms[(acc.borrower_id, day)] += 1
        return {**row, "status": "queued", "reason": None, "send_after": when, "send_on": day}

    def _gates(self, acc: Account, step: Step, src: TemplateSource, holds: list[Hold], sms_by_day: dict,
               day: date, row: dict, penalty: int, promise) -> Refusal | None:
        """reminders.md order: hold, promise, opt-out, frequency, address, lint, length."""
        refusal = hold_gate(holds)
        if refusal is None and promise is not None:
            refusal = promise_gate(promise.amount, promise.due_on, promise.grace_days)
        refusal = refusal or opt_out_gate(holds, step.channel)
        if refusal is None and step.channel == "sms":
            today = sms_by_day.get(day, 0) + self.pending_sms[(acc.borrower_id, day)]
            week = sum(sms_by_day.get(day - timedelta(days=i), 0) + self.pending_sms[(acc.borrower_id, day - timedelta(days=i))]
                       for i in range(7))
            refusal = frequency_gate("sms", today, week, self.settings.contact)
        if refusal is None and row["recipient"] is None:
            what = {"sms": "phone number", "email": "email address", "letter": "postal address"}[step.channel]
            refusal = Refusal("ADDR", f"no {what} on file")
        findings = self.lint[str(src.path)]
        if refusal is None and findings:
            refusal = Refusal(findings[0].rule, f"template {row['template']} failed lint "
                                                f"({len(findings)} finding(s); see `collect templates lint`)")
        if refusal is None:
            try:
                msg = compose(acc, src, self.settings, penalty)
            except TemplateProblem as exc:
                return Refusal("TPL", str(exc))
            row["body"] = msg.body
            if msg.sms_parts and msg.sms_parts > self.settings.messaging.sms_max_parts:
                refusal = Refusal("LEN", f"{msg.sms_parts} SMS parts (limit {self.settings.messaging.sms_max_parts})")
        return refusal

    def _count(self, step: str, row: dict) -> None:
        c = self.summary.steps[step]
        if row["status"] == "queued":
            c.queued += 1
        elif row["status"] == "skipped":
            c.skipped += 1
        else:
            c.suppressed[row["reason"].split(":", 1)[0]] += 1
