"""The working-day calendar: Monday to Friday less England and Wales bank holidays.

Bank holidays come from the maintained `holidays` package, never a typed list.
In DuckDB the calendar is two small tables and two macros:
`add_working_days(d, n)` is the n-th working day after d, and
`working_days_between(a, b)` counts working days in (a, b].
"""

from __future__ import annotations

import datetime as dt

import duckdb
import holidays
import polars as pl

FIRST_YEAR = 1990
LAST_YEAR = 2045


def bank_holidays(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> set[dt.date]:
    return set(holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1)))


def calendar_frame(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> pl.DataFrame:
    """One row per date: is_working_day and wd_index (working days on or before the date)."""
    days = pl.date_range(dt.date(first_year, 1, 1), dt.date(last_year, 12, 31), "1d", eager=True)
    closed = bank_holidays(first_year, last_year)
    frame = pl.DataFrame({"d": days}).with_columns(
        is_working_day=(pl.col("d").dt.weekday() <= 5) & ~pl.col("d").is_in(list(closed))
    )
    return frame.with_columns(wd_index=pl.col("is_working_day").cast(pl.Int32).cum_sum())


def install_calendar(con: duckdb.DuckDBPyConnection) -> None:
    """Create the calendar tables and working-day macros on a connection.

    The same rows as `calendar_frame`, made in DuckDB from the bank holidays: handing DuckDB a polars
    frame first imports its conversion machinery, most of a second of every engine's start-up.
    """
    con.execute(
        "CREATE OR REPLACE TABLE calendar AS "
        "SELECT d, is_working_day, CAST(sum(CAST(is_working_day AS INTEGER)) OVER (ORDER BY d) AS INTEGER) AS wd_index "
        "FROM (SELECT CAST(range AS DATE) AS d, isodow(range) <= 5 AND NOT list_contains($closed, CAST(range AS DATE)) "
        "AS is_working_day FROM range(CAST($first AS TIMESTAMP), CAST($last AS TIMESTAMP) + INTERVAL 1 DAY, INTERVAL 1 DAY)) "
        "ORDER BY d",
        {
            "closed": sorted(bank_holidays(FIRST_YEAR, LAST_YEAR)),
            "first": dt.date(FIRST_YEAR, 1, 1),
            "last": dt.date(LAST_YEAR, 12, 31),
        },
    )
    con.execute(
        "CREATE OR REPLACE TABLE working_day_seq AS "
        "SELECT wd_index, d FROM calendar WHERE is_working_day ORDER BY wd_index"
    )
    con.execute(
        """
        CREATE OR REPLACE MACRO add_working_days(day, n) AS (
            SELECT w.d FROM working_day_seq w
            WHERE w.wd_index = (SELECT c.wd_index FROM calendar c WHERE c.d = day) + n
        )
        """
    )
    con.execute(
        """
        CREATE OR REPLACE MACRO working_days_between(a, b) AS (
            (SELECT c.wd_index FROM calendar c WHERE c.d = b)
            - (SELECT c.wd_index FROM calendar c WHERE c.d = a)
        )
        """
    )
