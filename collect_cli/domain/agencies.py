"""Outside agencies (AGY-2): the white list, the contract, the commission, the evaluation.

An agency receives new placements only while it is on the white list (`approved`), within
its contract, and evaluated with a pass on compliance, results and information security
within the last year; a renewal (a later contract end) needs such an evaluation made since
the contract was last set and in the 90 days before. Commission is per bucket at placement ("M3=15%,M4=20%") or per
band of days past due at placement ("61-90=15%,91+=20%"), in basis points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from collect_cli.domain.compliance import Refusal

STATUSES = ("approved", "suspended", "removed")
VERDICTS = ("pass", "fail")
EVALUATION_DAYS = 365  # AGY-2: at least once a year
RENEWAL_EVALUATION_DAYS = 90  # AGY-2 "before each renewal": a pass this recent, made since the contract was set
MAX_RATE_BP = 5000  # a commission over half of what is recovered is a typo, not a contract
_BAND = re.compile(r"^(\d+)(?:-(\d+)|\+)$")


class AgencyRuleError(ValueError):
    """A value or step the agency rules refuse; the message says which."""


@dataclass(frozen=True)
class Rate:
    key: str  # a bucket name, or a band "61-90" / "181+"
    bp: int  # basis points of what is recovered

    def band(self) -> tuple[int, int | None] | None:
        m = _BAND.match(self.key)
        return (int(m.group(1)), int(m.group(2)) if m.group(2) else None) if m else None


def parse_commission(spec: str, buckets: tuple[str, ...]) -> tuple[Rate, ...]:
    """"M3=15%,M4=20%" or "61-90=15%,91+=20%": all by bucket or all by band, bands apart."""
    rates = []
    for part in [p.strip() for p in spec.split(",") if p.strip()]:
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip().removesuffix("%").strip()
        if not sep or not key:
            raise AgencyRuleError(f"{part!r}: write BUCKET=RATE% or FROM-TO=RATE% (days past due)")
        try:
            pct = Decimal(value)
        except InvalidOperation:
            raise AgencyRuleError(f"{part!r}: {value!r} is not a percentage") from None
        if not pct.is_finite() or pct < 0 or pct != pct.quantize(Decimal("0.01")) or pct * 100 > MAX_RATE_BP:
            raise AgencyRuleError(f"{part!r}: a rate from 0% to {MAX_RATE_BP // 100}% with at most 2 decimals")
        if key not in buckets and not _BAND.match(key):
            raise AgencyRuleError(f"{part!r}: {key!r} is neither a bucket ({', '.join(buckets)}) nor a band of days "
                                  "past due such as 61-90 or 181+")
        rates.append(Rate(key, int(pct * 100)))
    if not rates:
        raise AgencyRuleError("no rate: e.g. M3=15%,M4=20%")
    banded = [r.band() for r in rates]
    if any(b is None for b in banded) and any(b is not None for b in banded):
        raise AgencyRuleError("rates are all by bucket or all by days past due, not both")
    if len({r.key for r in rates}) < len(rates):
        raise AgencyRuleError("a bucket or band named twice")
    if banded[0] is not None:
        spans = sorted((lo, hi if hi is not None else 10**9) for lo, hi in banded)
        backwards = next((f"{lo}-{hi}" for lo, hi in spans if hi < lo), None)
        if backwards:
            raise AgencyRuleError(f"the band {backwards} runs backwards")
        for (_, hi), (nlo, _) in zip(spans, spans[1:], strict=False):
            if nlo <= hi:
                raise AgencyRuleError(f"bands overlap at {nlo} days past due")
    return tuple(rates)


def commission_text(rates: tuple[Rate, ...]) -> str:
    return ",".join(f"{r.key}={Decimal(r.bp) / 100:f}%" for r in rates)


def rate_for(rates: tuple[Rate, ...], *, bucket: str | None, dpd: int) -> int:
    """The basis points that apply to an account placed in `bucket` at `dpd` (0: none named)."""
    for r in rates:
        band = r.band()
        if band is None and r.key == bucket:
            return r.bp
        if band is not None and band[0] <= dpd and (band[1] is None or dpd <= band[1]):
            return r.bp
    return 0


def commission(amount: int, bp: int) -> int:
    """Commission in minor units on `amount` recovered, half up."""
    return int((Decimal(amount) * bp / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Evaluation:
    on: date
    compliance: str
    results: str
    security: str

    @property
    def passed(self) -> bool:
        return self.compliance == self.results == self.security == "pass"


@dataclass(frozen=True)
class Agency:
    name: str
    status: str
    contract_start: date
    contract_end: date
    rates: tuple[Rate, ...]
    contract_set_on: date  # the day the current contract end was set (a renewal needs an evaluation after it)


def last_pass(evaluations: list[Evaluation], on: date) -> date | None:
    passed = [e.on for e in evaluations if e.passed and e.on <= on]
    return max(passed) if passed else None


def may_place(agency: Agency, evaluations: list[Evaluation], on: date) -> Refusal | None:
    """AGY-2: None when the agency may receive new placements on `on`; else why not."""
    if agency.status != "approved":
        return Refusal("AGY-2", f"{agency.name} is not on the white list ({agency.status})")
    if on < agency.contract_start:
        return Refusal("AGY-2", f"{agency.name}'s contract begins on {agency.contract_start.isoformat()}")
    if on > agency.contract_end:
        return Refusal("AGY-2", f"{agency.name}'s contract ended on {agency.contract_end.isoformat()}")
    passed = last_pass(evaluations, on)
    if passed is None:
        return Refusal("AGY-2", f"{agency.name} has no passing evaluation (compliance, results and information "
                                "security) on record")
    if (on - passed).days > EVALUATION_DAYS:
        return Refusal("AGY-2", f"{agency.name} was last evaluated with a pass on {passed.isoformat()}, more than "
                                f"{EVALUATION_DAYS} days before {on.isoformat()}")
    return None


def check_renewal(agency: Agency, new_end: date, evaluations: list[Evaluation], today: date) -> None:
    """AGY-2: a later contract end is a renewal, made only after a passing evaluation since the
    contract was last set and within RENEWAL_EVALUATION_DAYS."""
    if new_end <= agency.contract_end:
        return
    passed = last_pass(evaluations, today)
    since = max(agency.contract_set_on, today - timedelta(days=RENEWAL_EVALUATION_DAYS))
    if passed is None or passed < since:
        raise AgencyRuleError(f"AGY-2: renewing {agency.name}'s contract to {new_end.isoformat()} needs a passing "
                              f"evaluation made on or after {since.isoformat()} (collect agencies evaluate)")


def evaluation_due(evaluations: list[Evaluation], on: date) -> date | None:
    """The last day the current pass covers (None: never passed)."""
    passed = last_pass(evaluations, on)
    return passed + timedelta(days=EVALUATION_DAYS) if passed else None
