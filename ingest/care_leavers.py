"""A care leaver's in-touch, activity and accommodation codes, as the SSDA903 OC3 table and Annex A
List 9 write them, read onto the codes.toml lists care_leaver_in_touch, care_leaver_activity and
care_leaver_accommodation (both importers use this).

- in touch: YES, NO, DIED, REFU, NREQ, RHOM, or words ("a) Yes", "Refused contact");
- activity: F1 ... G6, or words; the retired F3/P3 (training or employment, before 2017) are read
  as F5/P5 and counted; the 903's "0" (nothing to record) is left empty and counted;
- accommodation: the 903 writes a letter and a suitability digit in one ("K1" = ordinary lodgings,
  suitable; "K2" = not suitable; "0" = nothing to record); Annex A writes the letter or words
  ("U: Independent living") with suitability in its own column ("a) Suitable").
"""

from __future__ import annotations

from collections import Counter

from ingest import values
from ingest.rows import Cell
from schemas.codes import codes

IN_TOUCH, ACTIVITY, ACCOMMODATION = "care_leaver_in_touch", "care_leaver_activity", "care_leaver_accommodation"
NOTHING_TO_RECORD = "0"


class CareLeaverCodes:
    """Reads the codes of care leaver rows, counting what it filled by rule for the report."""

    def __init__(self):
        self.replaced: Counter = Counter()  # old code -> rows
        self.nothing: Counter = Counter()  # column -> rows with the 903's "0"

    def read(self, cell: Cell, in_touch, activity, accommodation, suitable=None) -> dict:
        """in_touch, activity, accommodation and accommodation_suitable of one row; problems reported."""
        row = {
            "in_touch": cell.code(in_touch, "in_touch", codes(IN_TOUCH), values.words(IN_TOUCH), required=True),
            "activity": self._activity(cell, activity),
        }
        row["accommodation"], from_code = self._accommodation(cell, accommodation)
        row["accommodation_suitable"] = from_code
        if values.text(suitable) is not None:
            try:
                row["accommodation_suitable"] = values.suitable(suitable)
            except values.NotUnderstood:
                cell.report.problem(
                    cell.table, cell.where, "accommodation_suitable", suitable, "not suitable/unsuitable: left empty"
                )
        return row

    def _activity(self, cell: Cell, value) -> str | None:
        if values.text(value) == NOTHING_TO_RECORD:
            self.nothing["activity"] += 1
            return None
        old = values.replaced(ACTIVITY)
        out = cell.code(value, "activity", codes(ACTIVITY), values.words(ACTIVITY), accept=list(old))
        if out in old:
            self.replaced[out] += 1
            out = old[out]
        return out

    def _accommodation(self, cell: Cell, value) -> tuple[str | None, bool | None]:
        if values.text(value) == NOTHING_TO_RECORD:
            self.nothing["accommodation"] += 1
            return None, None
        try:
            return values.accommodation(value)
        except values.NotUnderstood:
            cell.report.problem(cell.table, cell.where, "accommodation", value, "unknown code: left empty")
            return None, None

    def assumptions(self) -> list[str]:
        """What was filled by rule, for RunReport.assume."""
        out = []
        for old, n in sorted(self.replaced.items()):
            new = values.replaced(ACTIVITY)[old]
            out.append(
                f"care_leavers: {n} activity {old} (a code retired in 2017: training or employment) read as {new}"
            )
        for column, n in sorted(self.nothing.items()):
            out.append(f"care_leavers: {n} {column} '0' (the 903's 'nothing to record') left empty")
        return out
