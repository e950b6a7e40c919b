"""Cohorts written as `KEY=VALUE` filters (the Patterns cohort builder's), shared by audits and hypotheses."""

from __future__ import annotations

from collections.abc import Iterable


def parse_filters(pairs: Iterable[str], option: str, allowed: Iterable[str], error: type[Exception]) -> dict[str, str]:
    """`key=value` filters -> {key: value}; `error(message)` for a malformed, unknown, repeated or absent filter."""
    allowed = tuple(allowed)
    cohort: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise error(f"{option} takes KEY=VALUE, got {pair!r}")
        if key not in allowed:
            raise error(f"{option}: unknown cohort filter {key!r} (filters: {', '.join(allowed)})")
        if key in cohort:
            raise error(f"{option}: {key} is given twice")
        cohort[key] = value
    if not cohort:
        raise error(f"give the cohort with at least one {option} KEY=VALUE (e.g. team_id=T07)")
    return cohort
