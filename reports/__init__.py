"""Reports to hand out: a head of service's board summary and a worker's supervision pack, as a page and as a PDF.

A report is built from the same named questions the pages use, run through the engine with the
reader's scope, so it shows exactly what its reader may see on a page (access and disclosure are
the engine's); nothing is computed here. `document` lays a report out (Streamlit or self-contained
HTML), `pdf` prints the HTML with headless Chromium, and `python -m reports` does it from the
command line. docs/reports.md explains the choices.
"""
