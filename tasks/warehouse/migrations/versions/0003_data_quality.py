"""Data quality: pass rates per run, table and rule (the trend), and the alerts sent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dq_results",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("column_name", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("success", sa.Integer, nullable=False),
        sa.Column("checked", sa.Integer, nullable=False),
        sa.Column("unexpected", sa.Integer, nullable=False),
        sa.Column("pass_rate", sa.Float, nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_dq_results_run", "dq_results", ["run_id"])
    op.create_index("ix_dq_results_trend", "dq_results", ["table_name", "rule", "period"])
    op.create_table(
        "dq_alerts_sent",
        sa.Column("alert_key", sa.String(64), primary_key=True),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(40), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("channels", sa.Text),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dq_alerts_sent")
    op.drop_index("ix_dq_results_trend", table_name="dq_results")
    op.drop_index("ix_dq_results_run", table_name="dq_results")
    op.drop_table("dq_results")
