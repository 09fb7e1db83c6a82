"""What a message may state about an account: the documented template context.

Plain values only (strings and numbers), computed by the engine for the run's as-of date
(AMT-1). Identifying numbers are masked (SAY-4): the loan is named by its last four
characters, and no phone or ID number is in the context at all.
"""

from __future__ import annotations

from datetime import date

from collect_cli.domain.content import DEBT_NOTICE_PURPOSES, NO_FACTS, MessageFacts
from collect_cli.domain.loan_state import LoanState
from collect_cli.domain.money import fmt_grouped

# name -> what it is; the README and `collect templates lint` use this list.
CONTEXT_DOC = {
    "borrower_name": "the borrower's name",
    "loan_ref": "the loan, masked to its last 4 characters (****0861)",
    "amount_overdue": "overdue amount as of the as-of date, e.g. 1,234.50",
    "as_of": "the date the figures are computed for (YYYY-MM-DD)",
    "days_past_due": "days past due (a whole number)",
    "next_due_on": "the next due date not yet overdue (YYYY-MM-DD), or empty",
    "next_due_amount": "what is due on next_due_on, e.g. 688.35",
    "outstanding_principal": "principal not yet repaid, e.g. 8,489.99",
    "overdue_principal": "of amount_overdue: principal",
    "overdue_interest": "of amount_overdue: interest",
    "overdue_fees": "of amount_overdue: fees",
    "penalty_interest": "penalty interest accrued by the as-of date, stated apart (0.00 when the product has none)",
    "creditor_name": "the lender (configuration, per language)",
    "service_phone": "the service line (configuration)",
    "payment_channels": "how to pay (configuration, per language)",
    "dispute_channel": "how to query or dispute the account (configuration, per language)",
    "address": "the borrower's postal address (letters)",
    "disclosure": "sentences the rule set requires (us: SAY-3 debt-collection notice and opt-out); "
                  "empty under cn",
    "transfer_party": "the creditor the loan is transferred (sold) to, or empty (XFER-1, transfer notices)",
    "transfer_on": "the day the transfer takes effect (YYYY-MM-DD), or empty",
    # facts of the records (SAY-8): a message states that something happened only under them
    "letter_sent_on": "the day a letter of this delinquency episode was last sent (YYYY-MM-DD), or empty",
    "formal_letter_sent_on": "the day a formal notice letter of this episode was sent, or empty",
    "final_letter_sent_on": "the day a final demand letter of this episode was sent, or empty",
    "notices_sent": "how many collection messages of this episode were sent before this one",
    "agency": "the agency the account is placed with, or empty",
    "time_barred": "true when the limitation period has run out (LIM-1): then no word of legal action (SAY-7)",
    "payment_link": "the message's own link to the payment page (messaging.payment_url, a signed token that "
                    "expires), or empty when no payment page is configured",
    # the answer to a case (case_answer letters; empty elsewhere)
    "case_answer": "the answer to the borrower's dispute or complaint, as the case's owner wrote it",
    "case_received_on": "the day the dispute or complaint was received (YYYY-MM-DD)",
    "case_kind": "dispute, bureau-dispute or complaint",
    "case_id": "the case's number",
    # the placement notice (agency_notice; empty elsewhere)
    "placement_agency": "the outside agency the account is to be placed with (AGY-1)",
    "placement_from": "the first day it may be placed (YYYY-MM-DD): placements.notice_days after the notice",
    # the lawyer's letter (lawyer_letter; empty elsewhere)
    "legal_lawyer": "the law firm acting for the lender in the legal case",
}
NEUTRAL_NAME = {"zh_CN": "客户", "en": "Customer"}  # the salutation when the name on file cannot stand
# The engine's values: what a message states about the account, kept with it to be checked
# again at send time (AMT-3), apart from texts of the configuration and fields of the ledger.
ENGINE_FIELDS = ("loan_ref", "amount_overdue", "as_of", "days_past_due", "next_due_on", "next_due_amount",
                 "outstanding_principal", "overdue_principal", "overdue_interest", "overdue_fees", "penalty_interest")
FIGURES = ("amount_overdue", "next_due_on", "next_due_amount", "outstanding_principal", "overdue_principal",
           "overdue_interest", "overdue_fees", "penalty_interest")


def disclosure(*, rules: str, locale: str, purpose: str | None, channel: str | None) -> str:
    """SAY-3 (us): the mini-Miranda in collection messages, an opt-out in every SMS, email and push.
    Starts with a space so a template can put it right after a sentence."""
    if rules != "us":
        return ""
    zh = locale == "zh_CN"
    parts = []
    if purpose in DEBT_NOTICE_PURPOSES and channel != "push":  # a lock screen tells no one of a debt
        if zh:
            parts.append("本信息用于催收债务。")
        elif channel == "letter":
            parts.append("This is an attempt to collect a debt; any information obtained will be used for that purpose.")
        else:
            parts.append("This is an attempt to collect a debt.")
    if channel in ("sms", "email"):
        parts.append("回复STOP退订。" if zh else "Reply STOP to opt out.")
    elif channel == "push":  # a push cannot be answered: the app's setting is the opt-out
        parts.append("如需退订，可在APP设置中关闭推送。" if zh else "To opt out, turn off notifications in the app.")
    return ("" if zh else " ").join(["", *parts]) if parts else ""


def mask_loan_id(loan_id: str) -> str:
    return "****" + loan_id[-4:]


def overdue_parts(state: LoanState) -> tuple[int, int, int]:
    """(principal, interest, fees) unpaid on the overdue installments."""
    principal = interest = fees = 0
    for p in state.positions:
        inst = p.installment
        if inst.due_on < state.as_of:
            principal += inst.principal_due - p.principal_paid
            interest += inst.interest_due - p.interest_paid
            fees += inst.fee_due - p.fee_paid
    return principal, interest, fees


def facts_context(facts: MessageFacts) -> dict:
    day = lambda d: d.isoformat() if d else ""  # noqa: E731
    return {
        "letter_sent_on": day(facts.letter_sent_on),
        "formal_letter_sent_on": day(facts.formal_letter_sent_on),
        "final_letter_sent_on": day(facts.final_letter_sent_on),
        "notices_sent": facts.notices_sent,
        "agency": facts.placed_with or "",
        "time_barred": facts.time_barred,
    }


def engine_values(loan_id: str, state: LoanState, penalty: int = 0) -> dict:
    """What the engine says of the account on `state.as_of`, as messages state it (ENGINE_FIELDS)."""
    principal, interest, fees = overdue_parts(state)
    return {
        "loan_ref": mask_loan_id(loan_id),
        "amount_overdue": fmt_grouped(state.overdue),
        "as_of": state.as_of.isoformat(),
        "days_past_due": state.dpd,
        "next_due_on": state.next_due_on.isoformat() if state.next_due_on else "",
        "next_due_amount": fmt_grouped(state.next_due_amount),
        "outstanding_principal": fmt_grouped(state.outstanding_principal),
        "overdue_principal": fmt_grouped(principal),
        "overdue_interest": fmt_grouped(interest),
        "overdue_fees": fmt_grouped(fees),
        "penalty_interest": fmt_grouped(penalty),
    }


def sample_context(*, locale: str, creditor_name: str, service_phone: str, payment_channels: str,
                   dispute_channel: str, disclosure: str, penalty: bool = False,
                   facts: MessageFacts = NO_FACTS, payment_link: str = "") -> dict:
    """A worst case for length checks: long name, six-figure amounts (and a penalty, when
    some product charges one). The figures differ from each other, so that a check for one
    of them is not satisfied by another."""
    return {
        "borrower_name": "欧阳慕容雪晴" if locale == "zh_CN" else "Alexandra Montgomery-Smith",
        "loan_ref": "****9999",
        "amount_overdue": "987,654.32",
        "as_of": date(2026, 12, 28).isoformat(),
        "days_past_due": 999,
        "next_due_on": date(2026, 12, 31).isoformat(),
        "next_due_amount": "876,543.21",
        "outstanding_principal": "9,876,543.21",
        "overdue_principal": "765,432.10",
        "overdue_interest": "98,765.43",
        "overdue_fees": "8,765.43",
        "penalty_interest": "87,654.32" if penalty else "0.00",
        "creditor_name": creditor_name,
        "service_phone": service_phone,
        "payment_channels": payment_channels,
        "dispute_channel": dispute_channel,
        "address": "上海市浦东新区世纪大道100号环球金融中心50层5001室" if locale == "zh_CN"
                   else "Suite 5001, 100 Century Avenue, Pudong, Shanghai",
        "disclosure": disclosure,
        "transfer_party": "上海浦江资产管理股份有限公司" if locale == "zh_CN" else "Pujiang Asset Management Co., Ltd.",
        "transfer_on": date(2026, 12, 30).isoformat(),
        "payment_link": payment_link,
        **facts_context(facts),
        **COMMAND_SAMPLE[locale if locale in COMMAND_SAMPLE else "zh_CN"],
    }


COMMAND_DEFAULTS = {"case_answer": "", "case_received_on": "", "case_kind": "", "case_id": "", "placement_agency": "",
                    "placement_from": "", "legal_lawyer": ""}
COMMAND_SAMPLE = {
    "zh_CN": {"case_answer": "经核实，您于2026年10月5日的还款已于当日入账，逾期金额已据此更正。", "case_received_on": "2026-12-01",
              "case_kind": "dispute", "case_id": 99999, "placement_agency": "上海浦江商务咨询服务有限公司",
              "placement_from": "2026-12-29", "legal_lawyer": "上海市浦江律师事务所"},
    "en": {"case_answer": "We checked your account: your payment of 5 October 2026 was received that day and the "
                          "overdue amount has been corrected.", "case_received_on": "2026-12-01",
           "case_kind": "dispute", "case_id": 99999, "placement_agency": "Pujiang Business Services Co., Ltd.",
           "placement_from": "2026-12-29", "legal_lawyer": "Pujiang Law Firm"},
}
