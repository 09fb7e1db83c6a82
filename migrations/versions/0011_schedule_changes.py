"""schedule changes dated by when they take effect: complete-schedule imports, waivers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 07:15:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _clock() -> sa.TextClause:
    # as collect_cli.store.models.db_clock (kept here: a migration does not change with the code)
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text("(statement_timestamp() AT TIME ZONE 'UTC')")
    return sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def upgrade() -> None:
    op.create_table('schedule_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_schedule_changes_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.loan_id'], name=op.f('fk_schedule_changes_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_changes'))
    )
    with op.batch_alter_table('schedule_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedule_changes_loan_id'), ['loan_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('schedule_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedule_changes_loan_id'))
    op.drop_table('schedule_changes')
