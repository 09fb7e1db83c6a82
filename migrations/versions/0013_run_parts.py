"""run_parts: the loan-id ranges of a nightly run cut into parts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _clock() -> sa.TextClause:
    # as collect_cli.store.models.db_clock (kept here: a migration does not change with the code)
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text("(statement_timestamp() AT TIME ZONE 'UTC')")
    return sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def upgrade() -> None:
    op.create_table('run_parts',
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('parts', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('first_loan', sa.String(length=64), nullable=True),
    sa.Column('end_loan', sa.String(length=64), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.PrimaryKeyConstraint('as_of', 'parts', 'part', name=op.f('pk_run_parts'))
    )


def downgrade() -> None:
    op.drop_table('run_parts')
