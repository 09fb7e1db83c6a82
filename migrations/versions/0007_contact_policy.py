"""one contact policy: hold instances, opt-outs by number, contact persons, message purposes and figures

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 09:00:00
"""
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _name_key(name: str) -> str:
    # as domain.people.name_key does (kept here: a migration does not change with the code)
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())[:100]


def upgrade() -> None:
    op.create_table('contact_persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('borrower_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_key', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_persons'))
    )
    with op.batch_alter_table('contact_persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_persons_borrower_id'), ['borrower_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_persons_phone'), ['phone'], unique=False)

    op.create_table('number_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('point', sa.String(length=320), nullable=False),
    sa.Column('borrower_id', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('agent', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_number_confirmations'))
    )
    with op.batch_alter_table('number_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_number_confirmations_point'), ['point'], unique=False)

    with op.batch_alter_table('borrowers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_borrowers_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_borrowers_email'), ['email'], unique=False)

    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('point', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('hold_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_holds_point'), ['point'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_holds_hold_id_holds'), 'holds', ['hold_id'], ['id'])

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('figures', sa.Text(), nullable=True))

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('direction', sa.String(length=8), server_default='out', nullable=False))
        batch_op.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('number', sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_contacts_person_id_contact_persons'), 'contact_persons',
                                    ['person_id'], ['id'])

    conn = op.get_bind()
    # replies were the borrower's own; pre-due messages were reminders
    conn.execute(sa.text("UPDATE contacts SET direction = 'in' WHERE channel IN ('sms-reply', 'email-reply')"))
    conn.execute(sa.text("UPDATE outbox SET purpose = 'predue_reminder' WHERE episode LIKE 'due-%'"))
    # a contact person typed as a label becomes a record, so an earlier refusal still binds
    persons = {}
    for row in conn.execute(sa.text("SELECT id, borrower_id, party, agent, at FROM contacts "
                                    "WHERE party IS NOT NULL ORDER BY id")).all():
        key = (row.borrower_id, _name_key(row.party))
        if key not in persons:
            persons[key] = conn.execute(sa.text(
                "INSERT INTO contact_persons (borrower_id, name, name_key, phone, source, relation, note, agent, at) "
                "VALUES (:b, :n, :k, NULL, :s, 'other', NULL, :a, :t) RETURNING id"),
                {"b": row.borrower_id, "n": row.party[:100], "k": key[1], "s": "logged as a label before contact persons",
                 "a": row.agent, "t": row.at}).scalar_one()
        conn.execute(sa.text("UPDATE contacts SET person_id = :p WHERE id = :i"), {"p": persons[key], "i": row.id})


def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contacts_person_id_contact_persons'), type_='foreignkey')
        batch_op.drop_column('number')
        batch_op.drop_column('person_id')
        batch_op.drop_column('direction')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('figures')
        batch_op.drop_column('purpose')
    with op.batch_alter_table('holds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_holds_hold_id_holds'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_holds_point'))
        batch_op.drop_column('hold_id')
        batch_op.drop_column('point')
    with op.batch_alter_table('borrowers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_borrowers_email'))
        batch_op.drop_index(batch_op.f('ix_borrowers_phone'))
    with op.batch_alter_table('number_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_number_confirmations_point'))
    op.drop_table('number_confirmations')
    with op.batch_alter_table('contact_persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_persons_phone'))
        batch_op.drop_index(batch_op.f('ix_contact_persons_borrower_id'))
    op.drop_table('contact_persons')
