"""The CLI as a user meets it: help, configuration, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from collect_cli.cli.app import app

runner = CliRunner()


def all_commands():
    root = get_command(app)

    def walk(cmd, path):
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, [*path, name])

    return [pytest.param(path, id=" ".join(path) or "collect") for path, _ in walk(root, [])]


@pytest.mark.parametrize("path", all_commands())
def test_every_command_has_help_with_an_example(path):
    r = runner.invoke(app, [*path, "--help"])
    assert r.exit_code == 0, r.output
    assert "Example" in r.stdout, f"collect {' '.join(path)} --help has no example"


def test_global_options_name_their_environment_variables():
    out = runner.invoke(app, ["--help"]).stdout
    assert "COLLECT_DB" in out and "COLLECT_CONFIG" in out


def test_python_dash_m_runs_the_same_cli():
    r = subprocess.run([sys.executable, "-m", "collect_cli", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("collect ")


def test_a_command_that_reads_creates_no_store(tmp_path):
    """A typo in --db is an error naming the path (exit 2), not an empty book printed as zeros."""
    missing = tmp_path / "sampel.db"
    for args in (["report", "buckets"], ["queue"], ["account", "L1"], ["outbox"], ["audit"], ["db", "current"],
                 ["run-reminders", "--dry-run"], ["hold", "L1", "--reason", "dispute"]):
        r = runner.invoke(app, ["--db", str(missing), *args])
        assert r.exit_code == 2 and str(missing) in r.stderr and "does not exist" in r.stderr, (args, r.stderr)
        assert not missing.exists()
    missing.touch()  # a file that holds no store: refused as well
    r = runner.invoke(app, ["--db", str(missing), "report", "buckets"])
    assert r.exit_code == 2 and "holds no collect store" in r.stderr


def test_new_database_is_created_and_migrated_on_first_use(cli):
    assert "head" in cli("db", "upgrade").stdout
    r = cli("report", "buckets", "--as-of", "2026-01-31", "--format", "json")
    assert r.exit_code == 0, r.stderr
    report = json.loads(r.stdout)
    assert [b["accounts"] for b in report["buckets"]] == [0] * 8
    assert (report["total"]["bucket"], report["total"]["accounts"], report["closed_loans"]) == ("total", 0, 0)
    assert "up to date" in cli("db", "current").stdout
    assert "head" in cli("db", "upgrade").stdout


def test_db_from_environment(tmp_path):
    db = tmp_path / "env.db"
    r = runner.invoke(app, ["db", "upgrade"], env={"COLLECT_DB": str(db)})
    assert r.exit_code == 0 and db.exists()
    assert oct(db.stat().st_mode & 0o777) == "0o600"  # personal data: owner only


def test_database_folder_missing_is_a_clean_error(tmp_path):
    r = runner.invoke(app, ["--db", str(tmp_path / "no" / "such" / "x.db"), "report", "buckets"])
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and "does not exist" in r.stderr


def test_password_of_a_database_url_is_never_printed():
    r = runner.invoke(app, ["--db", "postgresql://u:s3cret@127.0.0.1:1/none", "report", "buckets"])
    assert r.exit_code == 1 and "Error:" in r.stderr
    assert "s3cret" not in r.stderr + r.stdout


@pytest.mark.parametrize("args,message", [
    (["report", "buckets", "--as-of", "2026-02-30"], "not a real date"),
    (["report", "accounts", "--as-of", "2026-01-31", "--bucket", "M9"], "not a configured bucket"),
    (["queue", "--limit", "-1"], "--limit"),
    (["import", "x.csv", "--kind", "people"], "--kind"),
    (["log", "L1", "--channel", "call", "--outcome", "promise", "--promise", "1e309", "--on", "2026-02-01"],
     "--promise"),
    (["log", "L1", "--channel", "call", "--outcome", "promise", "--promise", "-5", "--on", "2026-02-01"],
     "--promise"),
    (["log", "L1", "--channel", "call", "--outcome", "promise", "--promise", "100", "--on", "0000-00-00"], "--on"),
    (["log", "L1", "--channel", "telepathy", "--outcome", "reached"], "--channel"),
    (["log", "L1", "--channel", "call", "--outcome", "reached", "--now", "yesterday"], "--now"),
    (["hold", "L1", "--reason", "bored"], "--reason"),
    (["hold", "L1", "--reason", "dispute", "--until", "2026-13-01"], "--until"),
    (["run-reminders", "--as-of", "31/01/2026"], "ambiguous"),
    (["report", "rolls", "--from", "2026-03-01", "--to", "2026-02-01"], "--from"),
    (["bureau", "export", "--as-of", "2026-02-01", "--output", "/no/such/folder/b.csv"], "/no/such/folder"),
    (["plan", "L1", "--installments", "0"], "--installments"),
])
def test_bad_option_values_exit_2(cli, args, message):
    assert cli("db", "upgrade").exit_code == 0
    r = cli(*args)
    assert r.exit_code == 2, r.output
    assert message in r.stderr and "Traceback" not in r.stderr


def test_configuration_file(tmp_path, cli):
    (tmp_path / "collect.toml").write_text(
        'timezone = "Asia/Shanghai"\ngrace_days = 3\n'
        '[[buckets]]\nname = "current"\nmin = 0\nmax = 0\n'
        '[[buckets]]\nname = "late"\nmin = 1\n'
        '[[strategy]]\nstep = "notice"\nbucket = "late"\nmin_days = 1\nchannel = "sms"\ntemplate = "m1_notice"\n',
        encoding="utf-8")
    assert cli("db", "upgrade").exit_code == 0
    r = cli("report", "buckets", "--as-of", "2026-01-31", "--format", "json")
    assert [b["bucket"] for b in json.loads(r.stdout)["buckets"]] == ["current", "late"]


@pytest.mark.parametrize("toml,key", [
    ('grace_day = 3', "grace_day"),
    ('grace_days = "3"', "grace_days"),
    ('timezone = "Mars/Base"', "timezone"),
    ('[[buckets]]\nname = "a"\nmin = 1\n', "buckets"),
    ('[[buckets]]\nname = "a"\nmin = 0\nmax = 0\n[[buckets]]\nname = "b"\nmin = 2\n', "buckets"),
    ('[queue]\ndpd_weigth = 5', "queue.dpd_weigth"),
    ('grace_days = [', "not valid TOML"),
    ('[[strategy]]\nstep = "x"\nbucket = "M9"\nmin_days = 1\nchannel = "sms"\ntemplate = "t"\n', "strategy[1].bucket"),
    ('[[strategy]]\nstep = "x"\nbucket = "M1"\nchannel = "sms"\ntemplate = "t"\n', "strategy[1]"),
    ('[[strategy]]\nstep = "x"\nbucket = "M1"\nmin_days = 1\nchannel = "fax"\ntemplate = "t"\n', "strategy[1].channel"),
    ('[contact]\nwindow = ["07:00", "21:00"]', "WHEN-1"),
    ('[contact]\nrules = "us"\nwindow = ["08:00", "21:30"]', "WHEN-1"),
    ('[contact]\nsms_per_day = 2', "WHEN-5"),
    ('[messaging.zh_CN]\nsms_signature = "长长长长长长长长长长长长长"', "SAY-5"),
    ('[messaging]\nsms_max_part = 2', "messaging.sms_max_part"),
    ('[delivery.senders]\nsms = "http"', "delivery.http_url"),
    ('[penalty.products]\ndefault = 0.0005', "penalty.products.default"),
    ('[penalty.products]\ndefault = "0.5"', "penalty.products.default"),
    ('[penalty]\nlpr = [["2026-13-01", "0.03"]]', "penalty.lpr[1]"),
    ('[penalty]\nproducts = [{a = 1}]', "penalty.products"),
    ('[allocation]\ndefault = "lifo"', "allocation.default"),
    ('[allocation]\nproducts = {"现金贷" = "principal_first"}', "allocation.products.现金贷"),
    ('[allocation]\nproducts = ["interest_first"]', "allocation.products"),
    ('[allocation]\nrule = "interest_first"', "allocation.rule"),
    ('[contact]\nwindow = ["08:00+08:00", "21:00"]', "contact.window"),
    ('[contact]\nwindow = ["08:00", "10:00"]\nserved_timezones = ["America/New_York", "Asia/Shanghai"]',
     "WHEN-6"),
    ('[delivery]\nhttp_url = "http://127.0.0.1:notaport/x"', "delivery.http_url"),
    ('[delivery.senders]\nsms = "smtp"', "delivery.senders.sms"),
    ('[delivery.senders]\nletter = "http"\n[delivery]\nhttp_url = "http://x"', "delivery"),
    ('[messaging.zh_CN]\nsms_signature = "【示例】"', "SAY-5"),
    ('[messaging]\ntemplate_dirs = ["nowhere"]', "messaging.template_dirs"),
    ('[[strategy]]\nstep = "x"\nbucket = "M1"\nmin_days = 45\nchannel = "sms"\ntemplate = "t"\n', "can never fire"),
    ('[[strategy]]\nstep = "x"\nbucket = "M1"\nmin_days = 4\nchannel = "sms"\ntemplate = "t"\nsegment = "rich"\n',
     "strategy[1].segment"),
    ('[[strategy]]\nstep = "x"\nbucket = "M1"\nmin_days = 4\nchannel = "push"\ntemplate = "t"\n'
     'only_with_address = "yes"\n', "strategy[1].only_with_address"),
    ('[delivery.senders]\npush = "http"', "delivery.push_url"),
    ('[delivery.senders]\npush = "smtp"', "delivery.senders.push"),
    ('[delivery]\npush_url = "ftp://push.example"', "delivery.push_url"),
    ('[delivery]\nemail_unsubscribe = "mailto: stop"', "delivery.email_unsubscribe"),
    ('[delivery]\nemail_unsubscribe = "javascript:alert(1)"', "delivery.email_unsubscribe"),
    ('[contact]\npush_per_day = 2', "WHEN-5"),
    ('[messaging]\npush_title_max = 0', "messaging.push_title_max"),
    ('[messaging]\npayment_url = "http://pay.example/p"', "messaging.payment_url"),
    ('[messaging]\npayment_url = "https://pay.example/p?x=1"', "messaging.payment_url"),
    ('[messaging]\npayment_link_days = 0', "messaging.payment_link_days"),
    ('[replies]\nstop_words = "闭嘴"', "replies.stop_words"),
    ('[replies]\nwords = ["x"]', "replies"),
])
def test_bad_configuration_names_the_key(tmp_path, cli, toml, key):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(toml, encoding="utf-8")
    r = cli("report", "buckets", env={"COLLECT_CONFIG": str(cfg)})
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: ") and key in r.stderr and str(cfg) in r.stderr


def test_missing_config_file_named_by_option(cli):
    r = cli("--config", "nowhere.toml", "report", "buckets")
    assert r.exit_code == 2, r.output


def test_a_file_that_is_not_a_database(tmp_path):
    bad = tmp_path / "notes.db"
    bad.write_text("hello")
    r = runner.invoke(app, ["--db", str(bad), "report", "buckets"])
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: cannot open database") and "not a database" in r.stderr
    assert "sqlalche.me" not in r.stderr


def test_streamed_output_starts_only_after_options_are_checked(cli):
    r = cli("report", "accounts", "--bucket", "M9", "--format", "json")
    assert r.exit_code == 2 and r.stdout == ""


def test_templates_lint_cli_exit_codes(tmp_path):
    r = runner.invoke(app, ["templates", "lint"])
    assert r.exit_code == 0 and "no findings" in r.stderr
    bad = tmp_path / "threat.zh_CN.j2"
    bad.write_text("{#-\nchannel: sms\npurpose: overdue_notice\n-#}\n再不还钱就曝光你\n", encoding="utf-8")
    r = runner.invoke(app, ["templates", "lint", str(tmp_path), "--format", "json"])
    assert r.exit_code == 1
    rules = {f["rule"] for f in json.loads(r.stdout)}
    assert {"SAY-1", "SAY-2"} <= rules
    r = runner.invoke(app, ["templates", "lint", str(tmp_path / "nope")])
    assert r.exit_code == 2


def test_an_unknown_product_is_an_error_listing_the_known_ones(cli, tmp_path):
    (tmp_path / "loans.csv").write_text("loan_id,borrower_id,borrower_name,phone,principal,disbursed_on,product\n"
                                        "L1,B1,王小明,13800000001,300,2025-12-31,消费贷\n", encoding="utf-8")
    assert cli("import", str(tmp_path / "loans.csv")).exit_code == 0
    for args in (["report", "buckets"], ["queue"], ["report", "rolls"], ["report", "vintages"]):
        r = cli(*args, "--product", "NOPE")
        assert r.exit_code == 2 and "'NOPE' is not a product" in r.stderr and "消费贷" in r.stderr, (args, r.stderr)
    assert cli("report", "buckets", "--product", "消费贷").exit_code == 0


def test_custom_buckets_need_a_strategy_only_where_one_is_used(tmp_path, cli, book):
    """Renamed buckets: every report, the queue and the account card work; run-reminders and
    templates lint refuse, naming the key and how to fix it (issue 13, item 8)."""
    (tmp_path / "collect.toml").write_text('[[buckets]]\nname = "ok"\nmin = 0\nmax = 0\n'
                                           '[[buckets]]\nname = "late"\nmin = 1\n', encoding="utf-8")
    report = json.loads(cli("report", "buckets", "--as-of", "2026-03-05", "--format", "json").stdout)["buckets"]
    assert [b["bucket"] for b in report] == ["ok", "late"] and report[1]["accounts"] > 0
    for args in (["queue", "--as-of", "2026-03-05"], ["account", "L1", "--as-of", "2026-03-05"],
                 ["report", "rolls", "--from", "2026-02-01", "--to", "2026-03-05"], ["escalations", "--as-of", "2026-03-05"],
                 ["report", "classification", "--as-of", "2026-03-05"], ["send", "--now", "2026-03-05T09:00"]):
        r = cli(*args)
        assert r.exit_code == 0, (args, r.stderr)
    for args in (["run-reminders", "--as-of", "2026-03-05", "--now", "2026-03-05T02:00"], ["templates", "lint"]):
        r = cli(*args)
        assert r.exit_code == 2 and "strategy" in r.stderr and "[[strategy]]" in r.stderr, (args, r.stderr)


def test_the_account_card_as_csv_is_one_section(cli, book):
    import csv
    import io

    r = cli("account", "L1", "--as-of", "2026-03-05", "--format", "csv")
    assert r.exit_code == 2 and "--section" in r.stderr  # a card is many tables: CSV is one of them
    r = cli("account", "L1", "--as-of", "2026-03-05", "--format", "csv", "--section", "schedule")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert r.exit_code == 0 and [x["seq"] for x in rows] == ["1", "2", "3"] and not r.stdout.lstrip().startswith("{")
    whole = json.loads(cli("account", "L1", "--as-of", "2026-03-05", "--format", "json").stdout)
    assert list(rows[0]) == list(whole["schedule"][0])
    assert cli("account", "L1", "--section", "loans").exit_code == 2  # --section goes with csv


@pytest.mark.parametrize("report", [["buckets", "--as-of", "2026-03-05"], ["rolls", "--from", "2026-02-01", "--to",
                                    "2026-03-05"], ["classification", "--as-of", "2026-03-05"]])
def test_output_to_a_file_is_what_format_csv_prints(cli, book, tmp_path, report):
    out = tmp_path / "r.csv"
    assert cli("report", *report, "-o", str(out)).exit_code == 0
    printed = cli("report", *report, "--format", "csv").stdout
    assert out.read_text(encoding="utf-8-sig") == printed  # the file only adds the BOM Excel needs
