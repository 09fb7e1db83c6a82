"""The register of outside agencies (AGY-2): adding and editing them as versions, their
evaluations, and whether one may receive new placements on a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, Engine

from collect_cli.config import Settings
from collect_cli.domain.agencies import (
    STATUSES,
    VERDICTS,
    Agency,
    AgencyRuleError,
    Evaluation,
    check_renewal,
    commission_text,
    evaluation_due,
    last_pass,
    may_place,
    parse_commission,
)
from collect_cli.domain.compliance import Refusal
from collect_cli.domain.text_forms import compact
from collect_cli.errors import Refused, UsageError
from collect_cli.services.contact_facts import end_of_day, local_day
from collect_cli.store import queries as q


@dataclass(frozen=True)
class AgencyView:
    agency: Agency
    evaluations: list[Evaluation]
    refusal: Refusal | None  # why it may not receive new placements on the day; None: it may

    def row(self, on: date) -> dict:
        a = self.agency
        passed, due = last_pass(self.evaluations, on), evaluation_due(self.evaluations, on)
        return {"agency": a.name, "status": a.status, "contract_start": a.contract_start.isoformat(),
                "contract_end": a.contract_end.isoformat(), "commission": commission_text(a.rates),
                "last_passed": passed.isoformat() if passed else None,
                "evaluation_due": due.isoformat() if due else None,
                "may_place": self.refusal is None, "why_not": str(self.refusal) if self.refusal else None}


FIELDS = ["agency", "status", "contract_start", "contract_end", "commission", "last_passed", "evaluation_due",
          "may_place", "why_not"]


def agency_key(name: str) -> str:
    """One agency however its name is typed: case, width, spaces and punctuation aside."""
    return compact(name)


def _history(conn: Connection, name: str | None = None, known_by=None) -> dict[str, list]:
    """The register's versions (of the agency `name` means, or of all), as recorded by `known_by`."""
    history = q.agency_history(conn, known_by)
    if name is None:
        return history
    return {n: v for n, v in history.items() if agency_key(n) == agency_key(name)}


def _buckets(settings: Settings) -> tuple[str, ...]:
    return tuple(b.name for b in settings.buckets)


def _agency(versions, settings: Settings) -> Agency:
    latest = versions[-1]
    for v in reversed(versions):  # the day the current contract end was set: a renewal is judged from it
        if v.contract_end != latest.contract_end:
            break
        set_on = local_day(v.at, settings.zone)
    return Agency(name=latest.name, status=latest.status, contract_start=latest.contract_start,
                  contract_end=latest.contract_end, rates=parse_commission(latest.commission, _buckets(settings)),
                  contract_set_on=set_on)


def _evaluations(rows) -> list[Evaluation]:
    return [Evaluation(r.evaluated_on, r.compliance, r.results, r.security) for r in rows]


def register(conn: Connection, *, on: date, settings: Settings, name: str | None = None) -> list[AgencyView]:
    """The agencies as recorded by the end of `on`, each with whether it may receive placements then."""
    known_by = end_of_day(on, settings.zone)
    history = _history(conn, name, known_by)
    evaluations = q.evaluations_of(conn, sorted(history), known_by)
    out = []
    for agency_name, versions in sorted(history.items()):
        agency, evals = _agency(versions, settings), _evaluations(evaluations[agency_name])
        out.append(AgencyView(agency, evals, may_place(agency, evals, on)))
    return out


def registered(conn: Connection, *, name: str, on: date, settings: Settings) -> AgencyView:
    """The agency `name` means, as the register stood by the end of `on`; UsageError when none."""
    found = register(conn, on=on, settings=settings, name=name)
    if not found:
        raise UsageError(f"{name!r} is not in the agency register")
    return found[0]


def placeable(conn: Connection, *, name: str, on: date, settings: Settings) -> AgencyView:
    """The agency `name` means, when it may receive new placements on `on` (AGY-2); else Refused."""
    found = register(conn, on=on, settings=settings, name=name)
    if not found:
        raise Refused(f"AGY-2: {name!r} is not in the agency register (collect agencies add)")
    if found[0].refusal is not None:
        raise Refused(str(found[0].refusal))
    return found[0]


def entrusted(conn: Connection, *, name: str, on: date, settings: Settings) -> tuple[str, Refusal | None]:
    """AGY-3: the agency's name as registered, and why it may not receive a file on `on` (not in
    the register, removed, outside its contract: no written entrustment); None: it may."""
    found = register(conn, on=on, settings=settings, name=name)
    if not found:
        return name, Refusal("AGY-3", f"{name!r} is not in the agency register: no written entrustment")
    a = found[0].agency
    if a.status == "removed" or not a.contract_start <= on <= a.contract_end:
        return a.name, Refusal("AGY-3", f"{a.name} has no contract in force on {on.isoformat()} ({a.status}, "
                                        f"{a.contract_start.isoformat()} to {a.contract_end.isoformat()})")
    return a.name, None


def _check(status: str | None, start: date | None, end: date | None) -> None:
    if status is not None and status not in STATUSES:
        raise UsageError(f"--status {status!r}: one of {', '.join(STATUSES)}")
    if start is not None and end is not None and end < start:
        raise UsageError(f"--contract-end {end.isoformat()} is before --contract-start {start.isoformat()}")


def _rates(spec: str, settings: Settings) -> str:
    try:
        return commission_text(parse_commission(spec, _buckets(settings)))
    except AgencyRuleError as exc:
        raise UsageError(f"--commission: {exc}") from None


def add_agency(*, engine: Engine, settings: Settings, name: str, contract_start: date, contract_end: date,
               commission: str, status: str = "approved", note: str | None = None, agent: str,
               now: datetime) -> None:
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise UsageError("the agency's name: 1 to 100 characters")
    _check(status, contract_start, contract_end)
    rates = _rates(commission, settings)
    with engine.begin() as conn:
        same = _history(conn, name)
        if same:
            raise UsageError(f"{name!r} is in the register already as {next(iter(same))!r}: collect agencies edit")
        if not agency_key(name):
            raise UsageError("the agency's name: letters or digits")
        q.add_agency_version(conn, name=name, status=status, contract_start=contract_start, contract_end=contract_end,
                             commission=rates, note=note, agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "agency add", "loan_id": None,
                            "detail": f"{name}: {status}, contract {contract_start.isoformat()} to "
                                      f"{contract_end.isoformat()}, commission {rates}"}])


def edit_agency(*, engine: Engine, settings: Settings, name: str, agent: str, now: datetime,
                status: str | None = None, contract_start: date | None = None, contract_end: date | None = None,
                commission: str | None = None, note: str | None = None) -> None:
    """A new version of the agency with the values given; a later contract end is a renewal
    (AGY-2: only after a passing evaluation since the contract was last set)."""
    today = local_day(now, settings.zone)
    with engine.begin() as conn:
        history = _history(conn, name)
        if not history:
            raise UsageError(f"{name!r} is not in the agency register")
        [(stored, versions)] = history.items()
        latest, agency = versions[-1], _agency(versions, settings)
        start, end = contract_start or latest.contract_start, contract_end or latest.contract_end
        _check(status, start, end)
        try:
            check_renewal(agency, end, _evaluations(q.evaluations_of(conn, [stored])[stored]), today)
        except AgencyRuleError as exc:
            raise Refused(str(exc)) from None
        row = {"name": stored, "status": status or latest.status, "contract_start": start, "contract_end": end,
               "commission": _rates(commission, settings) if commission else latest.commission,
               "note": note if note is not None else latest.note}
        changed = {k: v for k, v in row.items() if v != getattr(latest, k)}
        if not changed:
            raise UsageError("nothing to change: give --status, --contract-start, --contract-end, --commission or "
                             "--note")
        q.add_agency_version(conn, **row, agent=agent, at=now)
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "agency edit", "loan_id": None,
                            "detail": f"{stored}: " + ", ".join(f"{k} {getattr(latest, k)} -> {v}"
                                                                for k, v in changed.items())}])


def evaluate(*, engine: Engine, settings: Settings, name: str, on: date, compliance: str, results: str,
             security: str, note: str | None, agent: str, now: datetime) -> bool:
    """Record an evaluation (AGY-2); whether it passed."""
    for label, value in (("--compliance", compliance), ("--results", results), ("--security", security)):
        if value not in VERDICTS:
            raise UsageError(f"{label} {value!r}: pass or fail")
    if on > local_day(now, settings.zone):
        raise UsageError(f"--on {on.isoformat()}: an evaluation is of a day that has come")
    with engine.begin() as conn:
        history = _history(conn, name)
        if not history:
            raise UsageError(f"{name!r} is not in the agency register")
        [stored] = history
        q.add_agency_evaluation(conn, agency=stored, evaluated_on=on, compliance=compliance, results=results,
                                security=security, note=note, agent=agent, at=now)
        passed = Evaluation(on, compliance, results, security).passed
        q.add_audit(conn, [{"at": now, "agent": agent, "action": "agency evaluate", "loan_id": None,
                            "detail": f"{stored} on {on.isoformat()}: compliance {compliance}, results {results}, "
                                      f"security {security}{' (passed)' if passed else ' (failed)'}: {note or ''}"}])
        return passed
