"""The run report: rows read, mapped and dropped per table, and every value not understood.

A report never holds a child's ID or name: a problem says *where* it was (a sheet and row, a
file and line, the n-th child of an XML file) and what the value was, so it can be shared with
the person who runs the case-management system.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MAX_PROBLEMS = 2000  # per report: beyond this, problems are counted but not listed one by one


class SourceError(Exception):
    """The source file cannot be used at all (wrong format, broken XML, missing columns).

    The message is written for the analyst: what is wrong, and what was expected.
    """


@dataclass
class Problem:
    """One value the importer did not understand, or one row it dropped, and where it was."""

    table: str  # contract table the value was meant for
    where: str  # e.g. "List 3 row 7", "episodes.csv line 12", "child 4, CINdetails 2"
    column: str  # contract column (or source field) concerned
    value: str  # the value as read (never an identifier)
    issue: str  # what was wrong and what was done about it

    def to_dict(self) -> dict[str, str]:
        return {
            "table": self.table,
            "where": self.where,
            "column": self.column,
            "value": self.value,
            "issue": self.issue,
        }


@dataclass
class TableCount:
    """Rows of one contract table: read from the source, mapped into the extract, dropped (and why)."""

    read: int = 0
    mapped: int = 0
    merged: int = 0  # source rows folded into a row already read (the same child in several lists)
    dropped: Counter = field(default_factory=Counter)  # reason -> rows

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


@dataclass
class RunReport:
    """What one import run did. `error` is set when the source could not be used at all."""

    source_format: str
    source_name: str
    tables: dict[str, TableCount] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    problems_not_listed: int = 0
    notes: list[str] = field(default_factory=list)
    assumed: list[str] = field(default_factory=list)  # values the source does not hold, filled by rule
    written: list[str] = field(default_factory=list)  # tables written to the extract
    left_out: list[str] = field(default_factory=list)  # contract tables this source cannot fill
    out: str = ""
    as_of: str = ""
    error: str | None = None

    # --- recording ------------------------------------------------------------------------

    def count(self, table: str) -> TableCount:
        return self.tables.setdefault(table, TableCount())

    def read(self, table: str, n: int = 1) -> None:
        self.count(table).read += n

    def drop(self, table: str, reason: str, where: str = "", column: str = "", value: Any = None) -> None:
        """A source row that did not become a row of `table`, and why."""
        self.count(table).dropped[reason] += 1
        if where:
            self.problem(table, where, column or "(row)", value, f"row dropped: {reason}")

    def problem(self, table: str, where: str, column: str, value: Any, issue: str) -> None:
        """A value not understood (an unknown code, an unparseable date) and what was done."""
        if len(self.problems) >= MAX_PROBLEMS:
            self.problems_not_listed += 1
            return
        shown = "" if value is None else str(value)
        self.problems.append(Problem(table, where, column, shown[:80], issue))

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def assume(self, text: str) -> None:
        if text not in self.assumed:
            self.assumed.append(text)

    # --- reading --------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        return self.error is None

    def problem_summary(self) -> list[tuple[str, str, str, int]]:
        """(table, column, issue, count) for every kind of problem, most frequent first."""
        counts = Counter((p.table, p.column, p.issue) for p in self.problems)
        return [(t, c, i, n) for (t, c, i), n in counts.most_common()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_format": self.source_format,
            "source_name": self.source_name,
            "error": self.error,
            "out": self.out,
            "as_of": self.as_of,
            "written": list(self.written),
            "left_out": list(self.left_out),
            "tables": {
                name: {
                    "read": c.read,
                    "mapped": c.mapped,
                    "merged": c.merged,
                    "dropped": c.dropped_total,
                    "drop_reasons": dict(c.dropped),
                }
                for name, c in self.tables.items()
            },
            "problems": [p.to_dict() for p in self.problems],
            "problems_not_listed": self.problems_not_listed,
            "assumed": list(self.assumed),
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        head = f"Import of {self.source_name} ({self.source_format})"
        if self.error:
            return f"{head}\nFAILED: {self.error}"
        lines = [
            head,
            f"Extract written to {self.out} (as_of {self.as_of})",
            "",
            "Rows per table (read, mapped, dropped):",
        ]
        for name, c in self.tables.items():
            merged = f"  ({c.merged} merged into rows already read)" if c.merged else ""
            lines.append(f"  {name:<14} {c.read:>7} {c.mapped:>7} {c.dropped_total:>7}{merged}")
            lines += [f"      dropped {n}: {reason}" for reason, n in c.dropped.most_common()]
        if self.left_out:
            lines += ["", "Not in this source, so not written: " + ", ".join(self.left_out)]
        if self.problems:
            lines += ["", f"Values not understood ({len(self.problems) + self.problems_not_listed}):"]
            lines += [f"  {n:>5} x {t}.{c}: {i}" for t, c, i, n in self.problem_summary()]
            lines += ["", "Where (first 50):"]
            lines += [f"  {p.where}: {p.table}.{p.column} = {p.value!r}: {p.issue}" for p in self.problems[:50]]
        if self.assumed:
            lines += ["", "Filled by rule (the source does not hold these):"] + [f"  - {a}" for a in self.assumed]
        if self.notes:
            lines += ["", "Notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)
