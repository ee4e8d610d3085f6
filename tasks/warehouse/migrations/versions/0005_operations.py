"""Operations: the process of each run (to reconcile runs killed outright) and every
switch of a published version (publish or rollback), recorded as an intent first.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("host", sa.String(255)))
        runs.add_column(sa.Column("pid", sa.Integer))
    op.create_table(
        "version_switches",
        sa.Column("switch_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),  # publish, rollback
        sa.Column("from_run_id", sa.String(64)),
        sa.Column("to_run_id", sa.String(64), nullable=False),
        sa.Column("published_path", sa.Text, nullable=False),
        sa.Column("target_path", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),  # intended, done, undone
        sa.Column("reason", sa.Text),
        # the run's ledger ending, written with the switch (or by whoever finishes it)
        sa.Column("run_state", sa.String(40)),
        sa.Column("run_message", sa.Text),
        sa.Column("outputs", sa.Text),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True)),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_version_switches_period", "version_switches", ["flow", "period"])


def downgrade() -> None:
    op.drop_index("ix_version_switches_period", "version_switches")
    op.drop_table("version_switches")
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("pid")
        runs.drop_column("host")
