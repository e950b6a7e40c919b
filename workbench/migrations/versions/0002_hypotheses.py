"""A register of hypotheses: each hypothesis, with its periods fixed at creation, and its results history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hypotheses",
        sa.Column("hypothesis_id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("cohort", sa.Text, nullable=False),
        sa.Column("comparison", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("factor_code", sa.String(40)),
        sa.Column("discovery_from", sa.Date, nullable=False),
        sa.Column("discovery_to", sa.Date, nullable=False),
        sa.Column("confirmation_from", sa.Date, nullable=False),
        sa.Column("confirmation_to", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "hypothesis_results",
        sa.Column("result_id", sa.Integer, primary_key=True),
        sa.Column("hypothesis_id", sa.Integer, sa.ForeignKey("hypotheses.hypothesis_id"), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("children", sa.Integer, nullable=False),
        sa.Column("with_outcome", sa.Integer, nullable=False),
        sa.Column("comparison_children", sa.Integer, nullable=False),
        sa.Column("comparison_with_outcome", sa.Integer, nullable=False),
        sa.Column("effect", sa.Float),
        sa.Column("ci_low", sa.Float),
        sa.Column("ci_high", sa.Float),
        sa.Column("p", sa.Float),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("extract_signature", sa.String(64), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_hypothesis_results_latest", "hypothesis_results", ["hypothesis_id", "period", "result_id"])


def downgrade() -> None:
    op.drop_index("ix_hypothesis_results_latest", table_name="hypothesis_results")
    op.drop_table("hypothesis_results")
    op.drop_table("hypotheses")
