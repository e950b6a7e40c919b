"""Page render times in a real browser: how long each page takes to draw completely, cold and warm.

    python -m benchmarks.render [--data DIR] [--warm 3] [--json FILE]

Starts `streamlit run app.py` on a free loopback port (local mode, the given extract, default the
shipped sample) and opens one Chromium session (Playwright, the Debian browser). It first opens
Home and waits for it (the *first open*: the app loads the extract — for a large one the cached
database, built on the very first open — and checks its data quality). Then, for every page in
the navigation, it navigates to the page and times until the script run has ended with nothing
still drawing (no running indicator, no skeletons): *cold* is the page's first visit (its
questions asked for the first time in this server), *warm* the median of `--warm` further visits
(answers from the app's caches). Any exception box is reported. A benchmark, not a test: nothing
is asserted; the issue's targets are printed next to the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.load import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port, rss_mb, start_server, wait_for_page

TARGET_WARM_S = {"council": 1.5, "national": 3.0}  # issue 10: a page's first complete render, warm


async def visit(page, url: str) -> tuple[float, str | None]:
    """Seconds from navigation to a complete page, and the text of an exception box if one showed."""
    start = time.perf_counter()
    await page.goto(url, wait_until="domcontentloaded")
    await wait_for_page(page)
    seconds = time.perf_counter() - start
    boxes = page.locator('[data-testid="stException"]')
    error = " ".join((await boxes.first.inner_text()).split())[:300] if await boxes.count() else None
    return seconds, error


async def measure(base: str, stems: list[str], warm: int) -> dict:
    from playwright.async_api import async_playwright

    result: dict = {"pages": {}, "errors": []}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
            result["first_open_s"], error = await visit(page, base + "/")
            if error:
                result["errors"].append(f"home (first open): {error}")
            for stem in stems:
                url = base + ("/" if stem == "home" else f"/{stem}")
                cold, error = await visit(page, url)
                warm_times = []
                for _ in range(warm):
                    seconds, error_again = await visit(page, url)
                    warm_times.append(seconds)
                    error = error or error_again
                if error:
                    result["errors"].append(f"{stem}: {error}")
                result["pages"][stem] = {
                    "cold_s": cold,
                    "warm_s": statistics.median(warm_times) if warm_times else None,
                }
        finally:
            await browser.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.render", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "sample_data"), help="the extract (default: the shipped sample)")
    parser.add_argument("--warm", type=int, default=3, help="warm visits per page (median shown)")
    parser.add_argument("--json", help="also write the figures as JSON")
    parser.add_argument("--log", help="where to keep the server's output (default: a new temporary folder)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from app import page_files
    from queries.engine import MATERIALISE_BYTES
    from schemas.extract import open_extract

    scale = "national" if open_extract(args.data).size_bytes() > MATERIALISE_BYTES else "council"
    stems = [p.stem for p in page_files() if p.stem != "import_data"]
    log_path = Path(args.log) if args.log else Path(tempfile.mkdtemp(prefix="childstat-render-")) / "server.log"
    port = free_port()
    server = start_server(Path(args.data), port, log_path)
    try:
        result = asyncio.run(measure(f"http://127.0.0.1:{port}", stems, args.warm))
        result["server_rss_mb"] = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    target = TARGET_WARM_S[scale]
    print(
        f"Machine: {dt.datetime.now():%Y-%m-%d %H:%M}, {platform.machine()} {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}. Extract: {args.data} ({scale} scale). Server log: {log_path}\n"
    )
    print(f"First open (Home, loading the extract and checking its quality): {result['first_open_s']:.1f} s\n")
    print(f"| page | cold s | warm s (median of {args.warm}) | warm under {target} s |")
    print("|---|---:|---:|---|")
    for stem, times in result["pages"].items():
        warm = times["warm_s"]
        verdict = "–" if warm is None else ("yes" if warm < target else "**no**")
        warm_text = "–" if warm is None else f"{warm:.2f}"
        print(f"| {stem} | {times['cold_s']:.2f} | {warm_text} | {verdict} |")
    print(f"\nServer memory at the end: {result['server_rss_mb']:.0f} MB")
    for error in result["errors"]:
        print(f"ERROR {error}")
    if args.json:
        Path(args.json).write_text(json.dumps({"data": args.data, "scale": scale, **result}, indent=2))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
