"""Board summary: a head of service's one page of headline figures, trends and England's, one click to PDF."""

from __future__ import annotations

from pages._frame import opened_engine, page_main
from pages._reports import page_report, pdf_button, show_report
from reports.board import PERIODS

PAGE = {
    "title": "Board summary",
    "icon": ":material/summarize:",
    "roles": ["head_of_service", "analyst", "admin"],
    "order": 5,
    "needs": ["referrals", "cp_plans"],
    "description": "For a head of service to take to a board: the headline figures (open cases, child protection "
    "plans, looked-after children, referrals, re-referrals) with their trend over the period you choose, England's "
    "published figures beside them, each team's caseload and compliance, and the whole summary as a PDF.",
}


def render(container) -> None:
    container.title("Board summary")
    engine = opened_engine(container)
    if engine is None:
        return
    months = container.segmented_control(
        "Period", list(PERIODS), format_func=PERIODS.get, default=12, key="board_months", required=True
    )
    report = page_report(container, engine, "board", months=months or 12)
    pdf_button(container, report, "board_summary")
    show_report(container, report)


if __name__ == "__main__":
    page_main(render)
