"""cases for the dispute and complaint holds placed before cases existed; case indexes

A dispute or complaint hold in force from before 0015 becomes a case (received the day the
hold was placed, UTC; the rule's own deadline: dispute 20 days, complaint 15), so it gets a
deadline, appears in `collect cases` and is released only by closing its case (CASE-1..3).
One case per (kind, reference); indexes for the lookups of `send` and `release`.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 17:00:00
"""
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

DAYS = {'dispute': 20, 'complaint': 15, 'bureau-dispute': 20}  # the rules' numbers (CASE-3 has none: 20)
AGENT = 'migration 0017'

holds = sa.table('holds', sa.column('id', sa.Integer), sa.column('loan_id', sa.String),
                 sa.column('borrower_id', sa.String), sa.column('reason', sa.String), sa.column('action', sa.String), sa.column('hold_id', sa.Integer),
                 sa.column('until', sa.Date), sa.column('note', sa.Text), sa.column('actor', sa.String),
                 sa.column('at', sa.DateTime))
cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('loan_id', sa.String),
                 sa.column('borrower_id', sa.String), sa.column('kind', sa.String), sa.column('received_on', sa.Date),
                 sa.column('source', sa.String), sa.column('summary', sa.Text), sa.column('hold_id', sa.Integer),
                 sa.column('agent', sa.String), sa.column('at', sa.DateTime))
events = sa.table('case_events', sa.column('case_id', sa.Integer), sa.column('action', sa.String),
                  sa.column('day', sa.Date), sa.column('owner', sa.String), sa.column('due_on', sa.Date),
                  sa.column('reason', sa.Text), sa.column('agent', sa.String), sa.column('at', sa.DateTime))


def upgrade() -> None:
    op.create_index(op.f('ix_cases_hold_id'), 'cases', ['hold_id'], unique=False)
    op.create_index(op.f('ix_case_events_message_id'), 'case_events', ['message_id'], unique=False)
    with op.batch_alter_table('cases') as batch:
        batch.create_unique_constraint(op.f('uq_cases_kind_reference'), ['kind', 'reference'])
    bind = op.get_bind()
    r = holds.alias('r')
    released = sa.exists().where(r.c.action == 'release', sa.or_(
        r.c.hold_id == holds.c.id,
        # a release from before hold instances ended every earlier hold of its kind
        sa.and_(r.c.hold_id.is_(None), r.c.reason == holds.c.reason, r.c.id > holds.c.id,
                sa.or_(r.c.loan_id == holds.c.loan_id, r.c.borrower_id == holds.c.borrower_id))))
    placed = bind.execute(sa.select(holds).where(
        holds.c.action == 'place', holds.c.reason.in_(list(DAYS)), ~released,
        ~sa.exists().where(cases.c.hold_id == holds.c.id)).order_by(holds.c.id)).all()
    today = datetime.now(UTC).date()
    for h in placed:
        if h.until is not None and h.until < today:  # it has ended: nothing holds, nothing to answer
            continue
        received = h.at.date()
        case_id = bind.execute(sa.insert(cases).values(
            loan_id=h.loan_id, borrower_id=h.borrower_id, kind=h.reason, received_on=received, source='hold',
            summary=h.note, hold_id=h.id, agent=AGENT, at=h.at).returning(cases.c.id)).scalar_one()
        bind.execute(sa.insert(events).values(
            case_id=case_id, action='open', day=received, owner=h.actor,
            due_on=received + timedelta(days=DAYS[h.reason]),
            reason='opened by migration 0017 for a hold placed before cases existed', agent=AGENT, at=h.at))


def downgrade() -> None:
    with op.batch_alter_table('cases') as batch:
        batch.drop_constraint(op.f('uq_cases_kind_reference'), type_='unique')
    op.drop_index(op.f('ix_case_events_message_id'), table_name='case_events')
    op.drop_index(op.f('ix_cases_hold_id'), table_name='cases')
