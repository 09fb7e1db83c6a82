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


EMAIL_BODY = ("示例消费金融账户通知（借款****0001）\n\n王<b>小明</b>您好：\n截至2026-02-01，逾期金额1,234.50元。\n\n"
              "请通过 https://pay.lender.example/p?t=abc&x=1 还款。")


def smtp_server():
    """A real SMTP server on a free local port, and the messages it received."""
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
    return controller, port, received


@pytest.mark.parametrize("unsubscribe", [None, "https://lender.example/u/42"])
def test_smtp_sends_the_subject_the_text_and_the_same_text_as_html(unsubscribe):
    import email
    from email import policy

    controller, port, received = smtp_server()
    mail = Outgoing(**{**MSG.__dict__, "channel": "email", "recipient": "ming@example.com", "body": EMAIL_BODY})
    try:
        out = SmtpSender("127.0.0.1", port, "collections@lender.example", unsubscribe=unsubscribe).send(mail)
    finally:
        controller.stop()
    assert out.status == "sent" and out.provider_ref == f"<collect-{mail.key}@lender.example>"
    [env] = received
    assert env.rcpt_tos == ["ming@example.com"]
    got = email.message_from_bytes(env.content, policy=policy.default)
    assert got["Message-ID"] == f"<collect-{mail.key}@lender.example>"  # a retry is recognised by it
    assert got["Subject"] == "示例消费金融账户通知（借款****0001）"
    if unsubscribe:  # RFC 8058: one click on an https address
        assert got["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    else:  # a reply with STOP to the sender, which `replies import` takes in
        assert got["List-Unsubscribe"] == "<mailto:collections@lender.example?subject=STOP>"
        assert got["List-Unsubscribe-Post"] is None
    text = got.get_body(("plain",)).get_content()
    html = got.get_body(("html",)).get_content()
    assert text.startswith("王<b>小明</b>您好") and "示例消费金融账户通知" not in text  # the subject is apart
    # the HTML says what the text says, ledger values escaped: a name cannot add markup
    assert "王&lt;b&gt;小明&lt;/b&gt;您好：<br>" in html and "<b>" not in html
    assert '<a href="https://pay.lender.example/p?t=abc&amp;x=1">' in html
    assert "逾期金额1,234.50元" in html and '<html lang="zh-CN">' in html


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
