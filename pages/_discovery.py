"""Finding the page files and their PAGE declarations (imported by app.py, so the cache outlives a rerun).

app.py runs afresh as the script on every rerun, so a cache kept in it would be rebuilt each time;
this module is imported once per process, and each page file is read once per version of the file.

The PAGE dict is read without building a Python syntax tree (`ast.parse`, `ast.literal_eval`): on
Python 3.11 building one in two threads at once can fail with "SystemError: AST constructor
recursion depth mismatch" (the counter it checks is shared by the whole interpreter), and every
session's script runs in its own thread. With 20 sessions at once that error reached a page as an
exception box. The declaration's text is found with `tokenize` and compiled straight to bytecode,
which is evaluated only when it names nothing (no names, calls or attributes: constants only).
"""

from __future__ import annotations

import io
import threading
import tokenize
import types
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent

# Parsed PAGE dicts by (path, size, modification time): an edited page file is read again.
_META_CACHE: dict[tuple[str, int, int], dict] = {}
_META_LOCK = threading.Lock()


def page_files() -> list[Path]:
    return sorted(p for p in PAGES_DIR.glob("*.py") if not p.name.startswith("_"))


def page_meta(path: Path) -> dict:
    """The PAGE dict of a page file, read without running the file (once per version of the file)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _META_LOCK:
        meta = _META_CACHE.get(key)
        if meta is None:
            meta = _parse_page_meta(path)
            for old in [k for k in _META_CACHE if k[0] == key[0]]:  # one version per file is kept
                del _META_CACHE[old]
            _META_CACHE[key] = meta
    return dict(meta)  # a copy: a caller may change its own


def _parse_page_meta(path: Path) -> dict:
    source = path.read_text(encoding="utf-8")
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        # `PAGE = {...}` at the top level of the file (column 0).
        if token.type != tokenize.NAME or token.string != "PAGE" or token.start[1] != 0:
            continue
        equals = next(tokens)
        if equals.type != tokenize.OP or equals.string != "=":
            continue
        first = last = next(tokens)
        for token in tokens:
            if token.type == tokenize.NEWLINE:
                break
            if token.type not in (tokenize.NL, tokenize.COMMENT):
                last = token
        return _constant_dict(_source_between(source, first.start, last.end), path)
    raise ValueError(f"{path.name} has no PAGE = {{...}} declaration")


def _source_between(source: str, start: tuple[int, int], end: tuple[int, int]) -> str:
    lines = source.splitlines(keepends=True)[start[0] - 1 : end[0]]
    lines[-1] = lines[-1][: end[1]]
    lines[0] = lines[0][start[1] :]
    return "".join(lines)


def _constant_dict(text: str, path: Path) -> dict:
    """A dict display made only of constants (strings, numbers, lists…), as literal_eval would allow."""
    code = compile(f"(\n{text}\n)", str(path), "eval")  # to bytecode directly: no Python syntax tree is built
    if code.co_names or any(isinstance(c, types.CodeType) for c in code.co_consts):
        raise ValueError(f"{path.name}: PAGE must be written with constants only")
    value = eval(code, {"__builtins__": {}}, {})  # noqa: S307 - constants only, checked above
    if not isinstance(value, dict):
        raise ValueError(f"{path.name}: PAGE must be a dict")
    return value
