"""Imports run in a child process that cannot use more than its share of memory or time.

    outcome = run_limited([("cin-census", Path("work/uploads/CIN.xml"))], Path("work/extract"), Path("work"))

The Import page imports every upload this way, so that a file built to exhaust the server (or
one that is simply too big) is stopped without touching the app. `run_limited` writes the job
to `job.json` in the work folder and starts `python -m ingest.isolated work/job.json`, which:

1. imports the modules the import needs (ChildStat's own code is not the file's fault), and
   takes the zip limits from the job rather than loading the settings' package (ingest.safe_files);
2. limits its own memory to `max_memory_mb` (settings `[imports]`): the data segment
   (RLIMIT_DATA: the heap and every private writable mapping, which is where a file's contents
   end up), not the address space, which the libraries' code and reservations fill to about
   3 GB before any file is read;
3. runs each import into the extract folder, writing which file it is on to `progress.json`;
4. validates the extract and writes the reports and the validation to `result.json`.

Its temporary folder (TMPDIR) is inside the work folder, so whatever it leaves when killed goes
when the caller deletes the work folder.

The parent waits at most `max_seconds` for all of it, then kills the child. A child killed by
the time limit, or that ran out of memory (a MemoryError, a native abort, or an error while at
its limit), gives an outcome whose `refused` says plainly which file needed more than how many
MB or seconds; nothing it wrote is used. Never a traceback: the child's output is discarded.
The limits are applied by the child to itself: `preexec_fn` is unsafe in a threaded server.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

EXIT_DONE, EXIT_OUT_OF_MEMORY, EXIT_FAILED = 0, 3, 4
MB = 1024 * 1024
NEAR_LIMIT_BYTES = 32 * MB  # an error this close to the memory limit is taken to be the limit's doing
# How native code dies of a failed allocation (Rust aborts; the kernel's OOM killer kills); not all exist on Windows.
MEMORY_SIGNALS = {
    getattr(signal, name) for name in ("SIGKILL", "SIGABRT", "SIGSEGV", "SIGBUS") if hasattr(signal, name)
}
CHILD_ENV = {
    "OPENBLAS_NUM_THREADS": "1",  # each OpenBLAS thread reserves a buffer
    "ARROW_DEFAULT_MEMORY_POOL": "system",  # Arrow's own pool reserves 1 GB of address space up front
    "MALLOC_ARENA_MAX": "2",  # glibc reserves 64 MB per thread's arena otherwise
    "POLARS_MAX_THREADS": "2",  # every thread's stack counts against the limit
}
PRELOAD = {  # imported before the limit is set; the validator (pandera, DuckDB) only if there is a result to check
    "cin-census": ["ingest.cin_census"],
    "annex-a": ["ingest.annex_a", "openpyxl"],
    "ssda903": ["ingest.ssda903"],
    "ssd": ["ingest.ssd", "pyarrow.parquet"],
    "always": ["polars", "ingest.merge"],
}
ZIP_LIMITS = ("max_uncompressed_mb", "max_compression_ratio")
REPO_ROOT = Path(__file__).resolve().parent.parent


# --- the parent: the app --------------------------------------------------------------------


def run_limited(
    sources: list[tuple[str, Path]],
    out: Path,
    work: Path,
    private: bool = True,
    la_name: str | None = None,
    max_memory_mb: float | None = None,
    max_seconds: float | None = None,
) -> dict:
    """Import `sources` (format, path) in order into `out` in a limited child; what to show.

    Returns {"reports": [RunReport dicts], "validation": dict or None, "validation_problem":
    str or None, "refused": str or None}; `refused` set means the child was stopped by a limit
    (or failed) and nothing it wrote may be used.
    """
    from queries.settings import setting

    max_memory_mb = setting("max_memory_mb") if max_memory_mb is None else max_memory_mb
    max_seconds = setting("max_seconds") if max_seconds is None else max_seconds
    job = {
        "sources": [[kind, str(path)] for kind, path in sources],
        "out": str(out),
        "private": private,
        "la_name": la_name or None,
        "max_memory_mb": max_memory_mb,
        "zip_limits": {key: setting(key) for key in ZIP_LIMITS},  # the child need not load the settings' package
    }
    job_file = work / "job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    child_temp = work / "tmp"  # the child's temporary files (the validator's spill) go with the work folder,
    child_temp.mkdir(exist_ok=True)  # even when it is killed before it can delete them
    env = os.environ | CHILD_ENV | {"TMPDIR": str(child_temp)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    names = [Path(path).name for _, path in sources]
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ingest.isolated", str(job_file)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # a traceback may quote a value from the file: never shown, never logged
            timeout=max_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        return _refused(work, names, f"took longer than {max_seconds:g} seconds (setting max_seconds)")
    result_file = work / "result.json"
    if done.returncode == EXIT_DONE and result_file.exists():
        return json.loads(result_file.read_text(encoding="utf-8"))
    if done.returncode == EXIT_OUT_OF_MEMORY or -done.returncode in MEMORY_SIGNALS:
        return _refused(work, names, f"needed more than {max_memory_mb:g} MB of memory (setting max_memory_mb)")
    failure = _read_json(work / "failure.json").get("error", f"exit status {done.returncode}")
    return _refused(work, names, None, failure)


def _refused(work: Path, names: list[str], why: str | None, failure: str = "") -> dict:
    """The outcome of a child stopped by a limit (`why`) or failed; names the file it was reading."""
    step = _read_json(work / "progress.json")
    if step.get("step") == "validation":
        who = "The imported extract could not be checked: checking it"
    else:
        current = step.get("source")
        files = [current] if current in names else names
        one = len(files) == 1
        who = f"{' and '.join(files)} {'was' if one else 'were'} refused: importing {'it' if one else 'them'}"
    if why is None:
        message = (
            f"The import stopped unexpectedly ({failure}). Nothing was imported. Please report this with the format "
            "and the error; do not send the file."
        )
    else:
        message = f"{who} {why}. Nothing was imported."
    return {"reports": [], "validation": None, "validation_problem": None, "refused": message}


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# --- the child ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    job_file = Path((argv if argv is not None else sys.argv[1:])[0])
    work = job_file.parent
    job = json.loads(job_file.read_text(encoding="utf-8"))
    for module in PRELOAD["always"] + [m for kind, _ in job["sources"] for m in PRELOAD.get(kind, [])]:
        with contextlib.suppress(ImportError):  # the import itself says what is missing (openpyxl, for Annex A)
            importlib.import_module(module)
    from ingest import safe_files

    safe_files.use_limits(**job["zip_limits"])
    limit = _limit_memory(job["max_memory_mb"])
    try:
        result = _run(job, work, limit)
        _write_json(work / "result.json", result)
        return EXIT_DONE
    except MemoryError:
        os._exit(EXIT_OUT_OF_MEMORY)  # no clean-up: it would need memory
    except Exception as exc:  # noqa: BLE001 - reported by type only: a message may quote the file
        if _near_limit(limit):
            os._exit(EXIT_OUT_OF_MEMORY)
        _write_json(work / "failure.json", {"error": type(exc).__name__})
        return EXIT_FAILED


def _run(job: dict, work: Path, limit: int | None) -> dict:
    from ingest import run_import

    out = Path(job["out"])
    reports = []
    for kind, source in job["sources"]:
        _write_json(work / "progress.json", {"source": Path(source).name})
        report = run_import(kind, source, out, private=job["private"], la_name=job["la_name"])
        if report.error and _near_limit(limit):
            raise MemoryError  # the import failed because it reached the limit, whatever it raised
        reports.append(report.to_dict())
    result = {"reports": reports, "validation": None, "validation_problem": None, "refused": None}
    if any(r["error"] is None for r in reports):
        _write_json(work / "progress.json", {"step": "validation"})
        try:
            from schemas.extract import ExtractError
            from schemas.validate import validate_path

            try:
                result["validation"] = validate_path(out).to_dict()
            except ExtractError as exc:  # the extract's own problem, said for the analyst
                result["validation_problem"] = str(exc)
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - the import is done; say validation could not run
            if _near_limit(limit):
                raise MemoryError from None
            result["validation_problem"] = f"the validator stopped ({type(exc).__name__})"
    return result


def _limit_memory(max_memory_mb: float) -> int | None:
    """Limit this process's data segment to `max_memory_mb`; the limit in bytes, or None if not possible."""
    try:
        import resource
    except ImportError:  # not on Windows: the time limit still applies
        return None
    limit = int(max_memory_mb * MB)
    try:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ValueError, OSError):
        return None
    return limit


def _near_limit(limit: int | None) -> bool:
    if limit is None:
        return False
    try:
        status = Path("/proc/self/status").read_text()
        data_kb = int(status.split("VmData:", 1)[1].split()[0])
    except MemoryError:
        return True  # cannot even look: it is at the limit
    except (OSError, IndexError, ValueError):
        return False  # no /proc (not Linux): only a MemoryError counts
    return data_kb * 1024 + NEAR_LIMIT_BYTES >= limit


def _write_json(path: Path, data: dict) -> None:
    partial = path.with_name(path.name + ".part")
    partial.write_text(json.dumps(data, default=str), encoding="utf-8")
    os.replace(partial, path)


if __name__ == "__main__":
    sys.exit(main())
