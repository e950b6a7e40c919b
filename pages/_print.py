"""Every page printed, or saved as PDF, by the reader's own browser: what the paper holds, and how.

**Paper.** A4 landscape with 12 mm margins: 273 mm (1,032 CSS pixels) of printable width. The pages
are laid out for a wide screen (charts drawn at the width of the main column, columns side by side),
and at 1440 px that column is 980 px wide, so landscape prints it at full size; portrait (186 mm,
703 px) would need every chart shrunk to about 70%. The main column is capped at the printable
width in print, so a browser told to print (or a test emulating print) lays it out as the paper will.

**Charts.** Plotly draws a chart at a fixed size in pixels and a browser does not run the page's
scripts while it lays out a print, so a chart drawn on a wider screen would be cut at the paper's
edge. Just before printing (the `beforeprint` event, which Ctrl+P, the browser's menu, the frame's
print button and headless Chromium's print-to-PDF all fire) the frame's script zooms the main column
by the paper's width over the screen's when the screen's is wider: the printed page is the screen's
layout, scaled to fit; and a chart taller than a sheet is scaled to fit one, rather than being split
across two. After printing both are put back.

**Headings.** A heading is kept on the sheet of what follows it (`break-after: avoid` on its element, and
`break-before: avoid` on the next), so no sheet ends with a section's heading and the section on the next.
Chromium honours this when what follows can break (text, a table); a heading followed straight by a control
it cannot split (a number input) can still be left behind, so a page puts a sentence between the two.
tests/test_browser.py fails on any printed sheet but the last whose last line is one of the page's headings.

**Tables.** Streamlit's data grid (st.dataframe) is drawn on a canvas of the rows in its scroll box,
so printed it would show only those (10 or 20 rows) with nothing to say that more exist. In print the
grid is hidden and a plain table printed in its place (`print_copy`): every row up to PRINT_ROWS,
wrapping to the paper's width, headings repeated on each sheet; a longer table prints its first
PRINT_ROWS rows and a line saying how many there are and where to get them all. It holds exactly the
rows and columns the grid shows (the page's own frame), so printing shows nothing the page does not.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

import polars as pl

PRINT_ROWS = 50  # rows a printed table holds; a longer one says it is cut and where the rest is
PAGE_MARGIN_MM = 12
PRINTABLE_MM = 297 - 2 * PAGE_MARGIN_MM  # A4 landscape
PRINTABLE_PX = PRINTABLE_MM * 96 / 25.4  # CSS pixels, as the browser lays out the paper
PRINTABLE_HEIGHT_PX = (210 - 2 * PAGE_MARGIN_MM) * 96 / 25.4  # a sheet's height for content

PRINT_CSS = f"""
<style>
@media screen {{
  [data-testid="stElementContainer"]:has(.childstat-print-only) {{ display: none !important; }}
}}
@media print {{
  @page {{ size: A4 landscape; margin: {PAGE_MARGIN_MM}mm; }}
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
  [data-testid="stDownloadButton"], [data-testid="stButton"], [data-testid="stFormSubmitButton"],
  [data-testid="stElementToolbar"], [data-testid="stFileUploaderDropzone"],
  [data-testid="stElementContainer"]:has([data-testid="stDataFrame"]), .modebar-container,
  [data-testid="stMain"] button:not([role="tab"]):not([data-testid="stButtonGroup"] button) {{
    display: none !important; }}
  [data-testid="stAppViewContainer"], [data-testid="stMain"] {{
    margin-left: 0 !important; width: 100% !important; overflow: visible !important; }}
  .main .block-container, [data-testid="stMainBlockContainer"] {{
    padding: 0 !important; max-width: {PRINTABLE_MM}mm !important; margin: 0 !important; }}
  [data-testid="stExpander"] details, [data-testid="stPlotlyChart"], [data-testid="stMetric"] {{
    break-inside: avoid; }}
  /* a heading stays on the sheet of what follows it */
  [data-testid="stElementContainer"]:has(:is(h1, h2, h3, h4, [data-testid="stHeading"])) {{ break-after: avoid; }}
  [data-testid="stElementContainer"]:has(:is(h1, h2, h3, h4, [data-testid="stHeading"])) + * {{ break-before: avoid; }}
  .childstat-print-only table {{ width: 100%; border-collapse: collapse; font-size: 9pt; }}
  .childstat-print-only th, .childstat-print-only td {{
    border-bottom: 1px solid #b1b4b6; padding: 2px 6px; text-align: left; vertical-align: top;
    overflow-wrap: break-word; }}
  .childstat-print-only th {{ border-bottom: 2px solid #0b0c0c; }}
  .childstat-print-only td.number {{ text-align: right; white-space: nowrap; }}
  .childstat-print-only thead {{ display: table-header-group; }}
  .childstat-print-only tr {{ break-inside: avoid; }}
  .childstat-print-only p {{ font-size: 9pt; margin: 2px 0 0; }}
}}
</style>
"""

# The frame's "Print or save as PDF" button (in the sidebar, so never printed) and the fit-to-paper
# step run before any print, however it was started. A fixed string: nothing from the page or the data.
PRINT_SCRIPT = f"""
<button type="button" class="childstat-print-button">Print or save as PDF</button>
<style>
.childstat-print-button {{ font: inherit; font-size: 0.875rem; color: #31333f; background: #fff;
  border: 1px solid rgba(49, 51, 63, 0.3); border-radius: 0.5rem; padding: 0.25rem 0.75rem; cursor: pointer; }}
.childstat-print-button:hover {{ border-color: #0b0c0c; }}
</style>
<script>
(() => {{
  document.querySelectorAll("button.childstat-print-button:not([data-bound])").forEach((button) => {{
    button.dataset.bound = "1";
    button.addEventListener("click", () => window.print());
  }});
  if (window.childstatPrintFit) return;
  window.childstatPrintFit = true;
  const printable = {PRINTABLE_PX:.1f}, sheet = {PRINTABLE_HEIGHT_PX:.1f} - 8;
  const block = () => document.querySelector('[data-testid="stMainBlockContainer"]');
  // Each chart's element box: zooming the chart itself would shrink the drawing inside a box still as tall.
  const charts = () => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .map((chart) => chart.closest('[data-testid="stElementContainer"]') || chart);
  window.addEventListener("beforeprint", () => {{
    const main = block();
    if (!main) return;
    const style = getComputedStyle(main);
    const wide = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const scale = Math.min(1, printable / wide);
    if (scale < 1) {{
      main.style.setProperty("width", wide + "px", "important");
      main.style.setProperty("max-width", "none", "important");
      main.style.setProperty("zoom", String(scale));
    }}
    charts().forEach((chart) => {{  // a chart taller than a sheet would be split across two
      const tall = chart.getBoundingClientRect().height * scale;
      if (tall > sheet) chart.style.setProperty("zoom", String(sheet / tall));
    }});
  }});
  window.addEventListener("afterprint", () => {{
    const main = block();
    if (main) ["width", "max-width", "zoom"].forEach((name) => main.style.removeProperty(name));
    charts().forEach((chart) => chart.style.removeProperty("zoom"));
  }});
}})();
</script>
"""


def _printf(value: float, fmt: str) -> str:
    """A number by a column's printf-style format as Streamlit takes it ("%d", "%d%%", "%,.0f")."""
    spec = re.search(r"%(,?)(?:\.(\d+))?([dif])", fmt)
    if spec is None:
        return f"{value:,}"
    if spec.group(3) in "di":  # as the grid's sprintf: the whole part, not rounded
        text = f"{int(value):{spec.group(1)}d}"
    else:
        text = f"{value:{spec.group(1)}.{int(spec.group(2) or 6)}f}"
    return (fmt[: spec.start()] + text + fmt[spec.end() :]).replace("%%", "%")


def cell_text(value, config: dict) -> str:
    """One value as the grid shows it: a date as "7 Apr 2026", a number by its column's format, none as "–"."""
    kind = (config.get("type_config") or {}).get("type")
    fmt = (config.get("type_config") or {}).get("format") or ""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return f"{value.day} {value:%b %Y %H:%M}"
    if isinstance(value, dt.date):
        return (f"{value:%a} " if fmt.startswith("ddd") else "") + f"{value.day} {value:%b %Y}"
    if isinstance(value, int | float) and kind in ("number", "progress") and fmt:
        return _printf(value, fmt)
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{round(value, 4):,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table_html(frame: pl.DataFrame, config: dict, downloads: bool = True) -> str:
    """The frame as a plain table for print: the columns the grid shows under its headings, up to PRINT_ROWS
    rows, and a line when there are more."""
    columns = [c for c in frame.columns if config.get(c, {}) is not None]
    labels = [(config.get(c) or {}).get("label") or c for c in columns]
    numeric = [frame.schema[c].is_numeric() for c in columns]
    head = "".join(f"<th scope='col'>{escape(label)}</th>" for label in labels)
    rows = []
    for row in frame.head(PRINT_ROWS).select(columns).iter_rows():
        cells = (
            f"<td{' class=number' if is_number else ''}>{escape(cell_text(value, config.get(c) or {}))}</td>"
            for c, value, is_number in zip(columns, row, numeric, strict=True)
        )
        rows.append(f"<tr>{''.join(cells)}</tr>")
    note = ""
    if frame.height > PRINT_ROWS:
        where = " Download CSV or Excel on the page has all of them." if downloads else ""
        note = f"<p>Printed: the first {PRINT_ROWS:,} of {frame.height:,} rows.{where}</p>"
    return (
        f"<div class='childstat-print-only'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{note}</div>"
    )


def print_copy(container, frame: pl.DataFrame, config: dict | None = None, downloads: bool = True) -> None:
    """Under a grid: the table as it prints (hidden on screen; the grid is hidden in print). `config` is the
    grid's column settings as `_frame.table_layout` gives them (a dict or None per column)."""
    container.html(table_html(frame, config or {}, downloads))
