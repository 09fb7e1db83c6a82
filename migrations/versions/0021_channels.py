"""Channels: borrowers.push_id (the app's push address, the push channel's recipient; indexed,
as opt-outs and shared checks find it, WHO-4), outbox.payment_ref (the reference of a
message's payment link), outbox.parts (what a provider bills: an SMS's parts, 1 for others)
and payments.link_ref (the link a payment came through).

An opt-out given for every channel before push existed was placed as an SMS and an e-mail
instance at one moment (a call's "stop contacting me", `hold` without --channel): each such
pair in force gets its push instance, placed at the same moment, so that the borrower is
not pushed to after the upgrade (HOLD-2).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 23:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

holds = sa.table('holds', sa.column('id', sa.Integer), sa.column('loan_id', sa.String),
                 sa.column('borrower_id', sa.String), sa.column('reason', sa.String), sa.column('channel', sa.String),
                 sa.column('point', sa.String), sa.column('action', sa.String), sa.column('hold_id', sa.Integer),
                 sa.column('until', sa.Date), sa.column('note', sa.Text), sa.column('actor', sa.String),
                 sa.column('at', sa.DateTime))


def upgrade() -> None:
    with op.batch_alter_table('borrowers') as batch:
        batch.add_column(sa.Column('push_id', sa.String(length=256), nullable=True))
        batch.create_index('ix_borrowers_push_id', ['push_id'])
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('payment_ref', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('parts', sa.Integer(), nullable=True))
        batch.create_index('ix_outbox_payment_ref', ['payment_ref'])
    with op.batch_alter_table('payments') as batch:
        batch.add_column(sa.Column('link_ref', sa.String(length=16), nullable=True))
    _push_opt_outs()


def _push_opt_outs() -> None:
    bind = op.get_bind()
    mail, r = holds.alias('mail'), holds.alias('r')

    def in_force(h):
        return ~sa.exists().where(r.c.action == 'release', r.c.hold_id == h.c.id)

    pairs = bind.execute(sa.select(holds).where(
        holds.c.reason == 'opt-out', holds.c.action == 'place', holds.c.channel == 'sms', in_force(holds),
        sa.exists().where(mail.c.reason == 'opt-out', mail.c.action == 'place', mail.c.channel == 'email',
                          mail.c.loan_id == holds.c.loan_id, mail.c.at == holds.c.at, in_force(mail)))
        .order_by(holds.c.id)).all()
    for h in pairs:
        bind.execute(sa.insert(holds).values(
            loan_id=h.loan_id, borrower_id=h.borrower_id, reason='opt-out', channel='push', point=None,
            action='place', hold_id=None, until=h.until, actor='migration 0021', at=h.at,
            note=f'push instance of the opt-out of every channel placed with hold {h.id}, before push existed: '
                 f'{h.note or ""}'[:2000]))


def downgrade() -> None:
    with op.batch_alter_table('payments') as batch:
        batch.drop_column('link_ref')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_index('ix_outbox_payment_ref')
        batch.drop_column('parts')
        batch.drop_column('payment_ref')
    with op.batch_alter_table('borrowers') as batch:
        batch.drop_index('ix_borrowers_push_id')
        batch.drop_column('push_id')
