"""Who may see what: roles, and the scoping every question goes through for a signed-in user.

Each question declares who may run it (`roles`) and whether it returns child-level rows
(`access`); queries/registry.py reads the declaration and this module enforces it, below the
pages, so a hidden page, a crafted URL or a changed parameter cannot reach other rows:

- default deny: a question that declares no access is refused to every signed-in role, and a
  role not in its `roles` is refused (administrators may run any declared question);
- parameters are forced: a social worker's questions always run for their own worker_id
  and team_id, a team manager's for their own team_id; everyone but analysts and administrators
  gets the extract's as_of, and period filters in whole months (queries.disclosure);
- answers are filtered: a row naming another team, another worker (for a social worker) or
  a child outside the user's caseload or team is dropped before it leaves the engine;
- a head of service gets no child-level answer at all (the declaration, not a column name);
- analysts see everything with pseudonymous IDs but no worker names.

What is left is then protected for the role by queries.disclosure (counts about children
outside the user's scope). Local single-user mode (no sign-in) uses LOCAL_ADMIN, which sees
everything exactly.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import polars as pl

ROLES = {
    "social_worker": "Social worker",
    "team_manager": "Team manager",
    "analyst": "Analyst",
    "head_of_service": "Head of service",
    "admin": "Administrator",
}
ROLE_PLURALS = {
    "social_worker": "Social workers",
    "team_manager": "Team managers",
    "analyst": "Analysts",
    "head_of_service": "Heads of service",
    "admin": "Administrators",
}
# The IDs each role needs in the role map: without them the role has no access at all.
ROLE_NEEDS = {"social_worker": ("worker_id", "team_id"), "team_manager": ("team_id",)}


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


def may_run(query, scope: Scope) -> bool:
    """Whether this role may ask this question at all (default deny)."""
    if query.access is None:
        return False
    if scope.role in ROLE_NEEDS and any(not getattr(scope, need) for need in ROLE_NEEDS[scope.role]):
        return False  # a role-map entry without its IDs has no access, never council-wide figures
    return scope.role == "admin" or scope.role in query.roles


def whole_months(value, end: bool) -> dt.date | None:
    """A period filter's date widened to the whole month: the 1st, or the month's last day."""
    if value is None:
        return None
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if end:
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return day.replace(day=1)


def scoped_params(query, params: dict, scope: Scope) -> dict:
    """The parameters the question will really run with for this user.

    Own worker and team forced; for everyone who does not see every child, the extract's as_of
    (a caller's date is not trusted) and period filters in whole months, so two views cannot
    differ by a day's children.
    """
    if not may_run(query, scope):
        if query.access is None:
            raise AccessDenied(f"{query.title} has no access declaration, so nobody signed in may see it.")
        if query.child_level and scope.role == "head_of_service":
            raise AccessDenied("Heads of service see figures, not individual children.")
        raise AccessDenied(f"{ROLE_PLURALS[scope.role]} cannot see {query.title.lower()}.")
    if scope.sees_everything:
        return dict(params)
    names = {p.name for p in query.params}
    forced = dict(params)
    if "as_of" in names:
        forced["as_of"] = None  # the extract's own date
    for name, end in (("from_date", False), ("to_date", True)):
        if name in names and forced.get(name) not in (None, ""):
            forced[name] = whole_months(forced[name], end)
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
    frame: pl.DataFrame,
    scope: Scope,
    allowed_children,
    team_workers,
    child_history: bool = False,
    child_level: bool = False,
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
        if child_level:
            raise AccessDenied("Heads of service see figures, not individual children.")
        return frame
    if child_level and not child_history and "child_id" not in frame.columns:
        raise AccessDenied("This answer is declared child-level but names no child, so it cannot be scoped to you.")
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
    needed = ROLE_NEEDS.get(role, ())
    if any(not isinstance(entry.get(k), str) or not entry.get(k).strip() for k in needed):
        return None
    return Scope(role, email, entry.get("worker_id"), entry.get("team_id"))
