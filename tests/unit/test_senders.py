"""The senders against real local servers: an HTTP gateway and an SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from datetime import date

import pytest

from collect_cli.messaging.senders import FileSender, HttpSender, Outgoing, SmtpSender
from tests.servers import Gateway

MSG = Outgoing(id=42, loan_id="L1", channel="sms", recipient="+8613800000001", body="您好，请还款。",
               signature="示例消费金融", template="sms/m1_notice.zh_CN.j2", as_of=date(2026, 2, 1))


@pytest.fixture
def gateway(request):
    gw = Gateway(request.param)
    yield gw
    gw.close()


def sender(gw: Gateway, attempts: int = 4) -> HttpSender:
    return HttpSender(gw.url, timeout=1, max_attempts=attempts, backoff_seconds=0.01)


@pytest.mark.parametrize("gateway", [[]], indirect=True)
def test_http_2xx_is_sent_with_the_gateways_reference_and_an_idempotency_key(gateway):
    out = sender(gateway).send(MSG)
    assert (out.status, out.attempts, out.provider_ref) == ("sent", 1, "gw-42")
    headers, body = gateway.requests[0]
    assert headers["Idempotency-Key"] == MSG.key and MSG.key.startswith("42-")
    assert body == {"id": 42, "channel": "sms", "to": "+8613800000001", "signature": "示例消费金融",
                    "body": "您好，请还款。"}


@pytest.mark.parametrize("gateway", [[503, 500]], indirect=True)
def test_http_5xx_is_retried_with_the_same_key(gateway):
    out = sender(gateway).send(MSG)
    assert (out.status, out.attempts) == ("sent", 3)
    assert {h["Idempotency-Key"] for h, _ in gateway.requests} == {MSG.key}


@pytest.mark.parametrize("gateway", [[500] * 10], indirect=True)
def test_http_down_after_max_attempts_is_retried_later_not_failed(gateway):
    out = sender(gateway, attempts=3).send(MSG)
    assert (out.status, out.attempts) == ("retry", 3)
    assert "gateway down after 3 attempts" in out.reason and "HTTP 500" in out.reason
    assert len(gateway.requests) == 3


@pytest.mark.parametrize("gateway", [[400]], indirect=True)
def test_http_4xx_fails_at_once(gateway):
    out = sender(gateway).send(MSG)
    assert (out.status, out.attempts) == ("failed", 1) and out.reason.startswith("HTTP 400")
    assert len(gateway.requests) == 1


@pytest.mark.parametrize("gateway", [["slow"]], indirect=True)
def test_http_timeout_is_retried(gateway):
    out = sender(gateway).send(MSG)
    assert out.status == "sent" and out.attempts == 2


def test_http_no_server_is_retried_later():
    out = HttpSender("http://127.0.0.1:9/none", timeout=1, max_attempts=2, backoff_seconds=0.01).send(MSG)
    assert (out.status, out.attempts) == ("retry", 2)


def test_smtp_against_a_local_server():
    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # a free port (aiosmtpd cannot report one it picked itself)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        email = Outgoing(**{**MSG.__dict__, "channel": "email", "recipient": "ming@example.com"})
        out = SmtpSender("127.0.0.1", port, "collections@lender.example").send(email)
    finally:
        controller.stop()
    assert out.status == "sent" and out.provider_ref == f"<collect-{MSG.key}@lender.example>"
    [env] = received
    assert env.rcpt_tos == ["ming@example.com"]
    assert f"Message-ID: <collect-{MSG.key}@lender.example>".encode() in env.content


def test_smtp_unreachable_is_retried_later_not_a_crash():
    out = SmtpSender("127.0.0.1", 9, "x@example.com", timeout=2).send(MSG)
    assert out.status == "retry" and out.reason.startswith("SMTP")


def test_file_spool_skips_a_key_it_already_holds(tmp_path):
    for _ in range(2):  # the second time: a retry after a crash, in a new process
        sender = FileSender(tmp_path, date(2026, 2, 1))
        sender.send(MSG)
        sender.flush()
    lines = (tmp_path / "sms-2026-02-01.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["id"] == 42
    corrected = Outgoing(**{**MSG.__dict__, "body": "您好，新的金额。"})  # same id, new figures: sent
    sender = FileSender(tmp_path, date(2026, 2, 1))
    sender.send(corrected)
    sender.flush()
    assert len((tmp_path / "sms-2026-02-01.jsonl").read_text(encoding="utf-8").splitlines()) == 2
