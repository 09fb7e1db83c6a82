"""waivers (减免) and their outcomes

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 07:25:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _clock() -> sa.TextClause:
    # as collect_cli.store.models.db_clock (kept here: a migration does not change with the code)
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text("(statement_timestamp() AT TIME ZONE 'UTC')")
    return sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def upgrade() -> None:
    op.create_table('waivers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('component', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=False),
    sa.Column('if_paid_by', sa.Date(), nullable=True),
    sa.Column('rest', sa.BigInteger(), nullable=False),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('approved_by', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.loan_id'], name=op.f('fk_waivers_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waivers'))
    )
    with op.batch_alter_table('waivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waivers_loan_id'), ['loan_id'], unique=False)
    op.create_table('waiver_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('waiver_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_waiver_outcomes_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['waiver_id'], ['waivers.id'], name=op.f('fk_waiver_outcomes_waiver_id_waivers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waiver_outcomes')),
    sa.UniqueConstraint('waiver_id', name=op.f('uq_waiver_outcomes_waiver_id'))
    )


def downgrade() -> None:
    op.drop_table('waiver_outcomes')
    with op.batch_alter_table('waivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waivers_loan_id'))
    op.drop_table('waivers')
