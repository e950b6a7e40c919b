"""One way to write numbers in words, for every page, table, chart text and sentence.

Counts with thousands separators; a count the engine protected (None) as the setting's symbol;
"1 referral" and "2 referrals", "1 child" and "2 children"; percentages whole unless small;
p-values as "< 0.001", never "0" or "6.6e-24"; decimals only where they carry meaning.
Queries' sentences and pages' tables both use these, so a number reads the same everywhere.
"""

from __future__ import annotations

import math

from queries.settings import setting

# Plurals that are not the word with an "s"; everything else gets one.
PLURALS = {
    "child": "children",
    "young person": "young people",
    "person": "people",
    "family": "families",
    "degree": "degrees",
    "this": "these",
    "was": "were",
    "has": "have",
    "is": "are",
}


def symbol() -> str:
    """What stands for a count the engine protected (and for what was worked out from it)."""
    return setting("symbol")


def missing(value) -> bool:
    """A value that is not there: None, or a float NaN (which must never reach a reader)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def count(value) -> str:
    """A count: "1,545"; a protected one as the symbol."""
    if missing(value):
        return symbol()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # "16", not "16.0"
    return f"{value:,}"


def plural(word: str, value=2) -> str:
    """`word` for this many: "referral" for 1, "referrals" otherwise (and for a protected count)."""
    if not missing(value) and value == 1:
        return word
    return PLURALS.get(word, word + "s")


def counted(value, word: str) -> str:
    """A count with its noun: "1 referral", "1,545 children", "c children" when protected."""
    return f"{count(value)} {plural(word, value)}"


def percent(share, digits: int | None = None) -> str:
    """A share (0.23) as a percentage: "23%"; one decimal below 1% ("0.4%"); "< 0.1%" below that; "0%" for 0.

    `digits` fixes the decimals instead. A protected share is the symbol."""
    if missing(share):
        return symbol()
    value = 100 * share
    if digits is not None:
        return f"{value:,.{digits}f}%"
    if value == 0:
        return "0%"
    if abs(value) < 0.1:
        return "< 0.1%"
    if abs(value) < 1:
        return f"{value:.1f}%"
    return f"{value:,.0f}%"


def p_value(p) -> str:
    """A p-value as a number: "< 0.001", "0.004", "0.03", "0.41"."""
    if missing(p):
        return symbol()
    if p < 0.001:
        return "< 0.001"
    if p < 0.01:
        return f"{p:.3f}"
    return f"{p:.2f}"


def p_text(p) -> str:
    """A p-value in a sentence: "p < 0.001", "p = 0.03"."""
    text = p_value(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def number(value, digits: int = 1) -> str:
    """A measured quantity (not a count): thousands separators and `digits` decimals; "16" not "16.00"
    when `digits` is 0. A protected value is the symbol."""
    if missing(value):
        return symbol()
    return f"{value:,.{digits}f}"


def money(value) -> str:
    """Pounds, whole: "£16,720"."""
    if missing(value):
        return symbol()
    return f"£{value:,.0f}"
