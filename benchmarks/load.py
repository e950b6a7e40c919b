"""Load benchmark: many concurrent browser sessions clicking through every page of a running ChildStat.

    python -m benchmarks.load [--sessions 20] [--rounds 2] [--data DIR]

Starts `streamlit run app.py` on a free loopback port (local mode, the given extract), opens
`--sessions` browser sessions at once in the Debian Chromium (Playwright), and has each visit
every page `--rounds` times, in a different order per session. A page's time runs from the
navigation to the end of its script run with nothing still drawing. Reports p50 and p95 per
page and overall, errors, and the server's peak resident memory (sampled every 0.2 s).
Loopback only; bounded in sessions, rounds and time; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PAGE_TIMEOUT_MS = 120_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (Linux /proc)."""
    total = 0
    for task in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{task}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class MemorySampler(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(0.2)


def start_server(data: Path, port: int) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    env = {**os.environ, "CHILDSTAT_DATA": str(data)}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.25)
    process.kill()
    raise SystemExit("the app did not start within 60 s")


async def wait_for_page(page) -> None:
    await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)
    await page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=PAGE_TIMEOUT_MS)
    await page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=PAGE_TIMEOUT_MS)


async def session(browser, base: str, stems: list[str], rounds: int, seed: int, timings: list, errors: list) -> None:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    order = list(stems)
    random.Random(seed).shuffle(order)
    try:
        for _ in range(rounds):
            for stem in order:
                url = base + ("/" if stem == "home" else f"/{stem}")
                start = time.perf_counter()
                try:
                    await page.goto(url, wait_until="domcontentloaded")
                    await wait_for_page(page)
                    if await page.locator('[data-testid="stException"]').count():
                        errors.append(f"{stem}: an exception box")
                except Exception as exc:  # noqa: BLE001 - a benchmark records and carries on
                    errors.append(f"{stem}: {type(exc).__name__}")
                    continue
                timings.append((stem, time.perf_counter() - start))
    finally:
        await context.close()


async def drive(base: str, stems: list[str], sessions: int, rounds: int) -> tuple[list, list]:
    from playwright.async_api import async_playwright

    timings, errors = [], []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(*(session(browser, base, stems, rounds, i, timings, errors) for i in range(sessions)))
        finally:
            await browser.close()
    return timings, errors


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", default=str(ROOT / "sample_data"))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from app import page_files

    stems = [p.stem for p in page_files() if p.stem != "import_data"]
    port = free_port()
    server = start_server(Path(args.data), port)
    sampler = MemorySampler(server.pid)
    sampler.start()
    idle = rss_mb(server.pid)
    started = time.perf_counter()
    try:
        timings, errors = asyncio.run(drive(f"http://127.0.0.1:{port}", stems, args.sessions, args.rounds))
    finally:
        sampler.stop.set()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # still busy with abandoned script runs
            server.kill()
            server.wait(timeout=20)
    wall = time.perf_counter() - started
    print(f"{args.sessions} sessions x {args.rounds} rounds x {len(stems)} pages on {args.data}, "
          f"{os.cpu_count()} CPUs, {wall:.0f} s in all")  # fmt: skip
    print(f"server memory: {idle:.0f} MB after start, peak {sampler.peak:.0f} MB\n")
    print("| page | visits | p50 s | p95 s | max s |\n|---|---:|---:|---:|---:|")
    for stem in [*stems, "all pages"]:
        times = [t for s, t in timings if s == stem or stem == "all pages"]
        if times:
            print(f"| {stem} | {len(times)} | {statistics.median(times):.2f} | {percentile(times, 0.95):.2f} | "
                  f"{max(times):.2f} |")  # fmt: skip
    print(f"\nerrors: {len(errors)}" + "".join(f"\n- {e}" for e in errors[:20]))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
