"""Case-file audits: audits, their questions, strata, samples and answers (with history).

Revision ID: 0001
Revises:
Create Date: 2026-04-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audits",
        sa.Column("audit_id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("cohort", sa.Text, nullable=False),
        sa.Column("comparison", sa.Text),
        sa.Column("stratify_by", sa.String(40)),
        sa.Column("sample_size", sa.Integer, nullable=False),
        sa.Column("comparison_size", sa.Integer),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("extract_name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "audit_questions",
        sa.Column("question_id", sa.Integer, primary_key=True),
        sa.Column("audit_id", sa.Integer, sa.ForeignKey("audits.audit_id"), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("choices", sa.Text),
        sa.Column("position", sa.Integer, nullable=False),
        sa.UniqueConstraint("audit_id", "code", name="uq_audit_questions_code"),
    )
    op.create_table(
        "audit_strata",
        sa.Column("audit_id", sa.Integer, sa.ForeignKey("audits.audit_id"), primary_key=True),
        sa.Column("sample_group", sa.String(20), primary_key=True),
        sa.Column("stratum", sa.String(60), primary_key=True),
        sa.Column("cohort_size", sa.Integer, nullable=False),
        sa.Column("sample_size", sa.Integer, nullable=False),
    )
    op.create_table(
        "audit_samples",
        sa.Column("audit_id", sa.Integer, sa.ForeignKey("audits.audit_id"), primary_key=True),
        sa.Column("child_id", sa.String(100), primary_key=True),
        sa.Column("sample_group", sa.String(20), nullable=False),
        sa.Column("stratum", sa.String(60), nullable=False),
        sa.Column("sample_order", sa.Integer, nullable=False),
        sa.UniqueConstraint("audit_id", "sample_group", "sample_order", name="uq_audit_samples_order"),
    )
    op.create_table(
        "audit_answers",
        sa.Column("answer_id", sa.Integer, primary_key=True),
        sa.Column("audit_id", sa.Integer, nullable=False),
        sa.Column("child_id", sa.String(100), nullable=False),
        sa.Column("question_id", sa.Integer, sa.ForeignKey("audit_questions.question_id"), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["audit_id", "child_id"],
            ["audit_samples.audit_id", "audit_samples.child_id"],
            name="fk_answers_sample",
        ),
    )
    op.create_index("ix_audit_answers_current", "audit_answers", ["audit_id", "question_id", "child_id", "answer_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_answers_current", table_name="audit_answers")
    for table in ("audit_answers", "audit_samples", "audit_strata", "audit_questions", "audits"):
        op.drop_table(table)
