"""DfE benchmark reference data: published values and statistical neighbours.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "benchmark_values",
        sa.Column("measure", sa.String(40), nullable=False),   # the registry figure, e.g. SAF04
        sa.Column("time_period", sa.Integer, nullable=False),  # DfE reporting year
        sa.Column("geographic_level", sa.String(30), nullable=False),
        sa.Column("region_code", sa.String(20)),
        sa.Column("region_name", sa.Text),
        sa.Column("old_la_code", sa.String(20)),
        sa.Column("la_name", sa.Text),
        sa.Column("value", sa.Float),                          # NULL: suppressed or not published
        sa.Column("source", sa.Text, nullable=False),          # file, filter and column
    )
    op.create_index("ix_benchmark_values_measure", "benchmark_values", ["measure", "time_period"])
    op.create_table(
        "statistical_neighbours",
        sa.Column("old_la_code", sa.String(20), primary_key=True),
        sa.Column("neighbour_rank", sa.Integer, primary_key=True),
        sa.Column("neighbour_code", sa.String(20), nullable=False),
        sa.Column("closeness", sa.String(40)),
        sa.Column("model", sa.Text, nullable=False),           # the grouping file used
    )


def downgrade() -> None:
    op.drop_table("statistical_neighbours")
    op.drop_index("ix_benchmark_values_measure", table_name="benchmark_values")
    op.drop_table("benchmark_values")
