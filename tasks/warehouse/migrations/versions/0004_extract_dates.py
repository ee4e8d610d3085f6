"""The extract date of each run, where it came from, and a stale extract accepted knowingly.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("extract_date", sa.Date))
        runs.add_column(sa.Column("extract_date_basis", sa.Text))  # manifest, database time, file times, a run's ledger
        runs.add_column(sa.Column("stale_accepted", sa.Text))  # why a stale extract was published


def downgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("stale_accepted")
        runs.drop_column("extract_date_basis")
        runs.drop_column("extract_date")
