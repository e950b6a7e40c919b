"""The audit log: who opened which page, with which filters, and what they downloaded.

JSON lines with a UTC timestamp, appended to the file named by CHILDSTAT_AUDIT_LOG (or
settings `[audit] path`). A hosted instance always keeps one (default childstat-audit.jsonl
in the working folder); local single-user mode keeps one only when a path is set. No
child-level data goes in: child IDs in filters and file names are replaced by a marker.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
from pathlib import Path

from queries.settings import setting

_lock = threading.Lock()
HOSTED_DEFAULT = "childstat-audit.jsonl"
REDACTED = "[child]"
CHILD_KEYS = {"child_id"}


def audit_path(hosted: bool) -> Path | None:
    configured = os.environ.get("CHILDSTAT_AUDIT_LOG") or setting("audit_path")
    if configured:
        return Path(configured)
    return Path(HOSTED_DEFAULT) if hosted else None


def redact(fields: dict, child_ids: set[str] = frozenset()) -> dict:
    """Replace child IDs (by key, or any value that is a known child ID) with a marker."""
    clean = {}
    for key, value in fields.items():
        if key in CHILD_KEYS and value is not None:
            clean[key] = REDACTED
        elif isinstance(value, dict):
            clean[key] = redact(value, child_ids)
        elif isinstance(value, str) and child_ids and value in child_ids:
            clean[key] = REDACTED
        elif isinstance(value, dt.date):
            clean[key] = value.isoformat()
        else:
            clean[key] = value
    return clean


def strip_child_from_file_name(file_name: str) -> str:
    """'chronology_C0001234.csv' -> 'chronology_[child].csv' (downloads named after a child)."""
    return re.sub(r"(chronology|child)_[^.]+", rf"\1_{REDACTED}", file_name)


def record(event: str, user: str, role: str, hosted: bool, **fields) -> None:
    """Append one event; never raises (an audit failure is reported to the server log only)."""
    path = audit_path(hosted)
    if path is None:
        return
    entry = {"ts": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "event": event, "user": user, "role": role}
    entry |= redact(fields)
    line = json.dumps(entry, default=str, sort_keys=False)
    try:
        with _lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
    except OSError as exc:
        import logging

        logging.getLogger("childstat").error("audit log not written: %s", type(exc).__name__)
