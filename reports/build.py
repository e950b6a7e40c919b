"""Building a report for a reader: what it is (About), and the answers it is made of, asked as that reader."""

from __future__ import annotations

import logging

from pages._export import About, extract_version, suppression_rule
from queries.access import Scope
from queries.engine import Engine, QueryError
from queries.models.neighbours import NeighbourFileError
from queries.settings import setting
from reports.board import board_report
from reports.document import Report
from reports.supervision import supervision_report

log = logging.getLogger("childstat")

PAGES = {"board": "board_summary", "supervision": "supervision_pack"}  # the page each report is, whose roles it keeps
KINDS = {
    "board": ("Board summary", "A head of service's headline figures with their trends, England's figures, and each "
              "team's caseload and compliance."),
    "supervision": ("Supervision pack", "One worker's caseload, visits due and overdue, open assessments and the "
                    "compliance items to discuss."),
}  # fmt: skip


def may_have(kind: str, role: str) -> bool:
    """Whether this role may have the report: the roles of its page (PAGE["roles"]), as the navigation decides."""
    from app import page_roles
    from pages._discovery import PAGES_DIR, page_meta

    return role == "admin" or role in page_roles(page_meta(PAGES_DIR / f"{PAGES[kind]}.py"))


def report_about(engine: Engine, role: str, kind: str, signature: str | None = None) -> About:
    title, description = KINDS[kind]
    return About(
        page=title,
        title=title,
        description=description,
        as_of=engine.as_of,
        council=engine.extract.la_name,
        extract_version=extract_version(engine.extract.manifest, signature or engine.extract.signature()),
        suppression=suppression_rule(role, bool(setting("enabled")), setting("threshold"), setting("symbol")),
    )


def build_report(kind: str, ask, about: About, worker: str | None = None, months: int = 12) -> Report:
    """The board summary or a worker's supervision pack, from `ask(question, **params)`."""
    symbol = setting("symbol")
    if kind == "board":
        return board_report(ask, about, months, symbol)
    return supervision_report(ask, about, worker, symbol)


def engine_asker(engine: Engine, scope: Scope | None):
    """ask() for the command line: the engine's answer for this reader, None when refused or failing."""

    def ask(name: str, **params):
        try:
            return engine.run(name, scope=scope, **params)
        except NeighbourFileError as exc:  # about a reference file the council wrote, not the extract: say what
            log.warning("report question %s not answered: %s", name, exc)
            return None
        except QueryError as exc:
            log.warning("report question %s not answered: %s", name, type(exc).__name__)
            return None

    return ask
