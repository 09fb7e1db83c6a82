"""ledger: borrowers, loans, installments, payments, import batches

Revision ID: 0001
Revises: (none: the first schema)
Create Date: 2026-11-22 15:27:40.363091
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('encoding', sa.String(length=16), nullable=False),
    sa.Column('operator', sa.String(length=64), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('rejects_path', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_sha256'), ['sha256'], unique=False)

    op.create_table('borrowers',
    sa.Column('borrower_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_borrowers_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('borrower_id', name=op.f('pk_borrowers'))
    )
    op.create_table('installment_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('principal_due', sa.BigInteger(), nullable=False),
    sa.Column('interest_due', sa.BigInteger(), nullable=False),
    sa.Column('fee_due', sa.BigInteger(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('replaced_by_batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['replaced_by_batch_id'], ['import_batches.id'], name=op.f('fk_installment_history_replaced_by_batch_id_import_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_installment_history'))
    )
    with op.batch_alter_table('installment_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_installment_history_loan_id'), ['loan_id'], unique=False)

    op.create_table('loans',
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('borrower_id', sa.String(length=64), nullable=False),
    sa.Column('principal', sa.BigInteger(), nullable=False),
    sa.Column('disbursed_on', sa.Date(), nullable=False),
    sa.Column('annual_rate_ppm', sa.Integer(), nullable=True),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_loans_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['borrower_id'], ['borrowers.borrower_id'], name=op.f('fk_loans_borrower_id_borrowers')),
    sa.PrimaryKeyConstraint('loan_id', name=op.f('pk_loans'))
    )
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loans_borrower_id'), ['borrower_id'], unique=False)

    op.create_table('installments',
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('principal_due', sa.BigInteger(), nullable=False),
    sa.Column('interest_due', sa.BigInteger(), nullable=False),
    sa.Column('fee_due', sa.BigInteger(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_installments_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.loan_id'], name=op.f('fk_installments_loan_id_loans')),
    sa.PrimaryKeyConstraint('loan_id', 'seq', name=op.f('pk_installments'))
    )
    op.create_table('payments',
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('loan_id', sa.String(length=64), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['import_batches.id'], name=op.f('fk_payments_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['loan_id'], ['loans.loan_id'], name=op.f('fk_payments_loan_id_loans')),
    sa.PrimaryKeyConstraint('payment_id', name=op.f('pk_payments'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_loan_id_paid_on', ['loan_id', 'paid_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_loan_id_paid_on')

    op.drop_table('payments')
    op.drop_table('installments')
    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loans_borrower_id'))

    op.drop_table('loans')
    with op.batch_alter_table('installment_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_installment_history_loan_id'))

    op.drop_table('installment_history')
    op.drop_table('borrowers')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batches_sha256'))

    op.drop_table('import_batches')
