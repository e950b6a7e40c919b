"""The registry of named questions: SQL files with a header, and a few Python functions.

A SQL question is `queries/sql/<name>.sql` starting with a comment header:

    -- title: Open cases
    -- description: Children with at least one open referral on as_of.
    --   (an indented line continues the one before)
    -- tables: referrals
    -- optional_tables: cp_plans
    -- param: as_of date = as_of ; the date the figures are judged on
    -- param: team_id str = null ; only this team's referrals
    -- param: cp_visit_working_days int = setting ; from settings.toml

`tables` must all be usable or the question refuses, naming what is wrong;
`optional_tables` are read when usable and are empty otherwise (the page says so).
A default of `as_of` means the extract's as_of date, `setting` the value of the
setting of the same name (`setting:KEY` of another name), `null` no value. `choices:` after the description
restricts a str parameter (`; one of the teams | choices: practice_model, team`).
Parameters reach SQL as `$name`, always bound, never formatted into the text.

Every question also declares who may run it and what in its answer is about children
(queries/disclosure.py applies it; a question without `access` and `roles` is refused to everyone
signed in, and a test fails for it):

    -- access: aggregate                     (or child-level: one row per named child)
    -- roles: analyst, head_of_service, team_manager, social_worker   (admin always may)
    -- counts: referrals, rereferrals          (counts of children or their records; one line per
    --                                          group of counts that add up to shown totals)
    -- comparison_counts: rest_with, rest_n   (counts about children outside the cohort asked for)
    -- derived: rereferral_rate <- rereferrals, referrals ; lift <- cohort_with, rest_with
    -- protection: suppression                (or cell-key: the SQL gives `<count>_ckey` beside each count)
    -- suppress_within: score, group_type     (secondary suppression within blocks of rows, each its own table)

A Python question is a function decorated with `@python_query(...)` in a module
under `queries/models/`; it receives a DuckDB cursor and its parameters.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")
MACRO_DIR = Path(__file__).with_name("macros")
SUMMARY_DIR = Path(__file__).with_name("summaries")
PARAM_TYPES = ("date", "str", "int", "float", "bool")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RegistryError(Exception):
    """A query file or registration is malformed (a developer's mistake, caught by tests)."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str  # literal text, or "as_of", "setting", "null", or "required"
    description: str = ""
    choices: tuple[str, ...] = ()


@dataclass
class Query:
    name: str
    title: str
    description: str
    tables: tuple[str, ...]
    params: tuple[Param, ...]
    optional_tables: tuple[str, ...] = ()
    sql: str | None = None
    function: Callable | None = None
    source: str = ""
    extra: dict = field(default_factory=dict)
    access: str | None = None  # "aggregate" or "child-level"; None: undeclared, refused when signed in
    roles: tuple[str, ...] = ()
    count_groups: tuple[tuple[str, ...], ...] = ()
    comparison_counts: tuple[str, ...] = ()
    derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    protection: str = "suppression"
    suppress_within: tuple[str, ...] = ()  # secondary suppression within blocks of rows sharing these columns
    restat: Callable | None = None  # recomputes derived columns from protected counts (cell-key questions)

    @property
    def counts(self) -> tuple[str, ...]:
        return tuple(c for group in self.count_groups for c in group) + tuple(
            c for c in self.comparison_counts if not any(c in g for g in self.count_groups)
        )

    @property
    def child_level(self) -> bool:
        return self.access == "child-level"

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def parse_param(text: str, where: str) -> Param:
    """`name type = default ; description | choices: a, b`."""
    choices: tuple[str, ...] = ()
    if "|" in text:
        text, _, choice_text = text.partition("|")
        if not choice_text.strip().startswith("choices:"):
            raise RegistryError(f"{where}: expected 'choices:' after '|'")
        choices = tuple(c.strip() for c in choice_text.split(":", 1)[1].split(",") if c.strip())
    head, _, description = text.partition(";")
    match = re.match(r"^\s*([a-z][a-z0-9_]*)\s+(\w+)\s*(?:=\s*(\S+))?\s*$", head)
    if not match:
        raise RegistryError(f"{where}: cannot read parameter {text.strip()!r}")
    name, typ, default = match.group(1), match.group(2), match.group(3) or "required"
    if typ not in PARAM_TYPES:
        raise RegistryError(f"{where}: parameter {name} has unknown type {typ!r}")
    return Param(name, typ, default, description.strip(), choices)


def _names(lines: list[str]) -> tuple[str, ...]:
    return tuple(t.strip() for t in ",".join(lines).split(",") if t.strip())


ACCESS_KINDS = ("aggregate", "child-level")
PROTECTIONS = ("suppression", "cell-key")
DECLARABLE_ROLES = ("analyst", "head_of_service", "team_manager", "social_worker")


def parse_derived(lines, where: str) -> dict[str, tuple[str, ...]]:
    """`rate <- a, b ; other <- c` (one or more lines) -> {"rate": ("a", "b"), "other": ("c",)}."""
    derived: dict[str, tuple[str, ...]] = {}
    for part in (p for line in lines for p in line.split(";")):
        if not part.strip():
            continue
        name, arrow, sources = part.partition("<-")
        if not arrow or not name.strip() or not _names([sources]):
            raise RegistryError(f"{where}: cannot read derived column {part.strip()!r} (write: rate <- count, total)")
        derived[name.strip()] = _names([sources])
    return derived


def disclosure_fields(
    where: str, access, roles, counts, comparison_counts, derived, protection, suppress_within=()
) -> dict:
    """The access and disclosure declaration of a question, checked."""
    if access is not None and access not in ACCESS_KINDS:
        raise RegistryError(f"{where}: access must be one of {', '.join(ACCESS_KINDS)}, not {access!r}")
    unknown = [r for r in roles if r not in DECLARABLE_ROLES]
    if unknown:
        raise RegistryError(f"{where}: unknown role {unknown[0]!r} (roles: {', '.join(DECLARABLE_ROLES)})")
    if protection not in PROTECTIONS:
        raise RegistryError(f"{where}: protection must be one of {', '.join(PROTECTIONS)}, not {protection!r}")
    return {
        "access": access,
        "roles": tuple(roles),
        "count_groups": tuple(tuple(group) for group in counts if group),
        "comparison_counts": tuple(comparison_counts),
        "derived": {k: tuple(v) for k, v in derived.items()},
        "protection": protection,
        "suppress_within": tuple(suppress_within),
    }


def parse_sql_file(path: Path) -> Query:
    """Read a SQL question's header and body."""
    name = path.stem
    if not _NAME.match(name):
        raise RegistryError(f"{path}: query names are snake_case")
    header: dict[str, list[str]] = {}
    last_key = None
    body_lines = []
    in_header = True
    for line in path.read_text(encoding="utf-8").splitlines():
        if in_header and line.startswith("--"):
            content = line[2:]
            match = re.match(r"^ (\w+):\s?(.*)$", content)
            if match:
                last_key = match.group(1)
                header.setdefault(last_key, []).append(match.group(2).strip())
            elif content.startswith("   ") and last_key:
                header[last_key][-1] += " " + content.strip()
            continue
        in_header = False
        body_lines.append(line)
    where = str(path.name)
    for required in ("title", "description"):
        if not header.get(required) or not header[required][0]:
            raise RegistryError(f"{where}: the header needs a {required}")
    tables = _names(header.get("tables", []))
    optional_tables = _names(header.get("optional_tables", []))
    params = tuple(parse_param(p, where) for p in header.get("param", []))
    declaration = disclosure_fields(
        where,
        access=(header.get("access") or [None])[0],
        roles=_names(header.get("roles", [])),
        counts=[_names([line]) for line in header.get("counts", [])],
        comparison_counts=_names(header.get("comparison_counts", [])),
        derived=parse_derived(header.get("derived", []), where),
        protection=(header.get("protection") or ["suppression"])[0],
        suppress_within=_names(header.get("suppress_within", [])),
    )
    return Query(
        name=name,
        title=header["title"][0],
        description=header["description"][0],
        tables=tables,
        optional_tables=optional_tables,
        params=params,
        sql="\n".join(body_lines).strip(),
        source=str(path),
        **declaration,
    )


_PYTHON_QUERIES: dict[str, Query] = {}


def python_query(
    name: str,
    title: str,
    description: str,
    tables: list[str],
    params: list[str] = (),
    optional_tables=(),
    *,
    access: str | None = None,
    roles=(),
    counts=(),
    comparison_counts=(),
    derived: dict | None = None,
    protection: str = "suppression",
    suppress_within=(),
    restat: Callable | None = None,
):
    """Register a Python function as a named question; params use the SQL header's syntax.

    The access and disclosure keywords are the SQL header's (`counts` a list of groups, each a list of
    columns; `derived` {column: [counts it rests on]}; `restat` recomputes derived columns from
    protected counts for a cell-key question).
    """

    def decorate(function: Callable) -> Callable:
        _PYTHON_QUERIES[name] = Query(
            name=name,
            title=title,
            description=description,
            tables=tuple(tables),
            optional_tables=tuple(optional_tables),
            params=tuple(parse_param(p, name) for p in params),
            function=function,
            source=f"{function.__module__}.{function.__qualname__}",
            restat=restat,
            **disclosure_fields(
                name,
                access,
                roles,
                [tuple(g) for g in counts],
                comparison_counts,
                derived or {},
                protection,
                suppress_within,
            ),
        )
        return function

    return decorate


def _import_models() -> None:
    models = importlib.import_module("queries.models")
    for info in pkgutil.iter_modules(models.__path__):
        importlib.import_module(f"queries.models.{info.name}")


_REGISTRY_LOCK = threading.Lock()


@cache
def _all_queries() -> dict[str, Query]:
    found: dict[str, Query] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        query = parse_sql_file(path)
        found[query.name] = query
    _import_models()
    for name, query in _PYTHON_QUERIES.items():
        if name in found:
            raise RegistryError(f"query {name} is defined both as SQL and in Python")
        found[name] = query
    return dict(sorted(found.items()))


def all_queries() -> dict[str, Query]:
    """Every named question, by name, sorted (found once per process, safely across threads)."""
    with _REGISTRY_LOCK:
        return _all_queries()


def in_dependency_order(texts: dict[str, str]) -> list[str]:
    """The names of `texts` ordered so each comes after the others its text names (summaries, macros)."""
    remaining = {name: re.sub(r"--[^\n]*", "", text) for name, text in texts.items()}  # names in comments don't count
    ordered: list[str] = []
    while remaining:
        ready = [
            name
            for name, text in remaining.items()
            if not any(re.search(rf"\b{other}\b", text) for other in remaining if other != name)
        ]
        if not ready:
            raise RegistryError(f"these read each other in a cycle: {', '.join(remaining)}")
        for name in ready:
            ordered.append(name)
            del remaining[name]
    return ordered


@cache
def summaries() -> tuple[Query, ...]:
    """The summary tables (queries/summaries/*.sql: a header like a question's, no parameters),
    each after the summaries its SQL reads, so the engine can build them in this order."""
    found = {q.name: q for q in map(parse_sql_file, sorted(SUMMARY_DIR.glob("*.sql")))}
    ordered = [found[name] for name in in_dependency_order({n: q.sql for n, q in found.items()})]
    for query in ordered:
        if query.params:
            raise RegistryError(f"{query.name}: a summary table has no parameters")
        query.extra["summaries"] = tuple(n for n in found if n != query.name and re.search(rf"\b{n}\b", query.sql))
    return tuple(ordered)


def get_query(name: str) -> Query:
    queries = all_queries()
    if name not in queries:
        raise KeyError(name)
    return queries[name]
