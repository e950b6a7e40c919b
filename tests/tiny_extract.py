"""A tiny hand-made valid extract (format 1.1) for tests: every table, a few rows each.

API (keep stable, other tests use it):

- ``tiny_tables() -> dict[str, pl.DataFrame]``: a fresh copy of every contract table, with the
  exact contract dtypes (ids String, dates Date, booleans Boolean, money Float64, counts Int64).
- ``write_extract(folder, tables=None, manifest=DEFAULT_MANIFEST, drop=()) -> Path``: writes
  ``<folder>/<table>.parquet`` for each frame (minus ``drop``) and ``manifest.json``
  (``manifest=None``: no manifest). Returns the folder.

The extract is taken on AS_OF = 2026-03-31. Tests build bad extracts by changing a copy of
``tiny_tables()``. Story: three teams (T1 data-led assessment, T2 traditional child protection,
T3 data-led children in care), five workers (W4 left in January), six children (C6 unborn),
seven referrals (R1 closed, R4 NFA, the rest open).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from schemas.contract import TABLES

AS_OF = dt.date(2026, 3, 31)
DEFAULT_MANIFEST = {"contract": 1, "as_of": "2026-03-31", "la_name": "Tiny Test Borough", "la_code": "000"}

DTYPES = {"str": pl.String, "date": pl.Date, "bool": pl.Boolean, "float": pl.Float64, "int": pl.Int64}


def _d(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _frame(table: str, rows: list[tuple]) -> pl.DataFrame:
    """A frame of `table` from rows in contract column order; ISO strings become dates."""
    columns = TABLES[table].columns
    data: dict[str, list] = {c.name: [] for c in columns}
    for row in rows:
        assert len(row) == len(columns), f"{table}: {row}"
        for col, value in zip(columns, row, strict=True):
            data[col.name].append(_d(value) if col.type == "date" else value)
    return pl.DataFrame(data, schema={c.name: DTYPES[c.type] for c in columns})


_ROWS: dict[str, list[tuple]] = {
    "children": [
        ("C1", "F1", "F", "2015-05-01", "WBRI", False),
        ("C2", "F2", "M", "2012-03-15", "BCRB", False),
        ("C3", "F2", "F", "2018-07-01", "BCRB", True),
        ("C4", "F4", "M", "2009-11-20", "MWBC", None),
        ("C5", None, "M", "2008-06-10", None, False),
        ("C6", "F6", "U", "2026-06-01", None, None),  # unborn: expected date of birth
    ],
    "teams": [
        ("T1", "Assessment North", "assessment", "data_led", "neglect"),
        ("T2", "Child Protection South", "child_protection", "traditional", None),
        ("T3", "Children in Care", "children_in_care", "data_led", "adolescents"),
    ],
    "workers": [
        ("W1", "Asha Patel", "T1", "social_worker", 1.0, False, "2020-01-06", None),
        ("W2", "Ben Okafor", "T1", "team_manager", 1.0, False, "2018-09-03", None),
        ("W3", "Cara Jones", "T2", "senior_practitioner", 0.8, False, "2021-04-12", None),
        ("W4", None, "T2", "social_worker", 0.6, True, "2024-09-02", "2026-01-30"),
        ("W5", "Dev Singh", "T3", "social_worker", 1.0, False, "2019-04-01", None),
    ],
    "referrals": [
        ("R1", "C1", "2025-04-03", "1A", "N1", False, "T1", "W1", "2025-10-15", "RC1"),
        ("R2", "C2", "2025-06-10", "5A", "N1", False, "T2", "W3", None, None),
        ("R3", "C3", "2025-06-10", "5A", "N1", False, "T2", "W3", None, None),
        ("R4", "C4", "2025-09-01", "3A", None, True, "T1", None, "2025-09-01", "RC8"),
        ("R5", "C5", "2025-11-20", "2A", "N2", False, "T3", "W5", None, None),
        ("R6", "C6", "2026-02-01", "6", "N1", False, "T2", "W4", None, None),
        ("R7", "C1", "2026-01-15", "1A", "N1", False, "T1", "W1", None, None),
    ],
    "assessments": [
        ("A1", "R1", "C1", "2025-04-05", "2025-05-20", "W1", True),
        ("A2", "R2", "C2", "2025-06-12", "2025-07-30", "W3", True),
        ("A3", "R3", "C3", "2025-06-12", None, "W3", None),
        ("A4", "R5", "C5", "2025-11-21", "2025-12-19", "W5", True),
        ("A5", "R7", "C1", "2026-01-16", None, "W1", None),
    ],
    "factors": [
        ("C1", "R1", "3B", "2025-05-20", "assessment"),
        ("C1", "R1", "4B", "2025-05-20", "assessment"),
        ("C1", "R1", "LA01", "2025-08-01", "case_file"),  # a local code, declared in factor_codes
        ("C2", "R2", "18C", "2025-07-30", "assessment"),
        ("C2", None, "10A", "2025-09-01", "case_file"),
        ("C3", "R3", "3B", "2025-07-30", "assessment"),
        ("C5", "R5", "24A", "2025-12-19", "assessment"),
        ("C5", "R5", "13A", "2025-12-19", "assessment"),
    ],
    "factor_codes": [
        ("LA01", "Housing: overcrowding", "household"),
        ("LA02", "Parent a care leaver", "parent"),
    ],
    "section47": [
        ("S1", "R2", "C2", "2025-06-11", "2025-06-30", False),
        ("S2", "R3", "C3", "2025-06-11", None, True),
    ],
    "cp_plans": [
        ("P1", "C2", "R2", "2025-06-30", None, "NEG", "NEG"),
        ("P2", "C1", "R1", "2025-06-02", "2025-10-10", "EMO", "MUL"),
    ],
    "cp_reviews": [
        ("P1", "2025-09-25"),
        ("P1", "2026-03-20"),
        ("P2", "2025-08-28"),
    ],
    "cin_plans": [
        ("CIN1", "C3", "R3", "2025-07-01", None),
        ("CIN2", "C1", "R7", "2026-02-10", None),
    ],
    "looked_after": [
        ("E1", "C5", "2025-12-01", None, "C2", "U3", 850.0),
        ("E2", "C4", "2025-03-01", "2025-08-31", "V2", "K2", None),
    ],
    "visits": [
        ("V1", "C2", "W3", "2025-07-10", "cp", True),
        ("V2", "C2", "W3", "2026-03-20", "cp", False),
        ("V3", "C3", "W3", "2026-03-10", "cin", None),
        ("V4", "C5", "W5", "2026-03-01", "cla", True),
        ("V5", "C1", "W1", "2026-02-20", "cin", True),
        ("V6", "C1", None, "2025-05-01", "other", None),
    ],
    "services": [
        ("SV1", "Family group conferences", "Daybreak", "family_group_conference", "block", 1200.0, "family"),
        ("SV2", "Multisystemic therapy", "Acme Therapy", "multisystemic_therapy", "spot", 450.0, "week"),
        ("SV3", "Triple P", "Borough Parenting", "parenting_programme", "in_house", 80.0, "session"),
    ],
    "service_episodes": [
        ("SE1", "SV1", "C1", "R1", "2025-05-01", "2025-06-15", "completed", 1200.0),
        ("SE2", "SV2", "C2", "R2", "2025-08-01", None, "ongoing", None),
        ("SE3", "SV3", "C5", None, "2026-01-05", "2026-03-02", "disengaged", None),
    ],
    "education": [
        ("C1", 2024, 95.5, 0, False, "none", True, False, False, False, False, False),
        ("C1", 2025, 91.0, 0, False, "none", True, False, False, False, False, False),
        ("C2", 2025, 78.2, 2, False, "sen_support", False, False, False, True, False, False),
        ("C4", 2024, None, 0, False, "ehcp", True, True, True, False, False, False),
        ("C5", 2025, 60.0, 4, True, "none", True, False, True, False, False, True),
    ],
    "neet_status": [
        ("C5", "2026-01-31", "NEET"),
        ("C4", "2026-02-28", "EET"),
    ],
    "worker_absence": [
        ("W1", "2026-01-01", 1.0, 21.0),
        ("W3", "2026-02-01", 0.0, 16.0),
        ("W4", "2026-01-01", 3.5, 12.0),
    ],
    # Format 1.1. Contacts K1-K7 became referrals R1-R7 (each a day or two before its referral);
    # K8-K11 did not: K8 no further action, K9 advice, K10 early help, K11 outcome not recorded.
    # Police (6): K6, K9, K10 -> 1 of 3 became a referral; schools (2A): K5, K8, K11 -> 1 of 3.
    "contacts": [
        ("K1", "C1", "2025-04-01", "1A", "referral", "T1"),
        ("K2", "C2", "2025-06-09", "5A", "referral", "T2"),
        ("K3", "C3", "2025-06-09", "5A", "referral", "T2"),
        ("K4", "C4", "2025-08-29", "3A", "referral", "T1"),
        ("K5", "C5", "2025-11-19", "2A", "referral", "T3"),
        ("K6", "C6", "2026-01-30", "6", "referral", "T2"),
        ("K7", "C1", "2026-01-14", "1A", "referral", "T1"),
        ("K8", "C2", "2025-12-01", "2A", "no_further_action", "T1"),
        ("K9", "C4", "2026-02-10", "6", "advice", "T1"),
        ("K10", "C5", "2026-03-05", "6", "early_help", None),
        ("K11", "C3", "2026-03-25", "2A", None, "T1"),
    ],
    "early_help": [
        ("EH1", "C4", "2026-02-12", None, "Family support", None),
        ("EH2", "C5", "2024-05-01", "2025-01-31", "Parenting", "Stepped up to social care"),
        ("EH3", "C3", "2025-01-10", "2025-05-30", "School attendance", "Needs met"),
    ],
    "cla_reviews": [
        ("C5", "2025-12-20", "PN1"),
        ("C5", "2026-03-15", "PN1"),
        ("C4", "2025-03-25", "PN4"),
    ],
    "missing_episodes": [
        ("C5", "2026-01-10", "2026-01-12", "M", True),
        ("C5", "2026-02-14", "2026-02-14", "A", None),
    ],
    "care_leavers": [
        ("C4", "2026-03-01", "YES", "F2", "U", True),
    ],
    "uasc": [
        ("C5", None),
    ],
}


def tiny_tables() -> dict[str, pl.DataFrame]:
    """A fresh copy of every contract table of the tiny valid extract."""
    return {name: _frame(name, _ROWS[name]) for name in TABLES}


def write_extract(
    folder: str | Path,
    tables: dict[str, pl.DataFrame] | None = None,
    manifest: dict | None = DEFAULT_MANIFEST,
    drop: tuple[str, ...] | list[str] = (),
) -> Path:
    """Write `tables` (default: tiny_tables()) as <folder>/<table>.parquet plus manifest.json."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = tiny_tables() if tables is None else tables
    for name, frame in tables.items():
        if name not in drop:
            frame.write_parquet(folder / f"{name}.parquet")
    if manifest is not None:
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder
