"""outbox: an index by recipient, for the daily SMS count of a number under any borrower id

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:40:00
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_outbox_recipient_channel_send_after', 'outbox', ['recipient', 'channel', 'send_after'])


def downgrade() -> None:
    op.drop_index('ix_outbox_recipient_channel_send_after', table_name='outbox')
