"""The contact log: calls, visits and replies, judged by the contact policy, and promises.

An outbound call or visit is asked of the contact policy at the moment it is logged (holds,
the window, the daily caps, WHEN-4 under the us rules); a supervisor may override what is
overridable, and the override is recorded with its reason. What the borrower initiates (a
reply, a call they made) is always recorded. A reply that says STOP places an opt-out, and
so does an opt-out outcome on any channel (a reply: that channel; a call or visit: SMS,
e-mail and app push). A third party is a recorded contact person (people.py) with a number and its
source, asked to help only when the borrower is recorded unreachable, and never again once
they refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.compliance import Refusal
from collect_cli.domain.money import fmt
from collect_cli.domain.people import RELATIONS, address_book_word, borrower_attempt, name_key, unreachable
from collect_cli.domain.pii import mask_phone
from collect_cli.domain.policy import CALLS, CONNECTED, PersonFact, decide
from collect_cli.domain.replies import case_keywords, stop_keyword
from collect_cli.domain.text_forms import compact, fold, is_cjk
from collect_cli.errors import Refused, UsageError
from collect_cli.ledger.values import parse_phone
from collect_cli.services.cases import open_case
from collect_cli.services.contact_facts import (
    CALL_HISTORY_DAYS,
    call_situation,
    hold_facts,
    legal_states,
    local_day,
    shared_unconfirmed,
    zone_of,
)
from collect_cli.services.holds import add_hold
from collect_cli.services.portfolio import Account, iter_accounts
from collect_cli.store import queries as q

CHANNELS = ("call", "visit", "sms-reply", "email-reply")
REPLIES = {"sms-reply": "sms", "email-reply": "email"}
OUTCOMES = ("reached", "no-answer", "wrong-number", "promise", "refused", "dispute", "complaint", "paid-claim",
            "third-party", "opt-out")
REACHABILITY_DAYS = 45  # how far back the borrower's attempts are read to judge them unreachable
OVERRIDE_MIN_WEIGHT = 4  # a supervisor's reason: 4 letters or digits at least (a Chinese character counts 2)


@dataclass(frozen=True)
class Logged:
    contact_id: int
    promise_id: int | None
    overridden: str | None  # the rule a supervisor overrode
    opt_out: tuple[int, ...] = ()  # the opt-out holds a STOP reply or an opt-out outcome placed
    cases: tuple[int, ...] = ()  # the cases a dispute or complaint opened


THIRD_PARTY_SCRIPT = ("WHO-2: you are speaking with someone other than the borrower. Only ask them to help "
                      "reach the borrower. Do not mention the debt, any amount, 逾期/欠款/催收 or the product. "
                      "If they refuse, they are never contacted again.")


def log_contact(*, engine: Engine, settings: Settings, loan_id: str, channel: str, outcome: str, agent: str,
                now: datetime, logged_at: datetime | None = None, note: str | None = None,
                promise_amount: int | None = None, promise_on: date | None = None, override: str | None = None,
                party: str | None = None, inbound: bool = False, recording: str | None = None) -> Logged:
    """Record one contact (and its promise); refuse an outbound one the policy forbids at `now`,
    when it happened. `logged_at` (default `now`) is when it is logged: later for a late entry,
    whose records (audit, holds it places) are of that time.

    `party` names a recorded contact person (their id, name or number), not the borrower."""
    logged_at = logged_at or now
    late = f"; late entry, it happened at {now:%Y-%m-%d %H:%M} UTC" if logged_at != now else ""
    if party is not None and not party.strip():
        raise UsageError("--party: name the recorded contact person (their id, name or number); leave it out "
                         "for the borrower")
    if override is not None:
        override = check_override(override)
    if (outcome == "promise") != (promise_amount is not None):
        raise UsageError("--outcome promise goes with --promise AMOUNT --on DATE, and only with it")
    if party is not None and outcome in ("promise", "paid-claim", "dispute", "complaint", "opt-out"):
        raise UsageError(f"WHO-2: {party} is not the borrower: only ask them to help reach the borrower "
                         f"(outcome reached, no-answer, wrong-number or refused)")
    if party is not None and channel in REPLIES:
        raise UsageError("a reply is the borrower's own: --party is for calls and visits to a contact person")
    direction = "in" if inbound or channel in REPLIES else "out"
    with engine.begin() as conn:
        acc = account_at(conn, loan_id, now, settings)
        person = _person(conn, acc, party) if party is not None else None
        number = person.phone if person is not None else acc.phone
        overridden = None
        if promise_amount is not None and acc.state.status == "transferred":  # XFER-1: not ours to be paid
            s = acc.state.standing
            raise Refused(f"XFER-1: the debt was transferred to {s.transferred_to} on {s.transferred_on.isoformat()}: "
                          "a promise to pay it is the new creditor's to take (log the contact without --promise)")
        if direction == "out":
            refusal = judge_contact(conn, acc, channel, outcome, person, number, now, settings, late=logged_at > now)
            if refusal is not None:
                if not (override and refusal.overridable):
                    _record_refusal(engine, acc, refusal, f"{channel}{late}", agent, logged_at)
                    hint = "; a supervisor may log it with --override REASON" if refusal.overridable else ""
                    raise Refused(f"{refusal}{hint}")
                overridden = f"{refusal.rule}: {override}"
        label = person.name if person is not None else None
        contact_id = q.add_contact(conn, loan_id=loan_id, borrower_id=acc.borrower_id, at=now, logged_at=logged_at,
                                   channel=channel,
                                   direction=direction, outcome=outcome, party=label,
                                   person_id=person.id if person is not None else None,
                                   number=number if channel == "call" else None, note=note, agent=agent,
                                   override=overridden, recording=_recording(recording, channel))
        audit = [{"at": logged_at, "agent": agent, "action": "contact", "loan_id": loan_id,
                  "detail": f"{channel} {outcome}{' (inbound)' if direction == 'in' else ''}"
                            + (f" (with contact person {person.id}, WHO-2)" if person is not None else "")
                            + (f"; override {overridden}" if overridden else "") + late}]
        promise_id = None
        if promise_amount is not None:
            today = local_day(now, zone_of(acc, settings))
            check_promise(promise_amount, promise_on, today, settings)
            promise_id = q.add_promise(conn, loan_id=loan_id, borrower_id=acc.borrower_id, contact_id=contact_id,
                                       made_on=today, amount=promise_amount, due_on=promise_on,
                                       grace_days=settings.promises.grace_days, status="open", paid=0,
                                       evaluated_on=None, agent=agent)
            audit.append({"at": logged_at, "agent": agent, "action": "promise", "loan_id": loan_id,
                          "detail": f"{fmt(promise_amount)} by {promise_on.isoformat()}"})
        q.add_audit(conn, audit)
        cases, opt_out = consequences(conn, loan_id=loan_id, channel=channel, outcome=outcome, note=note,
                                      agent=agent, now=now, logged_at=logged_at, settings=settings,
                                      contact_id=contact_id)
    return Logged(contact_id, promise_id, overridden, opt_out, cases)


def _recording(recording: str | None, channel: str) -> str | None:
    """REC-3: a call's recording reference, kept as given (an evidence reference is not cut)."""
    if recording is None or not recording.strip():
        return None
    if channel not in ("call", "visit"):
        raise UsageError("--recording is for a call or a visit")
    if len(recording.strip()) > 200:
        raise UsageError("--recording: at most 200 characters")
    return recording.strip()


def consequences(conn: Connection, *, loan_id: str, channel: str, outcome: str, note: str | None, agent: str,
                 now: datetime, logged_at: datetime, settings: Settings,
                 contact_id: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """What a contact's outcome sets going, in the caller's transaction: (cases, opt-out holds).
    A dispute or complaint is a case with its deadline and its hold (HOLD-1 at once: no
    collection until it is answered); a reply opens one by what it says; STOP in a reply, or
    an opt-out outcome, places HOLD-2 with the keyword and the time."""
    kinds = {outcome: note or f"{outcome} on a {channel}"} if outcome in ("dispute", "complaint") else {}
    if channel in REPLIES:
        said = case_keywords(note, settings.cases.dispute_words, settings.cases.complaint_words)
        kinds.update({k: f"reply {note!r} (keyword {w})" for k, w in said.items() if k not in kinds})
    cases = tuple(open_case(conn, loan_id=loan_id, kind=kind, settings=settings, agent=agent, now=logged_at,
                            received_on=local_day(now, settings.zone), summary=summary,
                            source="reply" if channel in REPLIES else "log", reference=f"contact {contact_id}")
                  .case_id for kind, summary in kinds.items())
    opt_out: tuple[int, ...] = ()
    keyword = stop_keyword(note, settings.replies.stop_words) if channel in REPLIES else None
    if keyword or outcome == "opt-out":
        if channel in REPLIES:
            said = f"reply {note!r}" + (f" (keyword {keyword})" if keyword else "") if note else "opt-out reply"
        else:
            said = f"opt-out on a {channel}" + (f": {note!r}" if note else "")
        # a reply opts out of its channel; asked on a call or a visit, of SMS, e-mail and push
        opt_out = add_hold(conn, loan_id=loan_id, reason="opt-out", channel=REPLIES.get(channel), until=None,
                           note=f"{said} at {now:%Y-%m-%d %H:%M} UTC", actor=agent, now=logged_at).hold_ids
    return cases, opt_out


def check_override(reason: str) -> str:
    """A supervisor's override needs a real reason, recorded with it: not blank, a few words."""
    text = reason.strip()
    weight = sum(2 if is_cjk(ch) else 1 for ch in compact(text))
    if weight < OVERRIDE_MIN_WEIGHT:
        raise UsageError(f"--override {reason!r}: give the supervisor's reason in a few words; it is recorded "
                         "with the contact")
    return text[:200]


def account_at(conn: Connection, loan_id: str, now: datetime, settings: Settings) -> Account:
    zone = q.loan_zones(conn, [loan_id])
    if not zone:
        raise UsageError(f"no loan {loan_id!r}")
    day = local_day(now, ZoneInfo(zone[loan_id] or settings.timezone))
    acc = next(iter_accounts(conn, as_of=day, settings=settings, loan_ids=[loan_id]), None)
    if acc is None:
        raise UsageError(f"{loan_id} was not yet disbursed on {day.isoformat()}")
    return acc


def judge_contact(conn: Connection, acc: Account, channel: str, outcome: str, person, number: str | None,
                  now: datetime, settings: Settings, late: bool = False, before: bool = False) -> Refusal | None:
    """The contact policy on this outbound call, visit or third-party contact, at `now`; one
    logged `late` is judged by the holds recorded by the time it happened."""
    holds = q.active_holds(conn, [acc.loan_id], [acc.borrower_id], local_day(now, zone_of(acc, settings)),
                           list(acc.points), known_by=now if late else None)[acc.loan_id]
    facts = hold_facts(holds)
    since = now - timedelta(days=max(CALL_HISTORY_DAYS, REACHABILITY_DAYS if person is not None else 0))
    contacts = q.contacts_around(conn, [acc.borrower_id], [number] if number else [], since)
    if before:  # judged at its moment on what came before it (an agency's call, imported later)
        contacts = [c for c in contacts if c.at < now]
    # WHO-4: a call to the borrower's number that another borrower id shares, not confirmed
    shared = channel == "call" and person is None and acc.loan_id in shared_unconfirmed(conn, [acc])
    legal = legal_states(conn, [acc.loan_id], now).get(acc.loan_id) if settings.legal.stop_calls_from else None
    situation = call_situation(acc, holds=facts, contacts=contacts, now=now, settings=settings, number=number,
                               connected=channel == "call" and outcome in CONNECTED, shared=shared, legal=legal)
    if person is None:
        return decide(channel, situation)
    if channel == "call" and not person.phone:
        return Refusal("WHO-3", f"no number is recorded for {person.name}: record it with its source first "
                                "(collect people add)")
    if channel == "call" and q.owners_of_points(conn, [person.phone]):
        return Refusal("WHO-4", f"the number recorded for {person.name} is on file as a borrower's own: call it "
                                "as that borrower's, under their limits")
    # a refusal binds to the person under any spelling or sound of their name, and to their number
    same = [p.id for p in q.persons_of(conn, acc.borrower_id) if name_key(p.name) == name_key(person.name)]
    refused = q.refused_persons(conn, sorted({person.id, *same}), [person.phone] if person.phone else [])
    attempts = [a for c in contacts if c.borrower_id == acc.borrower_id and c.party is None
                for a in [borrower_attempt(at=c.at, channel=c.channel, inbound=c.direction == "in",
                                           connected=c.outcome in CONNECTED, wrong_number=c.outcome == "wrong-number",
                                           number=c.number, phone=acc.phone)] if a is not None]
    situation = replace(situation, person=PersonFact(person.name, person.relation, bool(refused)),
                        borrower_unreachable=unreachable(attempts, now, settings.contact.unreachable_days),
                        **_person_calls(contacts, person.id, acc, now, settings))
    return decide("third-party", situation)


def _person_calls(contacts, person_id: int, acc: Account, now: datetime, settings: Settings) -> dict:
    """WHEN-2 and WHEN-4 counted for the contact person called (a guarantor owes the debt; a
    call to anyone about it counts), in the borrower's zone: their connected calls today,
    calls about the debt in 7 days, and the days since the last conversation with them."""
    zone = zone_of(acc, settings)
    today = local_day(now, zone)
    theirs = [c for c in contacts
              if c.person_id == person_id and c.channel in CALLS and local_day(c.at, zone) <= today]
    talks = [local_day(c.at, zone) for c in theirs if c.outcome in CONNECTED and c.at <= now]
    return {"connected_today": sum(local_day(c.at, zone) == today for c in theirs if c.outcome in CONNECTED),
            "calls_7_days": sum((today - local_day(c.at, zone)).days < 7 for c in theirs if c.direction == "out"),
            "conversation_days_ago": (today - max(talks)).days if talks else None}


def _person(conn: Connection, acc: Account, party: str):
    """The recorded contact person `party` names: their id (#3 or 3), name or number."""
    people = q.persons_of(conn, acc.borrower_id)
    wanted = fold(party).strip().lstrip("#")
    try:
        number = parse_phone(party)
    except ValueError:
        number = None
    key = name_key(party)
    found = [p for p in people if str(p.id) == wanted or (key and name_key(p.name) == key)
             or (number and p.phone == number)]
    if not found:
        raise UsageError(f"WHO-3: {party!r} is not a recorded contact person of borrower {acc.borrower_id}; "
                         "record them with their number and its source first: collect people add "
                         f"{acc.loan_id} --name NAME --phone NUMBER --relation "
                         f"{'|'.join(RELATIONS)} --source WHERE-THE-NUMBER-CAME-FROM")
    return found[0]


def _record_refusal(engine: Engine, acc: Account, refusal: Refusal, channel: str, agent: str, now: datetime) -> None:
    """Every block leaves a record saying which rule stopped what (its own transaction: the
    contact itself is not written)."""
    with engine.begin() as conn:
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "refused", "loan_id": acc.loan_id,
                            "detail": f"{channel}: {refusal}"}])


def check_promise(amount: int, on: date | None, today: date, settings: Settings) -> None:
    if on is None:
        raise UsageError("--promise needs --on DATE")
    if amount <= 0:
        raise UsageError("--promise: the amount must be above 0")
    latest = today + timedelta(days=settings.promises.max_days_ahead)
    if not today <= on <= latest:
        raise UsageError(f"--on {on.isoformat()}: a promise is for a day from today to {latest.isoformat()} "
                         f"(promises.max_days_ahead = {settings.promises.max_days_ahead}); longer is a plan")


def add_person(*, engine: Engine, loan_id: str, name: str, phone: str | None, relation: str, source: str,
               note: str | None, agent: str, now: datetime) -> int:
    """Record a contact person of the loan's borrower (WHO-3: the number with its source, never
    a phone's address book). Someone recorded already under any spelling or sound of the name,
    or at that number, is not recorded twice; one who refused to help is never recorded again
    (WHO-2)."""
    if relation not in RELATIONS:
        raise UsageError(f"--relation: one of {', '.join(RELATIONS)}")
    if not name_key(name):
        raise UsageError("--name: a name, please")
    if not phone:
        raise UsageError("WHO-3: a contact person is recorded with their number (--phone) and where it came from "
                         "(--source); a call to someone without a recorded number cannot be counted or checked")
    book = address_book_word(source)
    if not compact(source) or book:
        raise UsageError("WHO-3: every number needs its source (the application form, the borrower, a guarantee "
                         "contract…); numbers from a phone's address book may not be used"
                         + (f" (the source names {book!r})" if book else ""))
    with engine.begin() as conn:
        borrower = q.borrower_of(conn, loan_id)
        if borrower is None:
            raise UsageError(f"no loan {loan_id!r}")
        owners = q.owners_of_points(conn, [phone]).get(phone)
        if owners:
            raise UsageError(f"WHO-4: {mask_phone(phone)} is on file as the number of borrower "
                             f"{', '.join(sorted(owners))}: a call to it is a call to a borrower, logged without "
                             "--party, under that borrower's limits")
        key = name_key(name)
        known = q.persons_of(conn, borrower)
        same = [p for p in known if name_key(p.name) == key or p.phone == phone]
        if same and q.refused_persons(conn, [p.id for p in same], []):
            raise Refused(f"WHO-2: {name} refused to help before (as contact person "
                          f"{', '.join(str(p.id) for p in same)}); they are never contacted again")
        if same:
            raise UsageError(f"{name} (or that number) is already recorded for borrower {borrower} as contact person "
                             f"{same[0].id} ({same[0].name}); log a call with --party {same[0].id}")
        person_id = q.add_person(conn, borrower_id=borrower, name=name.strip()[:100], name_key=key, phone=phone,
                                 source=source.strip()[:200], relation=relation, note=note, agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "contact person", "loan_id": loan_id,
                            "detail": f"person {person_id}: {relation}, number from {source.strip()[:80]}"}])
    return person_id
