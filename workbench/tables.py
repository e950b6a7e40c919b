"""The workspace's tables (SQLAlchemy Core); workbench/migrations/ creates and changes them.

Answers are only ever inserted: a changed answer is a new row, so every earlier answer stays,
with who entered it and when, and two reviewers writing at once cannot overwrite each other.
A child's current answer to a question is its latest row (highest id).
A hypothesis's results are appended the same way: each run adds rows, the latest is the highest id.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

audits = Table(
    "audits",
    metadata,
    Column("audit_id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("cohort", Text, nullable=False),  # JSON: the cohort filters, e.g. {"team_id": "T07"}
    Column("comparison", Text),  # JSON: the comparison cohort's filters, or null
    Column("stratify_by", String(40)),  # sex, age_band, ethnicity_group, or null (one stratum)
    Column("sample_size", Integer, nullable=False),
    Column("comparison_size", Integer),
    Column("seed", Integer, nullable=False),
    Column("as_of", Date, nullable=False),  # the extract's as_of when the sample was drawn
    Column("extract_name", String(200), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

questions = Table(
    "audit_questions",
    metadata,
    Column("question_id", Integer, primary_key=True),
    Column("audit_id", Integer, ForeignKey("audits.audit_id"), nullable=False),
    Column("code", String(40), nullable=False),
    Column("label", Text, nullable=False),
    Column("kind", String(20), nullable=False),  # yes_no, category, number, note
    Column("choices", Text),  # JSON list, for a category question
    Column("position", Integer, nullable=False),
    UniqueConstraint("audit_id", "code", name="uq_audit_questions_code"),
)

strata = Table(
    "audit_strata",
    metadata,
    Column("audit_id", Integer, ForeignKey("audits.audit_id"), primary_key=True),
    Column("sample_group", String(20), primary_key=True),  # cohort or comparison
    Column("stratum", String(60), primary_key=True),
    Column("cohort_size", Integer, nullable=False),  # children of the stratum in the cohort (N_h)
    Column("sample_size", Integer, nullable=False),  # of them drawn into the sample (n_h)
)

samples = Table(
    "audit_samples",
    metadata,
    Column("audit_id", Integer, ForeignKey("audits.audit_id"), primary_key=True),
    Column("child_id", String(100), primary_key=True),
    Column("sample_group", String(20), nullable=False),
    Column("stratum", String(60), nullable=False),
    Column("sample_order", Integer, nullable=False),  # 1, 2, …: the order to read the files in
    UniqueConstraint("audit_id", "sample_group", "sample_order", name="uq_audit_samples_order"),
)

answers = Table(
    "audit_answers",
    metadata,
    Column("answer_id", Integer, primary_key=True),
    Column("audit_id", Integer, nullable=False),
    Column("child_id", String(100), nullable=False),
    Column("question_id", Integer, ForeignKey("audit_questions.question_id"), nullable=False),
    Column("value", Text, nullable=False),  # yes, no, not recorded, a category, a number, a note
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["audit_id", "child_id"], ["audit_samples.audit_id", "audit_samples.child_id"], name="fk_answers_sample"
    ),
    Index("ix_audit_answers_current", "audit_id", "question_id", "child_id", "answer_id"),
)

hypotheses = Table(
    "hypotheses",
    metadata,
    Column("hypothesis_id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("statement", Text, nullable=False),  # the hypothesis in words
    Column("cohort", Text, nullable=False),  # JSON: the first cohort's filters, e.g. {"team_id": "T07"}
    Column("comparison", Text, nullable=False),  # JSON: the cohort it is compared with
    Column("outcome", String(40), nullable=False),  # rereferral, factor, closed, service, neet or audit
    Column("factor_code", String(40)),  # with outcome factor
    Column(
        "outcome_options", Text
    ),  # JSON: closed {"days"}, service {"service_id"}, audit {"audit", "question", "answer"}
    # The periods are fixed when the hypothesis is written, before any result is shown; never updated.
    Column("discovery_from", Date, nullable=False),
    Column("discovery_to", Date, nullable=False),
    Column("confirmation_from", Date, nullable=False),
    Column("confirmation_to", Date, nullable=False),
    Column("status", String(20), nullable=False),  # open, supported, not_supported, retired
    Column("note", Text),  # the analyst's note on the status
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

hypothesis_results = Table(
    "hypothesis_results",
    metadata,
    Column("result_id", Integer, primary_key=True),
    Column("hypothesis_id", Integer, ForeignKey("hypotheses.hypothesis_id"), nullable=False),
    Column("period", String(20), nullable=False),  # discovery or confirmation
    Column("children", Integer, nullable=False),  # the cohort's children in the period
    Column("with_outcome", Integer, nullable=False),
    Column("comparison_children", Integer, nullable=False),
    Column("comparison_with_outcome", Integer, nullable=False),
    Column("effect", Float),  # the difference in proportions, cohort minus comparison
    Column("ci_low", Float),  # Newcombe's 95% interval
    Column("ci_high", Float),
    Column("p", Float),  # two-sided Fisher exact
    Column("as_of", Date, nullable=False),  # the extract's as_of
    Column("extract_signature", String(64), nullable=False),  # a digest of the extract's files
    Column("run_at", DateTime(timezone=True), nullable=False),
    Index("ix_hypothesis_results_latest", "hypothesis_id", "period", "result_id"),
)

# A question of an audit made a local factor (source case_file_audit): children of the audit's sample whose
# current answer is `answer` have it. Patterns shows it beside recorded factors, marked as from a sample.
audit_factors = Table(
    "audit_factors",
    metadata,
    Column("factor_code", String(40), primary_key=True),
    Column("label", Text, nullable=False),
    Column("audit_id", Integer, ForeignKey("audits.audit_id"), nullable=False),
    Column("question_id", Integer, ForeignKey("audit_questions.question_id"), nullable=False),
    Column("answer", Text, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
