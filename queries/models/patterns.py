"""Pattern discovery: which recorded factors a cohort of children shares, compared with others.

The counts are aggregated in DuckDB (cohort_members and the child_factor_first summary table); the statistics
on the small per-factor table come from queries.stats: Wilson 95% intervals, lift, Fisher's
exact test and Benjamini-Hochberg q-values over every factor shown.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from queries.engine import BadParameter, bound_params
from queries.registry import python_query
from queries.stats import benjamini_hochberg, fisher_exact_p_values, wilson_intervals

COHORT_FILTERS = ["team_id", "team_focus", "cp_category", "primary_need", "age_band", "sex", "ethnicity_group"]

COHORT_PARAMS = [
    "as_of date = as_of ; factors recorded on or before this date count",
    "team_id str = null ; cohort: children with a (non-NFA) referral held by this team",
    "team_focus str = null ; cohort: children with a referral held by a team with this focus",
    "cp_category str = null ; cohort: children with a CP plan of this category | choices: NEG, PHY, SAB, EMO, MUL",
    "primary_need str = null ; cohort: children with a referral with this primary need"
    " | choices: N0, N1, N2, N3, N4, N5, N6, N7, N8, N9",
    "age_band str = null ; cohort: age on the date of a matching referral"
    " | choices: unborn, under 1, 1-4, 5-9, 10-15, 16+",
    "sex str = null ; cohort: children of this sex | choices: M, F, U",
    "ethnicity_group str = null ; cohort: DfE ethnicity group | choices: White, Mixed, Asian, Black, Other, Not known",
    "from_date date = null ; only referrals on or after this date define the population",
    "to_date date = null ; only referrals on or before this date define the population",
    "compare_team_id str = null ; compare with this team's children (same filters) instead of all other children",
]

# The questions that refuse to run without at least one cohort filter (tests and benchmarks give a team).
COHORT_QUERIES = {
    "factor_prevalence", "factor_cooccurrence", "factor_rules", "factor_cohort_sizes", "factor_replication",
}  # fmt: skip

COHORT_TABLES = ["children", "referrals", "teams", "factors"]
# Who may ask the cohort questions, and how their counts are protected: cohorts can be redrawn freely,
# so counts outside the user's scope get the cell-key method (queries/disclosure.py).
COHORT_ACCESS = {
    "access": "aggregate",
    "roles": ("analyst", "head_of_service", "team_manager"),
    "protection": "cell-key",
}
COHORT_OPTIONAL = ["factor_codes", "cp_plans"]

# The cohort's children, and each one's factors recorded on or before as_of (child_factor_first is a
# summary table: one row per child and factor, so no de-duplication of the factors table here).
COHORT_SQL = """
WITH cohort AS (
    SELECT child_id
    FROM cohort_members($as_of, $from_date, $to_date, $team_id, $team_focus, $primary_need, $age_band,
                        $sex, $ethnicity_group, $cp_category)
),
cohort_factors AS (
    SELECT f.child_id, f.factor_code
    FROM child_factor_first AS f
    SEMI JOIN cohort AS c ON c.child_id = f.child_id
    WHERE f.first_recorded <= $as_of
),
cohort_counts AS (
    SELECT factor_code, count(*) AS n_with, bit_xor(record_key(child_id)) AS n_key
    FROM cohort_factors GROUP BY factor_code
)
"""

# The comparison group ("rest") is one of three, chosen by the parameters (comparison_sql):
# - another team's children (same filters), less any in the cohort;
# - everyone else in a period's population: children with a non-NFA referral in the period;
# - everyone else: every child with a non-NFA referral on or before as_of. The most common and the
#   largest, so it is counted from the summary tables (population minus cohort; the cohort is part
#   of the population) rather than by joining millions of children.
COMPARE_TEAM_REST = """,
rest AS (
    SELECT child_id
    FROM cohort_members($as_of, $from_date, $to_date, $compare_team_id, NULL, $primary_need, $age_band,
                        $sex, $ethnicity_group, $cp_category)
    EXCEPT SELECT child_id FROM cohort
)"""
PERIOD_REST = """,
rest AS (
    SELECT DISTINCT child_id FROM referrals
    WHERE NOT nfa AND referral_date <= $as_of
      AND ($from_date IS NULL OR referral_date >= $from_date)
      AND ($to_date IS NULL OR referral_date <= $to_date)
    EXCEPT SELECT child_id FROM cohort
)"""
LISTED_REST_COUNTS = """,
rest_size AS (SELECT count(*) AS n, coalesce(bit_xor(record_key(child_id)), 0) AS n_key FROM rest),
rest_counts AS (
    SELECT f.factor_code, count(*) AS n_with, bit_xor(record_key(f.child_id)) AS n_key
    FROM child_factor_first AS f
    SEMI JOIN rest AS r ON r.child_id = f.child_id
    WHERE f.first_recorded <= $as_of
    GROUP BY f.factor_code
)"""
EVERYONE_ELSE_COUNTS = """,
rest_size AS (
    SELECT count(*) - (SELECT count(*) FROM cohort) AS n,
           xor(coalesce(bit_xor(record_key(child_id)), 0),
               (SELECT coalesce(bit_xor(record_key(child_id)), 0) FROM cohort)) AS n_key
    FROM child_first_referral WHERE first_open_referral <= $as_of
),
population_counts AS (
    SELECT factor_code, count(*) AS n_with, bit_xor(record_key(child_id)) AS n_key
    FROM child_factor_first
    WHERE first_recorded <= $as_of AND first_open_referral <= $as_of
    GROUP BY factor_code
),
rest_counts AS (
    -- The cohort is part of the population, so the rest's cell key is the population's XOR the cohort's.
    SELECT p.factor_code, p.n_with - coalesce(c.n_with, 0) AS n_with, xor(p.n_key, coalesce(c.n_key, 0)) AS n_key
    FROM population_counts AS p
    LEFT JOIN cohort_counts AS c ON c.factor_code = p.factor_code
)"""

PREVALENCE_SELECT = """,
counts AS (
    SELECT coalesce(c.factor_code, r.factor_code) AS factor_code,
           coalesce(c.n_with, 0) AS cohort_with, coalesce(r.n_with, 0) AS rest_with,
           coalesce(c.n_key, 0) AS cohort_with_set, coalesce(r.n_key, 0) AS rest_with_set
    FROM cohort_counts AS c
    FULL JOIN rest_counts AS r ON r.factor_code = c.factor_code
    WHERE coalesce(c.n_with, 0) + coalesce(r.n_with, 0) > 0
)
SELECT f.factor_code, factor_label(f.factor_code) AS label, factor_subject(f.factor_code) AS subject,
       (SELECT count(*) FROM cohort) AS cohort_n, f.cohort_with,
       (SELECT n FROM rest_size) AS rest_n, f.rest_with,
       cell_key(k.cohort_set, k.cohort_set) AS cohort_n_ckey, cell_key(f.cohort_with_set, k.cohort_set) AS cohort_with_ckey,
       cell_key(k.rest_set, k.rest_set) AS rest_n_ckey, cell_key(f.rest_with_set, k.rest_set) AS rest_with_ckey
FROM counts AS f
CROSS JOIN (
    SELECT (SELECT coalesce(bit_xor(record_key(child_id)), 0) FROM cohort) AS cohort_set,
           (SELECT n_key FROM rest_size) AS rest_set
) AS k
"""


def prevalence_sql(params: dict) -> str:
    """The factor counts' SQL for these parameters: the cohort against the right comparison group."""
    if params.get("compare_team_id") is not None:
        return COHORT_SQL + COMPARE_TEAM_REST + LISTED_REST_COUNTS + PREVALENCE_SELECT
    if params.get("from_date") is not None or params.get("to_date") is not None:
        return COHORT_SQL + PERIOD_REST + LISTED_REST_COUNTS + PREVALENCE_SELECT
    return COHORT_SQL + EVERYONE_ELSE_COUNTS + PREVALENCE_SELECT


def cohort_values(params: dict) -> dict:
    """The bound parameters of a cohort; refuses a cohort with no filter at all."""
    if not any(params.get(name) is not None for name in COHORT_FILTERS):
        raise BadParameter("choose at least one cohort filter (a team, team focus, CP category, need, age, sex…)")
    return params


def capped(count: str, *totals: str) -> pl.Expr:
    """A count no larger than the totals it is part of (perturbed counts of different sets can cross); null stays null."""
    return pl.when(pl.col(count).is_null()).then(None).otherwise(pl.min_horizontal(count, *totals)).alias(count)


def add_prevalence_statistics(counts: pl.DataFrame) -> pl.DataFrame:
    """Percentages, Wilson intervals, lift, Fisher p and BH q for a table of per-factor counts.

    Also the engine's `restat` for protected counts: rows whose counts are hidden get no statistics
    (and BH runs over the rest), and a perturbed count is never shown above its total.
    """
    keys = [c for c in counts.columns if c.endswith("_ckey")]
    columns = PREVALENCE_COLUMNS + keys
    counts = counts.with_columns(cohort_with=capped("cohort_with", "cohort_n"), rest_with=capped("rest_with", "rest_n"))
    complete = pl.all_horizontal(pl.col(c).is_not_null() for c in ("cohort_n", "cohort_with", "rest_n", "rest_with"))
    known, unknown = counts.filter(complete), counts.filter(~complete)
    if known.is_empty():
        with_stats = known.with_columns(
            [pl.lit(None, dtype=pl.Float64).alias(c) for c in STAT_COLUMNS if c not in known.columns]
        )
    else:
        cohort_low, cohort_high = wilson_intervals(known["cohort_with"].to_numpy(), known["cohort_n"].to_numpy())
        rest_low, rest_high = wilson_intervals(known["rest_with"].to_numpy(), known["rest_n"].to_numpy())
        p_values = fisher_exact_p_values(
            known["cohort_with"].to_numpy(),
            (known["cohort_n"] - known["cohort_with"]).to_numpy(),
            known["rest_with"].to_numpy(),
            (known["rest_n"] - known["rest_with"]).to_numpy(),
        )
        # Against an empty group (no children in the cohort or the comparison) there is nothing to test.
        both = ((known["cohort_n"] > 0) & (known["rest_n"] > 0)).to_numpy()
        p_values = np.where(both, p_values, np.nan)
        with_stats = known.with_columns(
            cohort_pct=pl.when(pl.col("cohort_n") > 0).then(100 * pl.col("cohort_with") / pl.col("cohort_n")),
            cohort_ci_low=pl.Series(100 * cohort_low),
            cohort_ci_high=pl.Series(100 * cohort_high),
            rest_pct=pl.when(pl.col("rest_n") > 0).then(100 * pl.col("rest_with") / pl.col("rest_n")),
            rest_ci_low=pl.Series(100 * rest_low),
            rest_ci_high=pl.Series(100 * rest_high),
            p_value=pl.Series(p_values),
            q_value=pl.Series(benjamini_hochberg(p_values)),
        ).with_columns(
            lift=pl.when(pl.col("rest_pct") > 0).then(pl.col("cohort_pct") / pl.col("rest_pct")),
        )
        with_stats = with_stats.with_columns(pl.col(STAT_FLOATS).fill_nan(None))
    with_stats = with_stats.select(columns)
    if not unknown.is_empty():
        blank = unknown.with_columns(
            [pl.lit(None, dtype=pl.Float64).alias(c) for c in STAT_COLUMNS if c not in COUNT_COLUMNS]
        )
        with_stats = pl.concat([with_stats, blank.select(columns)], how="vertical_relaxed")
    return with_stats.sort(["lift", "cohort_pct", "factor_code"], descending=[True, True, False], nulls_last=True)


PREVALENCE_COLUMNS = [
    "factor_code", "label", "cohort_n", "cohort_with", "cohort_pct", "cohort_ci_low", "cohort_ci_high",
    "rest_n", "rest_with", "rest_pct", "lift", "p_value", "q_value", "subject", "rest_ci_low", "rest_ci_high",
]  # fmt: skip
COUNT_COLUMNS = ("cohort_n", "cohort_with", "rest_n", "rest_with")
STAT_COLUMNS = [c for c in PREVALENCE_COLUMNS if c not in ("factor_code", "label", "subject")]
STAT_FLOATS = [c for c in STAT_COLUMNS if c not in COUNT_COLUMNS]
# What rests on which count, for the engine's disclosure control (queries/disclosure.py).
PREVALENCE_DERIVED = {
    **{c: ("cohort_with", "cohort_n") for c in ("cohort_pct", "cohort_ci_low", "cohort_ci_high")},
    **{c: ("rest_with", "rest_n") for c in ("rest_pct", "rest_ci_low", "rest_ci_high")},
    **{c: COUNT_COLUMNS for c in ("lift", "p_value", "q_value")},
}


@python_query(
    "factor_prevalence",
    **COHORT_ACCESS,
    counts=[["cohort_n", "cohort_with"]],
    comparison_counts=["rest_n", "rest_with"],
    derived=PREVALENCE_DERIVED,
    restat=add_prevalence_statistics,
    title="Factors shared by a cohort",
    description="For each recorded factor (CIN assessment factors and declared local codes): how many children "
    "of the cohort and of everyone else (children with a non-NFA referral) had it, as counts and percentages "
    "with Wilson 95% intervals, the lift (cohort % / rest %), Fisher's exact p and the Benjamini-Hochberg q "
    "over all factors shown. Highest lift first.",
    tables=COHORT_TABLES,
    optional_tables=COHORT_OPTIONAL,
    params=COHORT_PARAMS,
)
def factor_prevalence(cursor, **params) -> pl.DataFrame:
    sql = prevalence_sql(params)
    counts = cursor.sql(sql, params=bound_params(sql, cohort_values(params))).pl()
    return add_prevalence_statistics(counts)


def plain_findings(prevalence: pl.DataFrame, top: int = 3, q_threshold: float = 0.05, hidden=None) -> list[str]:
    """Sentences a social worker can read for the strongest factors that are more common in the cohort.

    `hidden(count)` says whether a count must not be shown (small-number suppression); findings
    resting on a hidden count are left out.
    """
    sentences = []
    notable = prevalence.filter((pl.col("q_value") < q_threshold) & (pl.col("lift") > 1)).head(top * 3)
    for row in notable.iter_rows(named=True):
        if hidden and (hidden(row["cohort_with"]) or hidden(row["rest_with"])):
            continue
        times = row["lift"]
        how_much = f"about {times:.0f}× as common" if times >= 2 else f"{(times - 1) * 100:.0f}% more common"
        sentences.append(
            f"{row['cohort_pct']:.0f}% of this cohort vs {row['rest_pct']:.0f}% of the comparison group had "
            f"“{row['label']}” — {how_much}."
        )
        if len(sentences) == top:
            break
    return sentences


def cooccurrence_statistics(pairs: pl.DataFrame) -> pl.DataFrame:
    """Confidence, lift, Fisher p and BH q from (protected) counts: factor_cooccurrence's statistics and `restat`.

    Each pair's 2x2 table within the cohort: with A and B, A not B, B not A, neither. p is Fisher's
    exact test (two-sided); q is Benjamini-Hochberg over the unordered pairs returned whose counts are
    all shown (A-B and B-A are one test, with one p and one q). Perturbed counts of different sets can
    disagree (A and B together more than A alone); each count is capped at its totals and a cell of the
    table below 0 is taken as 0.
    """
    pairs = pairs.with_columns(n_a=capped("n_a", "cohort_n"), n_b=capped("n_b", "cohort_n"))
    pairs = pairs.with_columns(n_both=capped("n_both", "n_a", "n_b")).with_columns(
        confidence=pl.when(pl.col("n_a") > 0).then(pl.col("n_both") / pl.col("n_a")),
        lift=pl.when((pl.col("n_a") > 0) & (pl.col("n_b") > 0)).then(
            pl.col("n_both") * pl.col("cohort_n") / (pl.col("n_a") * pl.col("n_b"))
        ),
    )
    complete = pl.all_horizontal(pl.col(c).is_not_null() for c in ("n_a", "n_b", "n_both", "cohort_n"))
    numbered = pairs.with_row_index("_row")
    known = numbered.filter(complete)
    cells = [
        known["n_both"],
        known["n_a"] - known["n_both"],
        known["n_b"] - known["n_both"],
        known["cohort_n"] - known["n_a"] - known["n_b"] + known["n_both"],
    ]
    p_values = fisher_exact_p_values(*(c.clip(lower_bound=0).to_numpy() for c in cells))
    known = known.select("_row", "factor_a", "factor_b", p_value=pl.Series(p_values, dtype=pl.Float64))
    once = known.filter(pl.col("factor_a") < pl.col("factor_b"))
    q_of = once.select(
        first=pl.col("factor_a"), second=pl.col("factor_b"), q_value=pl.Series(benjamini_hochberg(once["p_value"]))
    )
    known = known.with_columns(
        first=pl.min_horizontal("factor_a", "factor_b"), second=pl.max_horizontal("factor_a", "factor_b")
    ).join(q_of, on=["first", "second"], how="left")
    out = numbered.drop([c for c in ("p_value", "q_value") if c in numbered.columns]).join(
        known.select("_row", "p_value", "q_value"), on="_row", how="left"
    )
    return out.sort("_row").drop("_row")


COOCCURRENCE_DERIVED = {
    "confidence": ("n_both", "n_a"),
    **{c: ("n_both", "n_a", "n_b", "cohort_n") for c in ("lift", "p_value", "q_value")},
}


def rule_statistics(rules: pl.DataFrame) -> pl.DataFrame:
    """Support, confidence and lift from (protected) counts: the engine's `restat` for factor_rules."""
    n_children = capped("n_children", "n_antecedent", "n_consequent")
    return rules.with_columns(n_children=n_children).with_columns(
        support=pl.when(pl.col("cohort_n") > 0).then(pl.col("n_children") / pl.col("cohort_n")),
        confidence=pl.when(pl.col("n_antecedent") > 0).then(pl.col("n_children") / pl.col("n_antecedent")),
        lift=pl.when((pl.col("n_antecedent") > 0) & (pl.col("n_consequent") > 0)).then(
            (pl.col("n_children") / pl.col("n_antecedent")) / (pl.col("n_consequent") / pl.col("cohort_n"))
        ),
    )


RULES_DERIVED = {
    "support": ("n_children", "cohort_n"),
    "confidence": ("n_children", "n_antecedent"),
    "lift": ("n_children", "n_antecedent", "n_consequent", "cohort_n"),
}


COOCCURRENCE_SQL = (
    COHORT_SQL
    + """,
cohort_size AS (SELECT count(*) AS n, coalesce(bit_xor(record_key(child_id)), 0) AS n_key FROM cohort),
singles AS (
    SELECT factor_code, count(*) AS n_children, bit_xor(record_key(child_id)) AS n_key
    FROM cohort_factors
    WHERE $factor_codes IS NULL
       OR list_contains(string_split(replace($factor_codes, ' ', ''), ','), factor_code)
    GROUP BY factor_code
),
chosen AS (SELECT * FROM cohort_factors WHERE factor_code IN (SELECT factor_code FROM singles)),
together AS (
    SELECT a.factor_code AS factor_a, b.factor_code AS factor_b, count(*) AS n_both,
           bit_xor(record_key(a.child_id)) AS n_key
    FROM chosen AS a
    JOIN chosen AS b ON b.child_id = a.child_id AND b.factor_code <> a.factor_code
    GROUP BY ALL
),
pairs AS (
    -- Every pair of the chosen factors, recorded together or not: each is one test.
    SELECT sa.factor_code AS factor_a, sb.factor_code AS factor_b, coalesce(t.n_both, 0) AS n_both,
           coalesce(t.n_key, 0) AS n_key
    FROM singles AS sa
    JOIN singles AS sb ON sb.factor_code <> sa.factor_code
    LEFT JOIN together AS t ON t.factor_a = sa.factor_code AND t.factor_b = sb.factor_code
)
SELECT p.factor_a, p.factor_b, sa.n_children AS n_a, sb.n_children AS n_b, p.n_both,
       cs.n AS cohort_n, factor_label(p.factor_a) AS label_a, factor_label(p.factor_b) AS label_b,
       cell_key(sa.n_key, cs.n_key) AS n_a_ckey, cell_key(sb.n_key, cs.n_key) AS n_b_ckey,
       cell_key(p.n_key, cs.n_key) AS n_both_ckey, cell_key(cs.n_key, cs.n_key) AS cohort_n_ckey
FROM pairs AS p
JOIN singles AS sa ON sa.factor_code = p.factor_a
JOIN singles AS sb ON sb.factor_code = p.factor_b
CROSS JOIN cohort_size AS cs
ORDER BY p.n_both DESC, p.factor_a, p.factor_b
"""
)


@python_query(
    "factor_cooccurrence",
    **COHORT_ACCESS,
    counts=[["cohort_n", "n_a", "n_b", "n_both"]],
    derived=COOCCURRENCE_DERIVED,
    restat=cooccurrence_statistics,
    title="Factors that go together",
    description="Within the cohort, for every ordered pair of factors A and B (of those chosen, or all): children "
    "with A, with B and with both; the confidence P(B | A), the lift P(A and B) / (P(A) P(B)), where a lift above "
    "1 means the two are recorded together more often than chance would give, Fisher's exact p for the pair's "
    "2x2 table (with both, A only, B only, neither) and the Benjamini-Hochberg q over the pairs returned.",
    tables=COHORT_TABLES,
    optional_tables=COHORT_OPTIONAL,
    params=[
        *COHORT_PARAMS,
        "factor_codes str = null ; only pairs of these factors (codes separated by commas); q is over these pairs",
    ],
)
def factor_cooccurrence(cursor, **params) -> pl.DataFrame:
    pairs = cursor.sql(COOCCURRENCE_SQL, params=bound_params(COOCCURRENCE_SQL, cohort_values(params))).pl()
    return cooccurrence_statistics(pairs)


RULES_SQL = (
    COHORT_SQL
    + """,
cohort_size AS (SELECT count(*) AS n, coalesce(bit_xor(record_key(child_id)), 0) AS n_key FROM cohort),
singles AS (
    SELECT factor_code, count(*) AS n_children, bit_xor(record_key(child_id)) AS n_key
    FROM cohort_factors GROUP BY factor_code
),
frequent AS (SELECT factor_code FROM singles WHERE n_children >= $min_children),
frequent_factors AS (SELECT * FROM cohort_factors WHERE factor_code IN (SELECT factor_code FROM frequent)),
pair_counts AS (
    SELECT a.factor_code AS a1, b.factor_code AS a2, count(*) AS n_children, bit_xor(record_key(a.child_id)) AS n_key
    FROM frequent_factors AS a
    JOIN frequent_factors AS b ON b.child_id = a.child_id AND b.factor_code > a.factor_code
    GROUP BY ALL
    HAVING count(*) >= $min_children
),
one_to_one AS (
    SELECT a.factor_code AS a1, NULL::VARCHAR AS a2, c.factor_code AS consequent, count(*) AS n_rule,
           bit_xor(record_key(a.child_id)) AS rule_key
    FROM frequent_factors AS a
    JOIN frequent_factors AS c ON c.child_id = a.child_id AND c.factor_code <> a.factor_code
    GROUP BY ALL
),
two_to_one AS (
    SELECT a.factor_code AS a1, b.factor_code AS a2, c.factor_code AS consequent, count(*) AS n_rule,
           bit_xor(record_key(a.child_id)) AS rule_key
    FROM frequent_factors AS a
    JOIN frequent_factors AS b ON b.child_id = a.child_id AND b.factor_code > a.factor_code
    JOIN pair_counts AS pc ON pc.a1 = a.factor_code AND pc.a2 = b.factor_code
    JOIN frequent_factors AS c ON c.child_id = a.child_id
         AND c.factor_code <> a.factor_code AND c.factor_code <> b.factor_code
    GROUP BY ALL
),
rules AS (
    SELECT r.*, s.n_children AS n_antecedent, s.n_key AS antecedent_key
    FROM one_to_one AS r JOIN singles AS s ON s.factor_code = r.a1
    UNION ALL
    SELECT r.*, pc.n_children, pc.n_key
    FROM two_to_one AS r JOIN pair_counts AS pc ON pc.a1 = r.a1 AND pc.a2 = r.a2
)
SELECT
    CASE WHEN r.a2 IS NULL THEN factor_label(r.a1)
         ELSE factor_label(r.a1) || ' + ' || factor_label(r.a2) END AS antecedent,
    factor_label(r.consequent) AS consequent,
    r.n_rule AS n_children,
    r.n_rule / cs.n AS support,
    r.n_rule / r.n_antecedent AS confidence,
    (r.n_rule / r.n_antecedent) / (sc.n_children / cs.n) AS lift,
    r.a1, r.a2, r.consequent AS consequent_code, r.n_antecedent, cs.n AS cohort_n,
    sc.n_children AS n_consequent,
    cell_key(r.rule_key, cs.n_key) AS n_children_ckey, cell_key(r.antecedent_key, cs.n_key) AS n_antecedent_ckey,
    cell_key(sc.n_key, cs.n_key) AS n_consequent_ckey, cell_key(cs.n_key, cs.n_key) AS cohort_n_ckey
FROM rules AS r
JOIN singles AS sc ON sc.factor_code = r.consequent
CROSS JOIN cohort_size AS cs
WHERE r.n_rule >= $min_children
  AND (r.n_rule / r.n_antecedent) / (sc.n_children / cs.n) > 1
ORDER BY lift DESC, confidence DESC, n_children DESC, antecedent, consequent
LIMIT $max_rules
"""
)


@python_query(
    "factor_rules",
    **COHORT_ACCESS,
    counts=[["cohort_n", "n_children", "n_antecedent", "n_consequent"]],
    derived=RULES_DERIVED,
    restat=rule_statistics,
    title="Association rules between factors",
    description="Within the cohort, rules 'children with A (and B) also had C' for up to three factors: the "
    "children it applies to, support (share of the cohort with all of them), confidence P(C | A and B) and "
    "lift (confidence / P(C)). Only rules met by at least min_children children and with lift above 1.",
    tables=COHORT_TABLES,
    optional_tables=COHORT_OPTIONAL,
    params=[
        *COHORT_PARAMS,
        "min_children int = 10 ; leave out rules met by fewer children",
        "max_rules int = 30 ; how many rules to show, highest lift first",
    ],
)
def factor_rules(cursor, **params) -> pl.DataFrame:
    return cursor.sql(RULES_SQL, params=bound_params(RULES_SQL, cohort_values(params))).pl()


def sizes_sql(params: dict) -> str:
    """The cohort's and the comparison group's sizes, whether or not any child has a recorded factor."""
    counts = prevalence_sql(params).split(PREVALENCE_SELECT)[0]
    return (
        counts
        + """
SELECT (SELECT count(*) FROM cohort) AS cohort_n, (SELECT n FROM rest_size) AS rest_n,
       cell_key(k.cohort_set, k.cohort_set) AS cohort_n_ckey, cell_key(k.rest_set, k.rest_set) AS rest_n_ckey
FROM (
    SELECT (SELECT coalesce(bit_xor(record_key(child_id)), 0) FROM cohort) AS cohort_set,
           (SELECT n_key FROM rest_size) AS rest_set
) AS k
"""
    )


def sizes_as_protected(sizes: pl.DataFrame) -> pl.DataFrame:
    """Nothing is worked out from the two sizes: the protected counts are the answer."""
    return sizes


@python_query(
    "factor_cohort_sizes",
    **COHORT_ACCESS,
    counts=[["cohort_n"]],
    comparison_counts=["rest_n"],
    restat=sizes_as_protected,
    title="How many children are in a cohort and its comparison group",
    description="The number of children in the cohort and in the comparison group (as factor_prevalence counts "
    "them), also when none of them has a recorded factor: so a page can say a cohort or a period has no children "
    "rather than that no factor stands out.",
    tables=COHORT_TABLES,
    optional_tables=COHORT_OPTIONAL,
    params=COHORT_PARAMS,
)
def factor_cohort_sizes(cursor, **params) -> pl.DataFrame:
    sql = sizes_sql(params)
    return cursor.sql(sql, params=bound_params(sql, cohort_values(params))).pl()
