"""Hypothesis outcomes with options (days to close, a service, an audit answer), and factors from audits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("hypotheses", sa.Column("outcome_options", sa.Text))
    op.create_table(
        "audit_factors",
        sa.Column("factor_code", sa.String(40), primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("audit_id", sa.Integer, sa.ForeignKey("audits.audit_id"), nullable=False),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("audit_questions.question_id"), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_factors")
    with op.batch_alter_table("hypotheses") as batch:
        batch.drop_column("outcome_options")
