"""A report as blocks (headings, words, figures, tables, charts) that a page draws and a PDF prints.

The same blocks go to Streamlit (`draw`) and to one self-contained HTML file (`html`): plotly.js is
inlined from the installed plotly package, so the file needs no network, and the print CSS lays it
out on A4 portrait with every chart drawn at the printable width, so nothing is clipped.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from dataclasses import dataclass, field

import plotly.graph_objects as go
import polars as pl

from pages._export import About

PRINT_WIDTH_PX = 680  # A4 portrait less 15 mm margins, at 96 px to the inch


@dataclass
class Figure:
    label: str
    value: str
    note: str = ""


@dataclass
class Block:
    kind: str  # heading, text, note, figures, table, chart
    text: str = ""
    figures: list[Figure] = field(default_factory=list)
    frame: pl.DataFrame | None = None
    chart: go.Figure | None = None
    file_stem: str = ""
    question: str | None = None


@dataclass
class Report:
    """What a report says, in order; `about` says what it is (the PDF's header and a download's About sheet)."""

    title: str
    about: About
    blocks: list[Block] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(Block("heading", text))

    def text(self, text: str) -> None:
        self.blocks.append(Block("text", text))

    def note(self, text: str) -> None:
        self.blocks.append(Block("note", text))

    def figures(self, figures: list[Figure]) -> None:
        self.blocks.append(Block("figures", figures=figures))

    def table(self, frame: pl.DataFrame, file_stem: str, question: str) -> None:
        """A table, and the question whose answer it is (a download's About sheet says so)."""
        self.blocks.append(Block("table", frame=frame, file_stem=file_stem, question=question))

    def chart(self, chart: go.Figure, alt: str) -> None:
        """A chart, and the sentence that says what it shows (for a screen reader, and under the printed chart)."""
        self.blocks.append(Block("chart", text=alt, chart=chart))

    def searchable_text(self) -> str:
        """Every word and figure the report shows (tests check these against the questions' answers)."""
        parts = [self.title]
        for block in self.blocks:
            parts.append(block.text)
            parts += [f"{f.label} {f.value} {f.note}" for f in block.figures]
            if block.frame is not None:
                parts.append(" ".join(block.frame.columns))
                parts += [" ".join("" if v is None else str(v) for v in row) for row in block.frame.rows()]
        return "\n".join(p for p in parts if p)

    def html(self) -> str:
        return to_html(self)


def count_text(value, symbol: str) -> str:
    """A count as the pages show it: thousands separated; one the engine hid as the symbol."""
    return symbol if value is None else f"{value:,}"


def share_text(value, symbol: str) -> str:
    """A share (0–1) as a whole percentage; one the engine hid as the symbol."""
    return symbol if value is None else f"{value:.0%}"


FIGURE_TEXT = re.compile(r"^(£?-?[\d,]+(\.\d+)?%?|[a-z]|–)$")  # a figure shown as text, or the hidden symbol


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, dt.date):
        return f"{value:%-d %b %Y}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table_html(frame: pl.DataFrame) -> str:
    head = "".join(f"<th scope='col'>{htmllib.escape(c)}</th>" for c in frame.columns)
    rows = []
    for row in frame.rows():
        texts = [_cell(v) for v in row]
        cells = "".join(
            f"<td class='{'num' if FIGURE_TEXT.match(t) else ('day' if isinstance(v, dt.date) else '')}'>"
            f"{htmllib.escape(t)}</td>"
            for v, t in zip(row, texts, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


PRINT_CSS = """
@page { size: A4 portrait; margin: 15mm 15mm 18mm 15mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt; color: #1b1b1b;
       margin: 0 auto; max-width: 180mm; }
h1 { font-size: 17pt; margin: 0 0 2mm; }
h2 { font-size: 12.5pt; margin: 6mm 0 2mm; border-bottom: 1px solid #555; break-after: avoid; }
p { margin: 1mm 0 2mm; }
.about { font-size: 8.5pt; color: #333; border: 1px solid #999; padding: 2mm 3mm; margin-bottom: 4mm; }
.about dt { font-weight: bold; float: left; width: 32mm; clear: left; }
.about dd { margin: 0 0 0.6mm 33mm; }
.note { font-size: 8.5pt; color: #333; }
.figures { display: flex; flex-wrap: wrap; gap: 2mm; margin: 2mm 0; }
.figure { border: 1px solid #999; padding: 2mm; flex: 1 1 0; min-width: 30mm; break-inside: avoid; }
.figure .label { font-size: 8.5pt; }
.figure .value { font-size: 15pt; font-weight: bold; }
.figure .sub { font-size: 8pt; color: #333; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; margin: 1mm 0 3mm; }
th, td { border: 1px solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
th { background: #eee; }
td.num { text-align: right; white-space: nowrap; }
td.day { white-space: nowrap; }
thead { display: table-header-group; }
tr, .chart { break-inside: avoid; }
.chart { width: 100%; margin: 2mm 0; }
.chart .alt { font-size: 8.5pt; color: #333; }
"""


def _block_html(block: Block, index: int) -> str:
    escape = htmllib.escape
    if block.kind == "heading":
        return f"<h2>{escape(block.text)}</h2>"
    if block.kind == "text":
        return f"<p>{escape(block.text)}</p>"
    if block.kind == "note":
        return f"<p class='note'>{escape(block.text)}</p>"
    if block.kind == "figures":
        cards = "".join(
            f"<div class='figure'><div class='label'>{escape(f.label)}</div><div class='value'>{escape(f.value)}</div>"
            f"<div class='sub'>{escape(f.note)}</div></div>"
            for f in block.figures
        )
        return f"<div class='figures'>{cards}</div>"
    if block.kind == "table":
        return _table_html(block.frame)
    chart = go.Figure(block.chart)
    chart.update_layout(width=PRINT_WIDTH_PX, autosize=False)
    div = chart.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart{index}",
        config={"staticPlot": True, "responsive": False},
    )
    return f"<figure class='chart' role='img' aria-label='{escape(block.text)}'>{div}<p class='alt'>{escape(block.text)}</p></figure>"


def to_html(report: Report) -> str:
    """One self-contained HTML file: the report, its provenance, and plotly.js inlined when it has charts."""
    from plotly.offline import get_plotlyjs

    escape = htmllib.escape
    about = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in report.about.rows())
    body = "".join(_block_html(block, i) for i, block in enumerate(report.blocks))
    has_charts = any(b.kind == "chart" for b in report.blocks)
    script = f"<script>{get_plotlyjs()}</script>" if has_charts else ""
    return (
        "<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>"
        f"<title>{escape(report.title)}</title><style>{PRINT_CSS}</style>{script}</head><body>"
        f"<h1>{escape(report.title)}</h1><dl class='about'>{about}</dl>{body}</body></html>"
    )


def draw(report: Report, container, show_table) -> None:
    """The report on a page: the same blocks as the PDF, tables with their downloads (`show_table`)."""
    for index, block in enumerate(report.blocks):
        if block.kind == "heading":
            container.header(block.text)  # h2: the page's title is the h1
        elif block.kind == "text":
            container.markdown(block.text)
        elif block.kind == "note":
            container.caption(block.text)
        elif block.kind == "figures":
            for column, figure in zip(container.columns(len(block.figures)), block.figures, strict=True):
                column.metric(figure.label, figure.value, help=figure.note or None)
        elif block.kind == "table":
            show_table(
                container,
                block.frame,
                block.file_stem,
                key=f"{block.file_stem}_{index}",
                filters=report.about.filters,  # the report's choices (period, worker) name every table's file too
                question=block.question,
            )
        else:
            from pages._charts import show  # the pages' chart module: palette, contrast, a text alternative

            show(container, block.chart, key=f"report_chart_{index}", alt=block.text)
            container.caption(block.text)
