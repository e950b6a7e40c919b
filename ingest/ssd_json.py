"""The SSD's JSON columns: outcome flags (contacts, referrals, assessments, S47s) and factor lists.

The SSD writes `{"NFA_FLAG": "Y", "ADVICE_FLAG": "", ...}` for outcomes and `["1A", "3B"]` (or,
planned, `{"1A": "Yes", "3B": "No"}`) for assessment factors. Some exports write the keys without
quotes, as the SSD's own guidance shows them (`{ NFA_FLAG: "", TOTAL_NO_OF_OUTCOMES: , ... }`,
perhaps with a trailing comma), or
a factor list as `['1A', '3B']` or `1A, 3B`: those are read, and the caller reports that the JSON
was not strict. Each reader returns (value, lenient) or raises NotUnderstood.
"""

from __future__ import annotations

import json
import re

from ingest.ssd_tables import CONTACT_OUTCOME_FLAGS, CONTACT_OUTCOME_WORDS
from ingest.values import NotUnderstood, text

BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:")
EMPTY_VALUE = re.compile(r":\s*(?=[,}])")
TRAILING_COMMA = re.compile(r",\s*([}\]])")
SET_WORDS = {"y", "yes", "1", "true", "t"}
UNSET_WORDS = {"", "n", "no", "0", "false", "f", "null", "none"}


def parse(value) -> tuple[object, bool]:
    """The JSON value of a cell (None when blank) and whether it needed lenient reading."""
    raw = text(value)
    if raw is None:
        return None, False
    try:
        return json.loads(raw), False
    except ValueError:
        pass
    fixed = EMPTY_VALUE.sub(": null", BARE_KEY.sub(r'\1"\2":', raw))  # unquoted keys, TOTAL_NO_OF_OUTCOMES: ,
    fixed = TRAILING_COMMA.sub(r"\1", fixed)
    try:
        return json.loads(fixed), True
    except ValueError:
        raise NotUnderstood("not valid JSON") from None


def is_set(value) -> bool:
    """Whether one flag's value says yes; NotUnderstood for a value that is neither yes nor no."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float):
        return value != 0
    word = str(value).strip().lower()
    if word in SET_WORDS:
        return True
    if word in UNSET_WORDS:
        return False
    raise NotUnderstood(f"a flag that is neither yes nor no ({str(value)[:20]!r})")


def flags(value) -> tuple[set[str] | None, bool]:
    """The names (upper case) of the *_FLAG keys set in an outcome JSON object; None when blank."""
    data, lenient = parse(value)
    if data is None:
        return None, lenient
    if not isinstance(data, dict):
        raise NotUnderstood("not a JSON object of outcome flags")
    return {
        str(k).strip().upper() for k, v in data.items() if str(k).strip().upper().endswith("_FLAG") and is_set(v)
    }, lenient


def contact_outcome(value) -> tuple[str | None, bool]:
    """A contact's outcome from its outcome JSON (see ssd_tables.CONTACT_OUTCOME_FLAGS) or outcome words."""
    raw = text(value)
    if raw is None:
        return None, False
    if not raw.startswith(("{", "[")):
        word = raw.lower().rstrip(".")
        if word in CONTACT_OUTCOME_WORDS:
            return CONTACT_OUTCOME_WORDS[word], False
        raise NotUnderstood("not a known contact outcome")
    set_flags, lenient = flags(raw)
    return outcome_of(set_flags), lenient


def outcome_of(set_flags: set[str]) -> str | None:
    """The first outcome of the precedence list whose flag is set; `other` for any other flag; None for none."""
    for outcome, names in CONTACT_OUTCOME_FLAGS:
        if any(name in set_flags for name in names):
            return outcome
    if any(re.search(r"(^|_)(EH|EARLY_HELP)(_|$)", name) for name in set_flags):
        return "early_help"
    return "other" if set_flags else None


def factor_codes(value) -> tuple[list[str] | None, bool]:
    """The factor codes of an assessment factors cell: a JSON list, a JSON object of code: Yes, or a plain list."""
    raw = text(value)
    if raw is None:
        return None, False
    try:
        data, lenient = parse(raw)
    except NotUnderstood:
        data, lenient = _plain_list(raw), True
    if isinstance(data, str | int | float) and not isinstance(data, bool):
        data = [data]  # a JSON string or number: one code
    if isinstance(data, dict):
        return [str(k).strip() for k, v in data.items() if is_set(v)], lenient
    if isinstance(data, list) and all(isinstance(c, str | int | float) and not isinstance(c, bool) for c in data):
        return [str(c).strip() for c in data if str(c).strip()], lenient
    raise NotUnderstood("not a list of factor codes")


def _plain_list(raw: str) -> list[str]:
    """['1A', '3B'] or 1A, 3B or 1A;3B -> ['1A', '3B']; NotUnderstood if the pieces do not look like codes."""
    body = raw.strip().strip("[](){}")
    pieces = [p.strip().strip("'\"").strip() for p in re.split(r"[,;|]|\s+", body) if p.strip().strip("'\"")]
    if not pieces or not all(re.fullmatch(r"[0-9]{1,2}[A-Za-z]?", p) for p in pieces):
        raise NotUnderstood("not valid JSON, nor a list of factor codes")
    return pieces
