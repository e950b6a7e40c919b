"""Commissioned services: what was spent, for how many children, how often there was no new referral, what it added.

Definitions (query contract, "Service costs"; choices made here are marked *):

- An episode counts when it started on or before as_of. One that ends after as_of (or has no end) is
  *ongoing* on as_of, whatever its exit_reason.
- Cost of an episode: its recorded `cost`, else the service's unit_cost, by cost_unit:
  - week: unit_cost × (end_date, or as_of when ongoing, − start_date in days) / 7, fractional;
  - session: unit_cost once;
  - family: unit_cost once per family*. Episodes of the same service for children of one family
    (family_id; a child without one is a family of one) that overlap in time — each starts on or before
    the latest end (or as_of) of the earlier ones — are one family booking. A booking with no recorded
    cost is charged the unit_cost once, shared equally between its episodes; a booking where any episode
    carries a recorded cost is charged exactly its recorded costs (its other episodes cost 0), so one
    family's fee is never counted twice.
- Assessable: the episode's referral (service_episodes.referral_id) closed on or before as_of − 365 days,
  and a new referral in that year could have been recorded here*: not when the case closed because the
  child died (RC2), moved to another council (RC5) or to adult services (RC6), or the child turned 18
  within 365 days of the closure (`cannot_be_judged`, counted and shown; without this a young person
  ageing out "succeeds" 92% of the time against 72%). Success: assessable, and the child had no referral
  dated 1 to 365 days after that closure date (day 366 is fine): "no new referral within a year", not
  "worked". Episodes without a referral, or whose referral is open or closed less than 365 days before
  as_of, are "not yet assessable" (counted, shown).
- cost_per_success*: the cost of the assessable episodes ÷ their successes (the spend we can judge over
  what it bought). It counts the successes that would have happened anyway (about three in four similar
  children have no new referral); the cost of an *additional* success is in the comparison. Its 95%
  interval is a percentile bootstrap that resamples families*, not children, because siblings share an
  outcome: the assessable episodes are summed per family (cost, successes) in DuckDB, then 1,000
  resamples of those families per service with a fixed seed (the same answer every run); above 5,000
  families, the resampled totals are drawn from their normal limit with the exact bootstrap mean and
  covariance (checked against full resampling in the tests).
- success_rate is a fraction 0–1; its 95% interval (ci_low, ci_high) resamples the same families
  (successes ÷ assessable episodes per resample).

Comparison (`service_comparison`)*: "episodes of the same kind" are closed non-NFA referrals (episodes
of need) on which the child had a CIN plan, a CP plan or a period in care, closed at least 365 days before
as_of, judged by the same success rule (the same ones set aside as cannot be judged). For each service, its
assessable episodes whose referral is of that kind are compared with the referrals of that kind on which the
service was not used (they may have had other services; a child who got the service on another referral still
counts — excluding them would drop re-referred children and flatter the comparison). Both sides are put in
exact strata of what was known when the work started: primary need (null as N0, not stated), age band at the
referral date (`age_band`), the number of distinct factors recorded for the child by the referral's first
authorised assessment, else its referral date (code 21 "no factors" not counted; 0–1, 2–3, 4+: not by the
closure, which would match on what the service's own work found), and the service_area of the referral's team.
An episode is matched when its stratum has at least one comparison referral. The comparison success rate is
directly standardised to the service's matched strata mix (Kish's effective sample size is reported).
difference = service rate − comparison rate. Its interval is a percentile bootstrap over families
(`family_bootstrap`): the service's families are resampled with their matched episodes, successes and cost;
the comparison pool's families per stratum from their normal limit. Because ten services are judged at once,
the intervals are made simultaneous by Bonferroni: level 1 − 0.05 / m, m = the services with at least
MIN_MATCHED matched episodes (99.5% for ten). cost_per_additional_success = cost per matched episode ÷
difference, with the interval of the same resamples; given only when the difference's interval is above
zero (otherwise the verdict says the data cannot tell, or that the service did worse).

Spend by month (`service_spend_by_month`)*: a per-week episode's cost is spread evenly over the days it ran
(start_date up to end_date, or as_of), so it falls in the months the service was delivered; per-family
and per-session costs are one-off charges and fall in the month the episode started.
"""

from __future__ import annotations

import hashlib
import zlib

import numpy as np
import polars as pl

from queries.kept import KeptAnswers
from queries.registry import python_query

# What rests on which count, for the engine's disclosure control (queries/disclosure.py).
OUTCOMES_DERIVED = (
    {c: ("successes", "assessable") for c in ("success_rate", "ci_low", "ci_high")}
    | {c: ("successes",) for c in ("cost_per_success", "cost_per_success_low", "cost_per_success_high")}
    | {"cost_per_child": ("children",)}
)
COMPARISON_DERIVED = (
    {
        c: ("matched", "matched_successes")
        for c in ("service_success_rate", "difference", "difference_low", "difference_high", "verdict")
    }
    | {"comparison_success_rate": ("comparison_referrals",), "comparison_crude_rate": ("comparison_referrals",)}
    | {"cost_per_matched_episode": ("matched",)}
    | {
        c: ("matched", "matched_successes", "comparison_referrals")
        for c in ("cost_per_additional_success", "cost_per_additional_success_low", "cost_per_additional_success_high")
    }
)
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20260331
MIN_MATCHED = 10  # fewer matched episodes than this: the verdict says the data cannot tell

AS_OF_PARAM = "as_of date = as_of ; the date the figures are judged on"

# Every service episode started by as_of, with its cost, family, and (when assessable) its outcome.
EPISODES_SQL = """
WITH ep AS (
    SELECT se.service_episode_id, se.service_id, se.child_id, se.referral_id, se.start_date,
           CASE WHEN se.end_date <= $as_of THEN se.end_date END AS end_date,
           CASE WHEN se.end_date IS NULL OR se.end_date > $as_of THEN 'ongoing'
                WHEN se.exit_reason IN ('completed', 'disengaged') THEN se.exit_reason
                ELSE 'other' END AS status,
           se.cost AS recorded_cost, s.unit_cost, s.cost_unit, s.commissioning,
           se.family_no, se.booking_no, se.booking_last_start, se.booking_episodes, se.booking_recorded,
           se.first_for_child, se.referral_closure_date, se.rereferred_within_365, se.cannot_be_judged
    FROM service_episode_facts AS se
    JOIN services AS s ON s.service_id = se.service_id
    WHERE se.start_date <= $as_of
),
-- A family booking's episodes started by as_of share its unit cost (service_episode_facts.booking_no: which
-- bookings does not depend on as_of). The summary counts each whole booking; the few that run on past as_of
-- are counted again as far as as_of.
later_bookings AS (
    SELECT booking_no, count(*) AS booked, count(recorded_cost) AS recorded
    FROM ep
    WHERE cost_unit = 'family' AND booking_last_start > $as_of
    GROUP BY booking_no
),
costed AS (
    SELECT ep.*,
           CASE
               WHEN ep.recorded_cost IS NOT NULL THEN ep.recorded_cost
               WHEN ep.cost_unit = 'week' THEN ep.unit_cost * date_diff('day', ep.start_date, coalesce(ep.end_date, $as_of)) / 7
               WHEN ep.cost_unit = 'family' THEN
                   CASE WHEN coalesce(lb.recorded, ep.booking_recorded) > 0 THEN 0.0
                        ELSE ep.unit_cost / coalesce(lb.booked, ep.booking_episodes) END
               ELSE ep.unit_cost
           END AS cost
    FROM ep
    LEFT JOIN later_bookings AS lb ON lb.booking_no = ep.booking_no
),
episodes AS (
    SELECT * EXCLUDE (referral_closure_date, rereferred_within_365, cannot_be_judged, booking_no, booking_last_start, booking_episodes,
                      booking_recorded),
           CASE WHEN referral_closure_date <= $as_of - 365 THEN referral_closure_date END AS closure_date,
           coalesce(referral_closure_date <= $as_of - 365, false) AS year_since_closure,
           coalesce(referral_closure_date <= $as_of - 365 AND NOT cannot_be_judged, false) AS assessable,
           coalesce(referral_closure_date <= $as_of - 365 AND NOT cannot_be_judged AND NOT rereferred_within_365, false)
               AS success
    FROM costed
)
"""

OUTCOMES_SQL = (
    EPISODES_SQL
    + """,
per_service AS (
    SELECT service_id,
           count(*) FILTER (WHERE first_for_child) AS children,
           sum(cost) AS total_cost,
           count(service_episode_id) AS episodes,
           count(*) FILTER (WHERE assessable) AS assessable,
           count(*) FILTER (WHERE success) AS successes,
           sum(cost) FILTER (WHERE assessable) AS assessable_cost,
           count(service_episode_id) FILTER (WHERE NOT year_since_closure) AS not_yet_assessable,
           count(*) FILTER (WHERE year_since_closure AND NOT assessable) AS cannot_be_judged,
           count(*) FILTER (WHERE status = 'completed') AS completed,
           count(*) FILTER (WHERE status = 'disengaged') AS disengaged,
           count(*) FILTER (WHERE status = 'other') AS other_exit,
           count(*) FILTER (WHERE status = 'ongoing') AS ongoing
    FROM episodes
    GROUP BY service_id
)
SELECT s.service_id, s.service_name,
       coalesce(e.children, 0) AS children,
       coalesce(e.total_cost, 0.0) AS total_cost,
       coalesce(e.episodes, 0) AS episodes,
       coalesce(e.assessable, 0) AS assessable,
       coalesce(e.successes, 0) AS successes,
       coalesce(e.assessable_cost, 0.0) AS assessable_cost,
       coalesce(e.not_yet_assessable, 0) AS not_yet_assessable,
       coalesce(e.cannot_be_judged, 0) AS cannot_be_judged,
       coalesce(e.completed, 0) AS completed,
       coalesce(e.disengaged, 0) AS disengaged,
       coalesce(e.other_exit, 0) AS other_exit,
       coalesce(e.ongoing, 0) AS ongoing,
       s.category, s.commissioning, s.unit_cost, s.cost_unit, s.provider
FROM services AS s
LEFT JOIN per_service AS e ON e.service_id = s.service_id
ORDER BY s.service_id
"""
)

FAMILIES_SQL = (
    EPISODES_SQL
    + """
-- family_no numbers the families in family_key order
SELECT service_id, family_no, sum(cost) AS cost, count(*) FILTER (WHERE success) AS successes, count(*) AS assessable
FROM episodes
WHERE assessable
GROUP BY ALL
ORDER BY service_id, family_no
"""
)

OUTCOME_COLUMNS = [
    "service_id", "service_name", "children", "total_cost", "cost_per_child", "assessable", "successes",
    "success_rate", "ci_low", "ci_high", "cost_per_success", "cost_per_success_low", "cost_per_success_high",
    "episodes", "not_yet_assessable", "cannot_be_judged", "assessable_cost", "completed", "disengaged", "other_exit", "ongoing",
    "category", "commissioning", "unit_cost", "cost_unit", "provider",
]  # fmt: skip


EXACT_BOOTSTRAP_FAMILIES = 5000  # above this, the resampled totals are drawn from their normal limit


def bootstrap_ratio_interval(
    cost: np.ndarray, successes: np.ndarray, key: str, resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95
) -> tuple[float | None, float | None]:
    """Percentile bootstrap interval for sum(cost) / sum(successes), resampling the rows (families).

    Each resample draws len(cost) families with replacement, seeded by BOOTSTRAP_SEED and `key`, so the
    same data always give the same interval. Families with the same (cost, successes) are drawn as one
    group (multinomial counts over the groups: the same distribution of the totals, far fewer draws).
    With more than EXACT_BOOTSTRAP_FAMILIES families the totals of a resample are drawn from the normal
    distribution with their exact bootstrap mean and covariance (n times the families' covariance):
    the central limit theorem, which at that size agrees with full resampling (tests check it) at a
    fraction of the cost. A resample with no success has an unbounded ratio (inf); an upper limit
    that is inf comes back as None (no upper bound).

    The interval depends on nothing but these arguments, so it is kept, by a digest of the data, for the
    next time the same figures are asked for (the resampling is most of a council-sized question's time).
    """
    cost = np.ascontiguousarray(cost, dtype=float)
    successes = np.ascontiguousarray(successes, dtype=float)
    digest = hashlib.blake2b(cost.tobytes(), digest_size=16)
    digest.update(successes.tobytes())
    cache_key = (digest.digest(), cost.size, key, resamples, level)
    return _BOOTSTRAP_CACHE.get_or_build(
        cache_key, lambda: _bootstrap_ratio_interval(cost, successes, key, resamples, level)
    )


_BOOTSTRAP_CACHE = KeptAnswers(256)  # intervals kept (a service at an as_of each)


def _bootstrap_ratio_interval(
    cost: np.ndarray, successes: np.ndarray, key: str, resamples: int, level: float
) -> tuple[float | None, float | None]:
    cost = np.asarray(cost, dtype=float)
    successes = np.asarray(successes, dtype=float)
    n = cost.size
    if n == 0 or successes.sum() == 0:
        return None, None
    rng = np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(key.encode())])
    if n > EXACT_BOOTSTRAP_FAMILIES:
        pairs = np.column_stack([cost, successes])
        mean = n * pairs.mean(axis=0)
        covariance = n * np.cov(pairs, rowvar=False, bias=True)
        totals = rng.multivariate_normal(mean, covariance, size=resamples, method="eigh")
        total_cost, total_successes = totals[:, 0], totals[:, 1]
    else:
        groups, sizes = np.unique(np.column_stack([cost, successes]), axis=0, return_counts=True)
        counts = rng.multinomial(n, sizes / n, size=resamples)
        total_cost, total_successes = counts @ groups[:, 0], counts @ groups[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total_successes > 0, total_cost / np.where(total_successes > 0, total_successes, 1), np.inf)
    tail = (1 - level) / 2
    low, high = np.quantile(ratio, [tail, 1 - tail], method="inverted_cdf")
    return (float(low) if np.isfinite(low) else None), (float(high) if np.isfinite(high) else None)


@python_query(
    "service_outcomes",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    counts=[
        ["children", "assessable", "successes", "not_yet_assessable", "cannot_be_judged"],
        ["completed", "disengaged", "other_exit"],
        ["ongoing"],
        ["episodes"],
    ],
    derived=OUTCOMES_DERIVED,
    title="Commissioned services: cost and success",
    description="For each commissioned service: children, total cost, cost per child, assessable episodes "
    "(referral closed at least 365 days before as_of, the child neither died, moved away nor turned 18 within "
    "that year), successes (no new referral in the 365 days after closure), success rate (0-1) with a 95% "
    "bootstrap interval that resamples families, and cost per success (cost of the assessable episodes / "
    "successes, counting those who would have had no new referral anyway) with a 95% bootstrap interval that "
    "resamples families. Then episodes not yet assessable, episodes that cannot be judged (died, moved away, "
    "turned 18) and how episodes ended (completed, disengaged, other, ongoing).",
    tables=["services", "service_episodes", "referrals", "children"],
    params=[AS_OF_PARAM],
)
def service_outcomes(cursor, as_of) -> pl.DataFrame:
    counts = cursor.sql(OUTCOMES_SQL, params={"as_of": as_of}).pl()
    families = cursor.sql(FAMILIES_SQL, params={"as_of": as_of}).pl()
    bounds, rate_bounds = {}, {}
    for (service_id,), part in families.group_by(["service_id"], maintain_order=True):
        successes = part["successes"].to_numpy()
        bounds[service_id] = bootstrap_ratio_interval(part["cost"].to_numpy(), successes, service_id)
        # the success rate's interval resamples the same families (siblings share an outcome)
        rate_bounds[service_id] = bootstrap_ratio_interval(
            successes, part["assessable"].to_numpy(), "rate:" + service_id
        )
    ids = counts["service_id"].to_list()
    result = counts.with_columns(
        cost_per_child=pl.when(pl.col("children") > 0).then(pl.col("total_cost") / pl.col("children")),
        success_rate=pl.when(pl.col("assessable") > 0).then(pl.col("successes") / pl.col("assessable")),
        ci_low=pl.Series([rate_bounds.get(i, (None, None))[0] for i in ids], dtype=pl.Float64),
        ci_high=pl.Series([rate_bounds.get(i, (None, None))[1] for i in ids], dtype=pl.Float64),
        cost_per_success=pl.when(pl.col("successes") > 0).then(pl.col("assessable_cost") / pl.col("successes")),
        cost_per_success_low=pl.Series([bounds.get(i, (None, None))[0] for i in ids], dtype=pl.Float64),
        cost_per_success_high=pl.Series([bounds.get(i, (None, None))[1] for i in ids], dtype=pl.Float64),
    )
    return result.select(OUTCOME_COLUMNS)


# --- comparison with similar children who did not get the service -----------------------------------------------

STRATA_SQL = """
WITH
-- Each service's episodes started by as_of on referrals of the kind by then, per stratum (treated), and the
-- referrals it was used on there (their first episode of the service started by as_of), to take out of the
-- comparison pool. Which referrals are of the kind, their strata and outcomes are summary tables.
used_counts AS (
    SELECT service_id, stratum_no, primary_need, age_band, factor_band, service_area,
           count(*) AS treated_n, count(*) FILTER (WHERE success) AS treated_x,
           count(*) FILTER (WHERE first_for_referral) AS n, count(*) FILTER (WHERE first_for_referral AND success) AS x
    FROM service_episode_strata
    WHERE start_date <= $as_of AND closure_date <= $as_of - 365 AND kind_from <= $as_of
    GROUP BY ALL
),
-- Each stratum's referrals per family, for the spread of the comparison rate when families are resampled.
stratum_families AS (
    SELECT stratum_no, family_no, count(*) AS n, count(*) FILTER (WHERE success) AS x
    FROM closed_referral_strata
    WHERE closure_date <= $as_of - 365 AND kind_from <= $as_of
    GROUP BY stratum_no, family_no
),
-- The comparison pool of a service in a stratum: every referral of the kind there, less those the service
-- was used on (counted, rather than pairing every service with every referral).
strata_totals AS (
    SELECT stratum_no, sum(n)::BIGINT AS n, sum(x)::BIGINT AS x, count(*) AS families,
           sum(n * n)::DOUBLE AS nn, sum(x * x)::DOUBLE AS xx, sum(n * x)::DOUBLE AS nx
    FROM stratum_families
    GROUP BY stratum_no
)
SELECT uc.service_id, uc.stratum_no, uc.primary_need, uc.age_band, uc.factor_band, uc.service_area,
       uc.treated_n AS service_n, uc.treated_x AS service_x,
       -- a stratum without a service area (not allowed by the contract) is compared with nobody, as it always was
       CASE WHEN uc.service_area IS NOT NULL THEN st.n - uc.n ELSE 0 END AS pool_n,
       CASE WHEN uc.service_area IS NOT NULL THEN st.x - uc.x ELSE 0 END AS pool_x,
       st.n AS stratum_n, st.x AS stratum_x, st.families AS stratum_families, st.nn AS stratum_nn, st.xx AS stratum_xx,
       st.nx AS stratum_nx
FROM used_counts AS uc
JOIN strata_totals AS st ON st.stratum_no = uc.stratum_no
ORDER BY ALL
"""

# Each service's treated episodes per family and stratum, with their cost (for the family bootstrap).
TREATED_FAMILIES_SQL = (
    EPISODES_SQL
    + """
SELECT e.service_id, ss.family_no, ss.stratum_no, count(*) AS n, count(*) FILTER (WHERE ss.success) AS x,
       sum(e.cost) AS cost
FROM episodes AS e
JOIN service_episode_strata AS ss ON ss.service_episode_id = e.service_episode_id
WHERE ss.closure_date <= $as_of - 365 AND ss.kind_from <= $as_of
GROUP BY ALL
ORDER BY ALL
"""
)

ASSESSABLE_SQL = """
SELECT s.service_id, s.service_name,
       count(se.service_episode_id) FILTER (WHERE se.referral_closure_date <= $as_of - 365 AND NOT se.cannot_be_judged)
           AS assessable
FROM services AS s
LEFT JOIN service_episode_facts AS se ON se.service_id = s.service_id AND se.start_date <= $as_of
GROUP BY ALL
ORDER BY s.service_id
"""

COMPARISON_COLUMNS = [
    "service_id", "service_name", "assessable", "matched", "unmatched", "service_success_rate",
    "comparison_referrals", "comparison_success_rate", "difference", "difference_low", "difference_high",
    "verdict", "matched_successes", "comparison_effective_n", "comparison_crude_rate", "strata_matched",
    "cost_per_matched_episode", "cost_per_additional_success", "cost_per_additional_success_low",
    "cost_per_additional_success_high", "interval_level", "services_compared",
]  # fmt: skip
COMPARISON_RESAMPLES = 2000  # the intervals are simultaneous (Bonferroni), so their tails are thin
FAMILY_WISE_ERROR = 0.05


def standardised_comparison(strata: pl.DataFrame) -> dict:
    """Direct standardisation of the comparison rate to the service's matched strata, and the difference.

    `strata` has service_n, service_x, pool_n, pool_x per stratum for one service. The difference's
    interval is added later by `family_bootstrap`.
    """
    matched = strata.filter(pl.col("pool_n") > 0)
    n_matched = int(matched["service_n"].sum()) if matched.height else 0
    out = {
        "matched": n_matched,
        "unmatched": int(strata["service_n"].sum()) - n_matched,
        "matched_successes": int(matched["service_x"].sum()) if matched.height else 0,
        "comparison_referrals": int(matched["pool_n"].sum()) if matched.height else 0,
        "strata_matched": matched.height,
        "service_success_rate": None,
        "comparison_success_rate": None,
        "comparison_effective_n": None,
        "comparison_crude_rate": None,
        "difference": None,
    }
    if n_matched == 0:
        return out
    weights = matched["service_n"].to_numpy() / n_matched
    pool_n = matched["pool_n"].to_numpy().astype(float)
    rate = float(weights @ (matched["pool_x"].to_numpy() / pool_n))
    out |= {
        "service_success_rate": out["matched_successes"] / n_matched,
        "comparison_success_rate": rate,
        "comparison_effective_n": float(1.0 / np.sum(weights**2 / pool_n)),
        "comparison_crude_rate": float(matched["pool_x"].sum() / matched["pool_n"].sum()),
        "difference": out["matched_successes"] / n_matched - rate,
    }
    return out


def _resampled_treated(families: pl.DataFrame, strata: list, rng, resamples: int) -> tuple[np.ndarray, ...]:
    """Totals of resampled treated families: cost, and episodes and successes per matched stratum."""
    column = {s: i for i, s in enumerate(strata)}
    keys = families["family_no"].unique(maintain_order=True).to_list()
    row = {f: i for i, f in enumerate(keys)}
    k = len(strata)
    table = np.zeros((len(keys), 1 + 2 * k))
    f_idx = np.array([row[f] for f in families["family_no"]])
    s_idx = np.array([column[s] for s in families["stratum_no"]])
    np.add.at(table[:, 0], f_idx, families["cost"].fill_null(0.0).to_numpy())
    np.add.at(table, (f_idx, 1 + s_idx), families["n"].to_numpy())
    np.add.at(table, (f_idx, 1 + k + s_idx), families["x"].to_numpy())
    n = table.shape[0]
    if n > EXACT_BOOTSTRAP_FAMILIES:
        mean = n * table.mean(axis=0)
        covariance = n * np.cov(table, rowvar=False, bias=True)
        totals = rng.multivariate_normal(mean, covariance, size=resamples, method="eigh")
    else:
        groups, sizes = np.unique(table, axis=0, return_counts=True)
        totals = rng.multinomial(n, sizes / n, size=resamples) @ groups
    return totals[:, 0], totals[:, 1 : 1 + k], totals[:, 1 + k :]


def _resampled_pool_rates(matched: pl.DataFrame, rng, resamples: int) -> np.ndarray:
    """Comparison success rates per stratum when the pool's families are resampled (their normal limit).

    The families of a stratum's pool are drawn with replacement; their totals (referrals, successes) are
    drawn from the normal distribution with the exact bootstrap mean and covariance, the spread per family
    measured on all the stratum's families and the number of pool families taken in proportion to its
    referrals. Strata are drawn independently (a family in two strata is taken as two).
    """
    pool_n = matched["pool_n"].to_numpy().astype(float)
    pool_x = matched["pool_x"].to_numpy().astype(float)
    families = matched["stratum_families"].to_numpy().astype(float)
    mean_n = matched["stratum_n"].to_numpy() / families
    mean_x = matched["stratum_x"].to_numpy() / families
    var_n = np.maximum(matched["stratum_nn"].to_numpy() / families - mean_n**2, 0.0)
    var_x = np.maximum(matched["stratum_xx"].to_numpy() / families - mean_x**2, 0.0)
    cov_nx = matched["stratum_nx"].to_numpy() / families - mean_n * mean_x
    pool_families = families * pool_n / matched["stratum_n"].to_numpy()
    a = np.sqrt(pool_families * var_n)
    b = np.where(a > 0, pool_families * cov_nx / np.where(a > 0, a, 1), 0.0)
    c = np.sqrt(np.maximum(pool_families * var_x - b**2, 0.0))
    z1 = rng.standard_normal((resamples, pool_n.size))
    z2 = rng.standard_normal((resamples, pool_n.size))
    drawn_n = pool_n + a * z1
    drawn_x = pool_x + b * z1 + c * z2
    rate = pool_x / pool_n
    with np.errstate(divide="ignore", invalid="ignore"):
        drawn = np.where(drawn_n > 0, drawn_x / drawn_n, rate)
    return np.clip(drawn, 0.0, 1.0)


def family_bootstrap(
    strata: pl.DataFrame, families: pl.DataFrame, key: str, level: float, resamples: int = COMPARISON_RESAMPLES
) -> dict:
    """Percentile intervals for the difference and the cost per additional success, resampling families.

    Each resample draws the service's families (their matched episodes, successes and cost, stratum by
    stratum; above EXACT_BOOTSTRAP_FAMILIES from the totals' normal limit) and the comparison pool's
    families (`_resampled_pool_rates`), restandardises the comparison rate to the resampled mix, and takes
    difference = service rate − comparison rate and cost per additional success = cost per matched
    episode ÷ difference (unbounded when the difference is 0 or less). Seeded by `key`.
    """
    matched = strata.filter(pl.col("pool_n") > 0)
    strata_ids = matched["stratum_no"].to_list()
    own = families.filter(pl.col("stratum_no").is_in(strata_ids))
    rng = np.random.default_rng([BOOTSTRAP_SEED, zlib.crc32(key.encode())])
    cost, treated_n, treated_x = _resampled_treated(own, strata_ids, rng, resamples)
    pool_rates = _resampled_pool_rates(matched, rng, resamples)
    total_n = treated_n.sum(axis=1)
    safe_n = np.where(total_n > 0, total_n, 1.0)
    difference = treated_x.sum(axis=1) / safe_n - (treated_n * pool_rates).sum(axis=1) / safe_n
    with np.errstate(divide="ignore", invalid="ignore"):
        per_success = np.where(difference > 0, (cost / safe_n) / np.where(difference > 0, difference, 1), np.inf)
    tail = (1 - level) / 2
    low, high = np.quantile(difference, [tail, 1 - tail], method="inverted_cdf")
    cost_low, cost_high = np.quantile(per_success, [tail, 1 - tail], method="inverted_cdf")
    return {
        "difference_low": float(low),
        "difference_high": float(high),
        "cost_per_matched_episode": float(own["cost"].fill_null(0.0).sum() / own["n"].sum()),
        "cost_per_additional_success_low": float(cost_low) if np.isfinite(cost_low) else None,
        "cost_per_additional_success_high": float(cost_high) if np.isfinite(cost_high) else None,
    }


def in_100(fraction: float) -> str:
    return f"{abs(fraction) * 100:.0f}"


def verdict_text(row: dict) -> str:
    """A plain-words verdict for a head of service, saying when the data cannot tell."""
    if row["assessable"] == 0:
        return "Cannot tell yet: no episode of this service can be judged (its cases closed too recently)."
    if row["matched"] == 0:
        return "Cannot tell: no similar children who did not get this service to compare with."
    if row["matched"] < MIN_MATCHED:
        return "Cannot tell: too few episodes could be matched with similar children."
    diff, low, high = row["difference"], row["difference_low"], row["difference_high"]
    level = row.get("interval_level") or 0.95
    shown = f"{level:.1%}".replace(".0%", "%")
    span = f"({shown} interval: {in_100(low)} {'more' if low >= 0 else 'fewer'} to {in_100(high)} "
    span += f"{'more' if high >= 0 else 'fewer'} in every 100)"
    if low > 0:
        text = (
            f"Better than similar children without it: about {in_100(diff)} more in every 100 had no new referral "
            f"within a year of their case closing {span}."
        )
        cost = row.get("cost_per_additional_success")
        if cost is not None:
            high_cost = row.get("cost_per_additional_success_high")
            upper = f"£{high_cost:,.0f}" if high_cost is not None else "no upper limit"
            text += (
                f" Each extra child with no new referral cost about £{cost:,.0f} "
                f"(£{row['cost_per_additional_success_low']:,.0f} to {upper})."
            )
        return text
    if high < 0:
        return (
            f"Worse than similar children without it: about {in_100(diff)} fewer in every 100 had no new referral "
            f"within a year of their case closing {span}."
        )
    return (
        f"The data cannot tell whether more or fewer children had no new referral within a year than similar "
        f"children without it: the difference is somewhere between {in_100(low)} {'more' if low >= 0 else 'fewer'} "
        f"and {in_100(high)} {'more' if high >= 0 else 'fewer'} in every 100, so the cost of an extra child with "
        f"no new referral cannot be told either."
    )


@python_query(
    "service_comparison",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    counts=[["matched", "matched_successes"], ["comparison_referrals"], ["unmatched"], ["assessable"]],
    derived=COMPARISON_DERIVED,
    title="Commissioned services against similar children who did not get them",
    description="For each service, its assessable episodes on closed CIN, CP or care cases against closed "
    "cases of the same kind that did not use it, matched in exact strata known when the work started (primary "
    "need, age band at referral, number of factors recorded by the referral's assessment 0-1/2-3/4+, the "
    "team's service area): matched and unmatched episodes, the service's success rate on the matched ones, the "
    "comparison success rate standardised to the service's strata, the difference with a bootstrap interval "
    "over families made simultaneous across the services compared (Bonferroni: interval_level = 1 - 0.05 / "
    "services_compared), the cost per matched episode, the cost per additional success (cost per matched "
    "episode / difference, only when the difference's interval is above zero) with its interval, and a "
    "verdict in plain words.",
    tables=["services", "service_episodes", "referrals", "children", "teams", "factors", "assessments"],
    optional_tables=["cin_plans", "cp_plans", "looked_after"],
    params=[AS_OF_PARAM],
)
def service_comparison(cursor, as_of) -> pl.DataFrame:
    services = cursor.sql(ASSESSABLE_SQL, params={"as_of": as_of}).pl()
    strata = cursor.sql(STRATA_SQL, params={"as_of": as_of}).pl()
    families = cursor.sql(TREATED_FAMILIES_SQL, params={"as_of": as_of}).pl()
    rows = []
    for service in services.iter_rows(named=True):
        own = strata.filter(pl.col("service_id") == service["service_id"])
        row = {"service_id": service["service_id"], "service_name": service["service_name"]}
        row["assessable"] = service["assessable"]
        row |= standardised_comparison(own)
        # Assessable episodes whose case was not of the compared kind (no plan or care period) are unmatched too.
        row["unmatched"] = service["assessable"] - row["matched"]
        rows.append((row, own))
    # Ten services at once: each interval is widened so that all of them hold together 95% of the time.
    compared = sum(1 for row, _ in rows if row["matched"] >= MIN_MATCHED)
    level = 1 - FAMILY_WISE_ERROR / max(compared, 1)
    out = []
    for row, own in rows:
        row |= {"interval_level": level, "services_compared": compared, "difference_low": None,
                "difference_high": None, "cost_per_matched_episode": None, "cost_per_additional_success": None,
                "cost_per_additional_success_low": None, "cost_per_additional_success_high": None}  # fmt: skip
        if row["matched"] > 0:
            treated = families.filter(pl.col("service_id") == row["service_id"])
            row |= family_bootstrap(own, treated, row["service_id"], level)
            if row["matched"] >= MIN_MATCHED and row["difference_low"] > 0:
                row["cost_per_additional_success"] = row["cost_per_matched_episode"] / row["difference"]
            else:
                row["cost_per_additional_success_low"] = row["cost_per_additional_success_high"] = None
        row["verdict"] = verdict_text(row)
        out.append(row)
    schema = {
        "service_id": pl.String, "service_name": pl.String, "assessable": pl.Int64, "matched": pl.Int64,
        "unmatched": pl.Int64, "service_success_rate": pl.Float64, "comparison_referrals": pl.Int64,
        "comparison_success_rate": pl.Float64, "difference": pl.Float64, "difference_low": pl.Float64,
        "difference_high": pl.Float64, "verdict": pl.String, "matched_successes": pl.Int64,
        "comparison_effective_n": pl.Float64, "comparison_crude_rate": pl.Float64, "strata_matched": pl.Int64,
        "cost_per_matched_episode": pl.Float64, "cost_per_additional_success": pl.Float64,
        "cost_per_additional_success_low": pl.Float64, "cost_per_additional_success_high": pl.Float64,
        "interval_level": pl.Float64, "services_compared": pl.Int64,
    }  # fmt: skip
    frame = pl.DataFrame([{c: r.get(c) for c in schema} for r in out], schema=schema, orient="row" if not out else None)
    return frame.select(COMPARISON_COLUMNS)


# --- spend by month -----------------------------------------------------------------------------------------------

SPEND_SQL = (
    EPISODES_SQL
    + """,
charged AS (
    SELECT service_id, commissioning, cost, start_date, cost_unit,
           coalesce(end_date, $as_of) AS until,
           date_diff('day', start_date, coalesce(end_date, $as_of)) AS days
    FROM episodes
),
months AS (
    SELECT *,
           unnest(generate_series(
               date_trunc('month', start_date),
               CASE WHEN cost_unit = 'week' AND days > 0 THEN date_trunc('month', until - 1)
                    ELSE date_trunc('month', start_date) END,
               INTERVAL 1 MONTH))::DATE AS month
    FROM charged
)
SELECT m.month, m.commissioning, m.service_id,
       sum(CASE WHEN m.cost_unit = 'week' AND m.days > 0
                THEN m.cost * date_diff('day', greatest(m.start_date, m.month),
                                        least(m.until, (m.month + INTERVAL 1 MONTH)::DATE)) / m.days
                ELSE m.cost END) AS spend,
       s.service_name, count(*) AS episodes
FROM months AS m
JOIN services AS s ON s.service_id = m.service_id
WHERE $from_date::DATE IS NULL OR m.month >= date_trunc('month', $from_date::DATE)
GROUP BY ALL
ORDER BY m.month, m.commissioning, m.service_id
"""
)


@python_query(
    "service_spend_by_month",
    access="aggregate",
    roles=("analyst", "head_of_service"),
    counts=[["episodes"]],
    suppress_within=["month"],
    title="Spend on commissioned services by month",
    description="Spend per month, commissioning type and service. A per-week service's cost is spread evenly "
    "over the days it ran (to as_of when still running); per-family and per-session costs fall in the month "
    "the episode started. episodes: episodes charged in that month.",
    tables=["services", "service_episodes", "referrals", "children"],
    params=[AS_OF_PARAM, "from_date date = null ; only months from this one on"],
)
def service_spend_by_month(cursor, as_of, from_date) -> pl.DataFrame:
    return cursor.sql(SPEND_SQL, params={"as_of": as_of, "from_date": from_date}).pl()
