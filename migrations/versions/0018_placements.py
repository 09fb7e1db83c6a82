"""placements and placement_events: an account from proposal to recall (AGY-1, AGY-3)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 16:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def _clock() -> sa.TextClause:
    # as collect_cli.store.models.db_clock (kept here: a migration does not change with the code)
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text("(statement_timestamp() AT TIME ZONE 'UTC')")
    return sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def upgrade() -> None:
    op.create_table('placements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('borrower_id', sa.String(length=64), nullable=False),
    sa.Column('agency', sa.String(length=100), nullable=False),
    sa.Column('proposed_on', sa.Date(), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.loan_id'], name=op.f('fk_placements_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placements'))
    )
    op.create_index(op.f('ix_placements_agency'), 'placements', ['agency'], unique=False)
    op.create_index(op.f('ix_placements_loan_id'), 'placements', ['loan_id'], unique=False)
    op.create_table('placement_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('placement_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('recall_on', sa.Date(), nullable=True),
    sa.Column('bucket', sa.String(length=16), nullable=True),
    sa.Column('dpd', sa.Integer(), nullable=True),
    sa.Column('rate_bp', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('file', sa.Text(), nullable=True),
    sa.Column('fields', sa.Text(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox.id'], name=op.f('fk_placement_events_message_id_outbox')),
    sa.ForeignKeyConstraint(['placement_id'], ['placements.id'],
                            name=op.f('fk_placement_events_placement_id_placements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_events'))
    )
    op.create_index(op.f('ix_placement_events_placement_id'), 'placement_events', ['placement_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_placement_events_placement_id'), table_name='placement_events')
    op.drop_table('placement_events')
    op.drop_index(op.f('ix_placements_loan_id'), table_name='placements')
    op.drop_index(op.f('ix_placements_agency'), table_name='placements')
    op.drop_table('placements')
