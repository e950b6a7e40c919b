"""Who may see what: roles, and the scoping every question goes through for a signed-in user.

Scoping is done here, below the pages, so a hidden page, a crafted URL or a changed
parameter cannot reach other rows:

- parameters are forced: a social worker's questions always run for their own worker_id
  and team_id, a team manager's for their own team_id;
- answers are filtered: a row naming another team, another worker (for a social worker) or
  a child outside the user's caseload or team is dropped before it leaves the engine;
- a head of service gets no child-level answer at all (a column child_id means refusal);
- analysts see everything with pseudonymous IDs but no worker names.

Local single-user mode (no sign-in configured) uses LOCAL_ADMIN, which sees everything.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

ROLES = {
    "social_worker": "Social worker",
    "team_manager": "Team manager",
    "analyst": "Analyst",
    "head_of_service": "Head of service",
    "admin": "Administrator",
}
# Questions each limited role may ask at all (analysts and admins may ask any; a head of
# service any that is not child-level).
ROLE_QUERIES = {
    "social_worker": {
        "team_list", "worker_list", "caseload_by_worker", "worker_cases", "due_soon", "open_assessments",
        "overdue_visits", "child_chronology", "open_cases", "children_on_cp_plans", "looked_after_children",
    },
    "team_manager": {
        "team_list", "worker_list", "caseload_by_worker", "worker_cases", "due_soon", "open_assessments",
        "overdue_visits", "child_chronology", "open_cases", "children_on_cp_plans", "looked_after_children",
        "team_caseload", "compliance_summary", "compliance_trend", "compliance_cases", "referrals_last_12_months",
        "rereferral_rate", "referrals_by_month", "factor_prevalence", "factor_cooccurrence", "factor_rules",
        "neet_risk_factors", "neet_model_performance", "neet_calibration", "neet_fairness", "neet_risk_list",
    },
}  # fmt: skip


class AccessDenied(Exception):
    """The signed-in user's role may not ask this question; the message is safe to show."""


@dataclass(frozen=True)
class Scope:
    role: str
    user: str
    worker_id: str | None = None
    team_id: str | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role in ("analyst", "admin")


LOCAL_ADMIN = Scope("admin", "local user")

ALLOWED_CHILDREN_SQL = {
    # Children with an open referral on as_of allocated to the worker, or held by the team.
    "social_worker": """
        SELECT DISTINCT child_id FROM referrals
        WHERE worker_id = $who AND referral_date <= $as_of AND NOT nfa
          AND (closure_date IS NULL OR closure_date > $as_of)""",
    "team_manager": """
        SELECT DISTINCT child_id FROM referrals
        WHERE team_id = $who AND referral_date <= $as_of AND NOT nfa
          AND (closure_date IS NULL OR closure_date > $as_of)""",
}


def scoped_params(query, params: dict, scope: Scope) -> dict:
    """The parameters the question will really run with for this user (own worker and team forced)."""
    if scope.sees_everything:
        return params
    if scope.role in ROLE_QUERIES and query.name not in ROLE_QUERIES[scope.role]:
        raise AccessDenied(f"{ROLES[scope.role]}s cannot see {query.title.lower()}.")
    names = {p.name for p in query.params}
    forced = dict(params)
    if scope.role in ("social_worker", "team_manager") and "team_id" in names:
        forced["team_id"] = scope.team_id
    if scope.role == "social_worker" and "worker_id" in names:
        forced["worker_id"] = scope.worker_id
    if "compare_team_id" in names and scope.role in ("social_worker", "team_manager"):
        forced["compare_team_id"] = None  # the rest of the council, in aggregate only
    return forced


# A child's own history: filtered by child only (earlier teams' events are part of the child's story).
CHILD_HISTORIES = {"child_chronology"}


def filter_answer(
    frame: pl.DataFrame, scope: Scope, allowed_children, team_workers, child_history: bool = False
) -> pl.DataFrame:
    """Drop every row (and column) the user may not see.

    `allowed_children()` and `team_workers()` are called only when needed and return sets of IDs.
    """
    if scope.role == "admin":
        return frame
    if scope.role in ("analyst", "head_of_service") and "worker_name" in frame.columns:
        frame = frame.drop("worker_name")
    if scope.role == "analyst":
        return frame
    if scope.role == "head_of_service":
        if "child_id" in frame.columns:
            raise AccessDenied("Heads of service see figures, not individual children.")
        return frame
    if child_history:
        return (
            frame
            if "child_id" not in frame.columns
            else frame.filter(pl.col("child_id").is_in(list(allowed_children())))
        )
    if "team_id" in frame.columns:
        frame = frame.filter(pl.col("team_id").is_null() | (pl.col("team_id") == scope.team_id))
    if "worker_id" in frame.columns:
        if scope.role == "social_worker":
            frame = frame.filter(pl.col("worker_id").is_null() | (pl.col("worker_id") == scope.worker_id))
        else:
            frame = frame.filter(pl.col("worker_id").is_null() | pl.col("worker_id").is_in(list(team_workers())))
    if "child_id" in frame.columns:
        frame = frame.filter(pl.col("child_id").is_in(list(allowed_children())))
    return frame


def scope_from_user(email: str | None, users: dict) -> Scope | None:
    """The role map entry for a signed-in user (secrets `[childstat.users."email"]`), or None.

    None too for an entry that lacks the IDs its role is scoped by (a team manager without a
    team_id, a social worker without a worker_id and a team_id): scoping by a missing ID would
    mean no scoping, so such an account gets no access rather than council-wide figures.
    Addresses match whatever their case.
    """
    if not email or not isinstance(email, str):
        return None
    entry = users.get(email) or users.get(email.lower())
    if entry is None:
        wanted = email.casefold()
        entry = next((v for k, v in users.items() if isinstance(k, str) and k.casefold() == wanted), None)
    if not hasattr(entry, "get") or entry.get("role") not in ROLES:
        return None
    role = entry["role"]
    needed = {"team_manager": ("team_id",), "social_worker": ("worker_id", "team_id")}.get(role, ())
    if any(not isinstance(entry.get(k), str) or not entry.get(k).strip() for k in needed):
        return None
    return Scope(role, email, entry.get("worker_id"), entry.get("team_id"))
