"""real recorded time in every record, late entries, store facts (demo stores), message versions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:00:00

Every record gets `recorded_at`, stamped by the database's clock; the rows already there
take the time they carry (`at`, `created_at`, `started_at`; a promise its contact's), the
best that is known of them. A contact gets `logged_at`, when it was logged. Each message gets
its versions (what the nightly run wrote, append-only); the existing ones, their one known
version. An event keeps the recipient and the provider's reference of a send.
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# table -> the column its existing rows take their recorded time from
TABLES = {
    'import_batches': 'started_at',
    'holds': 'at',
    'outbox': 'created_at',
    'outbox_events': 'at',
    'contacts': 'at',
    'contact_persons': 'at',
    'number_confirmations': 'at',
    'promises': None,
    'audit': 'at',
    'assignments': 'at',
    'escalations': 'at',
    'plans': 'at',
}


def _clock() -> sa.TextClause:
    # as collect_cli.store.models.db_clock (kept here: a migration does not change with the code)
    if op.get_bind().dialect.name == 'postgresql':
        return sa.text("(statement_timestamp() AT TIME ZONE 'UTC')")
    return sa.text("(strftime('%Y-%m-%d %H:%M:%f', 'now'))")


def upgrade() -> None:
    op.create_table('store_facts',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_store_facts'))
    )
    for table, source in TABLES.items():
        # SQLite adds a column with a clock default only by copying the table
        with op.batch_alter_table(table, schema=None, recreate='always' if op.get_bind().dialect.name == 'sqlite'
                                  else 'auto') as batch_op:
            batch_op.add_column(sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False))
            if table == 'contacts':
                batch_op.add_column(sa.Column('logged_at', sa.DateTime(), nullable=True))
        if source:
            op.execute(f"UPDATE {table} SET recorded_at = {source}")
    op.execute("UPDATE promises SET recorded_at = (SELECT c.at FROM contacts c WHERE c.id = promises.contact_id)")
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recipient', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('provider_ref', sa.Text(), nullable=True))
    op.create_table('outbox_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('recipient', sa.Text(), nullable=True),
    sa.Column('template', sa.String(length=200), nullable=True),
    sa.Column('template_hash', sa.String(length=64), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('amount_overdue', sa.BigInteger(), nullable=False),
    sa.Column('amount_due', sa.BigInteger(), nullable=False),
    sa.Column('figures', sa.Text(), nullable=True),
    sa.Column('send_after', sa.DateTime(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), server_default=_clock(), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['outbox.id'], name=op.f('fk_outbox_versions_message_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_versions'))
    )
    with op.batch_alter_table('outbox_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_versions_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_outbox_versions_as_of', ['as_of'], unique=False)
    columns = "status, reason, recipient, template, template_hash, body, as_of, amount_overdue, amount_due, " \
              "figures, send_after"
    op.execute(f"INSERT INTO outbox_versions (message_id, at, recorded_at, {columns}) "
               f"SELECT id, created_at, created_at, {columns} FROM outbox ORDER BY id")
    op.execute("UPDATE contacts SET logged_at = at")
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.alter_column('logged_at', existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    op.drop_table('outbox_versions')
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_column('provider_ref')
        batch_op.drop_column('recipient')
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('recorded_at')
            if table == 'contacts':
                batch_op.drop_column('logged_at')
    op.drop_table('store_facts')
