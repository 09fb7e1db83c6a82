"""Shipped templates: clean under both rule sets, rendered exactly as the golden files say;
the linter names the rule a bad template breaks."""

from __future__ import annotations

import multiprocessing
import os
from datetime import date
from pathlib import Path

import pytest

from collect_cli.config import Settings
from collect_cli.domain.compliance import ContactRules
from collect_cli.domain.loan_state import Installment, loan_state
from collect_cli.messaging.templates import (
    TemplateProblem,
    TemplateSet,
    read_template,
    render,
)
from collect_cli.services.messages import compose, lint_findings
from collect_cli.services.portfolio import Account

GOLDEN = Path(__file__).parents[1] / "golden"
SHIPPED = sorted(TemplateSet().all(), key=lambda s: (s.name, s.locale))


def account(locale: str) -> Account:
    schedule = [Installment(1, date(2026, 9, 30), 1000_00, 50_00), Installment(2, date(2026, 10, 31), 1000_00, 40_00),
                Installment(3, date(2026, 11, 30), 1000_00, 30_00)]
    state = loan_state(schedule, [(date(2026, 10, 5), 300_00)], date(2026, 11, 20))
    return Account(loan_id="L00001234", borrower_id="C1", borrower_name="王小明" if locale == "zh_CN" else "Ming Wang",
                   phone="+8613812345678", email="ming@example.com", address="上海市黄浦区中山东一路1号",
                   locale=locale, timezone=None, product="消费贷", principal=3000_00,
                   disbursed_on=date(2026, 8, 31), state=state)


@pytest.mark.parametrize("rules", ["cn", "us"])
@pytest.mark.parametrize("src", SHIPPED, ids=lambda s: f"{s.name}.{s.locale}")
def test_shipped_templates_are_clean(src, rules):
    assert lint_findings(src, Settings(contact=ContactRules(rules=rules))) == []


def test_every_strategy_step_has_a_template_in_both_languages():
    names = {(s.name, s.locale) for s in SHIPPED}
    for step in Settings().strategy:
        assert {(step.template, "zh_CN"), (step.template, "en")} <= names


def test_legitimate_formatting_still_renders(tmp_path):
    """The bounds refuse sizes, not features: widths, padding and joins of message size work."""
    body = ("{{ borrower_name|center(20) }}|{{ '%-8s|%5.2f'|format('ab', 3.14159) }}|{{ '{:>6}'.format('x') }}|"
            "{{ ['a', 'b']|join('-') }}|{{ 'ab' ~ 'cd' }}|{{ range(3)|map('string')|join(',') }}|{{ 'x'.zfill(4) }}")
    src = read_template(write_template(tmp_path, "ok", "sms", "overdue_notice", body))
    assert render(src, {"borrower_name": "王小明"}) == \
        "王小明         |ab      | 3.14|     x|a-b|abcd|0,1,2|000x"  # the message is stripped


@pytest.mark.parametrize("src", SHIPPED, ids=lambda s: f"{s.name}.{s.locale}")
def test_golden_rendering(src):
    """Exact output for a fixed account (set COLLECT_UPDATE_GOLDEN=1 to rewrite after a
    deliberate change, then read the diff)."""
    body = compose(account(src.locale), src, Settings(), purpose=src.purpose).body + "\n"
    golden = GOLDEN / f"{src.name}.{src.locale}.txt"
    if os.environ.get("COLLECT_UPDATE_GOLDEN"):
        golden.write_text(body, encoding="utf-8")
    assert body == golden.read_text(encoding="utf-8")


def test_the_figures_in_a_message_are_the_engines():
    msg = compose(account("zh_CN"), TemplateSet().find("m1_notice", "zh_CN"), Settings(), purpose="overdue_notice")
    # 2026-11-20: installments 1 and 2 overdue (2,090.00) less 300.00 paid -> 1,790.00; DPD 51
    assert "逾期51天" in msg.body and "逾期金额1,790.00元" in msg.body and "2026-11-20" in msg.body
    assert "13812345678" not in msg.body and "****1234" in msg.body
    assert msg.recipient == "+8613812345678" and msg.sms_parts <= 3


BAD = {
    "threat_zh": ("sms", "overdue_notice", "{{ borrower_name }}再不还款将通知公安拘留。"),
    "threat_en": ("sms", "overdue_notice", "Pay or the police will come with a warrant."),
    "insult": ("sms", "overdue_notice", "{{ borrower_name }}你这个老赖。"),
    "no_amount": ("sms", "overdue_notice",
                  "{{ borrower_name }}：{{ creditor_name }}提醒您还款，截至{{ as_of }}，{{ payment_channels }}，{{ dispute_channel }}，{{ service_phone }}"),
    "no_creditor": ("sms", "overdue_notice",
                    "{{ borrower_name }}：逾期{{ amount_overdue }}元（{{ as_of }}），{{ payment_channels }}，{{ dispute_channel }}，{{ service_phone }}"),
    "full_phone": ("sms", "predue_reminder", "请致电13812345678"),
    "brackets": ("sms", "predue_reminder", "【催收中心】请还款"),
    "too_long": ("sms", "predue_reminder", "{{ borrower_name }}" + "请按时还款。" * 40),
    "marketing": ("sms", "predue_reminder", "还款后可提额，限时优惠！"),
    "no_bureau_notice": ("letter", "formal_notice", "<p>{{ borrower_name }}</p>"),
    "syntax": ("sms", "overdue_notice", "{{ borrower_name "),
    "unknown_variable": ("sms", "overdue_notice", "{{ id_number }}"),
    "no_front_matter": (None, None, "hello"),
}
EXPECTED = {"threat_zh": "SAY-1", "threat_en": "SAY-1", "insult": "SAY-1", "no_amount": "SAY-2",
            "no_creditor": "SAY-2", "full_phone": "SAY-4", "brackets": "SAY-5", "too_long": "LEN",
            "marketing": "SAY-6", "no_bureau_notice": "REC-2", "syntax": "TPL", "unknown_variable": "TPL",
            "no_front_matter": "META"}


def write_template(folder: Path, name: str, channel, purpose, body: str, locale: str = "zh_CN") -> Path:
    head = f"{{#-\nchannel: {channel}\npurpose: {purpose}\n-#}}\n" if channel else ""
    path = folder / f"{name}.{locale}.j2"
    path.write_text(head + body + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", BAD)
def test_lint_names_the_broken_rule(tmp_path, case):
    path = write_template(tmp_path, case, *BAD[case])
    rules = {f.rule for f in lint_findings(read_template(path), Settings())}
    assert EXPECTED[case] in rules


def test_lint_line_numbers_point_at_the_offending_line(tmp_path):
    path = write_template(tmp_path, "lines", "sms", "predue_reminder", "第一行\n第二行有曝光\n第三行")
    lines = {f.line for f in lint_findings(read_template(path), Settings()) if f.rule == "SAY-1"}
    assert 6 in lines  # 4 lines of front matter, then the body (and line 1: the text it renders)


def test_operator_lexicon_extends_say1(tmp_path):
    from collect_cli.config import Messaging

    path = write_template(tmp_path, "x", "sms", "predue_reminder", "请立即处理欠款")
    settings = Settings(messaging=Messaging(forbidden_words=("立即处理",)))
    assert "SAY-1" in {f.rule for f in lint_findings(read_template(path), settings)}


def test_us_rules_need_the_disclosure(tmp_path):
    src = read_template(write_template(tmp_path, "n", "sms", "overdue_notice", "Pay {{ amount_overdue }}", "en"))
    assert "SAY-3" in {f.rule for f in lint_findings(src, Settings(contact=ContactRules(rules="us")))}
    assert "SAY-3" not in {f.rule for f in lint_findings(src, Settings())}


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ borrower_name.__class__.__init__.__globals__ }}",
    "{{ 'x'.format.__globals__ }}",
    "{{ '{0.__class__.__mro__}'.format(borrower_name) }}",
    "{{ '%s' % borrower_name.__class__.__subclasses__ }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{% for i in range(10**9) %}x{% endfor %}",
    "{{ 'x' * 100000 }}",
    "{% set s = 'x' * 10**9 %}{{ s|length }}",
    "{% set l = [1] * 10**9 %}{{ l|length }}",
    "{{ 7 ** 99999999 }}",
    "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    # widths and padding, refused before the C code behind them allocates (issue 12, item 13)
    "{{ 'x'|center(10**9) }}",
    "{{ 'x'.center(10**9) }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'x'.zfill(10**9) }}",
    "{{ '{:>999999999}'.format('x') }}",
    "{{ '{:{w}}'.format('x', w=10**9) }}",
    "{{ '{:.999999999f}'.format(1.0) }}",
    "{{ '%999999999s' % 'x' }}",
    "{{ '%*s' % (10**9, 'x') }}",
    "{{ '%999999999d'|format(1) }}",
    "{{ 'x'|indent(10**9, true) }}",
    "{{ ('x\n' * 5000)|indent(5000) }}",
    "{{ ('a' * 20000)|replace('a', 'x' * 20000) }}",
    "{{ ('x' * 10000).replace('x', 'y' * 10000) }}",
    "{{ 'x'|wordwrap(1, wrapstring='y' * 20000) }}",
    "{{ [1, 2]|batch(10**9, 'x')|list }}",
    "{{ {'a': 'x' * 20000}|tojson(10**4) }}",
    # many bounded values at once: a lazy sequence, a block's buffer, a growing concatenation
    "{{ range(100000)|map('center', 20000)|join }}",
    "{% for s in range(100000)|map('center', 20000) %}{{ loop.length }}{% endfor %}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}x",
    "{% macro m() %}{% for i in range(100000) %}{{ 'x' * 20000 }}{% endfor %}{% endmacro %}{{ m()|length }}",
    "{% set s %}{% for i in range(100000) %}{{ 'x' * 20000 }}{% endfor %}{% endset %}{{ s|length }}",
    "{% filter upper %}{% for i in range(100000) %}{{ 'x' * 20000 }}{% endfor %}{% endfilter %}",
    "{{ ['x' * 20000] * 20000 }}",
    "{{ ((2**64)**64)**64 }}",
    "{{ '\t'.expandtabs(10**9) }}",
    "{{ 'x'.translate({120: 'y' * 20000}) }}",
])
def test_sandbox_refuses_escapes_and_runaways(tmp_path, attack):
    """Each attack ends in TemplateProblem within the time bound; run in a child process so a
    missing bound fails the test (by the join timeout) instead of hanging it."""
    src = read_template(write_template(tmp_path, "evil", "sms", "overdue_notice", attack))

    def attempt(conn):
        import resource  # half a gigabyte more than the child has: a huge allocation fails it

        with open("/proc/self/status") as fh:
            size = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (size + 256 * 1024**2, size + 256 * 1024**2))
        try:
            render(src, {"borrower_name": "x"})
            conn.send("rendered")
        except TemplateProblem as exc:
            conn.send("ran out of memory" if "MemoryError" in str(exc) else "refused")
        except MemoryError:
            conn.send("ran out of memory")

    context = multiprocessing.get_context("fork")
    mine, theirs = context.Pipe(duplex=False)
    child = context.Process(target=attempt, args=(theirs,))
    child.start()
    child.join(timeout=20)
    if child.is_alive():
        child.kill()
        pytest.fail("the template ran on past 20 s: no time bound")
    assert mine.poll(5), f"the child died (exit {child.exitcode})"
    assert mine.recv() == "refused"
    assert "TPL" in {f.rule for f in lint_findings(src, Settings())}
