"""The agency register (AGY-2): versions of each agency and their evaluations."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import Connection, Row, insert, select

from collect_cli.store.queries.base import agency_evaluations, agency_versions, entered_by


def add_agency_version(conn: Connection, **row) -> int:
    return conn.execute(insert(agency_versions).values(**row).returning(agency_versions.c.id)).scalar_one()


def add_agency_evaluation(conn: Connection, **row) -> int:
    return conn.execute(insert(agency_evaluations).values(**row).returning(agency_evaluations.c.id)).scalar_one()


def agency_history(conn: Connection, known_by: datetime | None = None) -> dict[str, list[Row]]:
    """{agency name: its versions, oldest first}, as recorded by `known_by` (a register is short)."""
    stmt = select(agency_versions).where(entered_by(agency_versions, known_by)).order_by(agency_versions.c.id)
    out: dict[str, list[Row]] = defaultdict(list)
    for r in conn.execute(stmt):
        out[r.name].append(r)
    return dict(out)


def evaluations_of(conn: Connection, names: list[str], known_by: datetime | None = None) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {n: [] for n in names}
    if names:
        for r in conn.execute(select(agency_evaluations).where(agency_evaluations.c.agency.in_(names),
                                                               entered_by(agency_evaluations, known_by))
                              .order_by(agency_evaluations.c.id)):
            out[r.agency].append(r)
    return out
