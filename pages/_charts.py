"""The one way ChildStat draws a chart: colours, marks, axes, intervals and a text alternative.

Every page's figures go through `show`, which applies the ChildStat Plotly template (dark ticks and
text for contrast, the Okabe–Ito colour-blind-safe palette, sizes that print), draws the chart, and
puts a sentence describing it, generated from the figure's own data, where a screen reader reads it.
Series are told apart by mark shape and line dash as well as colour (`series_style`), so no meaning
rests on colour alone; the pages label points directly where a legend would need a colour match.
The figure's data and hover texts are the page's, and so exactly what the engine protected.

A figure costs most of a page view's CPU to build, so `show` takes the ChildStat template merged
once and hands Streamlit the figure's JSON as it is; a page passing a function and `cache` has the
figure made once per reader and extract version (pages/_frame.py `cached_chart`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

# Okabe & Ito (2008), ordered so the first ones have the most contrast on white; yellow, the weakest, last.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "cross", "star", "triangle-down", "pentagon", "hexagon"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]
COUNCIL = PALETTE[0]  # the council (or the figure asked about)
ENGLAND = PALETTE[1]  # England, always a diamond
FLAGGED = PALETTE[1]  # outside limits or unusual, always with a different mark and words too
MUTED = "#595959"  # reference lines and ranges: 7:1 on white
INTERVAL = "#3b3b3b"  # every interval's whisker
TEXT = "#0b0c0c"
FONT_SIZE = 13
HEIGHT = 380  # fits a printed A4 page's width at the figure's aspect

pio.templates["childstat"] = go.layout.Template(
    layout=dict(
        colorway=PALETTE,
        font=dict(color=TEXT, size=FONT_SIZE),
        title=dict(font=dict(size=FONT_SIZE + 3, color=TEXT)),
        xaxis=dict(tickfont=dict(color=TEXT), title=dict(font=dict(color=TEXT)), gridcolor="#e6e6e6", linecolor=MUTED),
        yaxis=dict(tickfont=dict(color=TEXT), title=dict(font=dict(color=TEXT)), gridcolor="#e6e6e6", linecolor=MUTED),
        legend=dict(font=dict(color=TEXT)),
        hoverlabel=dict(font=dict(size=FONT_SIZE)),
        paper_bgcolor="white",
        plot_bgcolor="white",
    )
)
TEMPLATE = "plotly_white+childstat"


def series_style(index: int) -> dict:
    """The colour, mark and dash of the index-th series: three cues, so no two series differ by colour alone."""
    return {
        "color": PALETTE[index % len(PALETTE)],
        "symbol": SYMBOLS[index % len(SYMBOLS)],
        "dash": DASHES[index % len(DASHES)],
    }


def interval_bars(low: list, high: list, centre: list, color: str = INTERVAL, horizontal: bool = True) -> dict:
    """An asymmetric 95% interval as Plotly's error bars, drawn the same way on every chart."""
    spans = {
        "type": "data",
        "symmetric": False,
        "array": [None if h is None or c is None else h - c for h, c in zip(high, centre, strict=True)],
        "arrayminus": [None if lo is None or c is None else c - lo for lo, c in zip(low, centre, strict=True)],
        "color": color,
        "thickness": 1.5,
        "width": 4,
    }
    return {"error_x" if horizontal else "error_y": spans}


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Doubling ticks (… 0.25, 0.5, 1, 2, 4 …) covering low..high, for a log axis of ratios."""
    low, high = max(low, 1e-6), max(high, low * 1.01)
    first, last = math.floor(math.log2(low)), math.ceil(math.log2(high))
    step = max(1, math.ceil((last - first) / 8))  # at most about nine labels
    values = [2.0**k for k in range(first, last + 1, step)]
    if 1.0 not in values and first <= 0 <= last:
        values = sorted({*values, 1.0})
    return values, [f"{v:g}" for v in values]


def log_axis(figure: go.Figure, low: float, high: float, axis: str = "x", title: str | None = None) -> None:
    """A log axis a reader can read: labelled at 0.25, 0.5, 1, 2, 4 … rather than Plotly's '3 4 5 … 9 1 2'."""
    values, labels = log_ticks(low, high)
    settings = dict(type="log", tickvals=values, ticktext=labels, minor=dict(showgrid=False))
    if title is not None:
        settings["title_text"] = title
    (figure.update_xaxes if axis == "x" else figure.update_yaxes)(**settings)


def _title(figure: go.Figure) -> str:
    """The figure's title, else what its axes measure."""
    axes = [figure.layout.xaxis.title.text, figure.layout.yaxis.title.text]
    text = figure.layout.title.text or " against ".join(a for a in axes if a) or "A chart"
    return html.unescape(text).replace("<br>", " ")


def _label(value) -> str:
    if hasattr(value, "strftime"):
        return value.strftime("%B %Y") if getattr(value, "day", 1) == 1 else value.strftime("%d %B %Y")
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def _numeric(values) -> bool:
    return any(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _trace_words(trace) -> str | None:
    """One trace in words: what it is, how many points, and its highest and lowest (with their labels)."""
    xs = list(trace.x) if getattr(trace, "x", None) is not None else None
    ys = list(trace.y) if getattr(trace, "y", None) is not None else None
    if ys is None and xs is None:
        return None
    # The measured values are on the numeric axis; the other axis names them (a category, a month, an x value).
    horizontal = getattr(trace, "orientation", None) == "h" or (
        xs is not None and ys is not None and _numeric(xs) and not _numeric(ys)
    )
    values, labels = (xs, ys) if horizontal else (ys, xs)
    if values is None:
        return None
    if labels is None:
        labels = list(range(1, len(values) + 1))
    at = "at " if _numeric(labels) else ""
    points = [(v, lab) for v, lab in zip(values, labels, strict=False) if isinstance(v, int | float) and v == v]
    name = trace.name or "values"
    if not points:
        return f"{name}: nothing shown (every value hidden or missing)"
    if len(points) == 1:
        return f"{name}: {_label(points[0][0])} ({at}{_label(points[0][1])})"
    top, bottom = max(points, key=lambda p: p[0]), min(points, key=lambda p: p[0])
    hidden = len(values) - len(points)
    words = (
        f"{name}: {len(points)} values, highest {_label(top[0])} ({at}{_label(top[1])}), "
        f"lowest {_label(bottom[0])} ({at}{_label(bottom[1])})"
    )
    return words + (f"; {hidden} not shown" if hidden else "")


def describe(figure: go.Figure) -> str:
    """A sentence a screen reader gets in place of the chart, from the figure's own data."""
    parts = [w for trace in figure.data if (w := _trace_words(trace))]
    return f"{_title(figure)}. " + ("; ".join(parts[:8]) + "." if parts else "No data shown.")


class _Drawn(go.Figure):
    """A figure already in Plotly's JSON form, as `st.plotly_chart` takes it.

    `st.plotly_chart` asks a Figure for `to_dict()` (a deep copy) and then writes JSON; given a plain
    dict it would rebuild and re-validate a whole Figure (8 ms for a small chart). This is a Figure
    to it whose `to_dict()` hands over the spec made once (`Chart.spec`): nothing of a Figure's own
    machinery is set up or used. Each call gets fresh trace dicts, as Plotly's writer drops a
    trace's "uid" in place.
    """

    def __init__(self, spec: dict):  # no Figure.__init__: only to_dict is ever used
        self._spec = spec

    def to_dict(self) -> dict:
        return {"data": [dict(trace) for trace in self._spec["data"]], "layout": self._spec["layout"]}


@dataclass(frozen=True)
class Chart:
    """A figure ready to draw: its spec with the ChildStat template, and its text alternative."""

    spec: dict
    words: str


def _template_spec() -> dict:
    return pio.templates.merge_templates("plotly_white", pio.templates["childstat"]).to_plotly_json()


TEMPLATE_SPEC = _template_spec()  # merged once: assigning TEMPLATE to a figure merges it again (10-20 ms each time)


def chart(figure: go.Figure, alt: str | None = None) -> Chart:
    """A figure the ChildStat way (template, default height) and its words (`alt`, else `describe`)."""
    if figure.layout.height is None:
        figure.update_layout(height=HEIGHT)
    spec = figure.to_dict()
    spec["layout"]["template"] = TEMPLATE_SPEC  # the same as figure.update_layout(template=TEMPLATE), built once
    return Chart(spec, alt or describe(figure))


def show(
    container,
    figure: go.Figure | Callable[[], go.Figure],
    key: str | None = None,
    alt: str | None = None,
    cache: tuple | None = None,
    **select,
):
    """Draw a figure the ChildStat way, with its text alternative (`alt`, else one generated by `describe`).

    `figure` may be a function making it; with `cache` (what the function makes it from: the answers
    it draws, compared by content, and any chart options) it is made once per reader and extract
    version and kept (pages/_frame.py `cached_chart`), so a later view with the same scope draws it
    without building it again. `cache` must name everything the figure depends on besides the reader
    and the extract.

    `select` (on_select, selection_mode) makes its points clickable: the selection event is returned."""
    if cache is not None:
        from pages._frame import cached_chart

        drawn = cached_chart(figure, alt, cache)
    else:
        drawn = chart(figure() if callable(figure) else figure, alt)
    container.html(f'<p class="childstat-sr-only">Chart: {html.escape(drawn.words)}</p>')
    return container.plotly_chart(
        _Drawn(drawn.spec), width="stretch", key=key, theme=None, config={"displaylogo": False}, **select
    )
