"""Every page in a real Chromium against a running `streamlit run app.py`.

AppTest (tests/test_pages.py) runs the script but never draws it; this test
starts the real server, opens every page found by `app.page_files()` in the
Debian Chromium through Playwright, waits until the script has finished, and
fails on any exception box, a missing page title or a missing sidebar frame.
A full-page screenshot of each page goes to test-artifacts/screenshots/<stem>.png
for a human to look at.

Each page and main state is also checked by axe-core (the copy axe-playwright-python ships, pinned in
requirements-dev.txt) against WCAG 2.2 A and AA and axe's best practices: a serious or critical
violation fails the test; every violation found goes to test-artifacts/axe.json and the test output.

Each page is also printed to PDF as a reader's browser prints it (print media, the page's own A4
landscape @page, the frame's fit-to-paper step on `beforeprint`; pages/_print.py) and fails on
anything the paper would lose: a sidebar, button or canvas data grid printed (the grid prints only the
rows in its scroll box, so a plain table prints in its place), anything wider than the printable
width, ink in the right margin of any sheet (content cut at the paper's edge), or a sheet whose last line
is one of the page's headings (its section printed on the next sheet). The PDFs go to
test-artifacts/print/ and each one's first sheet, as a PNG, to test-artifacts/screenshots/<stem>_print_p1.png.

The shipped sample is used when sample_data/children.parquet exists, else the
tiny extract; CHILDSTAT_BROWSER_EXTRACT=tiny|sample|<folder> chooses.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pytest

from app import page_files, page_meta
from pages._print import PAGE_MARGIN_MM, PRINTABLE_HEIGHT_PX, PRINTABLE_PX
from reports.pdf import BROWSER_FLAGS
from schemas.extract import SAMPLE_DATA, open_extract
from tiny_extract import write_extract

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PRINTS = ROOT / "test-artifacts" / "print"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = BROWSER_FLAGS  # as reports/ prints PDFs
START_TIMEOUT_S = 60
PAGE_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1440, "height": 900}  # a council laptop's screen
WIDE_VIEWPORT = {"width": 1920, "height": 1080}  # a desk monitor: its main column is wider than the paper
A4_LANDSCAPE_PT = (841.9, 595.3)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
AXE_FAILING = ("serious", "critical")


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def choose_extract(tmp_path_factory) -> Path:
    """The extract asked for, else the shipped sample if it has been generated, else a fresh tiny extract."""
    wanted = os.environ.get("CHILDSTAT_BROWSER_EXTRACT", "")
    if wanted not in ("", "tiny", "sample"):
        return Path(wanted)
    if wanted == "sample" or (not wanted and (SAMPLE_DATA / "children.parquet").exists()):
        return SAMPLE_DATA
    return write_extract(tmp_path_factory.mktemp("browser") / "tiny")


def wait_healthy(port: int, server: subprocess.Popen, log: Path) -> None:
    """Poll /_stcore/health until it answers "ok"; fail with the server log after START_TIMEOUT_S."""
    deadline = time.monotonic() + START_TIMEOUT_S
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    pytest.fail(f"streamlit not healthy after {START_TIMEOUT_S}s:\n{log.read_text(errors='replace')[-3000:]}")


@contextlib.contextmanager
def streamlit_server(
    data: Path,
    log: Path,
    extra_args: tuple[str, ...] = (),
    host: str = "127.0.0.1",
    port: int | None = None,
    env: dict | None = None,
):
    """A headless `streamlit run app.py` (on a free port unless given); yields its base URL; always stopped."""
    port = port or free_port()
    env = {**os.environ, "CHILDSTAT_DATA": str(data), **(env or {})}
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra_args,
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port, process, log)
        yield f"http://{host}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app on the chosen extract; yields (base url, extract, log)."""
    data = choose_extract(tmp_path_factory)
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with streamlit_server(data, log) as base:
        yield base, data, log


def default_page() -> Path:
    """The page app.py makes the default (first by PAGE order, then file name), served at "/"."""
    return min(page_files(), key=lambda path: (page_meta(path).get("order", 99), path.name))


def wait_for_run(page, title: str) -> None:
    """Wait until the script has run to the end and the page's title is drawn."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)
    page.get_by_text(title, exact=False).first.wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
    # A deep link after a restart runs the page bare, then reruns it through app.py: the navigation's
    # link can carry the title before the page itself is drawn, so wait for the page's own heading too.
    page.locator('[data-testid="stMain"] h1').first.wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=PAGE_TIMEOUT_MS)
    # Plotly draws after the script finishes; give every chart its SVG before the screenshot.
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')]"
        ".every(chart => chart.querySelector('svg.main-svg'))",
        timeout=PAGE_TIMEOUT_MS,
    )


def table_width_problems(page, where: str) -> list[str]:
    """Every table fits the page at 1440x900: no grid wider than its frame, so no key column needs scrolling."""
    widths = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stDataFrame\"] .dvn-scroller')]"
        ".map(grid => [grid.scrollWidth, grid.clientWidth])"
    )
    return [
        f"{where}: table {n} is {wide} px wide in a {frame} px frame (it scrolls sideways)"
        for n, (wide, frame) in enumerate(widths, start=1)
        if wide > frame + 1
    ]


def full_page_screenshot(page, path: Path) -> None:
    """Screenshot the whole page: Streamlit scrolls inside stMain, so grow the viewport to its height first."""
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0,"
        " document.querySelector('[data-testid=\"stSidebarContent\"]')?.scrollHeight || 0)"
    )
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height), 10_000))})
    page.wait_for_timeout(300)  # charts re-lay out to the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)


# The page laid out as it prints, measured, and put back, all in one script task: print-only CSS rules
# switched on and screen-only ones off in the CSSOM. Nothing redraws meanwhile (a ResizeObserver runs only
# between tasks), as nothing does while a browser prints; emulating print media instead lets Streamlit
# redraw every chart at the paper's width first, which a real print never does.
PRINT_LAYOUT_JS = """sheet => {
  const flipped = [];
  for (const sheet of document.styleSheets) {
    let rules; try { rules = [...sheet.cssRules]; } catch (e) { continue; }
    for (const rule of rules) {
      if (!(rule instanceof CSSMediaRule)) continue;
      const was = rule.media.mediaText;
      const now = was === 'print' ? 'all' : was === 'screen' ? 'not all' : null;
      if (now) { rule.media.mediaText = now; flipped.push([rule, was]); }
    }
  }
  try {
    const seen = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
    const name = e => e.dataset.testid || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40)
      || e.tagName.toLowerCase();
    // Tabs and a segmented control (board summary's period) print as what was chosen; no other button may.
    const shown = [...document.querySelectorAll('[data-testid="stSidebar"], [data-testid="stHeader"],'
        + ' [data-testid="stDataFrame"], button:not([role="tab"]):not([data-testid="stButtonGroup"] button)')]
      .filter(seen).map(name);
    const block = document.querySelector('[data-testid="stMainBlockContainer"]').getBoundingClientRect();
    const wide = [...document.querySelectorAll('[data-testid="stMainBlockContainer"] *')]
      .filter(e => !e.ownerSVGElement)  // inside a chart's <svg>, which clips what lies outside it
      .filter(e => seen(e) && e.getBoundingClientRect().right > block.right + 1)
      .filter(e => !e.closest('[data-testid="stElementContainer"]')?.querySelector('.childstat-sr-only'))  // 1 px
      .map(e => `${name(e.closest('[data-testid]') || e)} ends at ${Math.round(e.getBoundingClientRect().right - block.left)} px`);
    const cut = [...document.querySelectorAll('.childstat-print-only, [data-testid="stPlotlyChart"]')]
      .filter(e => seen(e) && e.scrollWidth > e.clientWidth + 1)
      .map(e => `${name(e)} is ${e.scrollWidth} px wide in a ${e.clientWidth} px box`);
    // Streamlit's own print CSS narrows a chart's <svg> to its box, which cuts off its right-hand side
    // (Plotly's <svg> has no viewBox to scale by): its drawn width must still be its full width.
    const squeezed = [...document.querySelectorAll('[data-testid="stPlotlyChart"] svg.main-svg')]
      .filter(e => seen(e) && e.getBoundingClientRect().width + 1 < e.width.baseVal.value * e.currentCSSZoom)
      .map(e => `a chart drawn ${Math.round(e.width.baseVal.value * e.currentCSSZoom)} px wide shows`
        + ` ${Math.round(e.getBoundingClientRect().width)} px`);
    cut.push(...new Set(squeezed));
    const split = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
      .filter(e => seen(e) && e.getBoundingClientRect().height > sheet + 1)
      .map(e => `a chart ${Math.round(e.getBoundingClientRect().height)} px tall is split across sheets`);
    cut.push(...split);
    const tables = document.querySelectorAll('.childstat-print-only').length;
    return {shown: [...new Set(shown)], wide: [...new Set(wide)].slice(0, 5), cut, column: block.width, tables};
  } finally {
    for (const [rule, was] of flipped) rule.media.mediaText = was;
  }
}"""


def print_problems(page, where: str, stem: str) -> list[str]:
    """Print the page as a reader's browser would and fail on whatever the paper loses (see the module's notes).

    The print layout is checked after the `beforeprint` event (the frame's script fits a wide screen's
    column to the paper then, as for Ctrl+P); then Chromium prints the PDF itself (which fires the event
    again) and every sheet's right margin must be blank."""
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    try:
        layout = page.evaluate(PRINT_LAYOUT_JS, PRINTABLE_HEIGHT_PX)
    finally:
        page.evaluate("() => window.dispatchEvent(new Event('afterprint'))")
    problems = [f"{where}: printed, shows {thing!r}" for thing in layout["shown"]]
    if layout["column"] > PRINTABLE_PX + 1:
        problems.append(f"{where}: printed, the main column is {layout['column']:.0f} px, wider than the paper")
    problems += [f"{where}: printed, {thing}, past the printable {PRINTABLE_PX:.0f} px" for thing in layout["wide"]]
    problems += [f"{where}: printed, {thing} (cut)" for thing in layout["cut"]]
    grids = page.locator('[data-testid="stDataFrame"]').count()
    if layout["tables"] < grids:
        problems.append(f"{where}: {grids} tables on screen but {layout['tables']} printed in their place")
    PRINTS.mkdir(parents=True, exist_ok=True)
    headings = page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=\"stMain\"] :is(h1, h2, h3, h4)')].map(h => h.innerText)"
    )
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (PRINTS / f"{stem}.pdf").write_bytes(pdf)
    return problems + pdf_problems(pdf, where, SCREENSHOTS / f"{stem}_print_p1.png", headings)


def last_line(sheet) -> str:
    """The lowest line of text on a printed sheet (characters sharing the lowest baseline), without spaces."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    text = sheet.get_textpage()
    lines: dict[int, list[tuple[float, str]]] = {}
    x, y = ctypes.c_double(), ctypes.c_double()
    for index in range(text.count_chars()):
        char = text.get_text_range(index, 1)
        if char.strip():
            pdfium_c.FPDFText_GetCharOrigin(text.raw, index, ctypes.byref(x), ctypes.byref(y))
            lines.setdefault(round(y.value / 3), []).append((x.value, char))
    return "".join(char for _, char in sorted(lines[min(lines)])) if lines else ""


def pdf_problems(pdf: bytes, where: str, first_sheet_png: Path, headings: Sequence[str] = ()) -> list[str]:
    """Every sheet A4 landscape with nothing in its right margin (Chromium prints what is wider than the
    printable width into the margin and cuts it at the paper's edge), and none but the last ending on one of
    the page's `headings` (a heading alone at the foot of a sheet); the first sheet saved as a PNG."""
    import pypdfium2

    problems = []
    stranded = {"".join(h.split()) for h in headings if h.strip()}
    document = pypdfium2.PdfDocument(pdf)
    try:
        for number, sheet in enumerate(document, start=1):
            if number < len(document) and (foot := last_line(sheet)) in stranded:
                problems.append(f"{where}: printed sheet {number} ends with the heading {foot!r}")
            size = sheet.get_size()
            if abs(size[0] - A4_LANDSCAPE_PT[0]) > 2 or abs(size[1] - A4_LANDSCAPE_PT[1]) > 2:
                problems.append(f"{where}: printed sheet {number} is {size[0]:.0f}x{size[1]:.0f} pt, not A4 landscape")
            if number == 1:
                sheet.render(scale=1).to_pil().save(first_sheet_png, optimize=True)
            pixels = sheet.render(scale=0.5, grayscale=True).to_pil().convert("L")
            margin = round(PAGE_MARGIN_MM / 25.4 * 72 * 0.5)  # the right margin in these pixels
            strip = pixels.crop((pixels.width - margin + 1, 0, pixels.width, pixels.height))
            if strip.getextrema()[0] < 200:  # anything darker than a faint grey
                problems.append(f"{where}: printed sheet {number} has content in its right margin (cut at the edge)")
    finally:
        document.close()
    return problems


def page_problems(page, where: str, title: str, stem: str, council: str) -> list[str]:
    """What is wrong with the drawn page: an exception box, no title, the wrong router, no frame."""
    problems = []
    if page.get_by_text("Page not found").count():
        problems.append(f"{where}: Streamlit says 'Page not found'")
    exceptions = page.locator('[data-testid="stException"]')
    if exceptions.count():
        problems.append(f"{where}: exception shown: {exceptions.first.inner_text()[:500]}")
    main_text = page.locator('[data-testid="stMain"]').inner_text()
    # Home's heading is the app's name; every other page's heading is its title.
    if title not in main_text and not (stem == "home" and "ChildStat" in main_text):
        problems.append(f"{where}: the title {title!r} is not on the page")
    # The active navigation link proves app.py's st.navigation ran (not Streamlit's pages/ fallback).
    active = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    label = active.first.locator('[data-testid="stMarkdownContainer"]')  # not the icon's ligature text
    active_text = label.first.inner_text().strip() if active.count() and label.count() else None
    if active_text != title:
        problems.append(f"{where}: the navigation marks {active_text!r} as the current page, not {title!r}")
    sidebar = page.locator('[data-testid="stSidebar"]')
    if not sidebar.count() or council not in sidebar.inner_text():
        problems.append(f"{where}: the sidebar does not name the council {council!r} (the frame is missing)")
    return problems


def axe_check(page, where: str) -> list[dict]:
    """axe-core's violations on the drawn page, one dict each: where, rule, impact, help, nodes."""
    from axe_playwright_python.base import AXE_SCRIPT

    page.evaluate(AXE_SCRIPT)
    results = page.evaluate(
        "options => axe.run(document, options)",
        {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    return [
        {
            "where": where,
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "axe": results["testEngine"]["version"],
            "nodes": [{"target": n["target"], "summary": n.get("failureSummary", "")} for n in v["nodes"]],
        }
        for v in results["violations"]
    ]


def focus_problems(page, title: str) -> list[str]:
    """Tab from the top of a freshly loaded page to the first navigation link: its focus must be the frame's
    yellow fill."""
    page.reload(wait_until="domcontentloaded")
    wait_for_run(page, title)
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e && e.matches('[data-testid=\"stSidebarNavLink\"]') ? getComputedStyle(e).backgroundColor : null }"
        )
        if focused:
            page.screenshot(path=str(SCREENSHOTS / "focus_navigation.png"))
            return (
                [] if focused == "rgb(255, 221, 0)" else [f"keyboard focus on the navigation is {focused}, not yellow"]
            )
    return ["Tab never reached the navigation"]


def report_axe(violations: list[dict]) -> list[str]:
    """Write every violation to test-artifacts/axe.json, print one line each; the failing ones as problems."""
    (SCREENSHOTS.parent / "axe.json").write_text(json.dumps(violations, indent=1))
    for v in violations:
        print(f"axe {v['axe']} {v['where']}: {v['rule']} ({v['impact']}, {len(v['nodes'])} elements): {v['help']}")
    return [
        f"{v['where']}: axe {v['rule']} ({v['impact']}): {v['help']}: {v['nodes'][0]['summary'][:300]}"
        for v in violations
        if v["impact"] in AXE_FAILING
    ]


@pytest.mark.browser
def test_every_page_in_a_real_browser(server):
    """Each page, deep-linked first as a bookmark would be: no exception, its title (on the page and the
    browser tab), the frame, no serious accessibility violation; a screenshot."""
    from playwright.sync_api import sync_playwright

    base, data, log = server
    council = open_extract(data).la_name
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems, violations = [], []
    # Deep links first, on a server no browser has visited yet (as after a restart, from a bookmark),
    # then the default page, which Streamlit serves at the root URL only (its url_path gives "Page not found").
    default = default_page()
    visits = [(f"{base}/{path.stem}", path) for path in page_files() if path != default]
    visits.append((f"{base}/", default))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            for url, path in visits:
                title = page_meta(path)["title"]
                where = url.removeprefix(base) or "/"
                page.goto(url, wait_until="domcontentloaded")
                wait_for_run(page, title)
                problems += page_problems(page, where, title, path.stem, council)
                if page.title() != f"{title} · ChildStat":
                    problems.append(f"{where}: the browser tab says {page.title()!r}")
                violations += axe_check(page, where)
                problems += table_width_problems(page, where)
                full_page_screenshot(page, SCREENSHOTS / f"{path.stem}.png")
                problems += print_problems(page, where, path.stem)
            # One interaction a manager makes: the Caseload page's team view, with its charts.
            page.goto(f"{base}/caseload", wait_until="domcontentloaded")
            wait_for_run(page, "Caseload")
            page.get_by_text("My team", exact=True).click()
            page.get_by_text("Caseload per worker").first.wait_for(state="visible", timeout=PAGE_TIMEOUT_MS)
            wait_for_run(page, "Compliance")
            problems += page_problems(page, "/caseload (team view)", "Caseload", "caseload", council)
            violations += axe_check(page, "/caseload (team view)")
            problems += table_width_problems(page, "/caseload (team view)")
            full_page_screenshot(page, SCREENSHOTS / "caseload_team.png")
            problems += print_problems(page, "/caseload (team view)", "caseload_team")
            # Printed from a wider screen: its column (and charts drawn to it) must be fitted to the paper.
            page.set_viewport_size(WIDE_VIEWPORT)
            page.wait_for_function(  # every chart re-drawn at the wider column's width
                "() => [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')].every(chart =>"
                " Math.abs(chart.querySelector('svg.main-svg').width.baseVal.value - chart.clientWidth) <= 1)",
                timeout=PAGE_TIMEOUT_MS,
            )
            problems += print_problems(page, "/caseload (team view, 1920 px)", "caseload_team_1920")
            page.set_viewport_size(VIEWPORT)
            problems += focus_problems(page, "Caseload")
        finally:
            browser.close()
    problems += report_axe(violations)
    if "Traceback" in log.read_text(errors="replace"):
        problems.append(f"the server logged a traceback:\n{log.read_text(errors='replace')[-3000:]}")
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_real_sign_in_against_a_mock_openid_provider(tmp_path):
    """Signed out: only the sign-in page and no data. Signed in through OpenID Connect as a team
    manager: the manager's pages, their own team's children and never another team's."""
    from oidc_provider_mock import run_server_in_thread
    from playwright.sync_api import sync_playwright

    data = write_extract(tmp_path / "tiny")
    with run_server_in_thread() as provider:
        app_port_log = tmp_path / "server.log"
        secrets = tmp_path / "secrets.toml"
        port = free_port()
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            'cookie_secret = "a-long-random-test-cookie-secret"\n'
            'client_id = "childstat-test"\n'
            'client_secret = "childstat-test-secret"\n'
            f'server_metadata_url = "http://localhost:{provider.server_port}/.well-known/openid-configuration"\n'
            "[childstat]\n"
            'audit_key = "a-long-random-test-audit-key"\n'
            '[childstat.users."manager@tiny.gov.uk"]\n'
            'role = "team_manager"\n'
            'team_id = "T1"\n'
            'worker_id = "W2"\n'
        )
        args = ("--secrets.files", str(secrets))
        audit = tmp_path / "audit.jsonl"  # never into the repository
        with (
            streamlit_server(
                data,
                app_port_log,
                args,
                host="localhost",
                port=port,
                env={"CHILDSTAT_AUDIT_LOG": str(audit), "CHILDSTAT_MODE": "hosted"},
            ) as base,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(f"{base}/caseload", wait_until="domcontentloaded")  # a deep link, signed out
                page.get_by_role("button", name="Sign in").wait_for(timeout=PAGE_TIMEOUT_MS)
                full_page_screenshot(page, SCREENSHOTS / "signed_out_deep_link.png")
                assert "C1" not in page.locator('[data-testid="stApp"]').inner_text()
                page.goto(f"{base}/", wait_until="domcontentloaded")
                page.get_by_role("button", name="Sign in").wait_for(timeout=PAGE_TIMEOUT_MS)
                signed_out = page.locator('[data-testid="stApp"]').inner_text()
                assert "Tiny Test Borough" not in signed_out and "Open cases" not in signed_out
                page.get_by_role("button", name="Sign in").click()
                page.locator('input[name="sub"]').fill("manager@tiny.gov.uk")  # the mock provider's form
                page.get_by_role("button", name="Authorize").click()
                page.get_by_text("Signed in as").wait_for(timeout=PAGE_TIMEOUT_MS)
                wait_for_run(page, "ChildStat")
                sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
                assert "manager@tiny.gov.uk" in sidebar and "Team manager" in sidebar
                assert "Team outcomes" not in sidebar and "Data quality" not in sidebar  # not a manager's pages
                page.goto(f"{base}/caseload", wait_until="domcontentloaded")
                wait_for_run(page, "Caseload")
                page.get_by_text("My team", exact=True).click()
                page.get_by_text("Caseload per worker").first.wait_for(timeout=PAGE_TIMEOUT_MS)
                wait_for_run(page, "Compliance")
                shown = page.locator('[data-testid="stMain"]').inner_text()
                full_page_screenshot(page, SCREENSHOTS / "signed_in_manager.png")
                assert "Assessment North" in shown
                assert not page.locator('[data-testid="stException"]').count()
                # Patterns as the manager: their team exact, everyone else protected, and the page says so.
                page.goto(f"{base}/patterns", wait_until="domcontentloaded")
                wait_for_run(page, "Patterns")
                shown = page.locator('[data-testid="stMain"]').inner_text()
                full_page_screenshot(page, SCREENSHOTS / "signed_in_manager_patterns.png")
                assert "Figures about your team's children are exact" in shown
                assert not page.locator('[data-testid="stException"]').count()
            finally:
                browser.close()
    log = app_port_log.read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    events = [json.loads(line) for line in audit.read_text().splitlines()]
    assert any(e["event"] == "page_view" and e["user"] == "manager@tiny.gov.uk" for e in events)
    assert {e["user"] for e in events if e["event"] == "sign_in"} == {"manager@tiny.gov.uk"}  # once per session
    assert all(e["user"] in ("manager@tiny.gov.uk", "signed out") for e in events)
    assert all(e["scope"]["team_id"] == "T1" for e in events if e["event"] == "query")
