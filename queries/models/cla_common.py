"""What the children-in-care questions share: which team a child belongs to, shares with their
Wilson intervals, and England's published figures to set beside the council's.

The SSDA903 return has no teams. A child is counted for a team through the referrals table (CIN
census, or the council's case system), by one of three rules, each named where it is used:

- `TEAM_ON_AS_OF`: the team holds an open referral of the child (not NFA) on as_of, as for the
  other "on as_of" figures (looked_after_children);
- `TEAM_IN_YEAR`: the team held a referral of the child (not NFA) that was open on at least one day
  of the 12 months to as_of, for figures over those 12 months (a child who left care in the year
  still counts for the team that worked with them);
- `TEAM_OF_LATEST`: the team holds the child's latest referral (not NFA) dated on or before as_of,
  open or closed, for care leavers (whose referral has usually closed).

An extract without a referrals table (an SSDA903 return alone) links no child to a team, so with a
team every rule finds no children: a team's figures there are empty, the council's are whole.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl

from queries.registry import python_query
from queries.stats import wilson_intervals

REFERENCE_FILE = Path(__file__).resolve().parent.parent / "reference" / "england_children_in_care.toml"

TEAM_ON_AS_OF = """
    SELECT r.child_id FROM referrals AS r
    WHERE r.team_id = $team_id AND NOT r.nfa AND r.referral_date <= $as_of
      AND (r.closure_date IS NULL OR r.closure_date > $as_of)"""

# Open on a day d means referral_date <= d < closure_date; the 12 months are the days after
# as_of - 365 up to as_of, so open on one of them means closed (if at all) after as_of - 364.
TEAM_IN_YEAR = """
    SELECT r.child_id FROM referrals AS r
    WHERE r.team_id = $team_id AND NOT r.nfa AND r.referral_date <= $as_of
      AND (r.closure_date IS NULL OR r.closure_date > $as_of - 364)"""

TEAM_OF_LATEST = """
    SELECT r.child_id FROM referrals AS r
    WHERE NOT r.nfa AND r.referral_date <= $as_of
    QUALIFY row_number() OVER (PARTITION BY r.child_id ORDER BY r.referral_date DESC, r.referral_id DESC) = 1
        AND r.team_id = $team_id"""


def for_team(child_column: str, rule: str) -> str:
    """A SQL condition: every child when $team_id is null, else only the team's children by `rule`."""
    return f"($team_id IS NULL OR {child_column} IN ({rule}))"


def with_share(frame: pl.DataFrame, count: str, total: str, name: str) -> pl.DataFrame:
    """`name` = count / total with its Wilson 95% interval (`name`_ci_low, `name`_ci_high); null when total is 0."""
    counts = frame[count].fill_null(0).to_numpy()
    totals = frame[total].fill_null(0).to_numpy()
    low, high = wilson_intervals(counts, totals)
    return frame.with_columns(
        pl.when(pl.col(total) > 0).then(pl.col(count) / pl.col(total)).alias(name),
        pl.Series(f"{name}_ci_low", low, dtype=pl.Float64),
        pl.Series(f"{name}_ci_high", high, dtype=pl.Float64),
    ).with_columns(pl.col(f"{name}_ci_low", f"{name}_ci_high").fill_nan(None))


def share_columns(count: str, total: str, name: str) -> dict[str, list[str]]:
    """The derived-column declaration of a share made by `with_share`: hidden with either count."""
    return {column: [count, total] for column in (name, f"{name}_ci_low", f"{name}_ci_high")}


@python_query(
    "cla_england_reference",
    access="aggregate",
    roles=("analyst", "head_of_service", "team_manager", "social_worker"),
    title="England's children-in-care figures for comparison",
    description="England's figures from DfE, Children looked after in England including adoptions, reporting year "
    "2025 (year ending 31 March 2025), to set beside the council's: looked-after children per 10,000, the share "
    "who are unaccompanied asylum-seeking children, the share who went missing and missing or away incidents per "
    "child (queries/reference/england_children_in_care.toml, with sources). DfE publishes no national figure for "
    "review timeliness, and its care leaver figures are not in the file yet.",
    tables=[],
    params=[],
)
def cla_england_reference(cursor) -> pl.DataFrame:
    with REFERENCE_FILE.open("rb") as f:
        figures = tomllib.load(f)["figure"]
    return pl.DataFrame(figures).select("measure", "value", "year", "label", "source")
