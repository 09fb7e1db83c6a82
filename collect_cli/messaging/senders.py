"""Senders: the file spool (default), an HTTP gateway (SMS, app push) and SMTP email.

An e-mail's body is its subject line, a blank line and the text (domain.email); SMTP sends the
text with an HTML part made from it, and a List-Unsubscribe header (RFC 2369/8058).

Each send carries an idempotency key (the message id and a hash of its text), so a retry
after a crash between "provider accepted" and "marked sent" delivers nothing twice: the HTTP
gateway gets it as `Idempotency-Key`, SMTP in the Message-ID, and the file spool skips a key
it already holds. A message re-queued later with new figures has a new key.

Outcomes: "sent"; "failed" when the provider refuses the message itself (4xx, a refused
recipient), final; "retry" when the provider or the way to it is down (5xx, timeout, no
connection, a full disk), so the message stays queued for the next `send`.
"""

from __future__ import annotations

import hashlib
import json
import os
import smtplib
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from collect_cli.domain.email import html_part
from collect_cli.domain.headed import HEADS, split


@dataclass(frozen=True)
class Outgoing:
    id: int
    loan_id: str
    channel: str
    recipient: str
    body: str
    signature: str
    template: str
    as_of: date
    locale: str = "zh_CN"

    @property
    def key(self) -> str:
        return f"{self.id}-{hashlib.sha256(self.body.encode()).hexdigest()[:12]}"


@dataclass(frozen=True)
class Outcome:
    status: str  # "sent" | "failed" | "retry"
    attempts: int
    provider_ref: str | None = None
    reason: str | None = None


def _write_private(path: Path, data: bytes) -> None:
    """Spool files hold personal data: created owner-only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class FileSender:
    """SMS, email and push: one JSON line per message in <spool>/<channel>-<day>.jsonl; letters: one
    HTML file each in <spool>/letters/<day>/, ready to print."""

    def __init__(self, spool_dir: Path, day: date):
        self.spool = spool_dir
        self.day = day
        self._seen: dict[Path, set[str]] = {}
        self._open: dict[Path, int] = {}  # spool file -> descriptor, kept open for a batch

    def flush(self) -> None:
        """Make what was written durable; called before the batch is marked sent."""
        for fd in self._open.values():
            os.fsync(fd)
            os.close(fd)
        self._open.clear()

    def send(self, msg: Outgoing) -> Outcome:
        try:
            if msg.channel == "letter":
                return self._letter(msg)
            return self._line(msg)
        except OSError as exc:
            return Outcome("retry", 1, reason=f"spool: {exc.strerror}: {exc.filename}")

    def _line(self, msg: Outgoing) -> Outcome:
        self.spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.spool / f"{msg.channel}-{self.day.isoformat()}.jsonl"
        if path not in self._seen:  # read once per run: the ids a crashed run already wrote
            self._seen[path] = self._ids_in(path)
        seen = self._seen[path]
        if msg.key not in seen:
            record = {"id": msg.id, "key": msg.key, "loan_id": msg.loan_id, "channel": msg.channel, "to": msg.recipient,
                      "signature": msg.signature, "body": msg.body, "template": msg.template,
                      "as_of": msg.as_of.isoformat(), **_headed_fields(msg)}
            if path not in self._open:
                self._open[path] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.write(self._open[path], (json.dumps(record, ensure_ascii=False) + "\n").encode())
            seen.add(msg.key)
        return Outcome("sent", 1, provider_ref=f"{path.name}#{msg.key}")

    @staticmethod
    def _ids_in(path: Path) -> set[str]:
        if not path.exists():
            return set()
        ids = set()
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    ids.add(json.loads(line)["key"])
                except (ValueError, KeyError):
                    continue  # a line cut by a crash; its message is sent again
        return ids

    def _letter(self, msg: Outgoing) -> Outcome:
        folder = self.spool / "letters" / self.day.isoformat()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / f"{msg.key}-{msg.loan_id}.html"
        tmp = path.with_suffix(".tmp")
        _write_private(tmp, msg.body.encode("utf-8"))
        os.replace(tmp, path)  # the same key always lands in the same file: no duplicate letter
        return Outcome("sent", 1, provider_ref=path.name)


class HttpSender:
    """POST JSON to a gateway (SMS, app push: each channel its URL); a push carries its title
    and text apart. 2xx: sent (the gateway's id as reference); 4xx: failed at
    once; 5xx, timeout or no connection: retried with exponential backoff, then failed."""

    def __init__(self, url: str, *, timeout: float, max_attempts: int, backoff_seconds: float = 0.5):
        self.url = url
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff = backoff_seconds

    def flush(self) -> None:
        """Each request is complete when it returns."""

    def send(self, msg: Outgoing) -> Outcome:
        payload = json.dumps({"id": msg.id, "channel": msg.channel, "to": msg.recipient,
                              "signature": msg.signature, "body": msg.body, **_headed_fields(msg)},
                             ensure_ascii=False).encode()
        reason = ""
        for attempt in range(1, self.max_attempts + 1):
            request = urllib.request.Request(
                self.url, data=payload, method="POST",
                headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": msg.key})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                    return Outcome("sent", attempt, provider_ref=self._reference(resp.read(), msg.id))
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:200].decode("utf-8", "replace")
                if 400 <= exc.code < 500:
                    return Outcome("failed", attempt, reason=f"HTTP {exc.code}: {detail}")
                reason = f"HTTP {exc.code}: {detail}"
            except (urllib.error.URLError, socket.timeout, ConnectionError) as exc:
                reason = f"{getattr(exc, 'reason', exc)}"
            if attempt < self.max_attempts:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        return Outcome("retry", self.max_attempts, reason=f"gateway down after {self.max_attempts} attempts: {reason}")

    @staticmethod
    def _reference(body: bytes, msg_id: int) -> str:
        try:
            data = json.loads(body or b"{}")
            return str(data.get("id") or data.get("reference") or msg_id)
        except ValueError:
            return str(msg_id)


def _headed_fields(msg: Outgoing) -> dict:
    """An e-mail's subject or a push's title, and the text, apart, for a spool reader or a gateway."""
    if msg.channel not in HEADS:
        return {}
    head, text = split(msg.body)
    return {HEADS[msg.channel]: head, "text": text}


class SmtpSender:
    """Email through an SMTP server; the Message-ID carries the message id. `unsubscribe`: the
    List-Unsubscribe address (mailto: or https:; one-click, RFC 8058, for an https one)."""

    def __init__(self, host: str, port: int, sender: str, timeout: float = 30, unsubscribe: str | None = None):
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self.unsubscribe = unsubscribe or f"mailto:{sender}?subject=STOP"

    def flush(self) -> None:
        """Each mail is handed over when send returns."""

    def send(self, msg: Outgoing) -> Outcome:
        subject, text = split(msg.body)
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = msg.recipient
        mail["Subject"] = subject
        mail["Message-ID"] = f"<collect-{msg.key}@{self.sender.partition('@')[2] or 'collect'}>"
        mail["List-Unsubscribe"] = f"<{self.unsubscribe}>"
        if self.unsubscribe.startswith("https:"):
            mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(text)
        mail.add_alternative(html_part(msg.body, lang=msg.locale), subtype="html")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return Outcome("failed", 1, reason=f"SMTP refused the recipient: {exc.recipients}")
        except (smtplib.SMTPException, OSError) as exc:
            return Outcome("retry", 1, reason=f"SMTP: {exc}")
        return Outcome("sent", 1, provider_ref=mail["Message-ID"])
