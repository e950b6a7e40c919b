"""What the report pages share: a report built from the page's own questions, drawn, and one click to PDF."""

from __future__ import annotations

from pages._export import file_name
from pages._frame import audited_download, current_scope, run, show_table
from reports.build import build_report, report_about
from reports.document import Report, draw
from reports.pdf import pdf_bytes


def page_report(container, engine, kind: str, worker: str | None = None, months: int = 12) -> Report:
    """The report as this reader gets it: every question through the page's `run` (audited, scoped, protected)."""
    scope = current_scope()
    about = report_about(engine, scope.role if scope else "none", kind)
    return build_report(kind, lambda name, **params: run(name, container, **params), about, worker, months)


def pdf_button(container, report: Report, stem: str) -> None:
    """One click to the PDF of exactly what the page shows (made when clicked: Chromium takes a few seconds),
    named by the report's choices (period, worker) as its tables' downloads are."""
    name = file_name(stem, report.about.filters, report.about.as_of, "pdf")
    container.download_button(
        "Download PDF",
        audited_download(name, 0, lambda: pdf_bytes(report.html())),
        file_name=name,
        mime="application/pdf",
        key=f"download_pdf_{stem}",
        icon=":material/picture_as_pdf:",
        type="primary",
    )


def show_report(container, report: Report) -> None:
    draw(report, container, show_table)
    container.caption(" · ".join(f"{k}: {v}" for k, v in report.about.rows()[2:]))
