"""The audit log: who signed in (or was turned away), which page they opened, which question they
asked with which filters and which scope, what was refused, and what they downloaded.

JSON lines with a UTC timestamp, appended to the file named by CHILDSTAT_AUDIT_LOG (or settings
`[audit] audit_path`). A hosted instance always keeps one (default childstat-audit.jsonl in the
working folder); local single-user mode keeps one only when a path is set. The log and a folder
it creates are private to the service user (0600 / 0700).

Child IDs never appear in it as they are: each becomes `child:` and the first 32 hex digits of
HMAC-SHA256(audit key, child ID), in filters (at any depth) and in file names alike, so the log
can answer "who looked at this child?" for someone who holds the key
(`python -m pages._audit who-viewed CHILD_ID`) and nobody else. The key is CHILDSTAT_AUDIT_KEY,
else secrets `[childstat] audit_key`; a hosted instance without one serves nothing (pages/_hosting.py).
Locally a key is made once and kept in `audit.key` (0600) in the cache folder.

A hosted instance that cannot write an event raises AuditWriteError, so the page stops before
anything that was not recorded is shown; locally the failure goes to the server log only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from queries.settings import setting

log = logging.getLogger("childstat")
_lock = threading.Lock()
HOSTED_DEFAULT = "childstat-audit.jsonl"
CHILD_KEYS = {"child_id", "child_ids"}
FILE_KEYS = {"file", "file_name"}
HASH_PREFIX = "child:"
HASH_HEX_DIGITS = 32
KEY_FILE = "audit.key"
KEY_ENV = "CHILDSTAT_AUDIT_KEY"
MIN_KEY_LENGTH = 16
# A download named after a child: ..._chronology_<id>.csv, child_<id>.json. The ID runs to the
# extension (it may itself hold dots), or to the extract's date that a table's download ends with
# (chronology_<id>_2026-03-31.csv), which is kept so the hash is the ID's alone; an ID already hashed
# is left as it is.
_CHILD_FILE = re.compile(
    r"(?P<head>(?:^|.*?_)(?:chronology|child)_)(?!child:)(?P<id>.+?)(?P<as_of>_\d{4}-\d{2}-\d{2})?"
    r"(?P<ext>\.(?:csv|json|zip|xlsx|txt|parquet|pdf|png))?$",
    re.IGNORECASE,
)
_EPHEMERAL_KEY = secrets.token_bytes(32)  # hashes nobody will read (local mode with no log)


class AuditWriteError(Exception):
    """A hosted instance could not record an event: the page must stop (the message is safe to show)."""


class AuditKeyMissing(AuditWriteError):
    """No audit key where one is required."""


def audit_path(hosted: bool) -> Path | None:
    configured = os.environ.get("CHILDSTAT_AUDIT_LOG") or setting("audit_path")
    if configured:
        return Path(configured)
    return Path(HOSTED_DEFAULT) if hosted else None


def cache_dir() -> Path:
    return Path(os.environ.get("CHILDSTAT_CACHE") or Path.home() / ".cache" / "childstat")


# --- private files (another helper will replace these two) ---------------------------------------


def _private_folder(folder: Path) -> None:
    """Create the folder 0700 if it is missing (an existing folder is left as it is)."""
    if not folder.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def _append_private(path: Path, text: str) -> None:
    """Append to a file that is created 0600 (never world- or group-readable, whatever the umask).

    One write(2) per line on a file opened O_APPEND: several server processes appending at once each
    land whole lines at the end (tests/test_deploy.py), on a local disk (not NFS; docs/deploy.md).
    A write cut short (a full disk) is an error, not a line silently recorded in part.
    """
    _private_folder(path.parent)
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.write(fd, data) != len(data):
            raise OSError("the audit line was written in part")
    finally:
        os.close(fd)


# --- the key -----------------------------------------------------------------------------------


def configured_key(secrets_dict: Mapping | None) -> bytes | None:
    """CHILDSTAT_AUDIT_KEY, else secrets `[childstat] audit_key`; None if neither is set."""
    value = os.environ.get(KEY_ENV, "").strip()
    if not value and secrets_dict is not None:
        section = secrets_dict.get("childstat")
        candidate = section.get("audit_key") if isinstance(section, Mapping) else None
        value = candidate.strip() if isinstance(candidate, str) else ""
    return value.encode("utf-8") if value else None


def local_key(create: bool = True) -> bytes | None:
    """The local-mode key in <cache>/audit.key, made once (0600) when `create`; None if absent."""
    path = cache_dir() / KEY_FILE
    if not path.exists():
        if not create:
            return None
        _private_folder(path.parent)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another session made it first
        else:
            try:
                os.write(fd, secrets.token_hex(32).encode())
            finally:
                os.close(fd)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def _secrets_dict() -> Mapping | None:
    try:
        import streamlit as st

        return st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - no secrets (or unreadable ones): no key from there
        return None


def current_key(hosted: bool) -> bytes:
    """The key for this instance: configured, else (locally) the key file; hosted without one raises."""
    key = configured_key(_secrets_dict())
    if key:
        return key
    if hosted:
        raise AuditKeyMissing("no audit key is configured")
    if audit_path(False) is None:
        return _EPHEMERAL_KEY  # nothing is written, so the hash is never read
    return local_key()


def child_token(child_id, key: bytes) -> str:
    digest = hmac.new(key, str(child_id).encode("utf-8"), hashlib.sha256).hexdigest()
    return HASH_PREFIX + digest[:HASH_HEX_DIGITS]


# --- redaction ---------------------------------------------------------------------------------


class _LazyKey:
    """The key, looked up only if an event holds a child ID (so most events need none)."""

    def __init__(self, source: Callable[[], bytes]):
        self.source, self.key = source, None

    def __call__(self) -> bytes:
        if self.key is None:
            self.key = self.source()
        return self.key


def _hash_ids(value, key: Callable[[], bytes]):
    if value is None:
        return None
    if isinstance(value, list | tuple | set | frozenset):
        return [_hash_ids(v, key) for v in value]
    if isinstance(value, str) and value.startswith(HASH_PREFIX):
        return value
    return child_token(value, key())


def _clean(value, key: Callable[[], bytes], child_ids: frozenset):
    if isinstance(value, Mapping):
        return redact(value, key, child_ids)
    if isinstance(value, list | tuple):
        return [_clean(v, key, child_ids) for v in value]
    if isinstance(value, str) and value in child_ids:
        return child_token(value, key())
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def redact(fields: Mapping, key: bytes | Callable[[], bytes], child_ids=frozenset()) -> dict:
    """Child IDs (under a child key at any depth, in a file name, or any value that is a known child
    ID) become their keyed hash; dates become ISO text."""
    key_of = key if callable(key) else (lambda: key)
    ids = frozenset(child_ids)
    clean = {}
    for name, value in fields.items():
        if name in CHILD_KEYS:
            clean[name] = _hash_ids(value, key_of)
        elif name in FILE_KEYS and isinstance(value, str):
            clean[name] = strip_child_from_file_name(value, key_of)
        else:
            clean[name] = _clean(value, key_of, ids)
    return clean


def strip_child_from_file_name(file_name: str, key: bytes | Callable[[], bytes] | None = None) -> str:
    """'chronology_C.1.2.csv' -> 'chronology_child:3f…9a.csv': the whole ID (dots and all) hashed.

    Without a key, this instance's key (current_key) is used.
    """
    match = _CHILD_FILE.match(file_name)
    if not match:
        return file_name
    if key is None:
        from pages._hosting import hosting

        config = hosting()
        key = _LazyKey(lambda: current_key(config.hosted or config.broken))
    key_of = key if callable(key) else (lambda: key)
    return f"{match['head']}{child_token(match['id'], key_of())}{match['as_of'] or ''}{match['ext'] or ''}"


# --- writing -----------------------------------------------------------------------------------


def record(event: str, user: str, role: str, hosted: bool, key: bytes | None = None, **fields) -> None:
    """Append one event. Hosted: a failure raises AuditWriteError; local: it is logged and ignored."""
    path = audit_path(hosted)
    if path is None:
        return
    try:
        lazy_key = _LazyKey((lambda: key) if key else (lambda: current_key(hosted)))
        entry = {"ts": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "event": event, "user": user}
        entry |= {"role": role} | redact(fields, lazy_key)
        line = json.dumps(entry, default=str, sort_keys=False)
        with _lock:
            _append_private(path, line + "\n")
    except (OSError, AuditKeyMissing) as exc:
        log.error("audit log not written (%s event): %s", event, type(exc).__name__)
        if hosted:
            raise AuditWriteError("the audit log cannot be written") from None


# --- reading: who looked at this child? ---------------------------------------------------------


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def events_about(child_id: str, log_path: Path, key: bytes) -> tuple[list[dict], int]:
    """Every event in the log that names this child (by its hash), and how many lines were unreadable."""
    token = child_token(child_id, key)
    found, unreadable = [], 0
    with log_path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                unreadable += 1
                continue
            if isinstance(entry, dict) and any(token in text for text in _strings(entry)):
                found.append(entry)
    return found, unreadable


def describe(entry: dict) -> str:
    what = entry.get("event", "?")
    if entry.get("query"):
        what += f" {entry['query']}"
    if entry.get("file"):
        what += f" {entry['file']}"
    if entry.get("reason"):
        what += f" ({entry['reason']})"
    return "  ".join(
        [str(entry.get("ts", "?")), str(entry.get("user", "?")), str(entry.get("role", "?")),
         f"page: {entry.get('page') or '-'}", what]
    )  # fmt: skip


def _key_for_cli(secrets_file: str | None) -> bytes | None:
    if secrets_file:
        with open(secrets_file, "rb") as f:
            secrets_dict = tomllib.load(f)
    else:
        secrets_dict = _secrets_dict()
    return configured_key(secrets_dict) or local_key(create=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pages._audit", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    who = commands.add_parser("who-viewed", help="who looked at this child, when, on which page")
    who.add_argument("child_id")
    who.add_argument("--log", help="the audit log (default: CHILDSTAT_AUDIT_LOG, settings, childstat-audit.jsonl)")
    who.add_argument("--secrets", help="a secrets.toml holding [childstat] audit_key (default: Streamlit's own)")
    args = parser.parse_args(argv)
    log_path = Path(args.log) if args.log else audit_path(True)
    if not log_path.exists():
        print(f"No audit log at {log_path}.", file=sys.stderr)
        return 2
    try:
        key = _key_for_cli(args.secrets)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        print(f"Cannot read the secrets file: {type(exc).__name__}.", file=sys.stderr)
        return 2
    if not key:
        print(
            f"No audit key: set {KEY_ENV}, or [childstat] audit_key in secrets.toml (--secrets), "
            f"or run where the local key ({cache_dir() / KEY_FILE}) is.",
            file=sys.stderr,
        )
        return 2
    found, unreadable = events_about(args.child_id, log_path, key)
    print(f"Child {args.child_id} ({child_token(args.child_id, key)}) in {log_path}:")
    for entry in found:
        print(describe(entry))
    people = sorted({str(e.get("user")) for e in found})
    print(f"{len(found)} events by {len(people)} {'person' if len(people) == 1 else 'people'}: {', '.join(people)}"
          if found else "Nobody looked at this child in this log.")  # fmt: skip
    if unreadable:
        print(f"({unreadable} unreadable lines skipped)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
