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
