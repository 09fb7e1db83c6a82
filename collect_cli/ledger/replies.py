"""The messaging gateway's inbound file: borrowers' replies to SMS (and e-mails to the sender).

Columns: number (号码, 手机号, from: the phone number or e-mail address the reply came from;
"Name <a@b>" is read as the address), at (时间, 接收时间, received_at: a date and time, the
configured zone unless it carries an offset), text (内容, 回复内容, message) and, for e-mail,
subject (主题: read when the mail has no text of its own, as a List-Unsubscribe mail says
STOP there). What the borrower
wrote is what counts: the message they reply to, quoted below it, is cut off (it says
"dispute", "paid" and "Reply STOP" itself). A row that cannot be read is not a reason to lose
the others (a STOP among them must take effect tonight): it goes to the rejects file with
its line and why, the rest are taken in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

from collect_cli.ledger.records import Rejected, moment_of, read_rows
from collect_cli.ledger.values import email_point, parse_phone

COLUMNS = {
    "number": ("number", "from", "phone", "mobile", "号码", "手机号", "手机号码", "发送号码", "来源号码", "email",
               "邮箱"),
    "at": ("at", "time", "received_at", "时间", "接收时间", "回复时间"),
    "text": ("text", "message", "content", "body", "内容", "回复内容", "短信内容"),
    "subject": ("subject", "主题", "邮件主题"),
}
REQUIRED = ("number", "at", "text")
MAX_TEXT = 2000  # what is kept of a long e-mail (its start, where the borrower writes)
# where a reply's quote of the earlier message begins: nothing from there on is the borrower's
_QUOTE = re.compile(r"^\s*(>|-{2,}\s*original message|_{5,}|on .{4,200} wrote:\s*$|(from|发件人|寄件者)\s*[:：]|"
                    r"在.{2,100}写道\s*[:：]?\s*$|-{2,}\s*原始邮件)", re.I | re.M)


@dataclass(frozen=True)
class Reply:
    line: int
    point: str  # the number (E.164) or e-mail address (normalised) it came from
    channel: str  # sms | email: the channel it answers, and so the one a STOP opts out of
    at: datetime  # naive UTC
    text: str


def read_replies(path: Path, *, zone: ZoneInfo, now: datetime) -> tuple[list[Reply], list[Rejected]]:
    """(the replies in time order, the rows that could not be read). A file that is not a
    replies file at all (no such columns, broken CSV) is UnusableInput."""
    replies, rejected = [], []
    for line, v in read_rows(path, COLUMNS, REQUIRED, "a replies file"):
        try:
            replies.append(_reply(line, v, zone, now))
        except ValueError as exc:
            rejected.append(Rejected(line, v, str(exc)))
    return sorted(replies, key=lambda r: (r.at, r.line)), rejected


def own_words(text: str) -> str:
    """The reply without the earlier message it quotes, and at most MAX_TEXT characters."""
    quote = _QUOTE.search(text)
    return (text[:quote.start()] if quote else text).strip()[:MAX_TEXT]


def _reply(line: int, v: dict[str, str], zone: ZoneInfo, now: datetime) -> Reply:
    if "@" in v["number"]:
        point, channel = email_point(parseaddr(v["number"])[1] or v["number"]), "email"
    else:
        try:
            point, channel = parse_phone(v["number"]), "sms"
        except ValueError as exc:
            raise ValueError(f"number: {exc}") from None
    try:
        at = moment_of(v["at"], zone, now)
    except ValueError as exc:
        raise ValueError(f"at: {exc}") from None
    # the subject is ours ("Re: …") unless the mail has no words of its own (a List-Unsubscribe mail)
    said = own_words(v["text"]) or (v.get("subject", "") if channel == "email" else "")
    if not said:
        raise ValueError("text: empty (a reply without words says nothing to act on)")
    return Reply(line, point, channel, at, said)
