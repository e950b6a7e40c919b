"""Reading one messy source value: text, identifiers, dates, yes/no, codes with list letters.

Every reader returns the clean value or raises NotUnderstood with the reason; `Cell` (in
rows.py) turns that into a report entry. Real files hold non-breaking spaces, list letters
("a) Male", "q) 6: Police"), Excel error values (#N/A), formulas without cached values
("=H2+5"), integer-looking IDs (1234, 1234.0), ISO and dd/mm/yyyy dates and Excel serial dates.
"""

from __future__ import annotations

import datetime as dt
import re

EXCEL_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#NAME?", "#DIV/0!", "#NULL!", "#NUM!", "#GETTING_DATA", "#SPILL!"}
LIST_LETTER = re.compile(r"^[a-z]{1,2}\)\s*", re.IGNORECASE)
CODE_HEAD = re.compile(r"^([A-Za-z0-9]{1,4})\s*(?::|\s-\s|\s–\s|-\s|$)")
RAW_CODE_HEAD = re.compile(r"^([A-Za-z0-9]{1,10})\s*(?::|\s-\s|\s–\s|-\s)")
EXCEL_EPOCH = dt.date(1899, 12, 30)


class NotUnderstood(ValueError):
    """A value that could not be read as what its column needs."""


def text(value) -> str | None:
    """Trimmed text with non-breaking and repeated spaces made plain; blank and Excel errors are None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    out = re.sub(r"\s+", " ", str(value).replace("\xa0", " ").replace("\ufeff", "")).strip()
    if not out or out.upper() in EXCEL_ERRORS or out.lower() in {"nan", "null", "none"}:
        return None
    return out


def is_excel_error(value) -> bool:
    return isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS


def ident(value) -> str | None:
    """An identifier as a string: 1234 and 1234.0 both become '1234'."""
    if isinstance(value, float) and not value.is_integer():
        raise NotUnderstood("an identifier with a fraction")
    out = text(value)
    if out is not None and re.fullmatch(r"\d+\.0+", out):
        out = out.split(".")[0]
    return out


def _two_digit_year(yy: int) -> int:
    pivot = dt.date.today().year % 100 + 1
    return 2000 + yy if yy <= pivot else 1900 + yy


def date(value) -> dt.date | None:
    """A date from a datetime, an ISO or dd/mm/yyyy string, or an Excel serial number; blank is None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # an Excel serial date (a cell not formatted as a date)
            return EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise NotUnderstood("a number that is not a date")
    raw = str(value).replace("\xa0", " ").strip()
    if not raw or raw.upper() in EXCEL_ERRORS:
        return None
    if raw.startswith("="):
        raise NotUnderstood("a formula with no saved value (open and save the workbook in Excel first)")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?", raw)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?: [\d:.]+)?", raw)
        if not m:
            raise NotUnderstood("not a date (expected YYYY-MM-DD or DD/MM/YYYY)")
        d, mo, y = (int(g) for g in m.groups())
        if len(m.group(3)) == 2:
            y = _two_digit_year(y)
    try:
        return dt.date(y, mo, d)
    except ValueError:
        raise NotUnderstood("not a real calendar date") from None


TRUE_WORDS = {"yes", "y", "true", "t", "1", "-1"}
FALSE_WORDS = {"no", "n", "false", "f", "0"}


def yes_no(value) -> bool | None:
    """Yes/No, Y/N, true/false, 1/0, with or without a list letter; blank is None."""
    if isinstance(value, bool):
        return value
    out = text(value)
    if out is None:
        return None
    word = LIST_LETTER.sub("", out).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise NotUnderstood("not a yes/no value")


def strip_letter(value) -> str | None:
    """'q) 6: Police' -> '6: Police'; plain text unchanged."""
    out = text(value)
    return None if out is None else LIST_LETTER.sub("", out).strip() or None


def code(value, allowed, words: dict[str, str] | None = None) -> str | None:
    """A code from a list: 'a) WBRI' -> 'WBRI', 'q) 6: Police' -> '6', 'N1 - Abuse' -> 'N1'.

    `words` maps lower-case descriptions to codes (e.g. 'physical abuse' -> 'PHY').
    Raises NotUnderstood when no code of `allowed` can be found.
    """
    body = strip_letter(value)
    if body is None:
        return None
    allowed_upper = {str(a).upper(): str(a) for a in allowed}
    if body.upper() in allowed_upper:
        return allowed_upper[body.upper()]
    m = CODE_HEAD.match(body)
    if m and m.group(1).upper() in allowed_upper:
        return allowed_upper[m.group(1).upper()]
    if words:
        key = body.lower().rstrip(".")
        if key in words:
            return words[key]
        for description, mapped in words.items():
            if key.startswith(description):
                return mapped
    raise NotUnderstood("not a known code")


def raw_code(value) -> str | None:
    """The code as the source wrote it (list letter and description removed), for an unknown code."""
    body = strip_letter(value)
    if body is None:
        return None
    m = RAW_CODE_HEAD.match(body)
    return m.group(1).upper() if m else body


def postcode_district(value) -> str | None:
    """'EG19 7TT' -> 'EG19' (the outward code); text that is not a postcode -> None."""
    out = text(value)
    if out is None:
        return None
    compact = out.replace(" ", "").upper()
    m = re.fullmatch(r"([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})", compact)
    if m:
        return m.group(1)
    m = re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?", compact)  # already a district
    return m.group(0) if m else None


SEX_WORDS = {
    "1": "M", "2": "F", "0": "U", "9": "U", "m": "M", "f": "F", "u": "U",
    "male": "M", "female": "F", "unknown": "U", "not known": "U", "not stated": "U", "not specified": "U",
    "not stated/recorded": "U", "not recorded": "U", "indeterminate": "U", "unborn": "U", "neither": "U",
}  # fmt: skip


def sex(value) -> str | None:
    """M, F or U from 1/2 (CIN Sex, SSDA903 SEX), 0/1/2/9 (older GenderCurrent), M/F or 'a) Male'."""
    body = strip_letter(value)
    if body is None:
        return None
    out = SEX_WORDS.get(body.lower())
    if out is None:
        raise NotUnderstood("not a known sex code")
    return out
