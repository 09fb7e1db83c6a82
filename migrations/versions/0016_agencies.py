"""agencies and agency_evaluations: the register of outside agencies (AGY-2)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _clock() -> sa.TextClause:
    # as collect_cli.store.models.db_clock (kept here: a migration does not change with the code)
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text("(statement_timestamp() AT TIME ZONE 'UTC')")
    return sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('contract_start', sa.Date(), nullable=False),
    sa.Column('contract_end', sa.Date(), nullable=False),
    sa.Column('commission', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies'))
    )
    op.create_index(op.f('ix_agencies_name'), 'agencies', ['name'], unique=False)
    op.create_table('agency_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency', sa.String(length=100), nullable=False),
    sa.Column('evaluated_on', sa.Date(), nullable=False),
    sa.Column('compliance', sa.String(length=8), nullable=False),
    sa.Column('results', sa.String(length=8), nullable=False),
    sa.Column('security', sa.String(length=8), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_evaluations'))
    )
    op.create_index(op.f('ix_agency_evaluations_agency'), 'agency_evaluations', ['agency'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_agency_evaluations_agency'), table_name='agency_evaluations')
    op.drop_table('agency_evaluations')
    op.drop_index(op.f('ix_agencies_name'), table_name='agencies')
    op.drop_table('agencies')
