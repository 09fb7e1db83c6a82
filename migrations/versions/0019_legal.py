"""legal_cases and legal_events: litigation, stage by stage

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 17:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def _clock() -> sa.TextClause:
    # as collect_cli.store.models.db_clock (kept here: a migration does not change with the code)
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text("(statement_timestamp() AT TIME ZONE 'UTC')")
    return sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def upgrade() -> None:
    op.create_table('legal_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('borrower_id', sa.String(length=64), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('lawyer', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.loan_id'], name=op.f('fk_legal_cases_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_cases'))
    )
    op.create_index(op.f('ix_legal_cases_loan_id'), 'legal_cases', ['loan_id'], unique=False)
    op.create_table('legal_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('legal_case_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('court', sa.String(length=200), nullable=True),
    sa.Column('case_number', sa.String(length=100), nullable=True),
    sa.Column('cost', sa.BigInteger(), nullable=False),
    sa.Column('awarded', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['legal_case_id'], ['legal_cases.id'],
                            name=op.f('fk_legal_events_legal_case_id_legal_cases')),
    sa.ForeignKeyConstraint(['message_id'], ['outbox.id'], name=op.f('fk_legal_events_message_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_legal_events'))
    )
    op.create_index(op.f('ix_legal_events_legal_case_id'), 'legal_events', ['legal_case_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_legal_events_legal_case_id'), table_name='legal_events')
    op.drop_table('legal_events')
    op.drop_index(op.f('ix_legal_cases_loan_id'), table_name='legal_cases')
    op.drop_table('legal_cases')
