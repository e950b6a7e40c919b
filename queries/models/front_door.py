"""The front door: contacts to child protection plans, contacts by referral source, and timeliness.

Definitions (docs/definitions.md, "Front door"; choices made here are marked *):

- The period runs from from_date to to_date, both included (default: the 12 months to as_of, after
  as_of - 365 days up to as_of); to_date is never after as_of.
- A contact *became a referral** when the same child was referred on the contact date or up to
  contact_referral_days (setting, default 30) after it, on or before as_of, whatever outcome the
  contact records: many systems leave the outcome blank, or record one contact as the referral when
  two agencies called about the same child. The contact_next_referral summary holds each contact's
  next referral date. A contact dated in the last contact_referral_days before as_of has had less
  time to become one (contacts_short_follow_up).
- The flow follows the referrals dated in the period, linked by referral_id, each counted once at
  every step it reached through the steps before*: assessed (an assessment started on or before as_of),
  section 47 (a section 47 enquiry's strategy discussion), ICPC (an initial child protection conference
  held on one of its enquiries: section47.icpc_date), CP plan (a CP plan on the referral started). A
  referral recorded at a later step without an earlier one (a CP plan with no ICPC) goes no further in
  the flow; skipped_steps counts them. A step's conversion is its count over the step before's, with a
  Wilson 95% interval; for contacts to referrals it is the contacts that became a referral over the
  contacts.
- Team: contacts by contacts.team_id (the team that handled them), referrals by referrals.team_id.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from queries.engine import BadParameter
from queries.models.outcomes import REFERENCE_FILE
from queries.registry import python_query
from queries.stats import wilson_intervals

MAX_CONTACT_REFERRAL_DAYS = 365
SPREAD_MONTHS = 12  # a source's own history, before the month judged
LIMIT_SIGMAS = 2.0  # how far outside its usual spread a month must be to be flagged
MIN_BASELINE_CONTACTS = 20  # fewer contacts than this over the 12 months: too few to judge the month
MOVING_RANGE_D2 = 1.128  # d2 for moving ranges of two: mean moving range / d2 estimates the spread

ROLES_ALL = ("analyst", "head_of_service", "team_manager", "social_worker")
PARAM_AS_OF = "as_of date = as_of ; the date the figures are judged on"
PARAM_TEAM = "team_id str = null ; only this team's contacts (contacts.team_id) and referrals (referrals.team_id)"
PARAM_DAYS = (
    "contact_referral_days int = setting ; a contact became a referral when the child was referred on its date "
    "or up to this many days after"
)
PERIOD_PARAMS = [
    PARAM_AS_OF,
    "from_date date = null ; the first day of the period (default: 364 days before to_date, so 12 months)",
    "to_date date = as_of ; the last day of the period (never after as_of)",
    PARAM_TEAM,
    PARAM_DAYS,
]

BOUNDS_SQL = """
bounds AS (
    SELECT coalesce(CAST($from_date AS DATE), last_day - 364) AS first_day, last_day
    FROM (SELECT least(coalesce(CAST($to_date AS DATE), CAST($as_of AS DATE)), CAST($as_of AS DATE)) AS last_day)
)"""

# Whether a row of contact_next_referral became a referral by as_of.
CONVERTED = "coalesce(c.next_referral_date <= least(c.contact_date + $days, CAST($as_of AS DATE)), false)"

FLOW_SQL = f"""
WITH {BOUNDS_SQL},
contacts_in AS (
    SELECT c.outcome, {CONVERTED} AS converted, c.contact_date > CAST($as_of AS DATE) - $days AS short_follow_up
    FROM contact_next_referral AS c, bounds AS b
    WHERE c.contact_date BETWEEN b.first_day AND b.last_day AND ($team_id IS NULL OR c.team_id = $team_id)
),
contact_counts AS (
    SELECT count(*) AS contacts,
           count(*) FILTER (WHERE converted) AS contacts_converted,
           count(*) FILTER (WHERE NOT converted AND outcome = 'no_further_action') AS contacts_nfa,
           count(*) FILTER (WHERE NOT converted AND outcome = 'advice') AS contacts_advice,
           count(*) FILTER (WHERE NOT converted AND outcome = 'early_help') AS contacts_early_help,
           count(*) FILTER (WHERE NOT converted AND outcome = 'other') AS contacts_other_outcome,
           count(*) FILTER (WHERE NOT converted AND outcome = 'referral') AS contacts_referral_not_found,
           count(*) FILTER (WHERE NOT converted AND outcome IS NULL) AS contacts_no_outcome,
           count(*) FILTER (WHERE short_follow_up) AS contacts_short_follow_up
    FROM contacts_in
),
reached AS (
    SELECT coalesce(s.first_assessment <= CAST($as_of AS DATE), false) AS assessed,
           coalesce(s.first_strategy <= CAST($as_of AS DATE), false) AS enquiry,
           coalesce(s.first_icpc <= CAST($as_of AS DATE), false) AS conference,
           coalesce(s.first_plan <= CAST($as_of AS DATE), false) AS plan
    FROM referral_steps AS s, bounds AS b
    WHERE s.referral_date BETWEEN b.first_day AND b.last_day AND ($team_id IS NULL OR s.team_id = $team_id)
),
referral_counts AS (
    SELECT count(*) AS referrals,
           count(*) FILTER (WHERE assessed) AS assessed,
           count(*) FILTER (WHERE assessed AND enquiry) AS section47,
           count(*) FILTER (WHERE assessed AND enquiry AND conference) AS icpc,
           count(*) FILTER (WHERE assessed AND enquiry AND conference AND plan) AS cp_plans,
           count(*) FILTER (WHERE (enquiry AND NOT assessed) OR (conference AND NOT (assessed AND enquiry))
                                  OR (plan AND NOT (assessed AND enquiry AND conference))) AS skipped_steps
    FROM reached
)
SELECT b.first_day AS from_date, b.last_day AS to_date, c.*, r.*
FROM bounds AS b, contact_counts AS c, referral_counts AS r
"""

# (name, numerator, denominator): each conversion of the flow, and the share of contacts with no further action.
CONVERSIONS = (
    ("contact_to_referral", "contacts_converted", "contacts"),
    ("referral_to_assessment", "assessed", "referrals"),
    ("assessment_to_section47", "section47", "assessed"),
    ("section47_to_icpc", "icpc", "section47"),
    ("icpc_to_cp_plan", "cp_plans", "icpc"),
    ("nfa", "contacts_nfa", "contacts"),
)
CONTACT_PARTS = (
    "contacts_converted", "contacts_nfa", "contacts_advice", "contacts_early_help", "contacts_other_outcome",
    "contacts_referral_not_found", "contacts_no_outcome",
)  # fmt: skip
STEP_COUNTS = ("referrals", "assessed", "section47", "icpc", "cp_plans", "skipped_steps")
FLOW_DERIVED = {
    f"{name}_{part}": [numerator, denominator]
    for name, numerator, denominator in CONVERSIONS
    for part in ("rate", "ci_low", "ci_high")
}


def checked_days(days) -> int:
    """contact_referral_days as a whole number of days from 0 to a year, or a clear error."""
    if days is None or not 0 <= int(days) <= MAX_CONTACT_REFERRAL_DAYS:
        raise BadParameter(f"contact_referral_days must be between 0 and {MAX_CONTACT_REFERRAL_DAYS}, got {days!r}")
    return int(days)


def without(params: dict, *names: str) -> dict:
    """The parameters less those a statement does not use (DuckDB refuses values for absent parameters)."""
    return {k: v for k, v in params.items() if k not in names}


def with_rates(frame: pl.DataFrame, conversions=CONVERSIONS) -> pl.DataFrame:
    """Each conversion's rate with its Wilson 95% interval (null when its denominator is 0)."""
    columns = []
    for name, numerator, denominator in conversions:
        x, n = frame[numerator].to_numpy(), frame[denominator].to_numpy()
        low, high = wilson_intervals(x, n)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(n > 0, x / np.where(n > 0, n, 1), np.nan)
        columns += [
            pl.Series(f"{name}_rate", rate, dtype=pl.Float64),
            pl.Series(f"{name}_ci_low", low, dtype=pl.Float64),
            pl.Series(f"{name}_ci_high", high, dtype=pl.Float64),
        ]
    return frame.with_columns(columns).fill_nan(None)


@python_query(
    "front_door_flow",
    access="aggregate",
    roles=ROLES_ALL,
    counts=[["contacts", *CONTACT_PARTS], ["contacts_short_follow_up"], *[[c] for c in STEP_COUNTS]],
    derived=FLOW_DERIVED,
    title="From contact to child protection plan",
    description="For the period (default: the 12 months to as_of): contacts, and how many became a referral (the "
    "child was referred on the contact date or up to contact_referral_days after it, setting, default 30), the "
    "others by their recorded outcome (no further action, advice, early help, other, a referral recorded but none "
    "found, none recorded); then the referrals dated in the period and how many were assessed, had a section 47 "
    "enquiry, an initial child protection conference and a CP plan, each linked by referral_id and counted only "
    "through the steps before it (skipped_steps: referrals recorded at a later step without an earlier one). Each "
    "step's conversion from the one before, and the share of contacts with no further action, with Wilson 95% "
    "intervals. contacts_short_follow_up: contacts in the last contact_referral_days before as_of, which have had "
    "less time to become a referral.",
    tables=["referrals"],
    optional_tables=["contacts", "assessments", "section47", "cp_plans"],
    params=PERIOD_PARAMS,
)
def front_door_flow(cursor, as_of, from_date, to_date, team_id, contact_referral_days) -> pl.DataFrame:
    params = {"as_of": as_of, "from_date": from_date, "to_date": to_date, "team_id": team_id}
    counts = cursor.sql(FLOW_SQL, params=params | {"days": checked_days(contact_referral_days)}).pl()
    return with_rates(counts).with_columns(contact_referral_days=pl.lit(int(contact_referral_days)))


# ---- contacts by referral source ---------------------------------------------------------------

JUDGED_SQL = """
WITH judged AS (
    SELECT CAST(least(
               date_trunc('month', coalesce(CAST($month AS DATE),
                   -- the latest month whose contacts have all had $days days to become a referral by as_of
                   CAST(date_trunc('month', CAST($as_of AS DATE) - $days + 1) - INTERVAL 1 MONTH AS DATE))),
               date_trunc('month', CAST($as_of AS DATE))) AS DATE) AS month
)"""
BY_SOURCE_SQL = f"""{JUDGED_SQL}
SELECT CAST(date_trunc('month', c.contact_date) AS DATE) AS contact_month, c.source,
       code_label('referral_source', c.source) AS source_label,
       count(*) AS contacts, count(*) FILTER (WHERE {CONVERTED}) AS converted
FROM contact_next_referral AS c, judged AS j
WHERE c.contact_date >= j.month - INTERVAL {SPREAD_MONTHS} MONTH AND c.contact_date < j.month + INTERVAL 1 MONTH
  AND c.contact_date <= CAST($as_of AS DATE) AND ($team_id IS NULL OR c.team_id = $team_id)
GROUP BY ALL
"""

BY_SOURCE_DERIVED = {
    **{c: ["converted", "contacts"] for c in ("rate", "ci_low", "ci_high")},
    "baseline_rate": ["baseline_converted", "baseline_contacts"],
    "judged": ["baseline_contacts"],
    **{
        c: ["baseline_converted", "baseline_contacts", "contacts"]
        for c in ("lower_limit", "upper_limit", "spread_factor")
    },
    "flag": ["converted", "contacts", "baseline_converted", "baseline_contacts"],
}


def usual_range(months: list[tuple[int, int]], n: int, sigmas: float = LIMIT_SIGMAS) -> tuple:
    """(p̄, low, high, spread factor) of a source's usual monthly share at n contacts: a Laney p′ chart.

    months: (contacts, converted) for each earlier month with contacts. p̄ = converted ÷ contacts over them;
    each month's z = (its share − p̄) ÷ √(p̄(1 − p̄)/its contacts); the spread factor σz = the mean moving range of
    those z ÷ 1.128, at least 1 (never narrower than chance alone), 1 with fewer than two months; limits
    p̄ ± sigmas · σz · √(p̄(1 − p̄)/n), within 0–1 (Laney 2002, Quality Engineering 14:531).
    """
    total = sum(c for c, _ in months)
    if not total:
        return None, None, None, None
    p = sum(x for _, x in months) / total
    if not n:
        return p, None, None, None
    spread = 1.0
    if 0 < p < 1 and len(months) >= 2:
        z = np.array([(x / c - p) / np.sqrt(p * (1 - p) / c) for c, x in months])
        spread = max(float(np.mean(np.abs(np.diff(z)))) / MOVING_RANGE_D2, 1.0)
    half = sigmas * spread * np.sqrt(p * (1 - p) / n)
    return p, max(p - half, 0.0), min(p + half, 1.0), spread


def judge(rate, low, high) -> str | None:
    if rate is None or low is None:
        return None
    return "above" if rate > high else "below" if rate < low else "within"


@python_query(
    "contact_conversion_by_source",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager"),
    counts=[["contacts"], ["converted"], ["baseline_contacts"], ["baseline_converted"]],
    derived=BY_SOURCE_DERIVED,
    title="Contacts that became referrals, by referral source",
    description="For each referral source, its contacts in the month judged (default: the latest month whose contacts "
    "have all had contact_referral_days to become a referral by as_of) and the share that became a referral (Wilson "
    "95% interval), against that source's own 12 months before: its share over them (baseline_rate) and the range a "
    "month of this many contacts usually falls in, from how much its monthly shares varied (a Laney p′ chart: "
    "binomial limits at the month's contacts, widened by the spread of the months' z-scores, never narrowed; "
    "2 sigma). flag: above or below that range, within it, or null when the source had fewer than 20 contacts in "
    "the 12 months (judged false) or none this month. With many sources, about one in twenty months falls outside "
    "by chance.",
    tables=["contacts", "referrals"],
    params=[
        PARAM_AS_OF,
        "month date = null ; the month to judge (any day in it; default: the latest month with full follow-up)",
        PARAM_TEAM,
        PARAM_DAYS,
    ],
)
def contact_conversion_by_source(cursor, as_of, month, team_id, contact_referral_days) -> pl.DataFrame:
    params = {"as_of": as_of, "month": month, "team_id": team_id, "days": checked_days(contact_referral_days)}
    judged = cursor.sql(JUDGED_SQL + " SELECT month FROM judged", params=without(params, "team_id")).fetchall()[0][0]
    monthly = cursor.sql(BY_SOURCE_SQL, params=params).pl()
    rows = []
    for (source,), part in monthly.sort("source").group_by("source", maintain_order=True):
        now = part.filter(pl.col("contact_month") == judged)
        before = part.filter(pl.col("contact_month") < judged).sort("contact_month")
        contacts = int(now["contacts"].sum())
        converted = int(now["converted"].sum())
        history = list(zip(before["contacts"].to_list(), before["converted"].to_list(), strict=True))
        p, low, high, spread = usual_range(history, contacts)
        enough = int(before["contacts"].sum()) >= MIN_BASELINE_CONTACTS
        rate = converted / contacts if contacts else None
        ci_low, ci_high = (float(v[0]) for v in wilson_intervals([converted], [contacts]))
        rows.append(
            {"month": judged, "source": source, "source_label": part["source_label"][0], "contacts": contacts,
             "converted": converted, "rate": rate, "ci_low": ci_low, "ci_high": ci_high,
             "baseline_contacts": int(before["contacts"].sum()), "baseline_converted": int(before["converted"].sum()),
             "baseline_months": before.height, "baseline_rate": p,
             "lower_limit": low, "upper_limit": high, "spread_factor": spread, "judged": enough,
             "flag": judge(rate, low, high) if enough else None}
        )  # fmt: skip
    schema = {"month": pl.Date, "source": pl.String, "source_label": pl.String, "contacts": pl.Int64,
              "converted": pl.Int64, "rate": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
              "baseline_contacts": pl.Int64, "baseline_converted": pl.Int64, "baseline_months": pl.Int64,
              "baseline_rate": pl.Float64, "lower_limit": pl.Float64, "upper_limit": pl.Float64,
              "spread_factor": pl.Float64, "judged": pl.Boolean, "flag": pl.String}  # fmt: skip
    frame = pl.DataFrame(rows, schema=schema).fill_nan(None)
    return frame.sort(["contacts", "baseline_contacts", "source"], descending=[True, True, False])


# ---- timeliness ----------------------------------------------------------------------------------

TIMELINESS_SQL = f"""
WITH {BOUNDS_SQL},
decisions AS (  -- contacts in the period that became a referral: working days to the referral
    SELECT 'contact_to_referral' AS measure, d2.wd_index - d1.wd_index AS days, d2.wd_index - d1.wd_index <= 1 AS within
    FROM contact_next_referral AS c
    JOIN bounds AS b ON c.contact_date BETWEEN b.first_day AND b.last_day
    JOIN calendar AS d1 ON d1.d = c.contact_date
    JOIN calendar AS d2 ON d2.d = c.next_referral_date
    WHERE {CONVERTED} AND ($team_id IS NULL OR c.team_id = $team_id)
),
assessment_starts AS (  -- referrals in the period with an assessment started: working days to the first
    SELECT 'referral_to_assessment', d2.wd_index - d1.wd_index, NULL::BOOLEAN
    FROM referral_steps AS s
    JOIN bounds AS b ON s.referral_date BETWEEN b.first_day AND b.last_day
    JOIN calendar AS d1 ON d1.d = s.referral_date
    JOIN calendar AS d2 ON d2.d = s.first_assessment
    WHERE s.first_assessment <= CAST($as_of AS DATE) AND ($team_id IS NULL OR s.team_id = $team_id)
),
assessments_done AS (  -- assessments authorised in the period: within 45 working days of the referral
    SELECT 'assessment_45wd', d2.wd_index - d1.wd_index, a.authorised_date <= deadline.d
    FROM referral_of_assessment AS a
    JOIN bounds AS b ON a.authorised_date BETWEEN b.first_day AND b.last_day
    JOIN calendar AS d1 ON d1.d = a.referral_date
    JOIN calendar AS d2 ON d2.d = a.authorised_date
    JOIN working_day_seq AS deadline ON deadline.wd_index = d1.wd_index + 45
    WHERE $team_id IS NULL OR a.team_id = $team_id
),
conferences AS (  -- ICPCs held in the period: within 15 working days of the strategy discussion
    SELECT 'icpc_15wd', d2.wd_index - d1.wd_index, s.icpc_date <= deadline.d
    FROM referral_of_section47 AS s
    JOIN bounds AS b ON s.icpc_date BETWEEN b.first_day AND b.last_day
    JOIN calendar AS d1 ON d1.d = s.strategy_date
    JOIN calendar AS d2 ON d2.d = s.icpc_date
    JOIN working_day_seq AS deadline ON deadline.wd_index = d1.wd_index + 15
    WHERE $team_id IS NULL OR s.team_id = $team_id
),
rereferrals AS (  -- referrals in the period: another referral of the child 1 to 365 days before
    SELECT 'rereferral', NULL::INTEGER, r.is_rereferral
    FROM referral_facts AS r
    JOIN bounds AS b ON r.referral_date BETWEEN b.first_day AND b.last_day
    WHERE $team_id IS NULL OR r.team_id = $team_id
),
everything AS (
    SELECT * FROM decisions UNION ALL SELECT * FROM assessment_starts UNION ALL SELECT * FROM assessments_done
    UNION ALL SELECT * FROM conferences UNION ALL SELECT * FROM rereferrals
)
SELECT measure, count(*) AS total, count(*) FILTER (WHERE within) AS within,
       quantile_cont(days, 0.5) AS median_working_days, quantile_cont(days, 0.25) AS q1_working_days,
       quantile_cont(days, 0.75) AS q3_working_days
FROM everything
GROUP BY measure
"""

# measure: (label, standard, reference measure in queries/reference/england.toml or None)
TIMELINESS = {
    "contact_to_referral": ("Contact to referral", "within 1 working day", None),
    "referral_to_assessment": ("Referral to assessment starting", "no national standard", None),
    "assessment_45wd": ("Assessment authorised", "within 45 working days of the referral", "assessment_45wd_rate"),
    "icpc_15wd": ("Initial child protection conference", "within 15 working days of the strategy discussion",
                  "icpc_15wd_rate"),
    "rereferral": ("Re-referrals", "another referral of the child in the 12 months before", "rereferral_rate"),
}  # fmt: skip
NOT_PUBLISHED = "Not published: DfE collects referrals, not contacts, from councils."


def england_figures() -> dict[str, dict]:
    import tomllib

    with REFERENCE_FILE.open("rb") as f:
        return {figure["measure"]: figure for figure in tomllib.load(f)["figure"]}


@python_query(
    "front_door_timeliness",
    access="aggregate",
    roles=ROLES_ALL,
    counts=[["total"], ["within"]],
    derived={
        **{c: ["within", "total"] for c in ("rate", "ci_low", "ci_high")},
        **{c: ["total"] for c in ("median_working_days", "q1_working_days", "q3_working_days")},
    },
    suppress_within=["measure"],
    title="Front door timeliness, and re-referrals",
    description="For the period (default: the 12 months to as_of), one row per measure with England's figure beside "
    "it where DfE publishes one (queries/reference/england.toml): contacts that became a referral, decided within 1 "
    "working day (the referral dated at most 1 working day after the contact); referrals with an assessment "
    "started, working days to the first (no national standard); assessments authorised in the period within 45 "
    "working days of the referral; ICPCs held in the period within 15 working days of the strategy discussion; "
    "referrals that were re-referrals (another referral of the child 1 to 365 days before). total, within, rate "
    "with its Wilson 95% interval, and the median and quartiles of the working days.",
    tables=["referrals"],
    optional_tables=["contacts", "assessments", "section47"],
    params=PERIOD_PARAMS,
)
def front_door_timeliness(cursor, as_of, from_date, to_date, team_id, contact_referral_days) -> pl.DataFrame:
    params = {"as_of": as_of, "from_date": from_date, "to_date": to_date, "team_id": team_id}
    counted = cursor.sql(TIMELINESS_SQL, params=params | {"days": checked_days(contact_referral_days)}).pl()
    found = {r["measure"]: r for r in counted.iter_rows(named=True)}
    england = england_figures()
    rows = []
    for order, (measure, (label, standard, reference)) in enumerate(TIMELINESS.items(), start=1):
        r = found.get(measure, {"total": 0, "within": 0})
        judged = measure != "referral_to_assessment"
        total, within = int(r["total"]), int(r["within"]) if judged else None
        low, high = (float(v[0]) for v in wilson_intervals([within or 0], [total])) if judged else (None, None)
        figure = england.get(reference) if reference else None
        rows.append(
            {"order": order, "measure": measure, "label": label, "standard": standard, "total": total,
             "within": within, "rate": within / total if judged and total else None, "ci_low": low, "ci_high": high,
             "median_working_days": r.get("median_working_days"), "q1_working_days": r.get("q1_working_days"),
             "q3_working_days": r.get("q3_working_days"),
             "england_rate": figure["value"] if figure else None, "england_year": figure["year"] if figure else None,
             "england_source": figure["source"] if figure else NOT_PUBLISHED if measure == "contact_to_referral" else None}
        )  # fmt: skip
    schema = {"order": pl.Int64, "measure": pl.String, "label": pl.String, "standard": pl.String, "total": pl.Int64,
              "within": pl.Int64, "rate": pl.Float64, "ci_low": pl.Float64, "ci_high": pl.Float64,
              "median_working_days": pl.Float64, "q1_working_days": pl.Float64, "q3_working_days": pl.Float64,
              "england_rate": pl.Float64, "england_year": pl.String, "england_source": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema).fill_nan(None)
