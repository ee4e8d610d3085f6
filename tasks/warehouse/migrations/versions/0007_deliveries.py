"""Deliveries: every delivery of published outputs to an audience (sent, refused, failed,
awaiting approval, previewed), and the approvals that release them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flow", sa.String(40), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("audience", sa.String(80), nullable=False),
        sa.Column("scope", sa.String(120), nullable=False),  # la, team:<id>, service_area:<name>
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("recipients", sa.Text),  # addresses, or the folder
        sa.Column("outputs", sa.Text),  # JSON: [{output, file, sha256, bytes, sent_as}]
        sa.Column("subject", sa.Text),
        # sent, refused, failed, awaiting approval, nothing to send
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("trigger", sa.String(40)),  # flow, manual, resend
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_deliveries_period", "deliveries", ["period", "audience"])
    op.create_table(
        "delivery_approvals",
        sa.Column("approval_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("audience", sa.String(80), nullable=False),
        sa.Column("run_id", sa.String(64)),  # the version approved
        sa.Column("approved_by", sa.String(200), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_delivery_approvals_period", "delivery_approvals", ["period", "audience"])


def downgrade() -> None:
    op.drop_index("ix_delivery_approvals_period", "delivery_approvals")
    op.drop_table("delivery_approvals")
    op.drop_index("ix_deliveries_period", "deliveries")
    op.drop_table("deliveries")
