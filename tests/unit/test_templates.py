"""Shipped templates: clean under both rule sets, rendered exactly as the golden files say;
the linter names the rule a bad template breaks."""

from __future__ import annotations

import multiprocessing
import os
from datetime import date
from pathlib import Path

import pytest

from collect_cli.config import Messaging, Settings
from collect_cli.domain.compliance import ContactRules
from collect_cli.domain.content import COMMAND_PURPOSES
from collect_cli.domain.loan_events import LoanEvent, standing
from collect_cli.domain.loan_state import Installment, loan_state
from collect_cli.domain.notice import COMMAND_SAMPLE
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


# the fixed account's loan is to be sold on 2026-12-15 (what a transfer notice states)
TRANSFER = [LoanEvent("transfer", date(2026, 12, 15), party="上海浦江资产管理股份有限公司")]


def account(locale: str) -> Account:
    schedule = [Installment(1, date(2026, 9, 30), 1000_00, 50_00), Installment(2, date(2026, 10, 31), 1000_00, 40_00),
                Installment(3, date(2026, 11, 30), 1000_00, 30_00)]
    as_of = date(2026, 11, 20)
    state = loan_state(schedule, [(date(2026, 10, 5), 300_00)], as_of, standing=standing(TRANSFER, as_of))
    return Account(loan_id="L00001234", borrower_id="C1", borrower_name="王小明" if locale == "zh_CN" else "Ming Wang",
                   phone="+8613812345678", email="ming@example.com", address="上海市黄浦区中山东一路1号",
                   locale=locale, timezone=None, product="消费贷", principal=3000_00,
                   disbursed_on=date(2026, 8, 31), state=state)


@pytest.mark.parametrize("link", [None, "https://pay.lender-example.com/p"], ids=["no-link", "link"])
@pytest.mark.parametrize("rules", ["cn", "us"])
@pytest.mark.parametrize("src", SHIPPED, ids=lambda s: f"{s.name}.{s.locale}")
def test_shipped_templates_are_clean(src, rules, link):
    """Under both rule sets, with and without a payment page (the longest link checked)."""
    settings = Settings(contact=ContactRules(rules=rules), messaging=Messaging(payment_url=link))
    assert lint_findings(src, settings) == []


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
    extra = COMMAND_SAMPLE[src.locale] if src.purpose in COMMAND_PURPOSES else None  # a command's own values
    body = compose(account(src.locale), src, Settings(), purpose=src.purpose, extra=extra).body + "\n"
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
    # an e-mail's first line is its subject, then a blank line: here the text would be the subject
    "email_no_subject": ("email", "predue_reminder", "{{ borrower_name }}您好，{{ creditor_name }}借款{{ loan_ref }}"
                         "于{{ next_due_on }}应还{{ next_due_amount }}元。\n请通过{{ payment_channels }}还款，"
                         "{{ dispute_channel }}，{{ service_phone }}"),
    "email_long_subject": ("email", "predue_reminder", "请还款" * 60 + "\n\n{{ borrower_name }}"),
    # a push is read on a lock screen: no amount, no word of the debt (WHO-1)
    "push_amount": ("push", "overdue_notice", "{{ creditor_name }}\n\n{{ borrower_name }}，请还{{ amount_overdue }}元"),
    "push_debt_word": ("push", "overdue_notice", "{{ creditor_name }}\n\n{{ borrower_name }}，您的借款已逾期"),
    "push_en_debt_word": ("push", "predue_reminder", "{{ creditor_name }}\n\n{{ borrower_name }}: your debt"),
}
EXPECTED = {"threat_zh": "SAY-1", "threat_en": "SAY-1", "insult": "SAY-1", "no_amount": "SAY-2",
            "no_creditor": "SAY-2", "full_phone": "SAY-4", "brackets": "SAY-5", "too_long": "LEN",
            "marketing": "SAY-6", "no_bureau_notice": "REC-2", "syntax": "TPL", "unknown_variable": "TPL",
            "no_front_matter": "META",
            "email_no_subject": "TPL", "email_long_subject": "TPL", "push_amount": "WHO-1",
            "push_debt_word": "WHO-1", "push_en_debt_word": "WHO-1"}


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
    outcome, message, _, _ = run_bounded(src)  # 256 MB more than the child has: a huge allocation fails it
    assert outcome == "refused", message
    assert "TPL" in {f.rule for f in lint_findings(src, Settings())}


def run_bounded(src, headroom: int = 256 * 1024**2) -> tuple[str, str, float, int]:
    """Render `src` in a forked child with `headroom` bytes of address space more than it has:
    (outcome, message, seconds, peak bytes Python allocated while rendering)."""

    def attempt(conn):
        import resource
        import time
        import tracemalloc

        from collect_cli.messaging.templates import _compiled as compiled

        with open("/proc/self/status") as fh:
            size = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize:"))
        resource.setrlimit(resource.RLIMIT_AS, (size + headroom, size + headroom))
        compiled(src.text, src.channel == "letter")  # what is measured is rendering, not compiling
        tracemalloc.start()
        started = time.monotonic()
        try:
            render(src, {"borrower_name": "x"})
            outcome, message = "rendered", ""
        except TemplateProblem as exc:
            outcome, message = ("ran out of memory" if "MemoryError" in str(exc) else "refused"), str(exc)
        except MemoryError:
            outcome, message = "ran out of memory", ""
        seconds = time.monotonic() - started
        conn.send((outcome, message, seconds, tracemalloc.get_traced_memory()[1]))

    context = multiprocessing.get_context("fork")
    mine, theirs = context.Pipe(duplex=False)
    child = context.Process(target=attempt, args=(theirs,))
    child.start()
    child.join(timeout=20)
    if child.is_alive():
        child.kill()
        pytest.fail("the template ran on past 20 s: no time bound")
    assert mine.poll(5), f"the child died (exit {child.exitcode})"
    return mine.recv()


B300 = ", ".join(["b"] * 300)
LOOP_ON_B = "{% for x in [b, 1] %}{% if loop.last %}{{ EXPR }}{% endif %}{% endfor %}"  # loop.previtem is b


@pytest.mark.parametrize("attack", [
    # the attacker review: sum of lists, urlize's arguments, a long list made a text
    pytest.param("{% set b = range(100000)|list %}{{ [" + B300 + "]|sum(start=[]) }}", id="sum-of-lists"),
    pytest.param("{{ ('www.a.com ' * 2000)|urlize(target='😀' * 19000, rel='😀' * 19000) }}", id="urlize-arguments"),
    pytest.param("{{ range(100000)|list|string }}", id="range-list-string"),
    # sum and join of what items hold (a loop holds its previous item), predicted before joining
    pytest.param("{% set b = [0] * 3000 %}"
                 + LOOP_ON_B.replace("EXPR", "([loop] * 700)|sum(attribute='previtem', start=[])"), id="sum-attribute"),
    pytest.param("{% set b = '😀' * 19000 %}"
                 + LOOP_ON_B.replace("EXPR", "([loop] * 700)|join(attribute='previtem')|length"), id="join-attribute"),
    # urlize: the links times its arguments; indent and wordwrap: the lines times the indent
    pytest.param("{% set t = 'x' * 19000 %}{{ ('www.a.com ' * 1000)|urlize(target=t)|length }}", id="urlize-target"),
    pytest.param("{{ ('a\n' * 9000)|indent(20000)|length }}", id="indent-lines"),
    pytest.param("{{ ('a\x0b' * 9000)|indent(20000)|length }}", id="indent-splitlines"),
    pytest.param("{{ ('a ' * 9000)|wordwrap(1, wrapstring='y' * 19000)|length }}", id="wordwrap-breaks"),
    # pprint indents each line by the keys above it; tojson by its indent times the depth
    pytest.param("{% set k = '😀' * 9000 %}{% set v = 'a ' * 5000 %}{{ {k: v}|pprint|length }}", id="pprint-indent"),
    pytest.param("{{ ([1] * 3000)|tojson('😀' * 19000)|length }}", id="tojson-text-indent"),
    pytest.param("{{ ([1] * 3000)|tojson(19000)|length }}", id="tojson-indent"),
    # the same value held many times prints many times: lists, tuples, dicts, namespaces
    pytest.param("{% set b = 'x' * 20000 %}{% set a = [b, b, b, b, b, b, b, b] %}{% set c = [a, a, a, a, a, a, a, a] %}"
                 "{% set d = [c, c, c, c, c, c, c, c] %}{{ d }}", id="aliased-lists"),
    pytest.param("{% set b = 'x' * 20000 %}{{ (b, b) }}", id="aliased-tuple"),
    pytest.param("{% set b = 'x' * 20000 %}{{ {'a': b, 'b': b} }}", id="aliased-dict"),
    pytest.param("{% set ns = namespace(a='x' * 19000) %}{{ [ns, ns] }}", id="aliased-namespace"),
    pytest.param("{% set b = 'x' * 19000 %}{% set ns = namespace() %}{% for i in range(100) %}{% set ns.a = b %}"
                 "{% set ns.c = b %}{% endfor %}{{ ns }}", id="namespace-attributes"),
    pytest.param("{% set b = 'x' * 19000 %}{{ cycler(" + B300 + ").items|string|length }}", id="cycler-arguments"),
    pytest.param("{% set b = 'x' * 19000 %}{% macro m() %}{{ varargs }}{% endmacro %}{{ m(" + B300 + ") }}",
                 id="macro-varargs"),
    # self.block() renders a whole block at once, not streamed
    pytest.param("{{ self.b()|length }}{% block b %}{% for i in range(100000) %}{{ 'x' * 20000 }}{% endfor %}"
                 "{% endblock %}", id="self-block"),
    # methods of other built-in values than str: a buffer of any size, a dict of any iterable
    pytest.param("{{ (1).to_bytes(10**9, 'big')|length }}", id="int-to-bytes"),
    pytest.param("{{ {}.fromkeys(range(100000), 'x')|length }}", id="dict-fromkeys"),
    # every filter's, call's and operator's result: no longer than a message, no wider than an integer may be
    pytest.param("{{ ('ab' * 10000)|list }}", id="filter-result"),
    pytest.param("{{ ('a b ' * 5000).split() }}", id="call-result"),
    pytest.param("{% set ns = namespace(x=(2**64)**32 * (2**64)**30) %}{% for i in range(200) %}"
                 "{% set ns.x = ns.x - (0 - ns.x) %}{% endfor %}{{ ns.x }}", id="subtraction"),
    pytest.param("{{ ('1' * 5000)|int }}", id="int-digits"),
])
def test_sandbox_bounds_every_builtin(tmp_path, attack):
    """Each is refused by a bound, before what it asks for is built: not by the timer, not by
    running out of memory, in well under a second, and Python never holds much more than a
    message while rendering it."""
    src = read_template(write_template(tmp_path, "evil", "sms", "overdue_notice", attack))
    outcome, message, seconds, peak = run_bounded(src)
    assert outcome == "refused", (outcome, message)
    assert "too large" in message or "unsafe" in message, message
    assert seconds < 2, f"took {seconds:.1f} s"
    assert peak < 2 * 1024**2, f"built {peak / 1024**2:.1f} MB"  # a message: 20,000 characters, 80 kB at most


def test_bounds_keep_the_builtins_working(tmp_path):
    """The same filters, globals and methods at a message's size render as in plain Jinja2."""
    body = ("{{ range(5)|list|string }}|{{ range(3)|string }}|{{ [[1], [2, 3]]|sum(start=[]) }}|{{ [1, 2]|sum }}|"
            "{{ [{'v': 1}, {'v': 2}]|sum(attribute='v') }}|{{ [{'n': 'a'}, {'n': 'b'}]|join(',', attribute='n') }}|"
            "{{ 'see www.example.com'|urlize(target='_blank') }}|{{ 'a\nb'|indent(2) }}|{{ 'aa bb cc'|wordwrap(5) }}|"
            "{{ {'a': [1, 2]}|pprint }}|{{ {'a': [1]}|tojson(1) }}|{{ '42'|int }}|{{ {'a': 1}|items|list }}|"
            "{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}|"
            "{% for x in 'ab' %}{{ loop.index }}{{ loop|length }}{% endfor %}|{{ {'x': 1}.get('x') }}|{{ 7 - 2 }}|"
            "{% block b %}B{% endblock %}{{ self.b() }}|{{ (5).bit_length() }}|{% set a, b = 1, 2 %}{{ (a, b) }}")
    src = read_template(write_template(tmp_path, "ok", "sms", "overdue_notice", body))
    assert render(src, {}) == (
        '[0, 1, 2, 3, 4]|range(0, 3)|[1, 2, 3]|3|3|a,b|see <a href="https://www.example.com" rel="noopener" '
        'target="_blank">www.example.com</a>|a\n  b|aa bb\ncc|{\'a\': [1, 2]}|{\n "a": [\n  1\n ]\n}|42|'
        "[('a', 1)]|6|1222|1|5|BB|3|(1, 2)")
