"""A hypothesis as a short printable note for a team meeting (Markdown): what was said, what was found."""

from __future__ import annotations

import polars as pl

from queries.wording import counted, p_text

PERIOD_WORDS = {"discovery": "Discovery", "confirmation": "Confirmation"}
STATUS_WORDS = {"open": "open", "supported": "supported", "not_supported": "not supported", "retired": "retired"}


def _cohort(filters: dict) -> str:
    return ", ".join(f"{k} = {v}" for k, v in sorted(filters.items())) or "everyone"


def describe_row(row: dict) -> str:
    """One result in words: the two counts, the difference in points with its interval, and p."""
    counts = (
        f"{row['with_outcome']} of {counted(row['children'], 'child')} against "
        f"{row['comparison_with_outcome']} of {row['comparison_children']}"
    )
    if row["effect"] is None:
        return f"{counts}: no effect (a cohort had no children in the period)"
    return (
        f"{counts}: a difference of {100 * row['effect']:+.1f} percentage points "
        f"(95% CI {100 * row['ci_low']:+.1f} to {100 * row['ci_high']:+.1f}), {p_text(row['p'])}"
    )


def hypothesis_note(details: dict, latest: pl.DataFrame, history: pl.DataFrame) -> str:
    """The note: statement, test, periods, status and note, the latest result per period, then the history."""
    lines = [
        f"# Hypothesis: {details['name']}",
        "",
        f"> {details['statement']}",
        "",
        f"- **Cohort:** {_cohort(details['cohort'])}",
        f"- **Compared with:** {_cohort(details['comparison'])}",
        f"- **Outcome:** {details['outcome']}",
        f"- **Discovery period:** {details['discovery'].replace('..', ' to ')}",
        f"- **Confirmation period:** {details['confirmation'].replace('..', ' to ')}",
        f"- **Status:** {STATUS_WORDS.get(details['status'], details['status'])}"
        + (f". {details['note']}" if details.get("note") else ""),
        f"- **Written by** {details['created_by']} on {details['created_at']:%d %B %Y}, before any result.",
        "",
        "## Latest results",
        "",
    ]
    if latest.is_empty():
        lines.append("Not run yet.")
    for row in latest.iter_rows(named=True):
        lines.append(
            f"- **{PERIOD_WORDS[row['period']]}** (extract as at {row['as_of']:%d %B %Y}): {describe_row(row)}."
        )
    lines += ["", "## History", ""]
    if history.is_empty():
        lines.append("No results yet.")
    for row in history.iter_rows(named=True):
        lines.append(
            f"- {row['run_at']:%d %B %Y %H:%M}, {row['period']}, extract as at {row['as_of']:%d %B %Y} "
            f"({row['extract_signature']}): {describe_row(row)}."
        )
    lines += [
        "",
        "Difference in proportions, cohort minus comparison, with Newcombe's 95% interval and a two-sided Fisher "
        "exact p. Counts are exact: check small numbers before this note leaves the service.",
    ]
    return "\n".join(lines) + "\n"
