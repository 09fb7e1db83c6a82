"""The contact policy: whether a contact of a kind may happen for an account at a moment.

Every path that reaches a person, or tells others about them, asks `decide`: the nightly
run and `send` for automated messages, `log` for calls, visits and third parties, the
queue's call-now column, the credit-bureau file and agency placements. A refusal names the
rule (compliance.md); some a supervisor may override with a recorded reason, the others no
one can. What a message says is judged apart, on its text (domain.content).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, time

from collect_cli.domain.compliance import HOLD_RULES, ContactRules, Refusal
from collect_cli.domain.content import CASE_ANSWER, LAWYER_LETTER
from collect_cli.domain.money import fmt_grouped

AUTOMATED = ("sms", "email", "push", "letter")
MESSAGING = ("sms", "email", "push")  # the channels a borrower opts out of (HOLD-2), each apart
CAPPED = ("sms", "push")  # WHEN-5: a day's and a week's automated messages, per channel
KINDS = (*AUTOMATED, "call", "visit", "third-party", "bureau", "bureau-correction", "placement")

TRANSFER_NOTICE = "transfer_notice"  # the one message a transferred debt may still get (XFER-1)
MAX_CONNECTED_CALLS = 3  # WHEN-2, cn: connected voice calls per borrower per day
MAX_DIAL_ATTEMPTS = 6  # WHEN-3: dial attempts to one number per day
MAX_CALLS_7_DAYS = 7  # WHEN-4, us: calls about one debt in 7 days
CONVERSATION_QUIET_DAYS = 7  # WHEN-4, us: no call within 7 days after a conversation
ADDRESS = {"sms": "phone number", "email": "email address", "push": "app push id", "letter": "postal address"}
POINT = {"sms": "number", "email": "address", "push": "push id"}  # the same, as a sentence names it again
CALLS = ("call", "voice", "robot")  # a phone rang: an agent's, a dialer's or a voice robot's (WHEN-2..4 count all)
CONNECTED = ("reached", "promise", "refused", "dispute", "complaint", "paid-claim", "third-party")


@dataclass(frozen=True)
class HoldFact:
    """A hold instance in force for the account (its own, or its borrower's, or its number's)."""

    id: int
    reason: str  # dispute, opt-out, bankruptcy, deceased, legal, complaint
    channel: str | None = None  # opt-out: the channel (None: every one of MESSAGING)
    point: str | None = None  # opt-out: the number or e-mail it was given for

    @property
    def rule(self) -> str:
        return HOLD_RULES[self.reason]


@dataclass(frozen=True)
class PromiseFact:
    amount: int
    due_on: date
    grace_days: int


@dataclass(frozen=True)
class PersonFact:
    """A third party as the records know them."""

    name: str
    relation: str
    refused: bool  # they (or someone at their number) refused to help before


@dataclass(frozen=True)
class Situation:
    """What the records say at the moment of the contact; each path fills what its kind needs."""

    holds: tuple[HoldFact, ...] = ()
    transferred: tuple[date, str] | None = None  # XFER-1: the debt was sold (on, to whom) by the contact's day
    purpose: str | None = None  # automated: what the message is for
    own_hold: int | None = None  # a case's answer letter: the hold its case placed
    placed_with: str | None = None  # automated: the agency working the account now (placements.pause_messages)
    legal_stop: str | None = None  # the stage of a legal case stops this contact ([legal]): why
    promise: PromiseFact | None = None  # a promise to pay that holds reminders (HOLD-4)
    recipient: str | None = None  # automated: the number, e-mail, push id or postal address it goes to
    shared_recipient: bool = False  # WHO-4: another borrower id has that number (or address), not confirmed
    sent_today: int = 0  # WHEN-5 (sms, push): the channel's messages to the borrower or that point, their day
    sent_7_days: int = 0
    # calls and visits
    local_time: time | None = None  # the person's local time
    # WHEN-6: a borrower of unknown zone: the local time in every zone the lender serves (zone, time)
    served_times: tuple[tuple[str, time], ...] = ()
    connected: bool = True  # the call reached someone (what the queue assumes of a call to make)
    connected_today: int = 0  # WHEN-2: connected calls with the borrower today
    attempts_today: int = 0  # WHEN-3: dial attempts to this number today
    calls_7_days: int = 0  # WHEN-4: calls about this debt in the last 7 days
    conversation_days_ago: int | None = None  # WHEN-4: days since the last conversation about it
    # third parties
    person: PersonFact | None = None
    borrower_unreachable: tuple[bool, str] = (False, "")
    # the bureau file and placements
    dpd: int = 0
    dpd_today: int | None = None  # placements: days past due on the real day of the export
    notice_sent_on: date | None = None  # REC-2: the pre-notice, as the recipient's day
    as_of: date | None = None
    notice_days: int = 14
    min_dpd: int = 1
    rules: ContactRules = field(default_factory=ContactRules)


def decide(kind: str, s: Situation) -> Refusal | None:
    """None when the contact may happen; else the first rule that stops it."""
    if s.transferred is not None and s.purpose != TRANSFER_NOTICE:
        on, party = s.transferred
        return Refusal("XFER-1", f"the debt was transferred to {party} on {on.isoformat()}: this lender no longer "
                                 "collects it or tells others about it")
    if kind in AUTOMATED:
        return _automated(kind, s)
    if kind in ("call", "visit"):
        return _call(kind, s)
    if kind == "third-party":
        return _third_party(s)
    if kind == "bureau":
        return _bureau(s)
    if kind == "bureau-correction":  # REC-2: disputed information is not reported, corrected or not
        return _held_back(s) or _bureau_disputed(s)
    if kind == "placement":
        return _placement(s)
    raise ValueError(f"unknown kind of contact {kind!r}")


def _no_contact(s: Situation, *, overridable: bool) -> Refusal | None:
    """HOLD-3 (no contact at all) and HOLD-1 (a disputed debt is not collected)."""
    for h in s.holds:
        if h.rule == "HOLD-3":
            return Refusal("HOLD-3", f"no contact: {h.reason} (hold {h.id})", overridable)
    for h in s.holds:
        if h.rule == "HOLD-1":
            return Refusal("HOLD-1", f"the account is disputed (hold {h.id}); no collection until it is "
                                     "answered", overridable)
    return None


def _automated(channel: str, s: Situation) -> Refusal | None:
    """reminders.md order: hold, promise, opt-out, frequency, address. The answer to a case
    goes under a dispute (HOLD-1 allows the verification or answer letter) and under its own
    case's hold (CASE-2: the complainant is told), not under another no-contact hold (another
    complaint under review, bankruptcy, death, legal representation); it is no reminder, so a
    promise does not hold it."""
    if s.purpose == CASE_ANSWER:
        s = replace(s, holds=tuple(h for h in s.holds if h.reason != "dispute" and h.id != s.own_hold),
                    promise=None)
    refusal = _no_contact(s, overridable=False)
    if refusal:
        return refusal
    if s.legal_stop and s.purpose not in (CASE_ANSWER, TRANSFER_NOTICE, LAWYER_LETTER):
        return Refusal("LEGAL", f"{s.legal_stop}: the court and the lawyers speak for the lender now "
                                "(legal.stop_automated_from)")
    if s.placed_with and s.purpose not in (CASE_ANSWER, TRANSFER_NOTICE):
        return Refusal("PLACED", f"placed with {s.placed_with}: its collectors work the account, this lender's "
                                 "automated messages wait for the recall (placements.pause_messages)")
    if s.promise is not None:
        p = s.promise
        return Refusal("HOLD-4", f"promise to pay {fmt_grouped(p.amount)} by {p.due_on.isoformat()} "
                                 f"(+{p.grace_days} days grace)")
    if channel in MESSAGING:
        for h in s.holds:
            if h.reason == "opt-out" and h.channel in (None, channel):
                whose = f"the number or address {s.recipient}" if h.point and h.point == s.recipient else "the borrower"
                return Refusal("HOLD-2", f"{whose} opted out of {channel} (hold {h.id})")
    if s.recipient is None:
        return Refusal("ADDR", f"no {ADDRESS[channel]} on file")
    if s.shared_recipient and channel in MESSAGING:
        return Refusal("WHO-4", f"the {POINT[channel]} is also another borrower's; no message about a debt "
                                "until it is confirmed whose it is")
    if channel in CAPPED:
        what = "SMS" if channel == "sms" else "app push messages"
        per_day, per_week = s.rules.caps(channel)
        if s.sent_today >= per_day:
            return Refusal("WHEN-5", f"{s.sent_today} automated {what} already for that day, to the borrower or "
                                     f"that {POINT[channel]} (limit {per_day})")
        if s.sent_7_days >= per_week:
            return Refusal("WHEN-5", f"{s.sent_7_days} automated {what} already in 7 days, to the borrower or "
                                     f"that {POINT[channel]} (limit {per_week})")
    return None


def _window(s: Situation) -> Refusal | None:
    """WHEN-1 in the borrower's zone; WHEN-6: when it is unknown, in every served zone."""
    start, end = s.rules.window
    if s.local_time is not None and not start <= s.local_time < end:
        return Refusal("WHEN-1", f"{s.local_time:%H:%M} is outside the contact window {start:%H:%M}-{end:%H:%M}",
                       True)
    for zone, local in s.served_times:
        if not start <= local < end:
            return Refusal("WHEN-6", f"the borrower's time zone is unknown and it is {local:%H:%M} in {zone}, "
                                     f"a zone the lender serves: outside the contact window "
                                     f"{start:%H:%M}-{end:%H:%M} (WHEN-1)", True)
    return None


def _call(kind: str, s: Situation) -> Refusal | None:
    refusal = _no_contact(s, overridable=True) or _window(s)
    if refusal is None and s.legal_stop:
        refusal = Refusal("LEGAL", f"{s.legal_stop}: no calls (legal.stop_calls_from)", True)
    if refusal or kind != "call":
        return refusal
    if s.shared_recipient:
        return Refusal("WHO-4", "the number is also another borrower's and not confirmed whose it is: no call "
                                "about a debt to it (a supervisor may allow one to confirm identity)", True)
    return _caps(s)


def _caps(s: Situation) -> Refusal | None:
    """WHEN-2..4: the calls of the day and of the week, counted for the person called."""
    if s.attempts_today >= MAX_DIAL_ATTEMPTS:
        return Refusal("WHEN-3", f"{s.attempts_today} dial attempts to this number today (limit {MAX_DIAL_ATTEMPTS})",
                       True)
    if s.connected and s.connected_today >= MAX_CONNECTED_CALLS:
        return Refusal("WHEN-2", f"{s.connected_today} connected calls today with the person called "
                                 f"(limit {MAX_CONNECTED_CALLS})", True)
    if s.rules.rules == "us":
        if s.calls_7_days >= MAX_CALLS_7_DAYS:
            return Refusal("WHEN-4", f"{s.calls_7_days} calls about this debt in 7 days (limit {MAX_CALLS_7_DAYS})",
                           True)
        if s.conversation_days_ago is not None and s.conversation_days_ago < CONVERSATION_QUIET_DAYS:
            return Refusal("WHEN-4", f"a conversation about this debt {s.conversation_days_ago} day(s) ago: no call "
                                     f"within {CONVERSATION_QUIET_DAYS} days after one", True)
    return None


def _third_party(s: Situation) -> Refusal | None:
    person = s.person
    if person is None:
        return Refusal("WHO-3", "a third party must be a recorded contact person, with the source of their number")
    if person.refused:
        return Refusal("WHO-2", f"{person.name} refused to help before; they are never contacted again")
    refusal = _no_contact(s, overridable=True)
    if refusal:
        return refusal
    if person.relation != "guarantor":  # a guarantor answers for the debt (WHO-1); others only help reach
        unreachable, why = s.borrower_unreachable
        if not unreachable:
            return Refusal("WHO-5", f"a contact person is asked to help only when the borrower is recorded "
                                    f"unreachable: {why}")
    return _window(s) or _caps(s)


def _held_back(s: Situation) -> Refusal | None:
    """HOLD-1 and HOLD-3 keep an account out of the bureau file and agency placements."""
    for h in s.holds:
        if h.rule in ("HOLD-1", "HOLD-3"):
            return Refusal(h.rule, f"{h.reason} hold {h.id} in force")
    return None


def _bureau_disputed(s: Situation) -> Refusal | None:
    """REC-2 (CASE-1): the credit information the borrower disputed waits for the answer."""
    for h in s.holds:
        if h.reason == "bureau-dispute":
            return Refusal("REC-2", f"the borrower disputes the credit information (hold {h.id}): not reported "
                                    "until the dispute is answered (CASE-1)")
    return None


def _bureau(s: Situation) -> Refusal | None:
    refusal = _held_back(s) or _bureau_disputed(s)
    if refusal:
        return refusal
    if s.dpd < s.min_dpd:
        return Refusal("REC-2", f"{s.dpd} days past due: not adverse (bureau.min_dpd = {s.min_dpd})")
    if s.notice_sent_on is None:
        return Refusal("REC-2", "no pre-notice has been sent")
    if s.as_of is not None and (s.as_of - s.notice_sent_on).days < s.notice_days:
        return Refusal("REC-2", f"pre-notice sent on {s.notice_sent_on.isoformat()}, less than {s.notice_days} days "
                                f"before {s.as_of.isoformat()}")
    return None


def _placement(s: Situation) -> Refusal | None:
    """AGY-3: an agency gets only accounts it may work, delinquent as of the file's date and on
    the day the file is made, and no number it may not use: an account whose phone opted out
    (HOLD-2) or is another borrower's too, not confirmed (WHO-4), is held back with the reason."""
    refusal = _held_back(s)
    if refusal:
        return refusal
    if s.dpd <= 0:
        return Refusal("AGY-3", "the account is not delinquent: an agency gets only accounts it can collect")
    if s.dpd_today is not None and s.dpd_today <= 0:
        return Refusal("AGY-3", "the account is not delinquent today (repaid or brought current since the "
                                "file's date): an agency gets only accounts it can collect")
    for h in s.holds:
        if h.reason == "opt-out" and h.channel in (None, "sms"):
            return Refusal("HOLD-2", f"the borrower's number opted out (hold {h.id}): it is not handed to an agency")
    if s.shared_recipient:
        return Refusal("WHO-4", "the borrower's number is also another borrower's and not confirmed whose it is: "
                                "it is not handed to an agency")
    return None
