"""An agency's activity file: the calls, visits and messages its collectors made on the
accounts placed with it, to go into the contact log under the same call rules (WHEN-1..3).

Columns: loan_id (借据号), at (联系时间, 时间: a date and time, the configured zone unless it
carries an offset), channel (方式: call | visit), outcome (结果: reached, no-answer,
wrong-number, promise, refused, dispute, complaint, paid-claim, opt-out), number (号码, the one
dialled; default the borrower's), collector (催收员), note (备注), recording (录音编号: REC-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from collect_cli.ledger.records import bad_row, moment_of, read_rows
from collect_cli.ledger.values import parse_phone

COLUMNS = {
    "loan_id": ("loan_id", "借据号", "贷款编号", "合同号"),
    "at": ("at", "time", "联系时间", "时间", "拨打时间"),
    "channel": ("channel", "方式", "渠道", "联系方式"),
    "outcome": ("outcome", "结果", "联系结果"),
    "number": ("number", "phone", "号码", "电话", "拨打号码"),
    "collector": ("collector", "agent", "催收员", "坐席", "工号"),
    "note": ("note", "备注"),
    "recording": ("recording", "录音编号", "录音"),
}
REQUIRED = ("loan_id", "at", "channel", "outcome")
CHANNELS = {"call": "call", "visit": "visit", "电话": "call", "外访": "visit"}
OUTCOMES = ("reached", "no-answer", "wrong-number", "promise", "refused", "dispute", "complaint", "paid-claim",
            "opt-out")
OUTCOME_ALIASES = {"接通": "reached", "未接通": "no-answer", "无人接听": "no-answer", "空号": "wrong-number",
                   "错号": "wrong-number", "承诺还款": "promise", "拒绝还款": "refused", "异议": "dispute",
                   "投诉": "complaint", "称已还款": "paid-claim", "拒绝联系": "opt-out"}


@dataclass(frozen=True)
class ActivityRow:
    line: int
    loan_id: str
    at: datetime  # naive UTC
    channel: str
    outcome: str
    number: str | None
    collector: str
    note: str | None
    recording: str | None


def read_activity(path: Path, *, zone: ZoneInfo, now: datetime) -> list[ActivityRow]:
    """Every row in time order, or UnusableInput naming the first bad one."""
    rows = []
    for line, v in read_rows(path, COLUMNS, REQUIRED, "an agency activity file"):
        if not v["loan_id"] or len(v["loan_id"]) > 64:
            raise bad_row(path, line, "loan_id", "required, at most 64 characters")
        try:
            at = moment_of(v["at"], zone, now)
        except ValueError as exc:
            raise bad_row(path, line, "at", str(exc)) from None
        channel = CHANNELS.get(v["channel"].casefold())
        if channel is None:
            raise bad_row(path, line, "channel", f"{v['channel']!r} is not one of call, visit")
        outcome = OUTCOME_ALIASES.get(v["outcome"], v["outcome"].casefold())
        if outcome not in OUTCOMES:
            raise bad_row(path, line, "outcome", f"{v['outcome']!r} is not one of {', '.join(OUTCOMES)}")
        if len(v.get("recording") or "") > 200:
            raise bad_row(path, line, "recording", "at most 200 characters (a reference, kept as given)")
        number = None
        if v.get("number"):
            try:
                number = parse_phone(v["number"])
            except ValueError as exc:
                raise bad_row(path, line, "number", str(exc)) from None
        if len(v.get("collector") or "") > 64:
            raise bad_row(path, line, "collector", "at most 64 characters")
        rows.append(ActivityRow(line, v["loan_id"], at, channel, outcome, number, v.get("collector") or "",
                                v.get("note") or None, v.get("recording") or None))
    return sorted(rows, key=lambda r: (r.at, r.line))
