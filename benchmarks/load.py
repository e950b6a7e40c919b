"""Load benchmark: many concurrent browser sessions clicking through every page of ChildStat behind HAProxy.

    python -m benchmarks.load [--sessions 4 8 20] [--processes 1 2] [--rounds 1] [--data DIR] [--warm]

For each number of server processes and each number of sessions, starts `deploy/run.sh --processes N`
(N `streamlit run app.py` behind HAProxy on free loopback ports, local mode, the given extract, with
CHILDSTAT_TIMING_LOG=1), opens that many browser sessions at once in the Debian Chromium
(Playwright) through HAProxy, and has each visit every page `--rounds` times, in a different order
per session. Reports, per run:

- the browser's time per page view: from the navigation to the end of its script run with nothing
  still drawing (what a user waits, on this machine's browsers);
- the server's time per page view: script start to finish, from the servers' own log (one
  `page_run` line per completed run, pages/_frame.py), and the script thread's CPU;
- CPU seconds per page view: every server process's CPU during the run (from /proc) over the page
  views the browsers completed; the browsers' CPU beside it; the load average before and after.

The browsers run at a lower CPU priority than the servers (`--browser-nice`, default 10) and can be
pinned to some CPUs (`--browser-cpus 1`) with the servers on others (`--server-cpus 0`), so that
on a small machine the load generator does not take the CPU from the servers it measures.
`--warm` first opens every page once on each process directly (its own port), so the run measures
answers already computed once per process (models fitted, caches filled), as on a server that has
been up a while. Errors (with the text of any exception box) and the servers' uncaught exceptions
are listed. `--page NAME` (repeatable) visits only those pages. Loopback only; bounded in sessions,
rounds and time (a page not finished after 120 s counts as an error); stops everything it started.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "deploy" / "run.sh"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PAGE_TIMEOUT_MS = 120_000
PAGE_RUN = re.compile(r"page_run page=(\S+) wall_s=([\d.]+) cpu_s=([\d.]+) outcome=(\w+)")


def free_port(size: int = 1) -> int:
    """A port P with P .. P+size-1 free right now."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = sock.getsockname()[1]
        try:
            for port in range(base + 1, base + size):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise SystemExit("no free block of ports")


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


class Sampler(threading.Thread):
    """The servers' peak memory (together), and the CPU time of the browser side (every other process
    this one started), sampled every 0.2 s. Every browser-side thread is kept at `browser_nice`:
    Chromium sets its own renderers' and GPU threads' priorities (as root it can raise them above
    the servers'), so a nice given at launch does not last."""

    def __init__(self, server_pids: list[int], browser_nice: int = 0):
        super().__init__(daemon=True)
        self.server_pids, self.peak, self.stop = set(server_pids), 0.0, threading.Event()
        self.browser_nice = browser_nice
        self.browser_cpu: dict[int, float] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            server_side = set(self.server_pids)
            for pid in self.server_pids:
                server_side.update(_descendants(pid))
            self.peak = max(self.peak, sum(rss_mb(pid) for pid in self.server_pids))
            for task in _descendants(os.getpid()):
                if task not in server_side and not _is_deploy(task):
                    self.browser_cpu[task] = max(self.browser_cpu.get(task, 0.0), cpu_seconds(task, children=False))
                    if self.browser_nice:
                        _renice_threads(task, self.browser_nice)
            time.sleep(0.2)


def _renice_threads(pid: int, nice: int) -> None:
    """Every thread of a process at this nice value (Linux priorities are per thread)."""
    try:
        threads = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return
    for tid in threads:
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
        except OSError:
            continue


def _is_deploy(pid: int) -> bool:
    """deploy/run.sh or HAProxy: server side, not browser side."""
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        return comm == "haproxy" or "run.sh" in Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return True


def start_server(data: Path, port: int, log_path: Path) -> subprocess.Popen:
    """One `streamlit run app.py` on a loopback port, waited for until healthy (benchmarks/render.py uses it)."""
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    env = {**os.environ, "CHILDSTAT_DATA": str(data)}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:  # the server's output, so a fault seen in a browser can be diagnosed
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_healthy(port, 60, process)
    return process


def wait_healthy(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.25)
    if process:
        process.kill()
    raise SystemExit(f"nothing healthy on port {port} within {timeout:.0f} s")


@dataclass
class Deployment:
    """deploy/run.sh, running: HAProxy on `port`, process i on port + i."""

    process: subprocess.Popen
    port: int
    processes: int
    logs: Path

    def server_pids(self) -> list[int]:
        return [int((self.logs / f"app-{i}.pid").read_text()) for i in range(1, self.processes + 1)]

    def haproxy_pid(self) -> int:
        return int((self.logs / "haproxy.pid").read_text())

    def page_runs(self) -> list[tuple[str, float, float, str]]:
        """Every `page_run` line the servers have logged so far: (page, wall s, thread CPU s, outcome)."""
        runs = []
        for log in sorted(self.logs.glob("app-*.log")):
            for match in PAGE_RUN.finditer(log.read_text(encoding="utf-8", errors="replace")):
                runs.append((match[1], float(match[2]), float(match[3]), match[4]))
        return runs

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # run.sh stops every process it started
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_deployment(data: Path, processes: int, logs: Path, server_cpus: set[int] | None) -> Deployment:
    port = free_port(processes + 1)
    stats = free_port()
    env = {**os.environ, "PYTHON": sys.executable, "CHILDSTAT_TIMING_LOG": "1"}
    command = [str(RUN), "--processes", str(processes), "--port", str(port), "--stats-port", str(stats),
               "--data", str(data), "--logs", str(logs)]  # fmt: skip
    logs.mkdir(parents=True, exist_ok=True)
    out = (logs / "run.out").open("wb")

    def prepare() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # run.sh traps it (a shell cannot trap an inherited ignore)
        if server_cpus:
            os.sched_setaffinity(0, server_cpus)

    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=prepare)
    out.close()
    deadline = time.monotonic() + 180
    while "Ctrl-C stops everything" not in (logs / "run.out").read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"deploy/run.sh did not start:\n{(logs / 'run.out').read_text()[-2000:]}")
        time.sleep(0.25)
    return Deployment(process, port, processes, logs)


async def wait_for_page(page) -> None:
    await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)
    await page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=PAGE_TIMEOUT_MS)
    await page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=PAGE_TIMEOUT_MS)


async def visit(page, url: str) -> str | None:
    """Open a page and wait until it is drawn; the text of an exception box it shows, if any."""
    await page.goto(url, wait_until="domcontentloaded")
    await wait_for_page(page)
    boxes = page.locator('[data-testid="stException"]')
    if await boxes.count():
        return " ".join((await boxes.first.inner_text()).split())[:300]
    return None


async def session(browser, base: str, stems: list[str], rounds: int, seed: int, timings: list, errors: list) -> None:
    """One browser session visiting every page. Every step has a hard limit besides Playwright's own
    timeouts (a page that Chromium never creates has none): a session stuck past it is abandoned."""
    limit = 3 * PAGE_TIMEOUT_MS / 1000
    order = list(stems)
    random.Random(seed).shuffle(order)
    try:
        context = await asyncio.wait_for(browser.new_context(viewport={"width": 1280, "height": 900}), limit)
        page = await asyncio.wait_for(context.new_page(), limit)
    except TimeoutError:
        errors.append("a browser session could not be opened")
        return
    try:
        for _ in range(rounds):
            for stem in order:
                url = base + ("/" if stem == "home" else f"/{stem}")
                start = time.perf_counter()
                try:
                    box = await asyncio.wait_for(visit(page, url), limit)
                except TimeoutError:
                    errors.append(f"{stem}: stuck for {limit:.0f} s; session abandoned")
                    return
                except Exception as exc:  # noqa: BLE001 - a benchmark records and carries on
                    errors.append(f"{stem}: {type(exc).__name__}")
                    continue
                if box:
                    errors.append(f"{stem}: an exception box: {box}")
                timings.append((stem, time.perf_counter() - start))
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(context.close(), 30)


def drive_lowered(args, bases: list[str], stems: list[str], sessions: int, rounds: int) -> tuple[list, list]:
    """`drive` in a child process at the browsers' priority (and CPUs): Chromium and Playwright's driver
    inherit them, while this process and the servers it starts keep theirs."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_drive_child, args.browser_nice, args.browser_cpus, bases, stems, sessions, rounds).result()


def _drive_child(nice: int, cpus: set[int] | None, *drive_args) -> tuple[list, list]:
    if nice:
        os.nice(nice)
    if cpus:
        os.sched_setaffinity(0, cpus)
    return asyncio.run(drive(*drive_args))


async def drive(bases: list[str], stems: list[str], sessions: int, rounds: int) -> tuple[list, list]:
    """`sessions` browser sessions at once, spread over `bases` in turn."""
    from playwright.async_api import async_playwright

    timings, errors = [], []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await asyncio.gather(
                *(session(browser, bases[i % len(bases)], stems, rounds, i, timings, errors) for i in range(sessions))
            )
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser.close(), 60)
    return timings, errors


def server_faults(log_paths: list[Path]) -> list[str]:
    """The last line (type and message) of each traceback in the servers' logs."""
    faults = []
    for log_path in log_paths:
        try:
            lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        inside = False
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


def p50_p95(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} | {percentile(values, 0.95):.2f}" if values else "– | –"


@dataclass
class Result:
    processes: int
    sessions: int
    views: int = 0
    browser: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)
    server_thread_cpu: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    haproxy_cpu: float = 0.0
    browser_cpu: float = 0.0
    peak_mb: float = 0.0
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    load: tuple[float, float] = (0.0, 0.0)

    def row(self) -> str:
        per_view = self.server_cpu / max(self.views, 1)
        return (f"| {self.processes} | {self.sessions} | {self.views} | {p50_p95(self.server)} | {p50_p95(self.browser)} "
                f"| {self.server_cpu:.0f} ({per_view:.2f}) | {self.browser_cpu:.0f} | {self.peak_mb:.0f} "
                f"| {len(self.errors)} | {self.load[0]:.1f} / {self.load[1]:.1f} |")  # fmt: skip


HEADER = (
    "| processes | sessions | page views | server p50 s | server p95 s | browser p50 s | browser p95 s "
    "| server CPU s (per view) | browsers CPU s | servers peak MB | errors | load before / after |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def one_run(args, stems: list[str], processes: int, sessions: int, logs: Path) -> Result:
    result = Result(processes, sessions)
    deployment = start_deployment(Path(args.data), processes, logs, args.server_cpus)
    pids = deployment.server_pids()
    sampler = Sampler([*pids, deployment.haproxy_pid()], args.browser_nice)
    sampler.start()
    try:
        if args.warm:  # every page once on each process, straight to its own port
            direct = [f"http://127.0.0.1:{deployment.port + i}" for i in range(1, processes + 1)]
            _, warm_errors = drive_lowered(args, direct, stems, processes, 1)
            result.errors += [f"(warm-up) {e}" for e in warm_errors]
        already = len(deployment.page_runs())
        sampler.browser_cpu.clear()  # the warm-up's browsers are not this run's
        result.load = (os.getloadavg()[0], 0.0)
        cpu_before = [cpu_seconds(pid) for pid in pids]
        haproxy_before = cpu_seconds(deployment.haproxy_pid())
        started = time.perf_counter()
        timings, errors = drive_lowered(args, [f"http://127.0.0.1:{deployment.port}"], stems, sessions, args.rounds)
        result.wall = time.perf_counter() - started
        result.server_cpu = sum(cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True))
        result.haproxy_cpu = cpu_seconds(deployment.haproxy_pid()) - haproxy_before
        sampler.stop.set()
        result.browser_cpu = sum(sampler.browser_cpu.values())  # Chromium, Playwright's driver and client
        result.peak_mb = sampler.peak
        result.load = (result.load[0], os.getloadavg()[0])
        result.views = len(timings)
        result.browser = [t for _, t in timings]
        result.errors += errors
        runs = [r for r in deployment.page_runs()[already:] if r[3] == "done"]
        result.server = [r[1] for r in runs]
        result.server_thread_cpu = [r[2] for r in runs]
        result.errors += [f"server: {f}" for f in server_faults(sorted(logs.glob("app-*.log")))]
        if args.per_page:
            print(f"\n{processes} process(es), {sessions} sessions: per page (server log; browser)")
            print("| page | runs | server p50 s | server p95 s | thread CPU p50 s | browser p50 s | browser p95 s |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for stem in stems:
                mine = [r for r in runs if r[0] == stem]
                seen = [t for s, t in timings if s == stem]
                cpu = statistics.median([r[2] for r in mine]) if mine else 0.0
                print(f"| {stem} | {len(mine)} | {p50_p95([r[1] for r in mine])} | {cpu:.2f} | {p50_p95(seen)} |")
    finally:
        sampler.stop.set()
        deployment.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[20], help="sessions at once; several: one run each")
    parser.add_argument("--processes", type=int, nargs="+", default=[1], help="server processes; several: one run each")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--data", default=str(ROOT / "sample_data"))
    parser.add_argument("--warm", action="store_true", help="open every page once on each process before measuring")
    parser.add_argument(
        "--browser-nice", type=int, default=10, help="the browsers' CPU priority below the servers' (0: the same)"
    )
    parser.add_argument("--browser-cpus", type=_cpus, help="pin the browsers to these CPUs, e.g. 1 or 2-3")
    parser.add_argument("--server-cpus", type=_cpus, help="pin the servers (and HAProxy) to these CPUs, e.g. 0")
    parser.add_argument("--page", action="append", dest="pages", help="only this page (its file name); repeatable")
    parser.add_argument("--per-page", action="store_true", help="also a table per page for each run")
    parser.add_argument("--logs", help="where to keep the servers' logs (default: a new temporary folder)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from app import page_files

    stems = [p.stem for p in page_files() if p.stem != "import_data" and (not args.pages or p.stem in args.pages)]
    if not stems:
        parser.error(f"no such page: {', '.join(args.pages)}")
    logs = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="childstat-load-"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so a stopped benchmark stops its servers too
    results = []
    for processes in args.processes:
        for sessions in args.sessions:
            run_logs = logs / f"p{processes}-s{sessions}"
            result = one_run(args, stems, processes, sessions, run_logs)
            results.append(result)
            print(f"{processes} process(es), {sessions} sessions: {result.wall:.0f} s; logs in {run_logs}\n{HEADER}\n"
                  f"{result.row()}", flush=True)  # fmt: skip
    print(f"\n{len(stems)} pages x {args.rounds} round(s) per session on {args.data}, {os.cpu_count()} CPUs, browsers "
          f"at nice +{args.browser_nice}" + (f" on CPUs {sorted(args.browser_cpus)}" if args.browser_cpus else "")
          + (f", servers on CPUs {sorted(args.server_cpus)}" if args.server_cpus else "")
          + (", warm (every page opened once per process first)" if args.warm else ", cold (fresh processes)"))  # fmt: skip
    print(HEADER)
    for result in results:
        print(result.row())
    failed = [r for r in results if r.errors]
    for result in failed:
        print(f"\nerrors with {result.processes} process(es), {result.sessions} sessions: {len(result.errors)}")
        print("".join(f"\n- {e}" for e in result.errors[:15]))
    return 1 if failed else 0


def _cpus(text: str) -> set[int]:
    cpus = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


if __name__ == "__main__":
    sys.exit(main())
