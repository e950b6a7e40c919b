"""The shared vocabulary of the rules: a Failure, the severities, the rule context."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from schemas.contract import TABLES

ERROR = "error"
WARNING = "warning"
MAX_EXAMPLES = 5


@dataclass
class Failure:
    """One check that some rows of one table failed, with a count and a few example rows."""

    table: str
    column: str  # the column, or the rule's name for a rule over several columns/tables
    check: str  # a short human name, e.g. "must be one of the CIN referral source codes"
    severity: str  # ERROR or WARNING
    count: int
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict of the failure."""
        return asdict(self)


@dataclass(frozen=True)
class RuleContext:
    """What a rule may need beyond its own table's rows."""

    as_of: dt.date
    local_factor_codes: frozenset[str] = frozenset()


def jsonable(value: Any) -> Any:
    """A value as it can appear in JSON (dates as ISO strings, NaN as None)."""
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def example_row(row: dict[str, Any]) -> dict[str, Any]:
    """An example row with JSON-ready values."""
    return {k: jsonable(v) for k, v in row.items()}


def example_columns(table: str, *extra: str) -> list[str]:
    """The columns that identify a row in examples: the key (or every column if keyless), then extra."""
    spec = TABLES[table]
    cols = list(spec.key) if spec.key else spec.column_names
    return cols + [c for c in extra if c not in cols]
