"""The audit answers questions (issue 13, item 3): filters by loan, borrower, agent, action and
period, a limit, everything in the order it was recorded, imports and message status changes
included; `import history` lists the batches. Both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.cli.ledger_book import run, send


def audit(cli, *args: str) -> list[dict]:
    r = cli("audit", *args, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_the_audit_filters_and_orders_everything_recorded(cli, book):
    run(cli, "2026-02-01")
    send(cli, "2026-02-01T09:00")
    assert cli("log", "L1", "--channel", "call", "--outcome", "reached", "--now", "2026-02-02T10:00",
               "--agent", "wang").exit_code == 0
    assert cli("hold", "L4", "--reason", "dispute", "--by", "li", "--now", "2026-02-03T10:00").exit_code == 0
    everything = audit(cli, "--limit", "0")
    # in the order recorded, by the real clock (REC-4), whatever the pretend one said
    assert [e["recorded_at"] for e in everything] == sorted(e["recorded_at"] for e in everything)
    assert [e["clock"] for e in everything if e["action"] == "hold"] == ["2026-02-03 02:00:00 UTC"]
    actions = {e["action"] for e in everything}
    assert {"import", "message", "contact", "hold"} <= actions
    imports = audit(cli, "--action", "import")
    assert len(imports) == 2 and all("sha256" in e["detail"] and "read" in e["detail"] for e in imports)
    sent = [e for e in audit(cli, "--action", "message", "--loan", "L1") if "): sent" in e["detail"]]
    assert sent and all(e["loan_id"] == "L1" for e in sent)
    assert {e["agent"] for e in audit(cli, "--agent", "wang")} == {"wang"}
    # B4 has L4 and L5: the borrower's filter takes both, and nothing of another borrower
    assert {e["loan_id"] for e in audit(cli, "--borrower", "B4", "--limit", "0")} <= {"L4", "L5"}
    assert any(e["action"] == "hold" for e in audit(cli, "--borrower", "B4"))
    [hold] = [e for e in everything if e["action"] == "hold"]
    at = datetime.fromisoformat(hold["recorded_at"].removesuffix(" UTC")).replace(tzinfo=UTC)
    local = at.astimezone(ZoneInfo("Asia/Shanghai")).date()  # the period: recorded days, configured zone
    day = audit(cli, "--from", local.isoformat(), "--to", local.isoformat(), "--action", "hold")
    assert [e["loan_id"] for e in day] == ["L4"]
    assert audit(cli, "--from", (local + timedelta(days=1)).isoformat(), "--action", "hold") == []
    assert audit(cli, "--to", (local - timedelta(days=1)).isoformat(), "--action", "hold") == []
    latest = audit(cli, "--limit", "3")
    assert latest == everything[-3:]
    r = cli("audit", "--borrower", "NOBODY")
    assert r.exit_code == 2 and "NOBODY" in r.stderr
    assert cli("audit", "--from", "2026-02-05", "--to", "2026-02-01").exit_code == 2


def test_import_history_lists_the_batches(cli, book):
    r = cli("import", "history", "--format", "json")
    assert r.exit_code == 0, r.stderr
    batches = json.loads(r.stdout)
    assert [b["kind"] for b in batches] == ["installments", "loans"]  # latest first
    assert all(len(b["sha256"]) == 64 and b["operator"] for b in batches)
    assert batches[1]["read"] == batches[1]["inserted"] == 5
    table = cli("import", "history")
    assert table.exit_code == 0 and "Imports (2)" in table.stdout
    assert cli("import", "history", "--format", "csv").stdout.splitlines()[0].startswith("batch,started_at,file")
