"""kpi_values.level holds "service_area" (12 characters): widen it from 10 to 20.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("kpi_values") as kpi_values:
        kpi_values.alter_column("level", existing_type=sa.String(10), type_=sa.String(20),
                                existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("kpi_values") as kpi_values:
        kpi_values.alter_column("level", existing_type=sa.String(20), type_=sa.String(10),
                                existing_nullable=False)
