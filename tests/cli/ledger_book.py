"""A small ledger for the reminder and collector tests, and helpers to drive the CLI."""

from __future__ import annotations

import json

LOANS = """loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,address,locale,timezone,annual_rate
L1,B1,王小明,13800000001,300,2025-12-31,上海市黄浦区1号,zh_CN,,0.18
L2,B2,李四,13800000002,300,2025-12-31,,zh_CN,,0.18
L3,B3,Amy Chen,13800000003,300,2025-12-31,1 Main St,en,America/Los_Angeles,0.18
L4,B4,赵六,13800000004,300,2025-12-31,北京市1号,zh_CN,,0.18
L5,B4,赵六,13800000004,300,2025-12-31,北京市1号,zh_CN,,
"""


def schedule(loan: str) -> str:
    return "".join(f"{loan},{i},{d},100,5,\n" for i, d in enumerate(("2026-01-31", "2026-02-28", "2026-03-31"), 1))


INSTALLMENTS = "loan_id,seq,due_on,principal_due,interest_due,fee_due\n" + "".join(
    schedule(f"L{i}") for i in range(1, 6))


def pay(cli, tmp_path, *rows: str) -> None:
    f = tmp_path / f"pay-{abs(hash(rows))}.csv"
    f.write_text("payment_id,loan_id,paid_on,amount\n" + "\n".join(rows) + "\n", encoding="utf-8")
    assert cli("import", str(f)).exit_code == 0


def run(cli, as_of: str, *extra: str, code: int = 0) -> dict:
    r = cli("run-reminders", "--as-of", as_of, "--now", f"{as_of}T02:00", "--format", "json", *extra)
    assert r.exit_code == code, r.stderr + r.stdout
    return json.loads(r.stdout)


def outbox(cli, loan: str | None = None) -> list[dict]:
    args = ["outbox", "--limit", "0", "--format", "json"] + (["--loan", loan] if loan else [])
    return json.loads(cli(*args).stdout)


def steps(cli, loan: str) -> set[tuple[str, str]]:
    return {(m["step"], m["status"]) for m in outbox(cli, loan)}


def send(cli, at: str) -> dict:
    r = cli("send", "--now", at, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def acme(cli, name: str = "Acme") -> None:
    """An agency the register lets receive placements (AGY-2): under contract, evaluated on 2026-01-01."""
    r = cli("agencies", "add", name, "--contract-start", "2020-01-01", "--contract-end", "2099-12-31",
            "--commission", "M1=10%,M2=15%,M3=20%,M4=20%,M5=25%,M6=25%,M7+=30%", "--now", "2026-01-01T09:00")
    assert r.exit_code == 0, r.stderr
    r = cli("agencies", "evaluate", name, "--compliance", "pass", "--results", "pass", "--security", "pass",
            "--now", "2026-01-01T09:05")
    assert r.exit_code == 0, r.stderr


def placed(cli, tmp_path, *loans: str, on: str = "2026-02-20", agency: str = "Acme",
           channel: str = "letter") -> dict[str, str]:
    """The loans escalated to the agency and proposed on `on`, their notices sent (09:00 that
    day in Shanghai and in Los Angeles), and placed 7 days later (AGY-1); what `propose` left
    out, by loan, with why."""
    from datetime import date, timedelta

    for loan in loans:
        assert cli("escalate", loan, "--stage", "agency", "--agency", agency, "--now", f"{on}T09:00").exit_code == 0
    r = cli("placements", "propose", "--agency", agency, "--as-of", on, "--now", f"{on}T09:05", "--format", "json",
            "--channel", channel, *[x for loan in loans for x in ("--loan", loan)])
    assert r.exit_code == 0, r.stderr
    left_out = {x["loan_id"]: x["left_out"] for x in json.loads(r.stdout) if x["left_out"]}
    send(cli, f"{on}T10:00")
    send(cli, f"{date.fromisoformat(on) + timedelta(days=1)}T01:00")  # 09:00 the day before in Los Angeles
    later = date.fromisoformat(on) + timedelta(days=7)
    r = cli("placements", "place", "--agency", agency, "--output", str(tmp_path / f"placed-{later}.csv"),
            "--now", f"{later}T09:00")
    assert r.exit_code == 0, r.stderr
    return left_out
