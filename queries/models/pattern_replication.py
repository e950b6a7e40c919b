"""Do a cohort's factor findings hold up? Discover on the earlier referrals, confirm on the later ones.

The population of factor_prevalence (children with a non-NFA referral on or before as_of, in the
period if one is given) is split by each child's first such referral: before the split date (the
1st of a month: of the month chosen, else of the month after the one the median first referral
falls in, so the earlier half holds at least half the children) is the *discovery* half, from it on
the *confirmation* half, so no child is in both. In each half the cohort's children
are compared with the comparison group's as on the main table. A *finding* in the discovery half is a
factor more common in the cohort with BH q < 0.05 over the half's factors; it *holds up* when it is
more common in the cohort in the confirmation half too, with a one-sided Fisher p < 0.05 there.

Counts are aggregated in DuckDB with a cell key beside each (queries/disclosure.py); the statistics
are recomputed from the (possibly protected) counts by `replication_statistics`, the `restat`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from queries.engine import bound_params
from queries.models.patterns import COHORT_ACCESS, COHORT_OPTIONAL, COHORT_PARAMS, COHORT_TABLES, capped, cohort_values
from queries.registry import python_query
from queries.stats import benjamini_hochberg, fisher_exact_p_values

HALVES = ("discovery", "confirmation")
GROUPS = ("cohort", "rest")
VERDICTS = {
    "held": "held up",
    "not_held": "did not hold up",
    "not_finding": "not a finding in the earlier referrals",
}


def count_columns(half: str) -> tuple[str, str, str, str]:
    return f"{half}_cohort_n", f"{half}_cohort_with", f"{half}_rest_n", f"{half}_rest_with"


REST_EVERYONE = "SELECT child_id FROM population EXCEPT SELECT child_id FROM cohort"
REST_TEAM = """SELECT child_id
    FROM cohort_members($as_of, $from_date, $to_date, $compare_team_id, NULL, $primary_need, $age_band,
                        $sex, $ethnicity_group, $cp_category)
    EXCEPT SELECT child_id FROM cohort"""

REPLICATION_SQL = """
WITH population AS (
    SELECT child_id, min(referral_date) AS entry_date
    FROM referrals
    WHERE NOT nfa AND referral_date <= $as_of
      AND ($from_date IS NULL OR referral_date >= $from_date)
      AND ($to_date IS NULL OR referral_date <= $to_date)
    GROUP BY child_id
),
split AS (
    SELECT coalesce(date_trunc('month', $split_date::DATE),
                    date_trunc('month', quantile_disc(entry_date, 0.5)) + INTERVAL 1 MONTH)::DATE AS split_date
    FROM population
),
cohort AS (
    SELECT child_id
    FROM cohort_members($as_of, $from_date, $to_date, $team_id, $team_focus, $primary_need, $age_band,
                        $sex, $ethnicity_group, $cp_category)
),
rest AS ({rest}),
placed AS (
    SELECT m.child_id, m.grp, CASE WHEN p.entry_date < s.split_date THEN 'discovery' ELSE 'confirmation' END AS half
    FROM (SELECT child_id, 'cohort' AS grp FROM cohort UNION ALL SELECT child_id, 'rest' FROM rest) AS m
    JOIN population AS p ON p.child_id = m.child_id
    CROSS JOIN split AS s
),
sizes AS (
    SELECT half, grp, count(*) AS n, bit_xor(record_key(child_id)) AS n_key FROM placed GROUP BY ALL
),
factor_counts AS (
    SELECT pl.half, pl.grp, f.factor_code, count(*) AS n_with, bit_xor(record_key(f.child_id)) AS n_key
    FROM child_factor_first AS f
    JOIN placed AS pl ON pl.child_id = f.child_id
    WHERE f.first_recorded <= $as_of
    GROUP BY ALL
),
codes AS (SELECT DISTINCT factor_code FROM factor_counts)
SELECT k.factor_code, factor_label(k.factor_code) AS label, factor_subject(k.factor_code) AS subject,
       sp.split_date, {columns}
FROM codes AS k
CROSS JOIN split AS sp
{joins}
ORDER BY k.factor_code
"""


def replication_sql(params: dict) -> str:
    """The per-half, per-group factor counts with their cell keys, for these parameters."""
    columns, joins = [], []
    for half in HALVES:
        for group in GROUPS:
            size, count = f"s_{half[0]}{group[0]}", f"f_{half[0]}{group[0]}"
            table = f"coalesce({size}.n_key, 0)"
            columns += [
                f"coalesce({size}.n, 0) AS {half}_{group}_n",
                f"coalesce({count}.n_with, 0) AS {half}_{group}_with",
                f"cell_key({table}, {table}) AS {half}_{group}_n_ckey",
                f"cell_key(coalesce({count}.n_key, 0), {table}) AS {half}_{group}_with_ckey",
            ]
            joins += [
                f"LEFT JOIN sizes AS {size} ON {size}.half = '{half}' AND {size}.grp = '{group}'",
                f"LEFT JOIN factor_counts AS {count} ON {count}.factor_code = k.factor_code "
                f"AND {count}.half = '{half}' AND {count}.grp = '{group}'",
            ]
    rest = REST_TEAM if params.get("compare_team_id") is not None else REST_EVERYONE
    return REPLICATION_SQL.format(rest=rest, columns=",\n       ".join(columns), joins="\n".join(joins))


def half_statistics(frame: pl.DataFrame, half: str, alternative: str) -> pl.DataFrame:
    """Percentages, lift and Fisher p of one half; BH q over the half's factors with every count shown."""
    cohort_n, cohort_with, rest_n, rest_with = count_columns(half)
    frame = frame.with_columns(capped(cohort_with, cohort_n), capped(rest_with, rest_n))
    complete = pl.all_horizontal(pl.col(c).is_not_null() for c in count_columns(half))
    testable = complete & (pl.col(cohort_n) > 0) & (pl.col(rest_n) > 0)
    frame = frame.with_columns(
        pl.when(pl.col(cohort_n) > 0).then(100 * pl.col(cohort_with) / pl.col(cohort_n)).alias(f"{half}_cohort_pct"),
        pl.when(pl.col(rest_n) > 0).then(100 * pl.col(rest_with) / pl.col(rest_n)).alias(f"{half}_rest_pct"),
    ).with_columns(
        pl.when(pl.col(f"{half}_rest_pct") > 0)
        .then(pl.col(f"{half}_cohort_pct") / pl.col(f"{half}_rest_pct"))
        .alias(f"{half}_lift")
    )
    mask = frame.select(testable.fill_null(False)).to_series().to_numpy()
    known = frame.filter(mask)
    p_values = np.full(frame.height, np.nan)
    p_values[mask] = fisher_exact_p_values(
        known[cohort_with].to_numpy(),
        (known[cohort_n] - known[cohort_with]).to_numpy(),
        known[rest_with].to_numpy(),
        (known[rest_n] - known[rest_with]).to_numpy(),
        alternative=alternative,
    )
    return frame.with_columns(
        pl.Series(f"{half}_p", p_values).fill_nan(None),
        pl.Series(f"{half}_q", benjamini_hochberg(p_values)).fill_nan(None),
    )


def replication_statistics(counts: pl.DataFrame, q_threshold: float = 0.05, p_threshold: float = 0.05):
    """Each half's statistics and each factor's verdict, from (protected) counts: the engine's `restat`.

    Discovery: two-sided Fisher p and BH q over the half's factors. Confirmation: one-sided Fisher p (more
    common in the cohort), since only the direction found is being checked. A finding is a factor more
    common in the discovery half's cohort with q below `q_threshold`; it held up when it is more common in
    the confirmation half's cohort too with p below `p_threshold`. A verdict resting on a hidden count is null.
    """
    frame = half_statistics(counts, "discovery", "two-sided")
    frame = half_statistics(frame, "confirmation", "greater")
    found = (pl.col("discovery_q") < q_threshold) & (pl.col("discovery_cohort_pct") > pl.col("discovery_rest_pct"))
    held = (pl.col("confirmation_p") < p_threshold) & (
        pl.col("confirmation_cohort_pct") > pl.col("confirmation_rest_pct")
    )
    frame = frame.with_columns(finding=found).with_columns(
        verdict=pl.when(pl.col("finding").is_null())
        .then(None)
        .when(~pl.col("finding"))
        .then(pl.lit(VERDICTS["not_finding"]))
        .when(pl.col("confirmation_p").is_null())
        .then(None)
        .when(held)
        .then(pl.lit(VERDICTS["held"]))
        .otherwise(pl.lit(VERDICTS["not_held"]))
    )
    return frame.sort(["finding", "discovery_q", "factor_code"], descending=[True, False, False], nulls_last=True)


def replication_summary(replication: pl.DataFrame) -> str | None:
    """One sentence: how many of the earlier referrals' findings held up on the later ones (None: no finding)."""
    findings = replication.filter(pl.col("finding").fill_null(False))
    if findings.is_empty():
        return None
    held = findings.filter(pl.col("verdict") == VERDICTS["held"]).height
    unknown = findings.filter(pl.col("verdict").is_null()).height
    sentence = f"{held} of the {findings.height} findings in the earlier referrals held up in the later ones."
    if unknown:
        sentence += f" {unknown} could not be checked: too few children to show safely."
    return sentence


HALF_DERIVED = {
    **{f"{half}_{column}": count_columns(half) for half in HALVES for column in ("lift", "p", "q")},
    **{f"{h}_cohort_pct": (f"{h}_cohort_with", f"{h}_cohort_n") for h in HALVES},
    **{f"{h}_rest_pct": (f"{h}_rest_with", f"{h}_rest_n") for h in HALVES},
}
REPLICATION_DERIVED = {
    **HALF_DERIVED,
    "finding": count_columns("discovery"),
    "verdict": count_columns("discovery") + count_columns("confirmation"),
}


@python_query(
    "factor_replication",
    **COHORT_ACCESS,
    counts=[[f"{h}_cohort_n", f"{h}_cohort_with"] for h in HALVES],
    comparison_counts=[f"{h}_rest_{c}" for h in HALVES for c in ("n", "with")],
    derived=REPLICATION_DERIVED,
    restat=replication_statistics,
    title="Do the cohort's factor findings hold up on later referrals?",
    description="The cohort's population split by each child's first non-NFA referral (in the period) at the "
    "1st of a month: of the split month chosen, else of the month after the median first referral's. On the earlier "
    "children (discovery) as on the main table: cohort and comparison percentages, lift, Fisher p and BH q. On "
    "the later children (confirmation): the same with a one-sided Fisher p. Verdict: a finding (q < 0.05, more "
    "common in the cohort) held up when it is more common in the later cohort too with p < 0.05.",
    tables=[*COHORT_TABLES],
    optional_tables=COHORT_OPTIONAL,
    params=[
        *COHORT_PARAMS,
        "split_date date = null ; the confirmation half starts on the 1st of this date's month"
        " (default: the month after the median first referral's)",
    ],
)
def factor_replication(cursor, **params) -> pl.DataFrame:
    sql = replication_sql(params)
    counts = cursor.sql(sql, params=bound_params(sql, cohort_values(params))).pl()
    return replication_statistics(counts)
