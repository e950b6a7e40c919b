"""Load benchmark: many concurrent browser sessions clicking through every page of a running ChildStat.

    python -m benchmarks.load [--sessions 20] [--rounds 2] [--data DIR]

Starts `streamlit run app.py` on a free loopback port (local mode, the given extract), opens
`--sessions` browser sessions at once in the Debian Chromium (Playwright), and has each visit
every page `--rounds` times, in a different order per session. A page's time runs from the
navigation to the end of its script run with nothing still drawing. Reports p50 and p95 per
page and overall, errors (with the text of any exception box a page showed), the server's peak
resident memory (sampled every 0.2 s), and the CPU time the server and the browsers used. The server's
output goes to a log file (`--log`, default a new temporary folder; its path is printed), and every
uncaught exception the server logged is listed, so a fault seen in a browser can be diagnosed.
`--page NAME` (repeatable) visits only those pages; `--browser-nice 10` runs the browsers at a lower
CPU priority than the server (on one small machine 20 Chromiums otherwise take most of the CPU
from the server they are measuring). Loopback only; bounded in sessions, rounds and
time; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
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


def cpu_seconds(pid: int, children: bool = True) -> float:
    """CPU time (user + system) used so far by a process (and the children it has waited for), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(f) for f in fields[11 : 15 if children else 13]) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


class MemorySampler(threading.Thread):
    """The server's peak memory, and the CPU time of the browser side (every other process this one started)."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0.0, threading.Event()
        self.browser_cpu: dict[int, float] = {}  # latest CPU seconds seen per browser-side process

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            for task in _descendants(os.getpid()):
                if task != self.pid and task not in _children(self.pid):
                    self.browser_cpu[task] = max(self.browser_cpu.get(task, 0.0), cpu_seconds(task, children=False))
            time.sleep(0.2)


def start_server(data: Path, port: int, log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    env = {**os.environ, "CHILDSTAT_DATA": str(data)}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:  # the server's output, so a fault seen in a browser can be diagnosed
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
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
                    boxes = page.locator('[data-testid="stException"]')
                    if await boxes.count():
                        text = " ".join((await boxes.first.inner_text()).split())
                        errors.append(f"{stem}: an exception box: {text[:300]}")
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


def server_faults(log_path: Path) -> list[str]:
    """The last line (type and message) of each traceback in the server's log."""
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    faults, inside = [], False
    for line in lines:
        if line.startswith("Traceback (most recent call last)"):
            inside = True
        elif inside and line and not line.startswith((" ", "Traceback", "During handling", "The above")):
            faults.append(line.strip()[:300])
            inside = False
    return faults


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data", default=str(ROOT / "sample_data"))
    parser.add_argument(
        "--browser-nice",
        type=int,
        default=0,
        help="run the browsers at this lower CPU priority than the server (e.g. 10), so that on a small machine "
        "the load generator does not starve the server it measures; 0 (default): the same priority",
    )
    parser.add_argument("--page", action="append", dest="pages", help="only this page (its file name); repeatable")
    parser.add_argument("--log", help="where to keep the server's output (default: a new temporary folder)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from app import page_files

    stems = [p.stem for p in page_files() if p.stem != "import_data" and (not args.pages or p.stem in args.pages)]
    if not stems:
        parser.error(f"no such page: {', '.join(args.pages)}")
    port = free_port()
    log_path = Path(args.log) if args.log else Path(tempfile.mkdtemp(prefix="childstat-load-")) / "server.log"
    server = start_server(Path(args.data), port, log_path)
    if args.browser_nice:
        os.nice(args.browser_nice)  # this process and the browsers it starts from now on; not the server
    sampler = MemorySampler(server.pid)
    sampler.start()
    idle = rss_mb(server.pid)
    load_before = os.getloadavg()
    server_cpu = cpu_seconds(server.pid)
    started = time.perf_counter()
    try:
        timings, errors = asyncio.run(drive(f"http://127.0.0.1:{port}", stems, args.sessions, args.rounds))
    finally:
        server_cpu = cpu_seconds(server.pid) - server_cpu
        sampler.stop.set()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # still busy with abandoned script runs
            server.kill()
            server.wait(timeout=20)
    wall = time.perf_counter() - started
    # The Playwright driver and Chromium (sampled while they ran) and this process's own Playwright client.
    own = resource.getrusage(resource.RUSAGE_SELF)
    browser_cpu = sum(sampler.browser_cpu.values()) + own.ru_utime + own.ru_stime
    print(f"{args.sessions} sessions x {args.rounds} rounds x {len(stems)} pages on {args.data}, "
          f"{os.cpu_count()} CPUs, browsers at nice {args.browser_nice}, {wall:.0f} s in all")  # fmt: skip
    print(f"server memory: {idle:.0f} MB after start, peak {sampler.peak:.0f} MB")
    print(f"CPU during the run: server {server_cpu:.0f} s ({server_cpu / max(len(timings), 1):.2f} s per page "
          f"loaded), browsers {browser_cpu:.0f} s, of {wall * (os.cpu_count() or 1):.0f} s on all CPUs; load average "
          f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")  # fmt: skip
    print(f"server log: {log_path}\n")
    print("| page | visits | p50 s | p95 s | max s |\n|---|---:|---:|---:|---:|")
    for stem in [*stems, "all pages"]:
        times = [t for s, t in timings if s == stem or stem == "all pages"]
        if times:
            print(f"| {stem} | {len(times)} | {statistics.median(times):.2f} | {percentile(times, 0.95):.2f} | "
                  f"{max(times):.2f} |")  # fmt: skip
    print(f"\nerrors: {len(errors)}" + "".join(f"\n- {e}" for e in errors[:20]))
    faults = server_faults(log_path)
    if faults:
        print(f"\nthe server logged {len(faults)} uncaught exception(s); see {log_path}:")
        print("".join(f"\n- {f}" for f in faults[:10]))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
