"""Small helpers for building edge-case extracts from the tiny one."""

from __future__ import annotations

import datetime as dt

import polars as pl

from schemas.contract import TABLES
from tiny_extract import DTYPES


def rows_frame(table: str, rows: list[dict]) -> pl.DataFrame:
    """A frame of `table` with contract dtypes; missing columns are null, ISO strings become dates."""
    columns = TABLES[table].columns
    data = {
        c.name: [
            dt.date.fromisoformat(r[c.name]) if c.type == "date" and isinstance(r.get(c.name), str) else r.get(c.name)
            for r in rows
        ]
        for c in columns
    }
    return pl.DataFrame(data, schema={c.name: DTYPES[c.type] for c in columns})


def replace_rows(table: str, rows: list[dict]):
    """An edit for make_engine: the table holds exactly these rows."""

    def edit(tables):
        tables[table] = rows_frame(table, rows)
        return tables

    return edit


def referral(rid: str, child: str, date: str, nfa=False, team="T1", worker="W1", closed=None) -> dict:
    return {
        "referral_id": rid,
        "child_id": child,
        "referral_date": date,
        "source": "1A",
        "primary_need": "N1",
        "nfa": nfa,
        "team_id": team,
        "worker_id": worker,
        "closure_date": closed,
        "closure_reason": "RC1" if closed else None,
    }


def scenario(referrals=(), cp=(), cin=(), cla=(), visits=(), reviews=(), assessments=(), s47=()):
    """An edit for make_engine that replaces the casework tables with just these rows.

    Plans are (child, start, end) tuples; visits (child, date, type); reviews (plan_id, date);
    assessments (referral_id, child, start, authorised); s47 (referral_id, child, strategy, icpc).
    """

    def edit(tables):
        tables["referrals"] = rows_frame("referrals", list(referrals))
        tables["cp_plans"] = rows_frame(
            "cp_plans",
            [
                {"plan_id": f"P{i}", "child_id": c, "referral_id": None, "start_date": s, "end_date": e,
                 "initial_category": "NEG", "latest_category": "NEG"}
                for i, (c, s, e) in enumerate(cp, 1)
            ],
        )  # fmt: skip
        tables["cin_plans"] = rows_frame(
            "cin_plans",
            [{"cin_plan_id": f"N{i}", "child_id": c, "referral_id": None, "start_date": s, "end_date": e}
             for i, (c, s, e) in enumerate(cin, 1)],
        )  # fmt: skip
        tables["looked_after"] = rows_frame(
            "looked_after",
            [{"episode_id": f"E{i}", "child_id": c, "start_date": s, "end_date": e, "legal_status": "C2",
              "placement_type": "U1", "weekly_cost": 600.0} for i, (c, s, e) in enumerate(cla, 1)],
        )  # fmt: skip
        tables["visits"] = rows_frame(
            "visits",
            [{"visit_id": f"V{i}", "child_id": c, "worker_id": None, "visit_date": d, "visit_type": t}
             for i, (c, d, t) in enumerate(visits, 1)],
        )  # fmt: skip
        tables["cp_reviews"] = rows_frame("cp_reviews", [{"plan_id": p, "review_date": d} for p, d in reviews])
        tables["assessments"] = rows_frame(
            "assessments",
            [{"assessment_id": f"A{i}", "referral_id": r, "child_id": c, "start_date": s, "authorised_date": a}
             for i, (r, c, s, a) in enumerate(assessments, 1)],
        )  # fmt: skip
        tables["section47"] = rows_frame(
            "section47",
            [{"s47_id": f"S{i}", "referral_id": r, "child_id": c, "strategy_date": s, "icpc_date": d,
              "icpc_not_required": False} for i, (r, c, s, d) in enumerate(s47, 1)],
        )  # fmt: skip
        return tables

    return edit


def as_user(monkeypatch, scope) -> None:
    """Pages run as this signed-in user (a queries.access.Scope) instead of the local user.

    Only who is asking changes: the engine still scopes and protects every answer for the role.
    """
    if scope is not None:
        monkeypatch.setattr("pages._frame.current_scope", lambda: scope)


def open_app_page(page: str, data, monkeypatch, timeout: int = 120, scope=None):
    """Run app.py on an extract and switch to pages/<page>.py, as a user opening it would."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    as_user(monkeypatch, scope)
    monkeypatch.setenv("CHILDSTAT_DATA", str(data))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def table_with(at, column: str):
    """The first table on the page that has this column."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)
