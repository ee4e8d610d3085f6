"""Results, run ledger, extract lineage and the calendar.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("trigger", sa.String(40), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("code_version", sa.String(60)),
        sa.Column("source", sa.Text),
        sa.Column("extract_checksums", sa.Text),
        sa.Column("outputs", sa.Text),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_runs_flow_period", "runs", ["flow", "period"])
    op.create_table(
        "current_runs",
        sa.Column("flow", sa.String(40), primary_key=True),
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("switched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "extract_files",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("archived_path", sa.Text),
    )
    op.create_table(
        "kpi_values",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("kpi_id", sa.String(120), nullable=False),
        sa.Column("level", sa.String(10), nullable=False),
        sa.Column("unit_id", sa.String(64), nullable=False),
        sa.Column("unit_name", sa.Text),
        sa.Column("value", sa.Float),
        sa.Column("numerator", sa.Float),
        sa.Column("denominator", sa.Float),
    )
    op.create_index("ix_kpi_values_run", "kpi_values", ["run_id", "period", "kpi_id"])
    op.create_table(
        "kpi_records",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("kpi_id", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(64)),
        sa.Column("person_id", sa.String(64)),
        sa.Column("team_id", sa.String(64)),
        sa.Column("worker_id", sa.String(64)),
        sa.Column("in_numerator", sa.Integer),
        sa.Column("measure", sa.Float),
    )
    op.create_index("ix_kpi_records_run", "kpi_records", ["run_id", "kpi_id"])
    op.create_table(
        "calendar",
        sa.Column("cal_date", sa.Date, primary_key=True),
        sa.Column("day_number", sa.Integer, nullable=False),
        sa.Column("is_working_day", sa.Integer, nullable=False),
        sa.Column("wd_index", sa.Integer, nullable=False),
        sa.Column("plus_1_month", sa.Date, nullable=False),
        sa.Column("plus_3_months", sa.Date, nullable=False),
        sa.Column("plus_6_months", sa.Date, nullable=False),
    )
    op.create_index("ix_calendar_wd", "calendar", ["wd_index", "is_working_day"])


def downgrade() -> None:
    for table in ("calendar", "kpi_records", "kpi_values", "extract_files",
                  "current_runs", "runs"):
        op.drop_table(table)
