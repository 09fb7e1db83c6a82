"""Settings: command-line option > environment variable (COLLECT_*) > collect.toml > defaults."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collect_cli.domain.allocation import FEE_INTEREST_PRINCIPAL, STRATEGIES
from collect_cli.domain.buckets import DEFAULT_BUCKETS, Bucket, check_buckets
from collect_cli.domain.cases import APPROVED_EXTRA_DAYS, COMPLEX_DAYS, STATUTORY_DAYS, CaseDays
from collect_cli.domain.compliance import (
    ContactRules,
    check_contact_rules,
    days_without_common_window,
)
from collect_cli.domain.content import PURPOSES
from collect_cli.domain.early_warning import WatchWeights
from collect_cli.domain.legal import STAGES as LEGAL_STAGES
from collect_cli.domain.lexicon import Lexicon
from collect_cli.domain.placements import MIN_NOTICE_DAYS
from collect_cli.domain.policy import TRANSFER_NOTICE
from collect_cli.domain.scoring import QueueWeights
from collect_cli.domain.segments import SEGMENTS
from collect_cli.domain.strategy import CHANNELS, DEFAULT_STRATEGY, Step
from collect_cli.errors import ConfigError

DEFAULT_DB = "collect.db"
DEFAULT_CONFIG = "collect.toml"


LOCALES = ("zh_CN", "en")


@dataclass(frozen=True)
class LocaleTexts:
    """What messages say about the lender, per language (SAY-2: creditor, how to pay, dispute)."""

    creditor_name: str
    payment_channels: str
    dispute_channel: str
    sms_signature: str  # the 【signature】 the SMS channel adds (SAY-5); counts toward length


DEFAULT_TEXTS = {
    "zh_CN": LocaleTexts("示例消费金融有限公司", "APP“我的借款”页面或银行转账", "APP“客服-账单异议”或致电客服",
                         "示例消费金融"),
    "en": LocaleTexts("Example Consumer Finance", "our app or bank transfer", "our app", "ExampleCF"),
}


@dataclass(frozen=True)
class Messaging:
    service_phone: str = "400-000-0000"
    texts: dict[str, LocaleTexts] = field(default_factory=lambda: dict(DEFAULT_TEXTS))
    sms_max_parts: int = 3
    # characters; set them to the push vendor's limits (some phone makers' are lower)
    push_title_max: int = 40
    push_text_max: int = 350
    # payment links ({{ payment_link }}): the lender's payment page, and how long a link is good;
    # the signing secret comes from COLLECT_PAYMENT_SECRET only, never from a file
    payment_url: str | None = None
    payment_link_days: int = 7
    payment_secret: bytes | None = field(default=None, repr=False)
    template_dirs: tuple[Path, ...] = ()  # searched before the shipped templates
    forbidden_words: tuple[str, ...] = ()  # added to the SAY-1 lexicon
    marketing_words: tuple[str, ...] = ()  # added to the SAY-6 lexicon
    legal_words: tuple[str, ...] = ()  # added to the SAY-7 lexicon (legal action, for time-barred debts)

    @property
    def lexicon(self) -> Lexicon:
        return _lexicon(self.forbidden_words, self.marketing_words, self.legal_words)


@lru_cache(maxsize=8)
def _lexicon(forbidden: tuple[str, ...], marketing: tuple[str, ...], legal: tuple[str, ...]) -> Lexicon:
    return Lexicon.of(forbidden=forbidden, marketing=marketing, legal=legal)


@dataclass(frozen=True)
class Delivery:
    """Which sender each channel uses, and how the senders reach the outside."""

    senders: dict[str, str] = field(default_factory=lambda: {c: "file" for c in CHANNELS})
    spool_dir: Path = Path("outbox")
    http_url: str | None = None
    push_url: str | None = None  # the app push gateway, when push uses the http sender
    http_timeout_seconds: int = 10
    http_max_attempts: int = 5
    http_backoff_ms: int = 500  # first retry after this, doubling each time
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "collections@example.com"
    # the List-Unsubscribe of every e-mail (RFC 2369): a mailto: or https: address whose use
    # is an opt-out; None: mailto the sender, subject STOP (a reply `replies import` takes in)
    email_unsubscribe: str | None = None
    # what a message (an SMS: a part) costs, by channel, in currency units (0.045: 4.5 fen):
    # the send summary and the collections report show messages and cost per channel
    costs: dict[str, Decimal] = field(default_factory=dict)

    def cost_of(self, billed: dict[str, int]) -> dict[str, int]:
        """The cost of what providers bill (by channel: messages, an SMS's parts), in minor
        units, rounded half up per channel."""
        return {c: int((self.costs.get(c, Decimal(0)) * n).scaleb(2).quantize(Decimal(1), ROUND_HALF_UP))
                for c, n in billed.items()}

    @property
    def unsubscribe(self) -> str:
        return self.email_unsubscribe or f"mailto:{self.smtp_sender}?subject=STOP"


@dataclass(frozen=True)
class Penalty:
    """Penalty interest per product (off when empty) and the dated LPR table for AMT-2."""

    products: dict[str, Decimal] = field(default_factory=dict)  # product -> daily rate
    lpr: tuple[tuple[date, Decimal], ...] = ()  # (from, 1-year LPR), ascending
    lpr_multiple: Decimal = Decimal(4)

    def lpr_on(self, day: date) -> Decimal | None:
        rate = None
        for start, value in self.lpr:
            if start <= day:
                rate = value
        return rate


@dataclass(frozen=True)
class Allocation:
    """The allocation rule of each product (domain/allocation.py): `default` for products
    not named."""

    default: str = FEE_INTEREST_PRINCIPAL
    products: dict[str, str] = field(default_factory=dict)  # product -> strategy

    def strategy_of(self, product: str | None) -> str:
        return self.products.get(product or "", self.default)

    def by_payment(self) -> tuple[frozenset[str], bool]:
        """The products whose rule allocates payment by payment, as (names, all_but): those
        named, or (when the default is such a rule) every product but those named."""
        if self.default == FEE_INTEREST_PRINCIPAL:
            return frozenset(p for p, s in self.products.items() if s != FEE_INTEREST_PRINCIPAL), False
        return frozenset(p for p, s in self.products.items() if s == FEE_INTEREST_PRINCIPAL), True

    @property
    def any_by_payment(self) -> bool:
        names, all_but = self.by_payment()
        return all_but or bool(names)


@dataclass(frozen=True)
class Limitation:
    """LIM-1: when a debt is time-barred, so that no message may mention legal action."""

    years: int = 3  # cn: 3 years (《民法典》 Art 188); us: by state
    renewed_by: tuple[str, ...] = ("payment", "promise", "demand")  # cn: Art 195

    @classmethod
    def for_rules(cls, rules: str) -> Limitation:
        return cls() if rules == "cn" else cls(years=3, renewed_by=("payment",))


RENEWALS = ("payment", "promise", "demand")
STATUTORY_YEARS = {"cn": 3}  # a longer period would call a debt live that the law calls time-barred


@dataclass(frozen=True)
class Ledger:
    """How imports treat suspicious values of fields that reach messages."""

    suspicious_names: str = "reject"  # reject the row | flag: import it, greet with a neutral salutation


@dataclass(frozen=True)
class Promises:
    grace_days: int = 0  # a promise holds reminders until its date + grace (HOLD-4); raise it
    # when payments take days to reach the ledger
    max_days_ahead: int = 30  # a promise further out is not a promise but a plan


@dataclass(frozen=True)
class PlanRules:
    """Who may have a restructuring plan (domain/plans.py), and when a plan counts as broken."""

    max_dpd: int = 180  # days past due, at most
    promise_lookback_days: int = 90  # no broken promise in this many days before the plan
    max_earlier_plans: int = 1  # at most this many plans before this one
    max_installments: int = 24
    max_extend_days: int = 180  # also how far out a plan's first due date may be
    broken_dpd: int = 15  # a plan installment more than this many days past due breaks the plan
    observation_days: int = 365  # classified no better than on the plan date for this long


def _default_limits() -> dict[str, dict[str, int]]:
    return {"collector": {"penalty": 500, "interest": 200, "principal": 0},
            "supervisor": {"penalty": 20_000, "interest": 10_000, "principal": 5_000}}


@dataclass(frozen=True)
class Waivers:
    """Who may waive how much (减免): per role, the most one waiver may take off each
    component, in yuan; each person's role by name (anyone not named is a collector)."""

    roles: dict[str, str] = field(default_factory=dict)
    limits: dict[str, dict[str, int]] = field(default_factory=_default_limits)

    def role_of(self, name: str) -> str:
        return self.roles.get(name, "collector")

    def limit(self, name: str, component: str) -> int:
        """In minor units."""
        return self.limits.get(self.role_of(name), {}).get(component, 0) * 100


@dataclass(frozen=True)
class Bureau:
    """REC-2: adverse data goes to the credit bureau only after the borrower was told."""

    notice_steps: tuple[str, ...] = ()  # only these steps' messages may be the pre-notice (empty: any step)
    notice_days: int = 14  # sent at least this many days before the export
    min_dpd: int = 1  # overdue accounts from this many days past due are adverse


@dataclass(frozen=True)
class EscalationRules:
    """When an account is proposed for the legal or agency stage (first rule that fires)."""

    legal_amount: int = 20_000  # yuan overdue, at or over
    second_default_days: int = 365  # a new default within this many days of the last one
    agency_dpd: int = 90  # days past due, over
    # the floor of every rule: days past due in the current episode before a stage is proposed
    # (a barely late borrower is never proposed for outside placement or legal action)
    agency_min_dpd: int = 61
    legal_min_dpd: int = 91


@dataclass(frozen=True)
class CaseRules:
    """[cases]: deadlines (CASE-1..3, never longer than the rule's), what the nightly run calls
    due soon, and words that make a reply a dispute or a complaint."""

    days: CaseDays = field(default_factory=CaseDays)
    due_soon_days: int = 3
    dispute_words: tuple[str, ...] = ()
    complaint_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReplyWords:
    """[replies]: words that, in a borrower's reply, opt out of the channel (HOLD-2) or claim a
    payment, beside the shipped ones (domain.replies); matched as the content rules read."""

    stop_words: tuple[str, ...] = ()
    paid_words: tuple[str, ...] = ()


@dataclass(frozen=True)
class DialerRules:
    """[dialer]: the script a dialer or voice robot uses, by the account's segment (default
    `<bucket>-<segment>`, e.g. m1-standard)."""

    scripts: dict[str, str] = field(default_factory=dict)

    def script(self, bucket: str, segment: str) -> str:
        return self.scripts.get(segment) or f"{bucket.lower()}-{segment}"


@dataclass(frozen=True)
class PlacementRules:
    """[placements]: the notice before placement (AGY-1), how long a placement runs, and
    whether this lender's automated messages stop while an agency works the account."""

    notice_days: int = 7  # at least 7 (the rule's default, kept as the floor)
    term_days: int = 90  # placed today, recalled this many days later unless recalled before
    pause_messages: bool = True


@dataclass(frozen=True)
class LegalRules:
    """[legal]: from which stage of a lawsuit this lender's automated reminders stop, and its
    calls (None: they go on), domain.legal.STAGES."""

    stop_automated_from: str = "filed"
    stop_calls_from: str | None = None


@dataclass(frozen=True)
class Settings:
    db: str = DEFAULT_DB
    timezone: str = "Asia/Shanghai"
    grace_days: int = 0
    buckets: tuple[Bucket, ...] = DEFAULT_BUCKETS
    queue: QueueWeights = field(default_factory=QueueWeights)
    strategy: tuple[Step, ...] = DEFAULT_STRATEGY
    strategy_problem: str | None = None  # why the strategy does not fit the buckets (checked_strategy)
    messaging: Messaging = field(default_factory=Messaging)
    contact: ContactRules = field(default_factory=ContactRules)
    delivery: Delivery = field(default_factory=Delivery)
    penalty: Penalty = field(default_factory=Penalty)
    allocation: Allocation = field(default_factory=Allocation)
    replies: ReplyWords = field(default_factory=ReplyWords)
    dialer: DialerRules = field(default_factory=DialerRules)
    promises: Promises = field(default_factory=Promises)
    bureau: Bureau = field(default_factory=Bureau)
    escalation: EscalationRules = field(default_factory=EscalationRules)
    plans: PlanRules = field(default_factory=PlanRules)
    watchlist: WatchWeights = field(default_factory=WatchWeights)
    limitation: Limitation = field(default_factory=Limitation)
    ledger: Ledger = field(default_factory=Ledger)
    waivers: Waivers = field(default_factory=Waivers)
    cases: CaseRules = field(default_factory=CaseRules)
    placements: PlacementRules = field(default_factory=PlacementRules)
    legal: LegalRules = field(default_factory=LegalRules)
    config_path: Path | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def checked_strategy(self) -> tuple[Step, ...]:
        """The strategy, for what sends or renders messages (run-reminders, templates lint and
        preview): one that does not fit the configured buckets is refused there, saying how to
        fix it; every other command works with such a configuration."""
        if self.strategy_problem:
            raise ConfigError(self.strategy_problem)
        return self.strategy


def load_settings(*, db: str | None = None, config: str | None = None) -> Settings:
    """Build the settings for one command from its options, the environment and the file."""
    path = _config_path(config)
    data = _read_toml(path) if path else {}
    values = _parse(data, path)
    values["db"] = db or os.environ.get("COLLECT_DB") or values.get("db") or DEFAULT_DB
    secret = os.environ.get("COLLECT_PAYMENT_SECRET")
    if secret:
        values["messaging"] = replace(values.get("messaging", Messaging()), payment_secret=secret.encode())
    return Settings(config_path=path, **values)


def _config_path(option: str | None) -> Path | None:
    explicit = option or os.environ.get("COLLECT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"configuration file {path} does not exist")
        return path
    default = Path(DEFAULT_CONFIG)
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


_TOP_KEYS = {"db", "timezone", "grace_days", "buckets", "queue", "strategy", "messaging", "contact", "delivery",
             "penalty", "promises", "bureau", "escalation", "plans", "watchlist", "limitation", "ledger", "waivers",
             "allocation", "cases", "placements", "legal", "replies", "dialer"}


def _parse(data: dict[str, Any], path: Path | None) -> dict[str, Any]:
    where = str(path) if path else "configuration"

    def bad(key: str, why: str) -> ConfigError:
        return ConfigError(f"{where}: {key}: {why}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise bad(unknown[0], f"unknown key (known: {', '.join(sorted(_TOP_KEYS))})")
    out: dict[str, Any] = {}
    if "db" in data:
        if not isinstance(data["db"], str) or not data["db"]:
            raise bad("db", "must be a file path or a database URL")
        out["db"] = data["db"]
    if "timezone" in data:
        tz = data["timezone"]
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise bad("timezone", f"{tz!r} is not an IANA time zone such as 'Asia/Shanghai'") from None
        out["timezone"] = tz
    if "grace_days" in data:
        out["grace_days"] = _whole(data["grace_days"], "grace_days", 0, 365, bad)
    if "buckets" in data:
        out["buckets"] = _parse_buckets(data["buckets"], bad)
    if "queue" in data:
        out["queue"] = _parse_queue(data["queue"], bad)
    buckets = out.get("buckets", DEFAULT_BUCKETS)
    if "strategy" in data:
        handover = out.get("queue", QueueWeights()).handover_dpd
        out["strategy"] = _parse_strategy(data["strategy"], buckets, handover, bad)
    else:
        missing = {b for s in DEFAULT_STRATEGY for b in s.buckets} - {b.name for b in buckets}
        if missing:  # refused only where a strategy is used: reports and the queue need none
            out["strategy_problem"] = str(bad(
                "strategy", f"the default strategy uses bucket(s) {', '.join(sorted(missing))}, which your "
                            "[[buckets]] do not define: add [[strategy]] steps for your buckets (README, Reminders) "
                            "or keep the bucket names M0-M3; commands that send nothing work as they are"))
    if "messaging" in data:
        out["messaging"] = _parse_messaging(data["messaging"], path, bad)
    if "contact" in data:
        out["contact"] = _parse_contact(data["contact"], bad)
    if "delivery" in data:
        out["delivery"] = _parse_delivery(data["delivery"], path, bad)
    if "penalty" in data:
        out["penalty"] = _parse_penalty(data["penalty"], bad)
    if "allocation" in data:
        out["allocation"] = _parse_allocation(data["allocation"], bad)
    if "escalation" in data:
        raw = _table(data["escalation"], "escalation", set(EscalationRules.__dataclass_fields__), bad)
        out["escalation"] = EscalationRules(**{k: _whole(v, f"escalation.{k}", 1, 10**9, bad) for k, v in raw.items()})
    if "watchlist" in data:
        raw = _table(data["watchlist"], "watchlist", set(WatchWeights.__dataclass_fields__), bad)
        out["watchlist"] = WatchWeights(**{k: _whole(v, f"watchlist.{k}", 0, 1000, bad) for k, v in raw.items()})
    if "waivers" in data:
        out["waivers"] = _parse_waivers(data["waivers"], bad)
    if "plans" in data:
        raw = _table(data["plans"], "plans", set(PlanRules.__dataclass_fields__), bad)
        out["plans"] = PlanRules(**{k: _whole(v, f"plans.{k}", 0, 10_000, bad) for k, v in raw.items()})
    if "bureau" in data:
        raw = _table(data["bureau"], "bureau", {"notice_steps", "notice_days", "min_dpd"}, bad)
        base = Bureau()
        steps = _strings(raw.get("notice_steps", list(base.notice_steps)), "bureau.notice_steps", bad)
        known = {s.name for s in out.get("strategy", DEFAULT_STRATEGY)}
        unknown_steps = [s for s in steps if s not in known]
        if unknown_steps:
            raise bad("bureau.notice_steps", f"{unknown_steps[0]!r} is not a step of the strategy")
        out["bureau"] = Bureau(
            notice_steps=steps,
            notice_days=_whole(raw.get("notice_days", base.notice_days), "bureau.notice_days", 0, 365, bad),
            min_dpd=_whole(raw.get("min_dpd", base.min_dpd), "bureau.min_dpd", 1, 10_000, bad),
        )
    rules = out.get("contact", ContactRules()).rules
    out["limitation"] = _parse_limitation(data.get("limitation", {}), rules, bad)
    if "ledger" in data:
        raw = _table(data["ledger"], "ledger", {"suspicious_names"}, bad)
        names = raw.get("suspicious_names", "reject")
        if names not in ("reject", "flag"):
            raise bad("ledger.suspicious_names", "must be reject or flag")
        out["ledger"] = Ledger(suspicious_names=names)
    if "cases" in data:
        out["cases"] = _parse_cases(data["cases"], bad)
    if "dialer" in data:
        raw = _table(data["dialer"], "dialer", {"scripts"}, bad)
        scripts = _table(raw.get("scripts", {}), "dialer.scripts", set(SEGMENTS), bad)
        for segment, name in scripts.items():
            _text(name, f"dialer.scripts.{segment}", bad, 64)
        out["dialer"] = DialerRules(scripts=dict(scripts))
    if "replies" in data:
        raw = _table(data["replies"], "replies", {"stop_words", "paid_words"}, bad)
        out["replies"] = ReplyWords(**{k: _strings(v, f"replies.{k}", bad) for k, v in raw.items()})
    if "legal" in data:
        raw = _table(data["legal"], "legal", {"stop_automated_from", "stop_calls_from"}, bad)
        for key in raw:
            if raw[key] not in LEGAL_STAGES[:-1]:  # "closed" would stop nothing: a closed case holds no stop
                raise bad(f"legal.{key}", f"one of {', '.join(LEGAL_STAGES[:-1])}")
        out["legal"] = LegalRules(stop_automated_from=raw.get("stop_automated_from", "filed"),
                                  stop_calls_from=raw.get("stop_calls_from"))
    if "placements" in data:
        raw = _table(data["placements"], "placements", {"notice_days", "term_days", "pause_messages"}, bad)
        pause = raw.get("pause_messages", True)
        if not isinstance(pause, bool):
            raise bad("placements.pause_messages", "must be true or false")
        out["placements"] = PlacementRules(
            notice_days=_whole(raw.get("notice_days", 7), "placements.notice_days", MIN_NOTICE_DAYS, 365, bad),
            term_days=_whole(raw.get("term_days", 90), "placements.term_days", 1, 3650, bad), pause_messages=pause)
    if "promises" in data:
        raw = _table(data["promises"], "promises", {"grace_days", "max_days_ahead"}, bad)
        base = Promises()
        out["promises"] = Promises(
            grace_days=_whole(raw.get("grace_days", base.grace_days), "promises.grace_days", 0, 30, bad),
            max_days_ahead=_whole(raw.get("max_days_ahead", base.max_days_ahead), "promises.max_days_ahead", 1, 365, bad),
        )
    return out


_CASE_DAYS = {  # key: (CaseDays field, the rule, the law's longest)
    "dispute_days": ("dispute", "CASE-3", 365),
    "bureau_dispute_days": ("bureau_dispute", "CASE-1", STATUTORY_DAYS["bureau-dispute"]),
    "complaint_days": ("complaint", "CASE-2", STATUTORY_DAYS["complaint"]),
    "complaint_complex_days": ("complaint_complex", "CASE-2", COMPLEX_DAYS),
    "complaint_extension_days": ("complaint_extension", "CASE-2", APPROVED_EXTRA_DAYS),
}


def _parse_cases(raw: Any, bad) -> CaseRules:
    raw = _table(raw, "cases", {*_CASE_DAYS, "due_soon_days", "dispute_words", "complaint_words"}, bad)
    days = {}
    for key, (name, rule, longest) in _CASE_DAYS.items():
        if key in raw:
            value = _whole(raw[key], f"cases.{key}", 1, 3650, bad)
            if value > longest:
                raise bad(f"cases.{key}", f"{rule}: the rule allows at most {longest} days; a longer deadline "
                                          "would be looser than the law")
            days[name] = value
    numbers = CaseDays(**days)
    if numbers.complaint_complex < numbers.complaint:
        raise bad("cases.complaint_complex_days", "a complex complaint's deadline cannot be shorter than "
                                                  "cases.complaint_days")
    return CaseRules(days=numbers,
                     due_soon_days=_whole(raw.get("due_soon_days", 3), "cases.due_soon_days", 0, 60, bad),
                     dispute_words=_strings(raw.get("dispute_words", []), "cases.dispute_words", bad),
                     complaint_words=_strings(raw.get("complaint_words", []), "cases.complaint_words", bad))


def _parse_limitation(raw: Any, rules: str, bad) -> Limitation:
    raw = _table(raw, "limitation", {"years", "renewed_by"}, bad)
    base = Limitation.for_rules(rules)
    years = _whole(raw.get("years", base.years), "limitation.years", 1, 20, bad)
    if years > STATUTORY_YEARS.get(rules, 20):
        raise bad("limitation.years", f"LIM-1: under the {rules} rules a claim is time-barred after "
                                      f"{STATUTORY_YEARS[rules]} years; a longer period would threaten legal action "
                                      "on a debt the law calls time-barred")
    renewed = _strings(raw.get("renewed_by", list(base.renewed_by)), "limitation.renewed_by", bad)
    odd = [r for r in renewed if r not in RENEWALS]
    if odd:
        raise bad("limitation.renewed_by", f"{odd[0]!r} is not one of {', '.join(RENEWALS)}")
    return Limitation(years=years, renewed_by=tuple(renewed))


def _decimal(value: Any, key: str, lo: Decimal, hi: Decimal, bad) -> Decimal:
    """Rates are written as strings ("0.0005") so that no float ever holds them."""
    try:
        if not isinstance(value, str):
            raise InvalidOperation
        d = Decimal(value)
    except InvalidOperation:
        raise bad(key, 'must be a decimal written as a string, e.g. "0.0005"') from None
    if not d.is_finite() or not lo <= d <= hi:
        raise bad(key, f"must be from {lo} to {hi}")
    return d


MAX_LPR_MULTIPLE = Decimal(4)  # AMT-2: 4 × LPR (法释〔2020〕17号 Art 25)


def _parse_waivers(raw: Any, bad) -> Waivers:
    """[waivers] roles = {li = "supervisor"}; [waivers.limits.collector] penalty = 500 (yuan)."""
    from collect_cli.domain.waivers import COMPONENTS

    raw = _table(raw, "waivers", {"roles", "limits"}, bad)
    roles = _table(raw.get("roles", {}), "waivers.roles", None, bad)
    limits = _default_limits()
    for role, table in _table(raw.get("limits", {}), "waivers.limits", None, bad).items():
        table = _table(table, f"waivers.limits.{role}", set(COMPONENTS), bad)
        limits[role] = {**limits.get(role, dict.fromkeys(COMPONENTS, 0)),
                        **{k: _whole(v, f"waivers.limits.{role}.{k}", 0, 10**9, bad) for k, v in table.items()}}
    for name, role in roles.items():
        if role not in limits:
            raise bad(f"waivers.roles.{name}", f"{role!r} is not a role with limits ({', '.join(sorted(limits))})")
    return Waivers(roles=dict(roles), limits=limits)


def _parse_allocation(raw: Any, bad) -> Allocation:
    """[allocation] default = "fee_interest_principal"; products = {"现金贷" = "interest_first"}."""
    raw = _table(raw, "allocation", {"default", "products"}, bad)
    choices = ", ".join(STRATEGIES)

    def strategy(value: Any, key: str) -> str:
        if value not in STRATEGIES:
            raise bad(key, f"{value!r} is not an allocation rule ({choices})")
        return value

    default = strategy(raw.get("default", FEE_INTEREST_PRINCIPAL), "allocation.default")
    table = raw.get("products", {})
    if not isinstance(table, dict):
        raise bad("allocation.products", 'must be a table: products = {"product" = "interest_first"}')
    return Allocation(default, {p: strategy(v, f"allocation.products.{p}") for p, v in table.items()})


def _parse_penalty(raw: Any, bad) -> Penalty:
    raw = _table(raw, "penalty", {"products", "lpr", "lpr_multiple"}, bad)
    products = {}
    table = raw.get("products", {})
    if not isinstance(table, dict):
        raise bad("penalty.products", 'must be a table: [penalty.products] "product" = "0.0005"')
    for product, rate in table.items():
        products[product] = _decimal(rate, f"penalty.products.{product}", Decimal("0.000001"), Decimal("0.01"), bad)
    lpr = []
    table = raw.get("lpr", [])
    if not isinstance(table, list):
        raise bad("penalty.lpr", 'must be a list of ["YYYY-MM-DD", "rate"] pairs')
    for i, entry in enumerate(table, 1):
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], str):
            raise bad(f"penalty.lpr[{i}]", 'must be ["YYYY-MM-DD", "rate"]')
        try:
            start = date.fromisoformat(entry[0])
        except ValueError:
            raise bad(f"penalty.lpr[{i}]", f"{entry[0]!r} is not a date (YYYY-MM-DD)") from None
        lpr.append((start, _decimal(entry[1], f"penalty.lpr[{i}]", Decimal("0.0001"), Decimal("0.5"), bad)))
    if [d for d, _ in lpr] != sorted({d for d, _ in lpr}):
        raise bad("penalty.lpr", "the dates must be ascending and distinct")
    multiple = _decimal(raw.get("lpr_multiple", "4"), "penalty.lpr_multiple", Decimal(0), Decimal(10), bad)
    if multiple > MAX_LPR_MULTIPLE or multiple <= 0:
        raise bad("penalty.lpr_multiple", f"AMT-2: the all-in overdue rate is capped at {MAX_LPR_MULTIPLE} × LPR "
                                          f"(法释〔2020〕17号); {multiple} is not above 0 and at most {MAX_LPR_MULTIPLE}")
    if products and not lpr:
        raise bad("penalty.lpr", "AMT-2: a penalty needs the dated LPR table that caps it (penalty.lpr = "
                                 '[["2025-05-20", "0.030"], …]); without it the cap cannot be checked')
    return Penalty(products=products, lpr=tuple(lpr), lpr_multiple=multiple)


def _table(raw: Any, key: str, known: set[str] | None, bad) -> dict:
    """`raw` as a table with only `known` keys (None: any key)."""
    if not isinstance(raw, dict):
        raise bad(key, f"must be a table: [{key}]")
    for k in raw:
        if known is not None and k not in known:
            raise bad(f"{key}.{k}", f"unknown key (known: {', '.join(sorted(known))})")
    return raw


def _whole(value: Any, key: str, lo: int, hi: int, bad) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise bad(key, f"must be a whole number from {lo} to {hi}")
    return value


def _text(value: Any, key: str, bad, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise bad(key, f"must be a non-empty string of at most {limit} characters")
    return value.strip()


def _strings(value: Any, key: str, bad) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise bad(key, "must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


_STEP_KEYS = {"step", "bucket", "buckets", "channel", "template", "purpose", "min_days", "due_in", "segment",
              "min_watch_score", "allow_late_automation", "only_with_address"}


def _parse_strategy(raw: Any, buckets: tuple[Bucket, ...], handover_dpd: int, bad) -> tuple[Step, ...]:
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise bad("strategy", 'must be an array of tables: [[strategy]] step = "m1_notice", bucket = "M1", …')
    by_name = {b.name: b for b in buckets}
    steps, names = [], set()
    for i, s in enumerate(raw, 1):
        key = f"strategy[{i}]"
        _table(s, key, _STEP_KEYS, bad)
        name = _text(s.get("step"), f"{key}.step", bad, 64)
        if name in names:
            raise bad(f"{key}.step", f"step {name!r} is defined twice")
        names.add(name)
        if s.get("purpose") == TRANSFER_NOTICE:  # XFER-1: fires when a transfer is known, in any bucket
            if extra := sorted({"bucket", "buckets", "min_days", "due_in", "segment", "min_watch_score"} & set(s)):
                raise bad(f"{key}.{extra[0]}", "a transfer_notice step goes once a transfer to another creditor is "
                                               "known, whatever the bucket: it takes no bucket and no trigger")
            if s.get("channel") not in CHANNELS:
                raise bad(f"{key}.channel", f"must be one of {', '.join(CHANNELS)}")
            steps.append(Step(name, (), s["channel"], _text(s.get("template"), f"{key}.template", bad, 64),
                              TRANSFER_NOTICE))
            continue
        if ("bucket" in s) == ("buckets" in s):
            raise bad(key, 'needs bucket = "M1", or buckets = ["M3", "M4"] for a step of several buckets')
        chosen = (_text(s["bucket"], f"{key}.bucket", bad, 64),) if "bucket" in s else \
            _strings(s["buckets"], f"{key}.buckets", bad)
        for bucket in chosen:
            if bucket not in by_name:
                raise bad(f"{key}.bucket", f"{bucket!r} is not a configured bucket ({', '.join(by_name)})")
        channel = s.get("channel")
        if channel not in CHANNELS:
            raise bad(f"{key}.channel", f"must be one of {', '.join(CHANNELS)}")
        template = _text(s.get("template"), f"{key}.template", bad, 64)
        if ("min_days" in s) == ("due_in" in s):
            raise bad(key, "needs exactly one trigger: min_days (delinquent days) or due_in ([from, to] days before the due date)")
        min_days = due_in = None
        if "min_days" in s:
            min_days = _whole(s["min_days"], f"{key}.min_days", 0, 10_000, bad)
        else:
            d = s["due_in"]
            if (not isinstance(d, list) or len(d) != 2 or not all(isinstance(x, int) and not isinstance(x, bool) for x in d)
                    or not 0 <= d[0] <= d[1] <= 60):
                raise bad(f"{key}.due_in", "must be [from, to] days before the due date, 0 <= from <= to <= 60")
            due_in = (d[0], d[1])
        tops = [by_name[b].max_days for b in chosen]
        if min_days is not None and None not in tops and min_days > max(tops):
            raise bad(f"{key}.min_days", f"{'/'.join(chosen)} end(s) at {max(tops)} delinquent days, so a step at "
                                         f"{min_days} can never fire")
        purpose = s.get("purpose", "predue_reminder" if due_in else "overdue_notice")
        if purpose not in PURPOSES:
            raise bad(f"{key}.purpose", f"must be one of {', '.join(PURPOSES)}")
        if (purpose == "predue_reminder") != (due_in is not None):
            raise bad(f"{key}.purpose", "a due_in step is a predue_reminder, and a predue_reminder is a due_in step")
        segment = s.get("segment")
        if segment is not None and segment not in SEGMENTS:
            raise bad(f"{key}.segment", f"must be one of {', '.join(SEGMENTS)}")
        watch = None
        if "min_watch_score" in s:
            watch = _whole(s["min_watch_score"], f"{key}.min_watch_score", 1, 1000, bad)
            if chosen != (buckets[0].name,):
                raise bad(f"{key}.min_watch_score", f"the early-warning score is for current accounts: bucket "
                                                    f"{buckets[0].name}, not {', '.join(chosen)}")
        late = s.get("allow_late_automation", False)
        if not isinstance(late, bool):
            raise bad(f"{key}.allow_late_automation", "must be true or false")
        only = s.get("only_with_address", False)
        if not isinstance(only, bool):
            raise bad(f"{key}.only_with_address", "must be true or false")
        past = [b for b in chosen if by_name[b].min_days > handover_dpd]
        if past and not late:
            raise bad(f"{key}.bucket", f"{past[0]} is past {handover_dpd} days (queue.handover_dpd), where accounts are "
                                       "legal / agency work and old debts may be time-barred (LIM-1): an automated step "
                                       "there needs allow_late_automation = true")
        steps.append(Step(name, chosen, channel, template, purpose, min_days=min_days, due_in=due_in, segment=segment,
                          min_watch_score=watch, allow_late_automation=late, only_with_address=only))
    return tuple(steps)


def _parse_messaging(raw: Any, path: Path | None, bad) -> Messaging:
    raw = _table(raw, "messaging", {"service_phone", "sms_max_parts", "push_title_max", "push_text_max",
                                    "payment_url", "payment_link_days",
                                    "template_dirs", "forbidden_words",
                                    "marketing_words", "legal_words", *LOCALES}, bad)
    base = Messaging()
    texts = dict(base.texts)
    for loc in LOCALES:
        if loc in raw:
            t = _table(raw[loc], f"messaging.{loc}", set(LocaleTexts.__dataclass_fields__), bad)
            merged = {**DEFAULT_TEXTS[loc].__dict__,
                      **{k: _text(v, f"messaging.{loc}.{k}", bad) for k, v in t.items()}}
            texts[loc] = LocaleTexts(**merged)
    sig = [t.sms_signature for t in texts.values()
           if not 2 <= len(t.sms_signature) <= 12 or set("【】[]") & set(t.sms_signature)]
    if sig:
        raise bad("messaging.sms_signature", f"{sig[0]!r}: the SMS signature is 2 to 12 characters, without "
                                             "brackets: the channel adds the 【】 (SAY-5)")
    folder = path.parent if path else Path(".")
    return Messaging(
        service_phone=_text(raw.get("service_phone", base.service_phone), "messaging.service_phone", bad, 40),
        texts=texts,
        sms_max_parts=_whole(raw.get("sms_max_parts", base.sms_max_parts), "messaging.sms_max_parts", 1, 10, bad),
        push_title_max=_whole(raw.get("push_title_max", base.push_title_max), "messaging.push_title_max", 5, 200, bad),
        push_text_max=_whole(raw.get("push_text_max", base.push_text_max), "messaging.push_text_max", 20, 2000, bad),
        payment_url=_payment_url(raw.get("payment_url"), bad),
        payment_link_days=_whole(raw.get("payment_link_days", base.payment_link_days), "messaging.payment_link_days",
                                 1, 90, bad),
        template_dirs=_folders(folder, _strings(raw.get("template_dirs", []), "messaging.template_dirs", bad), bad),
        forbidden_words=_strings(raw.get("forbidden_words", []), "messaging.forbidden_words", bad),
        marketing_words=_strings(raw.get("marketing_words", []), "messaging.marketing_words", bad),
        legal_words=_strings(raw.get("legal_words", []), "messaging.legal_words", bad),
    )


def _payment_url(url: Any, bad) -> str | None:
    """The payment page: https, no query (the token is the last part of the path), short
    enough for an SMS."""
    if url is None:
        return None
    if not isinstance(url, str) or not re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~-]+)*/?", url) \
            or len(url) > 60:
        raise bad("messaging.payment_url", "must be an https:// address without a query, at most 60 characters "
                                           "(the token is added as the last part of its path)")
    return url.rstrip("/")


def _folders(base: Path, names: tuple[str, ...], bad) -> tuple[Path, ...]:
    folders = tuple(base / n for n in names)
    missing = [f for f in folders if not f.is_dir()]
    if missing:
        raise bad("messaging.template_dirs", f"{missing[0]} is not a folder")
    return folders


def _parse_contact(raw: Any, bad) -> ContactRules:
    raw = _table(raw, "contact", {"rules", "window", "sms_per_day", "sms_per_7_days", "push_per_day",
                                  "push_per_7_days", "served_timezones",
                                  "unreachable_days", "late_entry_hours"}, bad)
    values: dict[str, Any] = {}
    if "rules" in raw:
        if raw["rules"] not in ("cn", "us"):
            raise bad("contact.rules", "must be cn or us")
        values["rules"] = raw["rules"]
    if "window" in raw:
        w = raw["window"]
        try:
            if not isinstance(w, list) or len(w) != 2:
                raise ValueError
            values["window"] = tuple(time.fromisoformat(x) for x in w)
            if any(t.tzinfo is not None for t in values["window"]):
                raise ValueError  # the window is the borrower's local time: no offset
        except (ValueError, TypeError):
            raise bad("contact.window", 'must be ["HH:MM", "HH:MM"], e.g. ["08:00", "21:00"]') from None
    for key in ("sms_per_day", "sms_per_7_days", "push_per_day", "push_per_7_days"):
        if key in raw:
            values[key] = _whole(raw[key], f"contact.{key}", 0, 100, bad)
    if "unreachable_days" in raw:  # WHO-5: at least a day of trying before anyone else is asked
        values["unreachable_days"] = _whole(raw["unreachable_days"], "contact.unreachable_days", 1, 60, bad)
    if "late_entry_hours" in raw:  # REC-4: a contact logged later carries both times; a week at most
        values["late_entry_hours"] = _whole(raw["late_entry_hours"], "contact.late_entry_hours", 0, 168, bad)
    if "served_timezones" in raw:
        zones = _strings(raw["served_timezones"], "contact.served_timezones", bad)
        for z in zones:
            try:
                ZoneInfo(z)
            except (ZoneInfoNotFoundError, ValueError):
                raise bad("contact.served_timezones", f"{z!r} is not an IANA time zone") from None
        values["served_timezones"] = zones
    rules = ContactRules(**values)
    try:
        check_contact_rules(rules)
    except ValueError as exc:
        raise bad("contact", str(exc)) from None
    if len(rules.served_timezones) > 1:
        # WHEN-6: a borrower of unknown zone must be reachable inside every window at once, on
        # every day of the year, whatever daylight saving time does (this year and the next)
        first = date(date.today().year, 1, 1)
        gaps = days_without_common_window([ZoneInfo(z) for z in rules.served_timezones], rules.window, first,
                                          (date(first.year + 2, 1, 1) - first).days)
        if gaps:
            raise bad("contact.served_timezones", f"WHEN-6: the contact windows of these zones do not overlap on "
                                                  f"{gaps[0].isoformat()} ({len(gaps)} day(s) in {first.year}-"
                                                  f"{first.year + 1}), so a borrower of unknown zone could not be "
                                                  "contacted then")
    return rules


def _url(url: Any, key: str, bad) -> str | None:
    if url is None:
        return None
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise bad(key, "must be an http:// or https:// URL with a valid host and port") from None
    return url


def _parse_delivery(raw: Any, path: Path | None, bad) -> Delivery:
    known = {"senders", "spool_dir", "http_url", "push_url", "http_timeout_seconds", "http_max_attempts",
             "http_backoff_ms", "smtp_host", "smtp_port", "smtp_sender", "email_unsubscribe", "cost"}
    raw = _table(raw, "delivery", known, bad)
    base = Delivery()
    senders = dict(base.senders)
    allowed = {"sms": ("file", "http"), "email": ("file", "http", "smtp"), "push": ("file", "http"),
               "letter": ("file",)}
    if "senders" in raw:
        for channel, kind in _table(raw["senders"], "delivery.senders", set(CHANNELS), bad).items():
            if kind not in allowed[channel]:
                raise bad(f"delivery.senders.{channel}", f"must be one of {', '.join(allowed[channel])}")
            senders[channel] = kind
    urls = {key: _url(raw.get(key), f"delivery.{key}", bad) for key in ("http_url", "push_url")}
    if any(kind == "http" for channel, kind in senders.items() if channel != "push") and not urls["http_url"]:
        raise bad("delivery.http_url", "is needed when a channel uses the http sender")
    if senders.get("push") == "http" and not urls["push_url"]:
        raise bad("delivery.push_url", "is needed when push uses the http sender (the app push gateway)")
    unsubscribe = raw.get("email_unsubscribe")
    if unsubscribe is not None and (not isinstance(unsubscribe, str) or not re.fullmatch(
            r"(mailto:[^\s<>@]+@[^\s<>]+|https://[^\s<>]+)", unsubscribe)):
        raise bad("delivery.email_unsubscribe", "must be a mailto: or https:// address without spaces")
    costs = {}
    for channel, value in _table(raw.get("cost", {}), "delivery.cost", set(CHANNELS), bad).items():
        try:
            cost = Decimal(str(value)) if isinstance(value, (int, float, str)) and not isinstance(value, bool) \
                else None
        except InvalidOperation:
            cost = None
        if cost is None or not cost.is_finite() or cost < 0 or cost > 1000 or cost.as_tuple().exponent < -4:
            raise bad(f"delivery.cost.{channel}", 'must be the cost of one message, e.g. "0.045" (up to 4 '
                                                  'decimals, 0 to 1000)')
        costs[channel] = cost
    folder = path.parent if path else Path(".")
    return Delivery(
        senders=senders,
        spool_dir=folder / _text(raw.get("spool_dir", str(base.spool_dir)), "delivery.spool_dir", bad, 1000),
        http_url=urls["http_url"],
        push_url=urls["push_url"],
        http_timeout_seconds=_whole(raw.get("http_timeout_seconds", base.http_timeout_seconds),
                                    "delivery.http_timeout_seconds", 1, 300, bad),
        http_max_attempts=_whole(raw.get("http_max_attempts", base.http_max_attempts),
                                 "delivery.http_max_attempts", 1, 20, bad),
        http_backoff_ms=_whole(raw.get("http_backoff_ms", base.http_backoff_ms), "delivery.http_backoff_ms",
                               0, 60_000, bad),
        smtp_host=_text(raw.get("smtp_host", base.smtp_host), "delivery.smtp_host", bad),
        smtp_port=_whole(raw.get("smtp_port", base.smtp_port), "delivery.smtp_port", 1, 65535, bad),
        smtp_sender=_text(raw.get("smtp_sender", base.smtp_sender), "delivery.smtp_sender", bad),
        email_unsubscribe=unsubscribe,
        costs=costs,
    )


def _parse_buckets(raw: Any, bad) -> tuple[Bucket, ...]:
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        raise bad("buckets", 'must be an array of tables: [[buckets]] name = "M1", min = 1, max = 30')
    buckets = []
    for i, b in enumerate(raw, 1):
        key = f"buckets[{i}]"
        extra = sorted(set(b) - {"name", "min", "max"})
        if extra:
            raise bad(f"{key}.{extra[0]}", "unknown key (known: name, min, max)")
        name, lo, hi = b.get("name"), b.get("min"), b.get("max")
        if not isinstance(name, str) or not name.strip():
            raise bad(f"{key}.name", "must be a non-empty string")
        for k, v in (("min", lo), ("max", hi)):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
                raise bad(f"{key}.{k}", "must be a whole number of days, 0 or more")
        if lo is None:
            raise bad(f"{key}.min", "is required")
        buckets.append(Bucket(name.strip(), lo, hi))
    result = tuple(buckets)
    try:
        check_buckets(result)
    except ValueError as exc:
        raise bad("buckets", str(exc)) from None
    return result


def _parse_queue(raw: Any, bad) -> QueueWeights:
    raw = _table(raw, "queue", set(QueueWeights.__dataclass_fields__), bad)
    caps = ("dpd_cap", "amount_cap", "handover_dpd")  # divisors and a threshold: above 0
    return QueueWeights(**{k: _whole(v, f"queue.{k}", 1 if k in caps else 0, 10**9, bad) for k, v in raw.items()})
