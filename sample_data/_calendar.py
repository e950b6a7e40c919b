"""Dates as integer day numbers (days since 1970-01-01) and England working-day arithmetic.

Everything in the generator works on int64 day numbers so that whole columns can be
shifted, compared and capped with numpy. Working days are Monday to Friday less the
England and Wales bank holidays of the maintained `holidays` calendar.
"""

from __future__ import annotations

import datetime as dt

import holidays
import numpy as np

EPOCH = dt.date(1970, 1, 1)
NEVER = 10**7  # a day number far in the future: "no end yet"; anything > as_of is written as null


def day(d: dt.date) -> int:
    """The day number of a date."""
    return (d - EPOCH).days


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day-of-month arrays of day numbers."""
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    months = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dom = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return years, months, dom


def age_years(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Whole years of age on a date (exact calendar arithmetic)."""
    by, bm, bd = ymd(birth)
    oy, om, od = ymd(on)
    before_birthday = (om < bm) | ((om == bm) & (od < bd))
    return oy - by - before_birthday.astype(np.int64)


def add_years(days: np.ndarray, years: int) -> np.ndarray:
    """The same calendar day `years` later (29 February becomes 1 March)."""
    y, m, d = ymd(days)
    first = ((y + years - 1970) * 12 + (m - 1)).astype("datetime64[M]").astype("datetime64[D]")
    return first.astype(np.int64) + d - 1


def month_starts(first: int, last: int) -> np.ndarray:
    """Day numbers of the 1st of every month from the month of `first` to that of `last`."""
    m0 = np.int64(np.datetime64(first, "D").astype("datetime64[M]").astype(np.int64))
    m1 = np.int64(np.datetime64(last, "D").astype("datetime64[M]").astype(np.int64))
    return np.arange(m0, m1 + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


class WorkingDays:
    """A working-day calendar over a span of years, answering whole columns at once."""

    def __init__(self, first_year: int = 1990, last_year: int = 2040):
        self.start = day(dt.date(first_year, 1, 1))
        days = np.arange(self.start, day(dt.date(last_year, 12, 31)) + 1, dtype=np.int64)
        bank = holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1))
        is_bank = np.isin(days, np.array([day(d) for d in bank], dtype=np.int64))
        self.is_working = ((days + 3) % 7 < 5) & ~is_bank  # 1970-01-01 was a Thursday
        self.days = days[self.is_working]
        self.count = np.cumsum(self.is_working)  # working days on or before each day

    def count_to(self, d: np.ndarray) -> np.ndarray:
        """How many working days fall on or before each day (a running index)."""
        return self.count[np.asarray(d, dtype=np.int64) - self.start]

    def from_count(self, k: np.ndarray) -> np.ndarray:
        """The day with running index k (the inverse of count_to on working days)."""
        return self.days[np.asarray(k, dtype=np.int64) - 1]

    def add(self, d: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The n-th working day after d (n >= 1); n == 0 gives d itself."""
        d = np.asarray(d, dtype=np.int64)
        n = np.broadcast_to(np.asarray(n, dtype=np.int64), d.shape)
        later = self.from_count(self.count_to(d) + np.maximum(n, 1))
        return np.where(n == 0, d, later)

    def between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working days after a up to and including b (b within n working days of a iff <= n)."""
        return self.count_to(b) - self.count_to(a)
