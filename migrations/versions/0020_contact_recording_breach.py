"""contacts.recording (REC-3), contacts.agency and contacts.breach (an agency's contact, and
what rule it broke)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        batch.add_column(sa.Column('recording', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('agency', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('breach', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('contacts') as batch:
        batch.drop_column('breach')
        batch.drop_column('agency')
        batch.drop_column('recording')
