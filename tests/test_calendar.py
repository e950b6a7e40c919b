"""Working days: weekends and England and Wales bank holidays, from the holidays package."""

import datetime as dt

import duckdb
import pytest

from queries.calendar import bank_holidays, calendar_frame, install_calendar


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    install_calendar(con)
    yield con
    con.close()


def add(con, day: str, n: int) -> dt.date:
    return con.sql("SELECT add_working_days(CAST($d AS DATE), $n)", params={"d": day, "n": n}).fetchall()[0][0]


def between(con, a: str, b: str) -> int:
    return con.sql(
        "SELECT working_days_between(CAST($a AS DATE), CAST($b AS DATE))", params={"a": a, "b": b}
    ).fetchall()[0][0]


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        ("2026-03-30", 1, "2026-03-31"),  # Monday to Tuesday
        ("2026-03-27", 1, "2026-03-30"),  # Friday to Monday
        ("2026-03-28", 1, "2026-03-30"),  # from a Saturday: the next working day is Monday
        ("2026-04-02", 1, "2026-04-07"),  # over Good Friday and Easter Monday 2026
        ("2022-09-16", 1, "2022-09-20"),  # over the Queen's state funeral, 19 September 2022
        ("2023-05-05", 1, "2023-05-09"),  # over the Coronation bank holiday, 8 May 2023
        ("2026-12-24", 1, "2026-12-29"),  # Christmas, Boxing Day on Saturday observed on Monday 28th
        ("2026-01-05", 10, "2026-01-19"),  # two clear weeks
        ("2026-03-31", 45, "2026-06-08"),  # 45 working days over Easter and two May bank holidays (counted by hand)
    ],
)
def test_add_working_days(con, day, n, expected):
    assert add(con, day, n) == dt.date.fromisoformat(expected)


def test_working_days_between_counts_after_a_up_to_b(con):
    assert between(con, "2026-03-31", "2026-04-10") == 6  # Apr 1, 2, 7, 8, 9, 10
    assert between(con, "2026-04-03", "2026-04-06") == 0  # Good Friday to Easter Monday
    assert between(con, "2026-03-31", "2026-03-31") == 0


def test_bank_holidays_are_england_and_wales_not_scotland():
    days = bank_holidays(2026, 2026)
    assert dt.date(2026, 4, 6) in days  # Easter Monday: England and Wales
    assert dt.date(2026, 1, 2) not in days  # 2 January: Scotland only
    assert dt.date(2026, 8, 31) in days  # late summer (August in Scotland is the 3rd)


def test_the_calendar_made_in_duckdb_is_the_polars_one(con):
    """install_calendar builds the rows in SQL; calendar_frame (polars, used by the pandas baseline) the same."""
    made = con.sql("SELECT * FROM calendar ORDER BY d").pl()
    assert made.equals(calendar_frame())
    assert made.height == (dt.date(2045, 12, 31) - dt.date(1990, 1, 1)).days + 1
    assert made.filter(made["d"] == dt.date(2026, 12, 28))["is_working_day"][0] is False  # Boxing Day, substitute
