"""Local settings (visit standards, compliance targets, the front door, suppression, the workspace database,
the statistical-neighbour file) from settings.toml.

`CHILDSTAT_SETTINGS` may name another file; any key it leaves out keeps the
default below, so an old settings file never breaks a newer ChildStat.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS_FILE = REPO_ROOT / "settings.toml"

DEFAULTS: dict[str, dict] = {
    "visits": {"cp_visit_working_days": 10, "cin_visit_working_days": 20, "cla_visit_days": 42},
    "caseload": {"national_average_per_fte": 16.0},
    "compliance": {
        "target_visits_in_timescale": 90.0,
        "target_assessment_45wd": 85.0,
        "target_icpc_15wd": 80.0,
        "target_cp_review_timely": 95.0,
        "target_cpp_2_years": 5.0,
        "target_repeat_cpp": 20.0,
        "rag_amber_points": 5.0,
    },
    "front_door": {"contact_referral_days": 30},
    "suppression": {"enabled": True, "threshold": 5, "symbol": "c"},
    "audit": {"audit_path": ""},
    "hosting": {"mode": "local", "allowed_email_domains": [], "allowed_issuers": []},
    "imports": {
        "max_upload_mb": 50,
        "max_uncompressed_mb": 300,
        "max_compression_ratio": 100,
        "max_memory_mb": 1024,
        "max_seconds": 120,
    },
    "cache": {"max_cache_gb": 20.0},
    "workspace": {"workspace_database": ""},
    "reference": {"statistical_neighbours_file": ""},
}


class SettingsError(Exception):
    """The settings file cannot be read or holds a value of the wrong kind."""


@cache
def load_settings(path: str | None = None) -> dict[str, dict]:
    """Defaults overlaid with the settings file; values are type-checked against the defaults."""
    file = Path(path or os.environ.get("CHILDSTAT_SETTINGS") or DEFAULT_SETTINGS_FILE)
    merged = {section: dict(values) for section, values in DEFAULTS.items()}
    if not file.exists():
        return merged
    try:
        with file.open("rb") as f:
            loaded = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {file} is not valid TOML: {exc}") from None
    for section, values in loaded.items():
        if section not in merged or not isinstance(values, dict):
            raise SettingsError(f"settings file {file}: unknown section [{section}]")
        for key, value in values.items():
            if key not in merged[section]:
                raise SettingsError(f"settings file {file}: unknown setting {section}.{key}")
            expected = type(merged[section][key])
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
                raise SettingsError(f"settings file {file}: {section}.{key} must be {expected.__name__}, got {value!r}")
            merged[section][key] = value
    return merged


def setting(key: str, path: str | None = None):
    """One setting by its bare key (keys are unique across sections)."""
    for values in load_settings(path).values():
        if key in values:
            return values[key]
    raise KeyError(key)
