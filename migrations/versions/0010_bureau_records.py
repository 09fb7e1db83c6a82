"""bureau records: what each bureau file reported, and corrections (REC-2)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:00:00

The exports before this one are in the audit only ("bureau report" entries); their figures
were not kept, so they get no corrections.
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _clock() -> sa.TextClause:
    # as collect_cli.store.models.db_clock (kept here: a migration does not change with the code)
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text("(statement_timestamp() AT TIME ZONE 'UTC')")
    return sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def upgrade() -> None:
    op.create_table('bureau_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('record', sa.String(length=16), nullable=False),
    sa.Column('dpd', sa.Integer(), nullable=False),
    sa.Column('classification', sa.String(length=8), nullable=True),
    sa.Column('overdue', sa.BigInteger(), nullable=False),
    sa.Column('outstanding', sa.BigInteger(), nullable=False),
    sa.Column('file', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.loan_id'], name=op.f('fk_bureau_records_loan_id_loans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bureau_records'))
    )
    with op.batch_alter_table('bureau_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bureau_records_loan_id'), ['loan_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bureau_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bureau_records_loan_id'))
    op.drop_table('bureau_records')
