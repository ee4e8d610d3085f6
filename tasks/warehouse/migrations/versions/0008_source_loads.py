"""Source loads: every load of the source tables, and the load each run computed from, so
that the months of a re-run can share one load of their extract (flows/backfill.py) and
the ledger says so; a data-quality alert sent once for a re-run's months names them all
(`dq_alerts_sent.period`: "2024-01 to 2024-12").

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_loads",
        sa.Column("load_id", sa.Integer, primary_key=True, autoincrement=True),  # the latest is the highest
        sa.Column("run_id", sa.String(64)),  # the run that loaded (none for a load outside a run)
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("load_id", sa.Integer))  # the load its figures were computed from
    with op.batch_alter_table("dq_alerts_sent") as sent:
        sent.alter_column("period", type_=sa.String(40), existing_type=sa.String(10), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("dq_alerts_sent") as sent:
        sent.alter_column("period", type_=sa.String(10), existing_type=sa.String(40), existing_nullable=False)
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("load_id")
    op.drop_table("source_loads")
