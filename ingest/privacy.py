"""The privacy option (on by default): what an extract meant to be shared may not hold.

- children.birth_date is degraded to the 1st of its month (the contract allows it);
- every postcode column (a column whose name ends in "postcode") keeps only its district,
  the outward code ("EG19 7TT" -> "EG19");
- names are removed: workers.worker_name, and any column called name, first_name, surname,
  forename or *_name on a child-level table.

IDs are kept: the extract holds the council's own child IDs (pseudonymous, not anonymous).
A council that shares the extract outside itself should pseudonymise child_id first.
"""

from __future__ import annotations

import polars as pl

from ingest.values import postcode_district

NAME_COLUMNS = {"name", "first_name", "forename", "surname", "last_name", "full_name", "child_name"}
KEEP_NAME_COLUMNS = {"team_name", "service_name", "la_name"}  # organisation names, not people


def degrade(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with birth dates, postcodes and names degraded as above."""
    if table == "children" and "birth_date" in frame.columns and frame.schema["birth_date"] == pl.Date:
        frame = frame.with_columns(pl.col("birth_date").dt.month_start())
    for column in frame.columns:
        if column.lower().endswith("postcode") and frame.schema[column] == pl.String:
            frame = frame.with_columns(
                pl.col(column).map_elements(postcode_district, return_dtype=pl.String).alias(column)
            )
    people = [
        c
        for c in frame.columns
        if c not in KEEP_NAME_COLUMNS and (c.lower() in NAME_COLUMNS or c.lower().endswith("_name"))
    ]
    if people:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in people)
    return frame
