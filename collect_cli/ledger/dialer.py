"""A predictive dialer's or voice robot's results: every attempt it made and how it ended.

Columns: loan_id (借据号), at (时间, 拨打时间: a date and time, the configured zone unless it
carries an offset), outcome (结果: reached, no-answer, wrong-number, promise, refused,
dispute, complaint, paid-claim, opt-out, and the dialer's 接通/未接通/空号/承诺还款 …), channel
(voice: an agent on the dialer | robot: a voice robot; default voice), number (号码: the one
dialled; default the borrower's), agent (坐席, 机器人: who or what spoke), recording (录音编号:
REC-3), promise_amount (承诺金额) and promise_on (承诺日期) with a promise, note (备注). A row
that cannot be read goes to the rejects file with its line and why; the rest are taken in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from collect_cli.domain.money import to_minor
from collect_cli.ledger.activity import OUTCOME_ALIASES, OUTCOMES
from collect_cli.ledger.records import Rejected, moment_of, read_rows
from collect_cli.ledger.values import parse_phone

COLUMNS = {
    "loan_id": ("loan_id", "借据号", "贷款编号", "合同号"),
    "at": ("at", "time", "called_at", "时间", "拨打时间", "呼叫时间"),
    "outcome": ("outcome", "result", "结果", "呼叫结果", "通话结果"),
    "channel": ("channel", "kind", "方式", "类型"),
    "number": ("number", "phone", "号码", "电话", "被叫号码"),
    "agent": ("agent", "seat", "robot", "坐席", "机器人", "工号"),
    "recording": ("recording", "录音编号", "录音"),
    "promise_amount": ("promise_amount", "承诺金额"),
    "promise_on": ("promise_on", "承诺日期", "承诺还款日"),
    "note": ("note", "备注", "摘要"),
}
REQUIRED = ("loan_id", "at", "outcome")
CHANNELS = {"voice": "voice", "agent": "voice", "人工": "voice", "robot": "robot", "ai": "robot", "机器人": "robot",
            "智能语音": "robot"}
DIALER_OUTCOMES = {**OUTCOME_ALIASES, "忙线": "no-answer", "关机": "no-answer", "停机": "wrong-number",
                   "拒接": "no-answer", "busy": "no-answer", "no answer": "no-answer", "answered": "reached"}


@dataclass(frozen=True)
class CallResult:
    line: int
    loan_id: str
    at: datetime  # naive UTC
    outcome: str
    channel: str  # voice | robot
    number: str | None
    agent: str
    recording: str | None
    promise_amount: int | None  # minor units
    promise_on: date | None
    note: str | None


def read_results(path: Path, *, zone: ZoneInfo, now: datetime) -> tuple[list[CallResult], list[Rejected]]:
    """(the results in time order, the rows that could not be read)."""
    results, rejected = [], []
    for line, v in read_rows(path, COLUMNS, REQUIRED, "a dialer results file"):
        try:
            results.append(_result(line, v, zone, now))
        except ValueError as exc:
            rejected.append(Rejected(line, v, str(exc)))
    return sorted(results, key=lambda r: (r.at, r.line)), rejected


def _result(line: int, v: dict[str, str], zone: ZoneInfo, now: datetime) -> CallResult:
    if not v["loan_id"] or len(v["loan_id"]) > 64:
        raise ValueError("loan_id: required, at most 64 characters")
    try:
        at = moment_of(v["at"], zone, now)
    except ValueError as exc:
        raise ValueError(f"at: {exc}") from None
    outcome = DIALER_OUTCOMES.get(v["outcome"], DIALER_OUTCOMES.get(v["outcome"].casefold(), v["outcome"].casefold()))
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome: {v['outcome']!r} is not one of {', '.join(OUTCOMES)}")
    channel = CHANNELS.get((v.get("channel") or "voice").casefold())
    if channel is None:
        raise ValueError(f"channel: {v['channel']!r} is not voice or robot")
    number = None
    if v.get("number"):
        try:
            number = parse_phone(v["number"])
        except ValueError as exc:
            raise ValueError(f"number: {exc}") from None
    if len(v.get("agent") or "") > 64:
        raise ValueError("agent: at most 64 characters")
    if len(v.get("recording") or "") > 200:
        raise ValueError("recording: at most 200 characters (a reference, kept as given)")
    amount, on = None, None
    if outcome == "promise":
        try:
            amount = to_minor(Decimal(v.get("promise_amount") or "x"))
            on = date.fromisoformat((v.get("promise_on") or "").replace("/", "-"))
        except (InvalidOperation, ValueError):
            raise ValueError("promise_amount, promise_on: a promise needs the amount and the day "
                             "(e.g. 500.00, 2026-11-25)") from None
        if amount <= 0:
            raise ValueError("promise_amount: more than 0")
    elif v.get("promise_amount") or v.get("promise_on"):
        raise ValueError("promise_amount: only with the outcome promise")
    return CallResult(line, v["loan_id"], at, outcome, channel, number, v.get("agent") or channel,
                      v.get("recording") or None, amount, on, v.get("note") or None)
