"""Deterministic demo portfolio: loans, schedules, payments, reversals and loan events as CSV
exports of a consumer lender's core system."""

from __future__ import annotations

import calendar
import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from pathlib import Path

__all__ = ["DemoFiles", "generate_portfolio", "PROFILES"]

# Headers exactly as written. loans and installments use the Chinese aliases of shared/spec/ledger.md.
LOAN_HEADER = ["借据号", "客户号", "客户姓名", "手机号", "贷款本金", "放款日期", "年利率", "产品", "邮箱", "地址", "语言", "时区",
               "推送ID"]
INSTALLMENT_HEADER = ["借据号", "期次", "应还日期", "应还本金", "应还利息", "应还费用"]
PAYMENT_HEADER = ["payment_id", "loan_id", "paid_on", "amount"]
REVERSAL_HEADER = ["原交易流水号", "冲正日期", "冲正原因"]
EVENT_HEADER = ["借据号", "事件类型", "事件日期", "结束日期", "核销金额", "受让方", "原因"]

LOANS_ENCODING = "gb18030"
INSTALLMENTS_ENCODING = "utf-8-sig"  # UTF-8 with BOM
PAYMENTS_ENCODING = "utf-8"
EVENTS_ENCODING = "gb18030"  # reversals and loan events, as the core system's ledger module writes them

# The events are drawn from a generator of their own, so that the loans, schedules and
# payments of a seed stay what they were before the demo had events.
_EVENT_SEED = 14
REVERSAL_PER_MILLE = 4  # payments that bounce or were posted to the wrong loan (冲正)
_BUYERS = ("上海浦江资产管理股份有限公司", "华融东方资产管理有限公司")
_PAUSE_REASONS = ("疫情减免", "受灾延缓", "争议核查中")

# Behaviour profiles drawn once per loan: (name, share in per mille).
PROFILES: tuple[tuple[str, int], ...] = (
    ("on_time", 700),  # pays each installment on its due date or up to 5 days early
    ("late", 80),  # often pays 1-40 days after the due date, but always pays
    ("partial", 60),  # pays only part of some installments, sometimes catches up later
    ("default", 80),  # pays on time, then stops from some installment on
    ("prepay", 40),  # pays the whole remaining schedule early, in one payment
    ("overpay", 20),  # one payment larger than due, leaving a credit
    ("lump", 20),  # misses 2-4 installments, then pays them all in one lump sum
)
_PROFILE_TABLE: tuple[str, ...] = tuple(name for name, share in PROFILES for _ in range(share))
if len(_PROFILE_TABLE) != 1000:  # the shares are per mille
    raise AssertionError("PROFILES shares must sum to 1000")

_SURNAMES = (
    "王" * 14 + "李" * 14 + "张" * 13 + "刘" * 10 + "陈" * 9 + "杨" * 6 + "黄" * 5 + "赵" * 5 + "吴" * 4
    + "周" * 4 + "徐" * 3 + "孙" * 3 + "马" * 3 + "朱" * 3 + "胡" * 3 + "郭" * 3 + "何" * 2 + "高" * 2
    + "林" * 2 + "罗" * 2 + "郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子轩欣怡梓涵一诺雨晨思远佳琪晓东建国志宏文博俊凯雪梅海燕丹丹慧颖婷倩瑶琳晶鑫宁波斌鹤嘉豪天翼若曦心悦"
_PINYIN_SURNAMES = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo")
_EN_GIVEN = ("David", "Emily", "Michael", "Grace", "Kevin", "Linda", "Jason", "Amy", "Eric", "Helen", "Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Tao", "Xin", "Hao", "Yu")
_PINYIN = ("xiao", "ming", "hua", "li", "wei", "fang", "jing", "lei", "yang", "tao", "hao", "yu", "chen", "lin", "qing", "tian", "long", "mei", "xin", "jun")
# Reserved example domains (RFC 2606 .example): demo reminders can never reach a real mailbox.
_EMAIL_DOMAINS = ("qq.example", "qq.example", "163.example", "126.example", "sina.example", "example.com")
_MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "198", "199")
# (province, city, districts); empty province for the municipalities.
_PLACES = (
    ("", "北京市", ("朝阳区", "海淀区", "东城区", "丰台区")),
    ("", "上海市", ("浦东新区", "徐汇区", "静安区", "闵行区")),
    ("广东省", "广州市", ("天河区", "越秀区", "海珠区")),
    ("广东省", "深圳市", ("南山区", "福田区", "宝安区")),
    ("浙江省", "杭州市", ("西湖区", "滨江区", "余杭区")),
    ("江苏省", "南京市", ("鼓楼区", "玄武区", "江宁区")),
    ("四川省", "成都市", ("武侯区", "锦江区", "高新区")),
    ("湖北省", "武汉市", ("洪山区", "江汉区", "武昌区")),
    ("河南省", "郑州市", ("金水区", "二七区", "中原区")),
    ("山东省", "济南市", ("历下区", "市中区", "槐荫区")),
    ("陕西省", "西安市", ("雁塔区", "碑林区", "未央区")),
    ("湖南省", "长沙市", ("岳麓区", "芙蓉区", "天心区")),
)
_URUMQI = ("新疆维吾尔自治区", "乌鲁木齐市", ("天山区", "沙依巴克区", "新市区"))
_ROADS = ("人民路", "解放路", "中山路", "建设路", "文三路", "长江路", "和平街", "青年路", "科技园路", "滨河大道", "东风路", "胜利街")
_PRODUCTS = ("消费贷",) * 5 + ("现金贷",) * 3 + ("分期购",) * 2
_RATES_BP = (730, 1095, 1460, 1825, 1825, 1825, 2190, 2190, 2400)  # annual rate in basis points
_TERMS = (3,) * 15 + (6,) * 30 + (12,) * 40 + (24,) * 15
_DECIMAL = Context(prec=34, rounding=ROUND_HALF_UP)
_FEN = Decimal(1)


@dataclass(frozen=True)
class DemoFiles:
    loans: Path
    installments: Path
    payments: Path
    reversals: Path
    loan_events: Path
    counts: dict[str, int]  # rows written per kind: {"loans": n, "installments": n, …}

    @property
    def paths(self) -> list[Path]:
        return [self.loans, self.installments, self.payments, self.reversals, self.loan_events]


def _yuan(fen: int) -> str:
    """Integer fen -> '1234.50' (no float on the way)."""
    return f"{fen // 100}.{fen % 100:02d}"


def _yuan_grouped(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def _format_phone(rng: random.Random, digits: str) -> str:
    r = rng.random()
    if r < 0.70:
        return digits  # 13812345678
    if r < 0.80:
        return "+86" + digits  # +8613812345678
    if r < 0.88:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"  # 138-1234-5678
    if r < 0.95:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"  # 138 1234 5678
    return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"  # +86 138 1234 5678


def _borrower(rng: random.Random, index: int, phone_offset: int) -> list[str]:
    """[borrower_id, name, phone, email, address, locale, timezone] of the index-th borrower."""
    english = rng.random() < 0.03
    if english:
        surname = rng.choice(_PINYIN_SURNAMES)
        name = f"{rng.choice(_EN_GIVEN)} {surname}"
        locale = "en"
        timezone = "America/Los_Angeles" if rng.random() < 0.4 else ""
    else:
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(1 if rng.random() < 0.35 else 2))
        locale = "zh_CN"
        timezone = "Asia/Urumqi" if rng.random() < 0.02 else ""
    # Unique per borrower: the last 8 digits are a bijection of the index (multiplier coprime to 10).
    suffix = (index * 73939133 + phone_offset) % 100_000_000
    phone = _format_phone(rng, f"{rng.choice(_MOBILE_PREFIXES)}{suffix:08d}")
    email = ""
    if rng.random() < 0.60:
        domain = rng.choice(_EMAIL_DOMAINS)
        if domain.startswith("qq"):
            local = str(rng.randrange(10_000_000, 3_000_000_000))
        else:
            local = rng.choice(_PINYIN) + rng.choice(_PINYIN) + str(rng.randrange(1, 1000))
        email = f"{local}@{domain}"
    address = ""
    if rng.random() < 0.80:
        province, city, districts = _URUMQI if timezone == "Asia/Urumqi" else rng.choice(_PLACES)
        address = (
            f"{province}{city}{rng.choice(districts)}{rng.choice(_ROADS)}{rng.randrange(1, 999)}号"
            f"{rng.randrange(1, 30)}栋{rng.randrange(1, 33)}{rng.randrange(1, 9):02d}室"
        )
    return [f"C{index:07d}", name, phone, email, address, locale, timezone]


def _push_id(index: int) -> str:
    """The app push address of the index-th borrower: three in four use the app. Not drawn
    from the random stream, so the rest of the book is what it was before push ids."""
    if index % 4 == 0:
        return ""
    return f"u{index * 2654435761 % 2**32:08x}"  # an odd multiplier: one id per borrower


def _principal_fen(rng: random.Random) -> int:
    r = rng.random()
    u = rng.random() ** 2  # smaller loans are more common
    if r < 0.60:
        yuan = 1000 * (1 + int(u * 20))  # 1,000 - 20,000 by 1,000
    elif r < 0.85:
        yuan = 500 * (2 + int(u * 99))  # 1,000 - 50,000 by 500
    else:
        yuan = 100 * (10 + int(u * 491))  # 1,000 - 50,000 by 100
    return yuan * 100


def _add_months(start: date, months: int) -> date:
    """start + months, the day clamped to the month end: the same as dateutil's relativedelta(months=...).

    (2026-01-31 + 1 -> 2026-02-28, + 2 -> 2026-03-31.) Written out because it is called once per
    installment and relativedelta costs about a third of the whole run.
    """
    m = start.month - 1 + months
    year, month = start.year + m // 12, m % 12 + 1
    day = start.day
    if day > 28:
        day = min(day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def _schedule(principal: int, rate_bp: int, term: int, fee: int, disbursed: date) -> list[tuple[int, date, int, int, int]]:
    """等额本息 in integer fen: [(seq, due_on, principal_due, interest_due, fee_due)].

    Monthly rate = annual / 12; interest of a month is the balance times it, rounded half up to the
    fen; the last installment takes the remaining balance, so principal_due sums to the principal.
    """
    r = _DECIMAL.divide(Decimal(rate_bp), Decimal(120_000))
    q = _DECIMAL.power(_DECIMAL.add(Decimal(1), r), term)
    payment = int((Decimal(principal) * r * q / (q - 1)).quantize(_FEN, context=_DECIMAL))
    rows = []
    balance = principal
    for seq in range(1, term + 1):
        interest = (balance * rate_bp * 2 + 120_000) // 240_000
        part = balance if seq == term else min(balance, payment - interest)
        balance -= part
        rows.append((seq, _add_months(disbursed, seq), part, interest, fee))
    return rows


def _payments(
    rng: random.Random, profile: str, schedule: list[tuple[int, date, int, int, int]], disbursed: date, as_of: date
) -> list[tuple[date, int]]:
    """The payments of one loan, (paid_on, fen), dated no later than as_of, in date order."""
    dues = [(row[1], row[2] + row[3] + row[4]) for row in schedule]
    n = len(dues)
    out: list[tuple[date, int]] = []

    def on_time(due: date) -> date:
        return due - timedelta(days=rng.randrange(0, 6) if rng.random() < 0.5 else 0)

    if profile == "on_time":
        for due, amount in dues:
            out.append((on_time(due), amount))
    elif profile == "late":
        for due, amount in dues:
            if rng.random() < 0.5:
                out.append((due + timedelta(days=rng.randrange(1, 41)), amount))
            else:
                out.append((on_time(due), amount))
    elif profile == "partial":
        shortfall = 0
        for due, amount in dues:
            if rng.random() < 0.4:
                part = amount * rng.randrange(30, 91) // 100 // 100 * 100  # whole yuan
                shortfall += amount - part
                out.append((on_time(due), part))
            elif shortfall and rng.random() < 0.4:
                out.append((due + timedelta(days=rng.randrange(0, 10)), amount + shortfall))
                shortfall = 0
            else:
                out.append((on_time(due), amount))
    elif profile == "default":
        # Stop mostly at an installment already due, so the defaulters spread over M1 ... M7+.
        past = sum(1 for due, _ in dues if due < as_of)
        # Recent stops are more frequent than old ones (a roll-rate like M1 > M2 > ... shape).
        stop = past - 1 - int(past * rng.random() ** 1.5) if past and rng.random() < 0.9 else rng.randrange(n)
        for due, amount in dues[:stop]:
            out.append((on_time(due), amount))
        if rng.random() < 0.3:  # a last partial payment before going silent
            due, amount = dues[stop]
            out.append((due + timedelta(days=rng.randrange(0, 15)), amount * rng.randrange(10, 80) // 100))
    elif profile == "prepay":
        first = rng.randrange(n)  # the first installment paid by the prepayment
        for due, amount in dues[:first]:
            out.append((on_time(due), amount))
        start = dues[first - 1][0] if first else disbursed
        out.append((start + timedelta(days=rng.randrange(1, 26)), sum(a for _, a in dues[first:])))
    elif profile == "overpay":
        at = rng.randrange(n)
        for i, (due, amount) in enumerate(dues):
            if i == at:
                # Round up to whole hundreds of yuan, plus 100-1,000 yuan more.
                amount += (10_000 - amount % 10_000) % 10_000 + rng.choice((10_000, 20_000, 50_000, 100_000))
            out.append((on_time(due), amount))
    elif profile == "lump":
        missed = rng.randrange(2, 5)
        start = rng.randrange(max(1, n - missed + 1))
        end = min(n, start + missed)
        for due, amount in dues[:start]:
            out.append((on_time(due), amount))
        lump_on = dues[end - 1][0] + timedelta(days=rng.randrange(1, 21))
        out.append((lump_on, sum(a for _, a in dues[start:end])))
        for due, amount in dues[end:]:
            out.append((max(on_time(due), lump_on), amount))
    else:  # pragma: no cover - PROFILES and this function go together
        raise ValueError(profile)

    # Nothing before disbursement, nothing after as_of, nothing of zero; date order (stable).
    kept = [(max(paid_on, disbursed + timedelta(days=1)), amount) for paid_on, amount in out if amount > 0]
    kept = [p for p in kept if p[0] <= as_of]
    kept.sort(key=lambda p: p[0])
    return kept


def _events(rng: random.Random, profile: str, schedule, payments: list[tuple[date, int]], disbursed: date,
            as_of: date) -> tuple[list[tuple[date, int]], list[list[str]]]:
    """The loan's events as the core system exports them, and its payments as they are with
    them (an early settlement pays less than the whole schedule): write-offs of loans long past
    due, transfers (some done, some ahead, so the transfer notice goes), delinquency pauses
    (some resumed early), early settlements. One draw per decision, whatever the loan."""
    draws = [rng.random() for _ in range(6)]
    dues = [(row[1], row[2] + row[3] + row[4]) for row in schedule]
    total = sum(a for _, a in dues)

    def paid_by(day: date) -> int:
        return sum(a for d, a in payments if d <= day)

    def oldest_unpaid(day: date) -> date | None:
        paid, running = paid_by(day), 0
        for due, amount in dues:
            running += amount
            if running > paid:
                return due
        return None

    rows: list[list[str]] = []  # [event, on, until, amount, party, reason]
    if profile == "prepay" and draws[0] < 0.5 and payments:  # settled early: principal left + this month's interest
        on, _ = payments[-1]
        paid_before = paid_by(on - timedelta(days=1))
        running, owed = 0, 0
        for seq, due, principal, interest, fee in schedule:
            running += principal + interest + fee
            if running > paid_before:  # unpaid: its principal, and interest only while it runs
                owed += principal + (interest + fee if due <= _add_months(on, 1) else 0)
        payments = [*payments[:-1], (on, min(owed, total - paid_before))]
        rows.append(["提前结清", on.isoformat(), "", "", "", ""])
        return payments, rows
    due = oldest_unpaid(as_of)
    dpd = (as_of - due).days if due and due < as_of else 0
    if dpd > 200 and draws[1] < 0.5:  # written off at 180 days past due: the balance left
        on = due + timedelta(days=181)
        rows.append(["核销", on.isoformat(), "", _yuan(total - paid_by(on)), "", ""])
    if 10 <= dpd <= 150 and draws[2] < 0.08:  # relief: ageing paused, now or a while ago
        start = max(as_of - timedelta(days=int(draws[3] * 40)), due + timedelta(days=1))
        until = start + timedelta(days=14 + int(draws[4] * 46))
        rows.append(["暂停计逾", start.isoformat(), until.isoformat(), "", "",
                     _PAUSE_REASONS[int(draws[5] * 3)]])
        if draws[4] < 0.2 and start + timedelta(days=7) <= as_of:  # relief ended early
            rows.append(["恢复计逾", (start + timedelta(days=7)).isoformat(), "", "", "", ""])
    elif 61 <= dpd <= 400 and draws[2] > 0.9:  # sold to an asset manager: done, or ahead
        on = as_of + timedelta(days=10) if draws[3] < 0.6 else as_of - timedelta(days=int(draws[3] * 30))
        if on > disbursed and all(r[1] < on.isoformat() for r in rows):
            rows.append(["债权转让", on.isoformat(), "", "", _BUYERS[int(draws[4] * 2)], ""])
    return payments, rows


def _recovery(rng: random.Random, written_off_on: date, amount: int, as_of: date) -> tuple[date, int] | None:
    """A payment after the write-off (from a generator of the loan's own, so the other files
    stay as they are), or None: two in five pay 10-50 % of it, 15-120 days later."""
    if rng.random() >= 0.4:
        return None
    day = written_off_on + timedelta(days=rng.randrange(15, 121))
    return (day, amount * rng.randrange(10, 51) // 100 // 100 * 100) if day <= as_of and amount >= 10_000 else None


def _fen(text: str) -> int:
    return int(Decimal(text) * 100)


def generate_portfolio(out_dir: Path, *, loans: int = 2000, seed: int = 20261120, as_of: date) -> DemoFiles:
    """Write loans.csv (GB18030), installments.csv (UTF-8 BOM), payments.csv (UTF-8),
    reversals.csv and loan_events.csv (GB18030, Chinese headers) into out_dir.

    The same arguments give byte-identical files. Rows are streamed loan by loan, so memory does
    not grow with `loans`.
    """
    if loans < 0:
        raise ValueError("loans must be >= 0")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    loans_path = out_dir / "loans.csv"
    installments_path = out_dir / "installments.csv"
    payments_path = out_dir / "payments.csv"
    reversals_path, events_path = out_dir / "reversals.csv", out_dir / "loan_events.csv"
    rng = random.Random(seed)
    event_rng = random.Random(seed * 100 + _EVENT_SEED)
    phone_offset = rng.randrange(100_000_000)
    n_inst = n_pay = n_rev = n_event = n_recovered = 0

    with (
        open(loans_path, "w", encoding=LOANS_ENCODING, newline="") as lf,
        open(installments_path, "w", encoding=INSTALLMENTS_ENCODING, newline="") as inf,
        open(payments_path, "w", encoding=PAYMENTS_ENCODING, newline="") as pf,
        open(reversals_path, "w", encoding=EVENTS_ENCODING, newline="") as rf,
        open(events_path, "w", encoding=EVENTS_ENCODING, newline="") as ef,
    ):
        loan_w, inst_w, pay_w = csv.writer(lf), csv.writer(inf), csv.writer(pf)
        rev_w, event_w = csv.writer(rf), csv.writer(ef)
        loan_w.writerow(LOAN_HEADER)
        inst_w.writerow(INSTALLMENT_HEADER)
        pay_w.writerow(PAYMENT_HEADER)
        rev_w.writerow(REVERSAL_HEADER)
        event_w.writerow(EVENT_HEADER)

        loan_no = 0
        borrower_no = 0
        while loan_no < loans:
            borrower_no += 1
            borrower_id, name, phone, email, address, locale, timezone = _borrower(rng, borrower_no, phone_offset)
            held = 1 if rng.random() < 0.85 else rng.choice((2, 2, 3))
            for _ in range(min(held, loans - loan_no)):
                loan_no += 1
                loan_id = f"L{loan_no:08d}"
                principal = _principal_fen(rng)
                rate_bp = rng.choice(_RATES_BP) if rng.random() < 0.8 else 5 * rng.randrange(146, 481)
                term = rng.choice(_TERMS)
                # Spread over the 24 months before as_of; recent loans are more frequent.
                disbursed = as_of - timedelta(days=1 + int(729 * rng.random() ** 1.6))
                fee = 0
                if rng.random() < 0.20:
                    fee = (principal * rng.choice((2, 3, 3, 3, 5)) + 500) // 1000  # 0.2 - 0.5 % a month
                product = rng.choice(_PRODUCTS)
                loan_w.writerow([
                    loan_id, borrower_id, name, phone, _yuan(principal), disbursed.isoformat(),
                    f"0.{rate_bp:04d}", product, email, address, locale, timezone, _push_id(borrower_no),
                ])

                schedule = _schedule(principal, rate_bp, term, fee, disbursed)
                for seq, due, p, i, f in schedule:
                    inst_w.writerow([loan_id, seq, due.isoformat(), _yuan(p), _yuan(i), _yuan(f)])
                n_inst += len(schedule)

                profile = _PROFILE_TABLE[rng.randrange(1000)]
                paid, events = _events(event_rng, profile, schedule, _payments(rng, profile, schedule, disbursed, as_of),
                                       disbursed, as_of)
                for row in events:
                    event_w.writerow([loan_id, *row])
                    if row[0] == "核销":  # some written-off loans pay something later: the recoveries
                        recovery = _recovery(random.Random(f"{seed}:{loan_id}"), date.fromisoformat(row[1]),
                                             _fen(row[3]), as_of)
                        if recovery:
                            pay_w.writerow([f"W{loan_no:09d}", loan_id, recovery[0].isoformat(), _yuan(recovery[1])])
                            n_recovered += 1
                n_event += len(events)
                for paid_on, amount in paid:
                    n_pay += 1
                    if event_rng.randrange(1000) < REVERSAL_PER_MILLE and (
                            back := paid_on + timedelta(days=1 + event_rng.randrange(7))) <= as_of:
                        rev_w.writerow([f"P{n_pay:09d}", back.isoformat(), event_rng.choice(("退票", "错账"))])
                        n_rev += 1
                    r = rng.random()
                    if r < 0.02 and amount >= 100_000:
                        text = _yuan_grouped(amount)  # 1,234.50
                    elif r < 0.03 and amount >= 100_000:
                        text = "¥" + _yuan_grouped(amount)  # ¥1,234.50
                    else:
                        text = _yuan(amount)
                    pay_w.writerow([f"P{n_pay:09d}", loan_id, paid_on.isoformat(), text])

    counts = {"loans": loans, "installments": n_inst, "payments": n_pay + n_recovered, "reversals": n_rev,
              "loan_events": n_event}
    return DemoFiles(loans_path, installments_path, payments_path, reversals_path, events_path, counts)
