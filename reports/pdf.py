"""A report's HTML printed to PDF by headless Chromium (Debian's /usr/bin/chromium, as the browser test uses).

Why Chromium and not a PDF library: the charts are Plotly figures, which only a browser draws as they
look on the page (a library would need every chart redrawn another way, or kaleido, which downloads
its own Chromium); the tables wrap and repeat their headers across pages by CSS; and the same
Chromium already runs the browser test in CI. docs/reports.md has the rest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = os.environ.get("CHILDSTAT_CHROMIUM", "/usr/bin/chromium")
# How ChildStat runs Chromium headless, here and in the browser test (tests/test_browser.py)
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FLAGS = [
    *BROWSER_FLAGS,
    "--no-pdf-header-footer",
    "--virtual-time-budget=15000",  # let plotly.js draw every chart before the page is printed
]
TIMEOUT_S = 120


class ReportError(Exception):
    """The PDF could not be made; the message is safe to show."""


def pdf_bytes(html: str) -> bytes:
    """The HTML printed to an A4 PDF (the page size is the HTML's print CSS)."""
    browser = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if browser is None:
        raise ReportError(f"making a PDF needs Chromium, and there is none at {CHROMIUM} (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="childstat-report-") as folder:
        page, out = Path(folder) / "report.html", Path(folder) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [browser, *FLAGS, f"--user-data-dir={folder}/profile", f"--print-to-pdf={out}", page.as_uri()]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish printing the report within {TIMEOUT_S} seconds") from None
        if not out.exists() or not out.read_bytes().startswith(b"%PDF"):
            raise ReportError("Chromium did not print the report (see the server log)")
        return out.read_bytes()
