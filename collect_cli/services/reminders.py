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
from collect_cli.services.contact_facts import BatchRecords, PlannedSms, local_day
from collect_cli.services.messages import (
    compose,
    lint_findings,
    penalty_for,
    template_for,
)
from collect_cli.services.portfolio import Account, episode_of, iter_accounts
from collect_cli.services.reports import history_since, segment_of
from collect_cli.services.waivers import settle as settle_waivers
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
        """A template, or the text it rendered for some account, broke a content rule."""
        return any(rule.startswith("SAY") or rule in ("REC-2", "TPL", "META")
                   for c in self.steps.values() for rule in c.suppressed)

    @property
    def exit_code(self) -> int:
        return EXIT_LINT if self.lint_suppressed else 0


def run_reminders(*, engine: Engine, settings: Settings, as_of: date, now: datetime,
                  dry_run: bool = False) -> RunSummary:
    """Queue what the strategy asks for on `as_of`. `now` (naive UTC) sets send_after."""
    templates = TemplateSet(settings.messaging.template_dirs)
    chosen = _templates_of(settings.checked_strategy(), templates)
    # each template as its step sends it: what it must say follows from the step's purpose
    lint = {(step.name, str(src.path)): lint_findings(src, settings, step.purpose)
            for step in settings.strategy for src in chosen[step.name].values()}
    summary = RunSummary(as_of, dry_run, {s.name: StepCounts() for s in settings.strategy},
                         {path: findings for (_, path), findings in lint.items()})
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
        # a dry run writes nothing, so what earlier batches planned is counted here (WHEN-5)
        self.planned = PlannedSms()
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
                if acc.state.status == "closed":  # a transferred loan may still owe its transfer notice
                    continue
                self.summary.accounts += acc.state.status == "open"
                if any(qualifies(step, acc.state) for step in self.settings.strategy):
                    batch.append(acc)
                if len(batch) >= BATCH:
                    self._batch(read, write, batch)
                    batch = []
            self._batch(read, write, batch)

    def _settle_promises(self, conn: Connection) -> None:
        """Promises whose date + grace has passed: kept, partly kept or broken, from the ledger;
        and the conditional waivers."""
        with conn.begin() as trans:
            due = [p for p in q.open_promises(conn) if not holds_reminders(p.due_on, p.grace_days, self.as_of)]
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
            settle_waivers(conn, self.as_of, self.now, self.settings)
            if self.dry_run:
                trans.rollback()

    def _batch(self, ledger: Connection, conn: Connection, batch: list[Account]) -> None:
        """Decide and write a batch's messages in one transaction on `conn`; payments come
        from the `ledger` snapshot the accounts were read from."""
        if not batch:
            return
        loan_ids = [a.loan_id for a in batch]
        trans = conn.begin()
        try:
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
                for decision in decide(self.settings.strategy, acc.state, start, recorded,
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
        else:
            trans.commit()

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
            "provider_ref": None, "created_at": self.now, "updated_at": self.now,
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
        if step.channel == "sms":
            records.note_sms(acc, when)
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
        try:
            msg = compose(acc, src, self.settings, purpose=step.purpose, penalty=penalty,
                          facts=records.message_facts(acc, episode))
        except TemplateProblem as exc:
            return Refusal("TPL", str(exc))
        row["body"], row["figures"] = msg.body, msg.figures
        if msg.refusals:
            return msg.refusals[0]
        if msg.sms_parts and msg.sms_parts > self.settings.messaging.sms_max_parts:
            return Refusal("LEN", f"{msg.sms_parts} SMS parts (limit {self.settings.messaging.sms_max_parts})")
        return None

    def _count(self, step: str, row: dict) -> None:
        c = self.summary.steps[step]
        if row["status"] == "queued":
            c.queued += 1
        elif row["status"] == "skipped":
            c.skipped += 1
        else:
            c.suppressed[row["reason"].split(":", 1)[0]] += 1
