"""The cache folder: private files for the copies ChildStat keeps of an extract, and their pruning.

The query database of a large extract (queries/engine.py) and the cached validation report
(schemas/validate.py) hold child-level data (child IDs, birth dates, ethnicity), so everything
ChildStat writes in its cache folder ($CHILDSTAT_CACHE, else ~/.cache/childstat) is private to the
user running it, from the moment it exists (never created readable and tightened afterwards):

- `private_folder(path)`: a folder made 0700 (with any missing parents), or an existing one tightened
  to 0700; a folder of another user's, or a shared one (sticky bit, like /tmp), is refused;
- `private_write(path, data)`: a file written 0600 through a temporary file renamed into place;
- `private_append(path, line)`: one line appended to a 0600 file (the audit log), missing parent
  folders made 0700;
- `tighten(path)`: an existing file made 0600.

Both writers import this module; it imports nothing from queries/ except its settings (the cache
size), and those only when pruning.

`prune(folder, keep)` removes what is no longer worth keeping: a copy whose extract folder is gone
or whose files have changed since (each database has a small sidecar, `<database>.json`, naming
its extract; a report names it inside), then the least recently used copies until the folder is
under the `max_cache_gb` setting. Never the copy being opened (`keep`), never a database this
process holds (`hold`) or another process has open (DuckDB locks the file), and a file that
vanishes meanwhile is no error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from schemas.extract import Extract, find_tables

try:
    import fcntl
except ImportError:  # Windows: a file open elsewhere cannot be removed anyway
    fcntl = None

FOLDER_MODE = 0o700
FILE_MODE = 0o600
POSIX = os.name == "posix"
SIDECAR_SUFFIX = ".json"  # <name>.duckdb -> <name>.duckdb.json: which extract the database copies
REPORT_PREFIX = "validation-"
GB = 10**9

_lock = threading.Lock()  # the databases this process holds, and removing one
_held: Counter[Path] = Counter()


def cache_folder(extract: Extract, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where cached copies go: cache_dir, else $CHILDSTAT_CACHE, else ~/.cache/childstat; never the extract."""
    folder = Path(cache_dir or os.environ.get("CHILDSTAT_CACHE") or Path.home() / ".cache" / "childstat")
    folder = folder.expanduser().resolve()
    inside = extract.path.resolve()
    if folder == inside or inside in folder.parents:
        raise ValueError(f"the cache folder {folder} is inside the extract; the extract is never written to")
    return folder


def open_cache_folder(extract: Extract, cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder (see `cache_folder`), made or tightened to 0700; OSError if it cannot be."""
    return private_folder(cache_folder(extract, cache_dir))


# --- Private folders and files ----------------------------------------------------------------


def private_folder(path: str | os.PathLike) -> Path:
    """`path` as a folder only this user can open (0700): made so, with any missing parents, or tightened.

    Raises OSError when it cannot be made, or is shared: another user's folder, or one with the
    sticky bit (/tmp), is never changed; give ChildStat a folder of its own.
    """
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile: checked below
            folder.mkdir(mode=FOLDER_MODE)
    info = path.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(f"{path} is not a folder")
    if POSIX:
        if info.st_uid != os.geteuid() or info.st_mode & stat.S_ISVTX:
            raise PermissionError(
                f"{path} is shared with other users; ChildStat keeps its copies in a folder of its own"
            )
        if stat.S_IMODE(info.st_mode) != FOLDER_MODE:
            os.chmod(path, FOLDER_MODE)
    return path


def tighten(path: str | os.PathLike) -> None:
    """An existing file made 0600 (readable and writable by this user only)."""
    if POSIX and stat.S_IMODE(os.stat(path).st_mode) != FILE_MODE:
        os.chmod(path, FILE_MODE)


def _open_private(path: Path, flags: int) -> int:
    """os.open with mode 0600 (the umask can only narrow it; fchmod makes it exact); never through a symlink."""
    fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        if POSIX and stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def private_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write a whole file, 0600, through a temporary file renamed into place (a reader sees all or nothing)."""
    path = Path(path)
    content = data.encode("utf-8") if isinstance(data, str) else data
    partial = path.with_name(f"{path.name}.writing-{os.getpid()}-{threading.get_ident()}")
    partial.unlink(missing_ok=True)  # left by a crashed writer with this process and thread id
    try:
        with os.fdopen(_open_private(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "wb") as file:
            file.write(content)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def private_empty_file(path: str | os.PathLike) -> Path:
    """A new empty 0600 file (FileExistsError if there is one), for a program that then writes into it."""
    os.close(_open_private(Path(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL))
    return Path(path)


def private_append(path: str | os.PathLike, line: str) -> None:
    """Append one line (a newline is added if missing) to a 0600 file, in one write.

    Missing parent folders are made 0700. An existing parent folder keeps its mode (it may be the
    app's working folder); the file is made, or tightened to, 0600 whatever the folder.
    """
    path = Path(path)
    if not path.parent.exists():
        private_folder(path.parent)
    data = (line if line.endswith("\n") else line + "\n").encode("utf-8")
    fd = _open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


# --- Which extract a copy was made from ---------------------------------------------------------


def extract_source(extract: Extract) -> dict:
    """What a cached copy records about its extract, for `prune` to tell whether it is still current.

    The folder as the app names it (absolute, symlinks kept: after `ln -sfn new extract`, copies
    of the old target count as changed) and a hash of its files as `prune` will see them.
    """
    folder = os.path.abspath(extract.path)
    return {"extract": folder, "signature": _current_signature(folder)}


def _signature_hash(signature: str) -> str:
    return hashlib.sha256(signature.encode()).hexdigest()[:20]


def _current_signature(folder: str) -> str | None:
    """The signature hash of the extract now at `folder` (None: no folder); as Extract.signature, unread."""
    path = Path(folder)
    if not path.is_dir():
        return None
    tables, _ = find_tables(path)
    return _signature_hash(Extract(path, {}, tables, None, "").signature())


def sidecar(database: Path) -> Path:
    return database.with_name(database.name + SIDECAR_SUFFIX)


def record_database(database: Path, extract: Extract) -> None:
    """Note which extract a cached database copies (its 0600 sidecar), and that it was used now."""
    side = sidecar(database)
    source = extract_source(extract)
    try:
        current = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        current = None
    if current != source:
        private_write(side, json.dumps(source))
    else:
        tighten(side)
        os.utime(side)  # last used: now (the size limit removes the least recently used first)


# --- Databases in use -------------------------------------------------------------------------


def hold(database: Path) -> None:
    """This process has the database open: `prune` leaves it alone until `release`."""
    with _lock:
        _held[Path(database)] += 1


def release(database: Path) -> None:
    with _lock:
        _held[Path(database)] -= 1
        if _held[Path(database)] <= 0:
            del _held[Path(database)]


def _open_elsewhere(database: Path) -> bool:
    """Another process has the database open (DuckDB holds a lock on it while it does)."""
    if fcntl is None:
        return False
    try:
        fd = os.open(database, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot even look: leave it
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # this process holds no lock of its own on it (it is not held), so none is lost
    return False


def remove_database(database: Path) -> bool:
    """Remove a cached database with its sidecar and leftover WAL, unless it is open; False if it is."""
    with _lock:
        if database in _held or _open_elsewhere(database):
            return False
        try:
            database.unlink(missing_ok=True)
        except OSError:
            return False  # e.g. open elsewhere on Windows, which refuses to remove an open file
        for file in (Path(f"{database}.wal"), sidecar(database)):
            with contextlib.suppress(OSError):
                file.unlink(missing_ok=True)
    return True


# --- Pruning ----------------------------------------------------------------------------------


@dataclass
class _Copy:
    path: Path  # the database or the report
    size: int  # bytes, with the sidecar
    used: float  # last used (modification time of the sidecar, else of the file)
    source: dict | None  # extract_source(), None when unknown (written by an older ChildStat)

    @property
    def is_database(self) -> bool:
        return self.path.suffix == ".duckdb"


def max_cache_bytes() -> int | None:
    """The `max_cache_gb` setting in bytes; None for no limit (0 or less)."""
    from queries.settings import setting  # a leaf module (no engine): the one place settings are read

    limit = float(setting("max_cache_gb"))
    return int(limit * GB) if limit > 0 else None


def prune(folder: Path, keep: Iterable[Path], max_bytes: int | None) -> list[Path]:
    """Remove stale cached copies, then the least recently used beyond `max_bytes`; what was removed.

    Stale: its extract folder no longer exists or its files have changed since it was made.
    `max_bytes` None: no size limit (see `max_cache_bytes`). Files are tightened to 0600 on the way.
    """
    keep = {Path(p) for p in keep}
    copies = _cached_copies(folder)
    removed: list[Path] = []
    signatures: dict[str, str | None] = {}
    for copy in list(copies):
        if copy.path in keep or copy.source is None:
            continue
        extract = str(copy.source.get("extract"))
        if extract not in signatures:
            try:
                signatures[extract] = _current_signature(extract)
            except OSError:
                continue  # cannot look (permissions, a flaky mount): not known to be stale
        if signatures[extract] != copy.source.get("signature") and _remove(copy):
            removed.append(copy.path)
            copies.remove(copy)
    total = sum(c.size for c in copies)
    if max_bytes is not None:
        for copy in sorted(copies, key=lambda c: c.used):
            if total <= max_bytes:
                break
            if copy.path not in keep and _remove(copy):
                removed.append(copy.path)
                total -= copy.size
    _remove_leftovers(folder)
    return removed


def _remove(copy: _Copy) -> bool:
    if copy.is_database:
        return remove_database(copy.path)
    with contextlib.suppress(FileNotFoundError):
        copy.path.unlink()
    return True


def _cached_copies(folder: Path) -> list[_Copy]:
    """The databases and reports in the folder (a file that vanishes while listing is skipped)."""
    copies = []
    for entry in _listing(folder):
        name = entry.name
        try:
            if name.endswith(".duckdb") and entry.is_file(follow_symlinks=False):
                copies.append(_database_copy(Path(entry.path)))
            elif name.startswith(REPORT_PREFIX) and name.endswith(".json") and entry.is_file(follow_symlinks=False):
                copies.append(_report_copy(Path(entry.path)))
            elif name.endswith(".duckdb" + SIDECAR_SUFFIX) and not Path(entry.path[: -len(SIDECAR_SUFFIX)]).exists():
                Path(entry.path).unlink()  # its database is gone
        except FileNotFoundError:
            continue
    return copies


def _database_copy(database: Path) -> _Copy:
    info = database.stat()
    tighten(database)
    side = sidecar(database)
    try:
        side_info = side.stat()
        tighten(side)
        source = json.loads(side.read_text(encoding="utf-8"))
        return _Copy(database, info.st_size + side_info.st_size, side_info.st_mtime, source)
    except (OSError, ValueError):
        return _Copy(database, info.st_size, info.st_mtime, None)


def _report_copy(report: Path) -> _Copy:
    info = report.stat()
    tighten(report)
    try:
        source = json.loads(report.read_text(encoding="utf-8")).get("source")
    except (OSError, ValueError, AttributeError):
        source = None
    return _Copy(report, info.st_size, info.st_mtime, source if isinstance(source, dict) else None)


def _listing(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return list(entries)
    except FileNotFoundError:
        return []


def _remove_leftovers(folder: Path) -> None:
    """Temporary files (`.building-<pid>-<thread>`, `.writing-…`) of a process that has died."""
    for entry in _listing(folder):
        for marker in (".building-", ".writing-"):
            if marker not in entry.name:
                continue
            pid = entry.name.split(marker, 1)[1].split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    Path(entry.path).unlink()


def _alive(pid: int) -> bool:
    if not POSIX:
        return True  # os.kill would end the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def touch(path: Path) -> None:
    """Mark a cached copy used now (the size limit removes the least recently used first)."""
    with contextlib.suppress(OSError):
        os.utime(path)
