"""Code lists from codes.toml, the one place they are declared."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

_CODES_FILE = Path(__file__).with_name("codes.toml")


@cache
def _load() -> dict:
    with _CODES_FILE.open("rb") as f:
        return tomllib.load(f)


def codes(name: str) -> list[str]:
    """The valid codes of a simple list, e.g. codes('sex') -> ['M', 'F', 'U']."""
    return list(_load()[name]["codes"])


def retired(name: str) -> list[str]:
    """Older codes of a simple list, still met in old records (accepted with a warning), e.g. retired('ssda903_placement')."""
    return list(_load()[name].get("retired", []))


def cin_factor_year(year: int | None = None) -> dict:
    """The CIN factor list in force for a collection year (default: the newest)."""
    years = sorted(int(y) for y in _load()["cin_factor"])
    chosen = max((y for y in years if year is None or y <= year), default=years[0])
    return _load()["cin_factor"][str(chosen)]


def cin_factor_codes(year: int | None = None) -> list[str]:
    return list(cin_factor_year(year)["codes"])


def cin_factor_labels() -> dict[str, str]:
    return dict(_load()["cin_factor_labels"])


def labels(name: str) -> dict[str, str]:
    """Words for the codes of a list, e.g. labels('primary_need')['N1'] -> 'Abuse or neglect'."""
    if name == "cin_factor":
        return cin_factor_labels()
    return dict(_load()["labels"][name])


def all_labels() -> list[tuple[str, str, str]]:
    """(list, code, label) for every labelled code list."""
    names = ["cin_factor", *_load()["labels"]]
    return [(name, code, label) for name in names for code, label in labels(name).items()]
