"""Data quality: the validation report for the loaded extract, table by table."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from pages._frame import audit, loaded, page_main, plain_table, quality_badge
from schemas.contract import TABLES

PAGE = {
    "title": "Data quality",
    "icon": ":material/fact_check:",
    "roles": ["analyst", "admin"],
    "order": 90,
    "description": "What is wrong with the loaded extract, table by table: every failed check with "
    "a count and example rows, and which tables (and so which pages) are switched off.",
}

STATUS_WORDS = {
    "ok": (":material/check_circle:", "Passes every check"),
    "warnings": (":material/warning:", "Usable, with warnings"),
    "errors": (":material/error:", "Usable, but some rows break the rules"),
    "missing": (":material/remove_circle_outline:", "Not in this extract (optional): pages that need it say so"),
    "missing_required": (":material/block:", "Missing, and required: pages that need it are switched off"),
    "unreadable": (":material/block:", "Cannot be read as Parquet: pages that need it are switched off"),
    "wrong_structure": (":material/block:", "Wrong columns or types: pages that need it are switched off"),
}


def failures_frame(report, table: str) -> pl.DataFrame:
    rows = [
        {"column or rule": f.column, "check": f.check, "severity": f.severity, "rows": f.count}
        for f in report.failures
        if f.table == table
    ]
    return pl.DataFrame(
        rows, schema={"column or rule": pl.String, "check": pl.String, "severity": pl.String, "rows": pl.Int64}
    )


def render_table(container, report, table: str) -> None:
    status = report.table_status.get(table, "ok")
    icon, words = STATUS_WORDS.get(status, (":material/help:", status))
    failures = [f for f in report.failures if f.table == table]
    core = "required" if TABLES[table].core else "optional"
    with container.expander(f"**{table}** ({core}) — {words}", icon=icon, expanded=bool(failures)):
        st.caption(TABLES[table].description)
        if not failures:
            st.write("Nothing to report." if status in ("ok", "missing") else words)
            return
        plain_table(st, failures_frame(report, table))
        for failure in failures:
            if failure.examples:
                st.markdown(f"Examples for **{failure.column}** — {failure.check}:")
                plain_table(st, pl.DataFrame(failure.examples, strict=False))


def render(container) -> None:
    container.title("Data quality")
    state = loaded()
    if state.engine is None:
        container.error(f"The extract cannot be used at all: {state.problem}.")
        container.markdown(
            "Check that `CHILDSTAT_DATA` names a folder of Parquet files in the ChildStat format "
            "(see `docs/data-format.md`), then reload this page."
        )
        return
    report = state.report
    extract = state.engine.extract
    container.markdown(
        f"Extract **{extract.path.name}**, taken on **{extract.as_of:%d %B %Y}**. Every table is checked "
        "against the ChildStat data format; the extract itself is never changed. The same report "
        "comes from `python -m schemas validate`."
    )
    if report is None:
        container.warning("The validation report could not be produced for this extract.")
        return
    label, icon = quality_badge(state)
    (container.success if report.is_valid else container.error)(label, icon=icon)
    for table in TABLES:
        render_table(container, report, table)
    container.download_button(
        "Download the report (JSON)",
        json.dumps(report.to_dict(), default=str, indent=1),
        file_name="childstat-validation.json",
        mime="application/json",
        key="download_validation_report",
        on_click=audit,  # the report's example rows can hold child IDs: who downloaded it is recorded
        args=("download",),
        kwargs={"file": "childstat-validation.json", "extract": extract.path.name},
    )


if __name__ == "__main__":
    page_main(render)
