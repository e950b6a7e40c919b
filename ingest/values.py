"""Reading one messy source value: text, identifiers, dates, yes/no, codes written as codes or words.

Every reader returns the clean value or raises NotUnderstood with the reason; `Cell` (in
rows.py) turns that into a report entry. Real files hold non-breaking spaces, list letters
("a) Male", "q) 6: Police"), Excel error values (#N/A), formulas without cached values
("=H2+5"), integer-looking IDs (1234, 1234.0), ISO and dd/mm/yyyy dates and Excel serial dates.

Codes may be written as words ("Police", "Full care order", "Child's disability or illness"):
`words(list_name)` gives the words for a code list of schemas/codes.toml (its DfE labels, and
the variants declared in ingest/code_words.toml), `coded(value, list_name)` reads one value
with them. Any importer (Annex A, SSDA903, the SSD) reads codes the same way.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from functools import cache
from pathlib import Path

from schemas import codes as code_lists

EXCEL_ERRORS = {"#N/A", "#REF!", "#VALUE!", "#NAME?", "#DIV/0!", "#NULL!", "#NUM!", "#GETTING_DATA", "#SPILL!"}
LIST_LETTER = re.compile(r"^[a-z]{1,2}\d?\)\s*", re.IGNORECASE)  # "a) ", "zz) ", "p1) "
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

    `words` maps descriptions to codes (e.g. 'physical abuse' -> 'PHY', see `words()`); a
    description matches whole, ignoring case, spaces and punctuation (`word_key`).
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
        lookup = words if isinstance(words, Words) else Words({word_key(k): v for k, v in words.items()})
        # The whole description, a code-like head, or the words before a colon ("Multiple: Neglect, Emotional abuse").
        before_colon = word_key(body.split(":", 1)[0]) if ":" in body else None
        for key in (word_key(body), word_key(m.group(1)) if m else None, before_colon):
            if key and key in lookup:
                return lookup[key]
    raise NotUnderstood("not a known code")


# --- codes written as words -------------------------------------------------------------------

_WORDS_FILE = Path(__file__).with_name("code_words.toml")
_APOSTROPHES = re.compile(r"['\u2018\u2019`\u00b4]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# code lists whose labels in schemas/codes.toml are under another name
LABELS_OF = {"ssda903_legal_status": "legal_status", "ssda903_placement": "placement_type"}


class Words(dict):
    """Descriptions (already made into `word_key`s) -> codes, for one code list."""


def word_key(value) -> str:
    """A description reduced to plain lower-case words: "Child's disability/illness" -> "childs disability illness".

    Case, list letters, spaces and punctuation (hyphens, en and em dashes, colons, slashes,
    brackets, full stops, commas) do not count; apostrophes are dropped; "&" is "and".
    """
    out = (text(value) or "").lower()
    out = LIST_LETTER.sub("", out).replace("&", " and ")
    return _NOT_WORD.sub(" ", _APOSTROPHES.sub("", out)).strip()


@cache
def _declared() -> dict:
    with _WORDS_FILE.open("rb") as f:
        return tomllib.load(f)


@cache
def words(list_name: str) -> Words:
    """Words for the codes of a list: its DfE labels (schemas/codes.toml), overruled by ingest/code_words.toml."""
    try:
        labels = code_lists.labels(LABELS_OF.get(list_name, list_name))
    except KeyError:
        labels = {}
    out = Words({word_key(label): str(c) for c, label in labels.items()})
    out.update({word_key(w): str(c) for w, c in _declared().get(list_name, {}).items()})
    return out


@cache
def replaced(list_name: str) -> dict[str, str]:
    """Older codes of a list read as a current one (code_words.toml [replaced.*]), e.g. F3 -> F5."""
    return dict(_declared().get("replaced", {}).get(list_name, {}))


def coded(value, list_name: str) -> str | None:
    """A code of a list of schemas/codes.toml, written as a code or in words; None when blank.

    Retired codes are kept as written (the validator warns on them); a replaced code becomes
    its current code. Raises NotUnderstood for anything else.
    """
    allowed = [*code_lists.codes(list_name), *code_lists.retired(list_name), *replaced(list_name)]
    out = code(value, allowed, words(list_name))
    return replaced(list_name).get(out, out)


def suitable(value) -> bool | None:
    """Whether a care leaver's accommodation is suitable: 1/2, Suitable/Unsuitable, yes/no; blank is None."""
    key = word_key(value)
    if not key:
        return None
    declared = {word_key(w): bool(v) for w, v in _declared()["accommodation_suitable"].items()}
    if key in declared:
        return declared[key]
    return yes_no(value)


def accommodation(value) -> tuple[str | None, bool | None]:
    """A care leaver's accommodation and whether it is suitable: 903 "K1" -> ("K", True), "K2" ->
    ("K", False), "K" or "U: Independent living" -> (code, None); "0" (no information) -> (None, None).
    """
    body = strip_letter(value)
    if body is None or body == "0":
        return None, None
    allowed = code_lists.codes("care_leaver_accommodation")
    m = re.fullmatch(r"([A-Za-z])\s*([12])", body)
    if m and m.group(1).upper() in allowed:
        return m.group(1).upper(), m.group(2) == "1"
    return code(body, allowed, words("care_leaver_accommodation")), None


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
