"""cases and case_events: disputes and complaints with deadlines (CASE-1..3)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _clock() -> sa.TextClause:
    # as collect_cli.store.models.db_clock (kept here: a migration does not change with the code)
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text("(statement_timestamp() AT TIME ZONE 'UTC')")
    return sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('borrower_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('hold_id', sa.Integer(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['hold_id'], ['holds.id'], name=op.f('fk_cases_hold_id_holds')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.loan_id'], name=op.f('fk_cases_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases'))
    )
    op.create_index(op.f('ix_cases_borrower_id'), 'cases', ['borrower_id'], unique=False)
    op.create_index(op.f('ix_cases_loan_id'), 'cases', ['loan_id'], unique=False)
    op.create_table('case_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('owner', sa.String(length=64), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_events_case_id_cases')),
    sa.ForeignKeyConstraint(['message_id'], ['outbox.id'], name=op.f('fk_case_events_message_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_events'))
    )
    op.create_index(op.f('ix_case_events_case_id'), 'case_events', ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_case_events_case_id'), table_name='case_events')
    op.drop_table('case_events')
    op.drop_index(op.f('ix_cases_loan_id'), table_name='cases')
    op.drop_index(op.f('ix_cases_borrower_id'), table_name='cases')
    op.drop_table('cases')
