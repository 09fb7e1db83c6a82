"""The agency register end to end (AGY-2, AGY-3): only an approved agency under contract,
evaluated with a pass in the last year, receives placements; every change is a version."""

from __future__ import annotations

import json

from tests.cli.ledger_book import acme, placed


def register(cli, *args: str) -> dict[str, dict]:
    r = cli("agencies", "list", "--format", "json", *args)
    assert r.exit_code == 0, r.stderr
    return {a["agency"]: a for a in json.loads(r.stdout)}


def test_an_agency_receives_placements_only_once_evaluated_and_under_contract(cli, book, tmp_path):
    r = cli("escalate", "L1", "--stage", "agency", "--agency", "Nobody")
    assert r.exit_code == 6 and "AGY-2" in r.stderr and "not in the agency register" in r.stderr
    assert cli("agencies", "add", "Acme", "--contract-start", "2026-01-01", "--contract-end", "2026-12-31",
               "--commission", "M2=15%,M3=20%", "--now", "2026-01-01T09:00").exit_code == 0
    r = cli("escalate", "L1", "--stage", "agency", "--agency", "Acme", "--now", "2026-03-01T09:00")
    assert r.exit_code == 6 and "no passing evaluation" in r.stderr
    assert cli("agencies", "evaluate", "ACME", "--compliance", "pass", "--results", "fail", "--security", "pass",
               "--now", "2026-01-05T09:00").exit_code == 0
    assert not register(cli, "--as-of", "2026-03-01")["Acme"]["may_place"]  # a fail counts for nothing
    assert cli("agencies", "evaluate", "Acme", "--compliance", "pass", "--results", "pass", "--security", "pass",
               "--on", "2026-01-10", "--now", "2026-01-10T09:00").exit_code == 0
    listed = register(cli, "--as-of", "2026-03-01")["Acme"]
    assert (listed["may_place"], listed["last_passed"], listed["evaluation_due"]) == (True, "2026-01-10", "2027-01-10")
    assert cli("escalate", "L1", "--stage", "agency", "--agency", "acme", "--now", "2026-02-20T08:00").exit_code == 0
    placed(cli, tmp_path, "L1", on="2026-02-20", agency="ＡＣＭＥ")  # the name as registered, however typed
    r = cli("placements", "export", "--agency", "Acme", "--as-of", "2026-03-05", "--output", str(tmp_path / "a.csv"),
            "--now", "2026-03-05T09:00")
    assert r.exit_code == 0 and "L1" in (tmp_path / "a.csv").read_text(encoding="utf-8-sig")
    # suspended: no new placement; removed: no file either (no written entrustment, AGY-3)
    assert cli("agencies", "edit", "Acme", "--status", "suspended", "--now", "2026-03-06T09:00").exit_code == 0
    assert "suspended" in cli("escalate", "L3", "--stage", "agency", "--agency", "Acme",
                              "--now", "2026-03-06T10:00").stderr
    assert cli("agencies", "edit", "Acme", "--status", "removed", "--now", "2026-03-07T09:00").exit_code == 0
    r = cli("placements", "export", "--agency", "Acme", "--as-of", "2026-03-07", "--output", str(tmp_path / "b.csv"),
            "--now", "2026-03-07T09:00")
    assert r.exit_code == 6 and "AGY-3" in r.stderr and not (tmp_path / "b.csv").exists()
    # a past view shows the register as it was
    assert register(cli, "--as-of", "2026-03-05")["Acme"]["status"] == "approved"


def test_a_contract_that_ended_or_an_evaluation_older_than_a_year_stops_new_placements(cli, book):
    cli("agencies", "add", "Acme", "--contract-start", "2025-01-01", "--contract-end", "2026-02-28",
        "--commission", "61-90=15%,91+=20%", "--now", "2025-01-01T09:00")
    cli("agencies", "evaluate", "Acme", "--compliance", "pass", "--results", "pass", "--security", "pass",
        "--now", "2025-02-01T09:00")
    assert "more than 365 days" in register(cli, "--as-of", "2026-02-02")["Acme"]["why_not"]
    assert "ended on 2026-02-28" in register(cli, "--as-of", "2026-03-01")["Acme"]["why_not"]
    # a renewal needs a pass since the contract was set
    r = cli("agencies", "edit", "Acme", "--contract-end", "2027-02-28", "--now", "2026-02-01T09:00")
    assert r.exit_code == 6 and "AGY-2" in r.stderr
    cli("agencies", "evaluate", "Acme", "--compliance", "pass", "--results", "pass", "--security", "pass",
        "--now", "2026-02-10T09:00")
    assert cli("agencies", "edit", "Acme", "--contract-end", "2027-02-28", "--now", "2026-02-11T09:00").exit_code == 0
    assert register(cli, "--as-of", "2026-03-01")["Acme"]["may_place"]
    audit = [a["action"] for a in json.loads(cli("audit", "--format", "json").stdout)]
    assert [a for a in audit if a.startswith("agency")] == \
        ["agency add", "agency evaluate", "agency evaluate", "agency edit"]


def test_register_input_is_checked(cli, book):
    acme(cli)
    for same in ("acme", "ＡＣＭＥ", " Acme. "):  # one agency under any case, width or punctuation
        assert cli("agencies", "add", same, "--contract-start", "2026-01-01", "--contract-end", "2026-12-31",
                   "--commission", "M3=1%").exit_code == 2, same
    for bad in (["--commission", "M3=60%"], ["--commission", "M9=1%"], ["--status", "great"],
                ["--contract-start", "2026-02-01", "--contract-end", "2026-01-01"]):
        args = {"--contract-start": "2026-01-01", "--contract-end": "2026-12-31", "--commission": "M3=1%"}
        args.update(dict(zip(bad[::2], bad[1::2], strict=True)))
        r = cli("agencies", "add", "Other", *[x for kv in args.items() for x in kv])
        assert r.exit_code == 2 and "Traceback" not in r.stderr, bad
    assert cli("agencies", "evaluate", "Acme", "--compliance", "ok", "--results", "pass",
               "--security", "pass").exit_code == 2
    assert cli("agencies", "evaluate", "Acme", "--compliance", "pass", "--results", "pass", "--security", "pass",
               "--on", "2099-01-01").exit_code == 2
    assert cli("agencies", "edit", "Acme").exit_code == 2  # nothing to change
