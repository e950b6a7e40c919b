"""Several ChildStat processes behind HAProxy, started by deploy/run.sh, as docs/deploy.md describes.

Starts `deploy/run.sh --processes 2` on free loopback ports over a tiny extract reached through a
symlink, and checks: HAProxy's status page reports both processes up; a page loads through HAProxy
in the Debian Chromium with no exception box and a sticky-session cookie; switching the symlink to a
new extract is seen by an open session on its next page, over the same WebSocket (the session is not
dropped); killing one process leaves the site answering (its sessions start again on the other);
Ctrl-C stops every process. And the audit log, appended to by two processes at once, keeps every
line whole.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, PAGE_TIMEOUT_MS, wait_for_run

from app import page_meta
from tiny_extract import DEFAULT_MANIFEST, write_extract

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "deploy" / "run.sh"
START_TIMEOUT_S = 120  # two Streamlit processes starting on a busy 2-core machine
haproxy_missing = pytest.mark.skipif(
    os.environ.get("CHILDSTAT_CI") != "1" and not Path("/usr/sbin/haproxy").exists(),
    reason="HAProxy is not installed (apt-get install haproxy; .ci/run installs it)",
)


def free_port_block(size: int) -> int:
    """A port P with P .. P+size-1 all free right now (run.sh uses PORT, PORT+1.. and a status port)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + size > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + size):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no block of free ports")


@dataclass
class Deployment:
    base: str
    stats: str
    logs: Path
    process: subprocess.Popen

    def pid(self, name: str) -> int:
        return int((self.logs / f"{name}.pid").read_text())

    def servers(self) -> dict[str, str]:
        """HAProxy's view of the Streamlit processes: {"app1": "UP", ...} from its status page's CSV."""
        with urllib.request.urlopen(f"{self.stats}/;csv", timeout=5) as response:
            lines = response.read().decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
        return {r["svname"]: r["status"] for r in rows if r["pxname"] == "streamlit" and r["svname"] != "BACKEND"}


@contextlib.contextmanager
def deployment(tmp: Path, data: Path, processes: int = 2):
    port = free_port_block(processes + 1)
    stats_port = free_port_block(1)
    logs = tmp / "logs"
    env = {**os.environ, "PYTHON": sys.executable, "CHILDSTAT_CACHE": str(tmp / "cache")}
    command = [str(RUN), "--processes", str(processes), "--port", str(port), "--stats-port", str(stats_port),
               "--data", str(data), "--logs", str(logs)]  # fmt: skip
    out = (tmp / "run.out").open("wb")
    # SIGINT as a terminal's Ctrl-C sends it, even when the tests run where it is ignored (a shell cannot
    # trap a signal ignored when it started).
    restore_ctrl_c = lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)  # noqa: E731
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, preexec_fn=restore_ctrl_c
    )
    running = Deployment(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{stats_port}", logs, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Ctrl-C stops everything" not in (tmp / "run.out").read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"run.sh did not start:\n{(tmp / 'run.out').read_text()[-3000:]}")
            time.sleep(0.25)
        wait_until(lambda: set(running.servers().values()) == {"UP"}, "HAProxy to check every process")
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # as Ctrl-C: run.sh stops everything it started
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        out.close()


def wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if condition():
                return
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode(errors="replace")


def open_page(browser, url: str, title: str):
    """A new browser session on `url`, drawn to the end; returns (context, page, websockets it opened)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sockets = []
    page.on("websocket", lambda ws: sockets.append(ws))
    page.goto(url)
    wait_for_run(page, title)
    return context, page, sockets


def exception_boxes(page) -> list[str]:
    boxes = page.locator('[data-testid="stException"]')
    return [boxes.nth(i).inner_text()[:300] for i in range(boxes.count())]


def sidebar_text(page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def server_cookie(context) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == "CHILDSTAT_SERVER"), None)


@pytest.fixture
def extract_link(tmp_path):
    """The extract as a deployment names it: a symlink to a dated folder, switched to refresh."""
    link = tmp_path / "extract"
    link.symlink_to(write_extract(tmp_path / "extract-march"))
    return link


@haproxy_missing
@pytest.mark.browser
def test_two_processes_behind_haproxy_serve_pages_and_take_a_refresh_without_dropping_sessions(tmp_path, extract_link):
    from playwright.sync_api import sync_playwright

    other_title = page_meta(ROOT / "pages" / "caseload.py")["title"]  # the default page, at "/", is headed "ChildStat"
    with deployment(tmp_path, extract_link) as site, sync_playwright() as playwright:
        assert site.servers() == {"app1": "UP", "app2": "UP"}
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context, page, sockets = open_page(browser, f"{site.base}/", "ChildStat")
            assert exception_boxes(page) == []
            assert "Tiny Test Borough" in sidebar_text(page)
            assert server_cookie(context) in ("app1", "app2")  # the sticky session's process
            stream = [ws for ws in sockets if ws.url.endswith("/_stcore/stream")]
            assert len(stream) == 1

            # Refresh: a new extract in a new folder, then the symlink switched, as docs/deploy.md says.
            april = write_extract(
                tmp_path / "extract-april", manifest=DEFAULT_MANIFEST | {"la_name": "Refreshed Borough"}
            )
            extract_link.unlink()
            extract_link.symlink_to(april)
            page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=other_title).first.click()
            # The new page's own heading, not the old page's still on screen before the rerun starts (under load
            # the click's rerun can begin after wait_for_run's first checks have passed on the old page).
            page.locator('[data-testid="stMain"] h1').filter(has_text=other_title).first.wait_for(
                state="visible", timeout=PAGE_TIMEOUT_MS
            )
            wait_for_run(page, other_title)
            assert "Refreshed Borough" in sidebar_text(page)
            assert exception_boxes(page) == []
            # The same session, on the same WebSocket: nothing was dropped or reconnected.
            assert [ws.url for ws in sockets if ws.url.endswith("/_stcore/stream")] == [stream[0].url]
            assert not stream[0].is_closed()

            # A table's CSV is made when asked for, by the session's own process (the sticky cookie sends it there).
            with page.expect_download() as download:
                page.get_by_role("button", name="Download CSV").first.click()
            csv = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
            assert len(csv) > 1 and "," in csv[0]

            # A new visitor (possibly on the other process) sees the new extract too.
            context2, page2, _ = open_page(browser, f"{site.base}/", "ChildStat")
            assert "Refreshed Borough" in sidebar_text(page2)
            assert exception_boxes(page2) == []
            context2.close()
            context.close()
        finally:
            browser.close()


@haproxy_missing
@pytest.mark.browser
def test_killing_one_process_leaves_the_site_answering(tmp_path, extract_link):
    from playwright.sync_api import sync_playwright

    with deployment(tmp_path, extract_link) as site, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context, page, sockets = open_page(browser, f"{site.base}/", "ChildStat")
            victim = server_cookie(context)
            survivor = {"app1": "app2", "app2": "app1"}[victim]
            [stream] = [ws for ws in sockets if ws.url.endswith("/_stcore/stream")]
            reconnects = lambda ws: ws.url.endswith("/_stcore/stream")  # noqa: E731
            with page.expect_websocket(reconnects, timeout=90_000) as reconnected:
                os.kill(site.pid(f"app-{victim[-1]}"), signal.SIGKILL)
                # Before HAProxy's checks notice, a request for the dead process is sent to the other.
                assert get(f"{site.base}/_stcore/health") == (200, "ok")
                assert get(f"{site.base}/")[0] == 200
            # The browser whose process died reconnects by itself and gets its page again from the other one.
            assert stream.is_closed() and not reconnected.value.is_closed()
            wait_until(lambda: site.servers() == {victim: "DOWN", survivor: "UP"}, "HAProxy to mark it down")
            wait_for_run(page, "ChildStat")
            assert exception_boxes(page) == []
            assert "Tiny Test Borough" in sidebar_text(page)
            assert server_cookie(context) == survivor
            context.close()
        finally:
            browser.close()


@haproxy_missing
def test_ctrl_c_stops_every_process(tmp_path, extract_link):
    with deployment(tmp_path, extract_link, processes=1) as site:
        pids = [site.pid("app-1"), site.pid("haproxy")]
        assert all(alive(pid) for pid in pids)
        site.process.send_signal(signal.SIGINT)
        assert site.process.wait(timeout=30) == 130
    wait_until(lambda: not any(alive(pid) for pid in pids), "every process to stop", timeout=15)


WRITER = """
import sys
from pages import _audit
writer, count = sys.argv[1], int(sys.argv[2])
filler = "x" * 6000  # each line longer than a pipe's atomic write (4096 bytes), as a long filter list can be
for i in range(count):
    _audit.record("query", user=f"writer{writer}", role="analyst", hosted=True, key=b"k" * 32,
                  query="open_cases", filters={"n": i, "pad": filler})
"""


def test_two_processes_appending_to_one_audit_log_keep_every_line_whole(tmp_path):
    log = tmp_path / "audit" / "audit.jsonl"
    env = {**os.environ, "CHILDSTAT_AUDIT_LOG": str(log), "CHILDSTAT_CACHE": str(tmp_path / "cache")}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(w), "400"], cwd=ROOT, env=env) for w in (1, 2)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    lines = log.read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines]  # a torn or interleaved line fails here
    for writer in ("writer1", "writer2"):
        assert sorted(e["filters"]["n"] for e in entries if e["user"] == writer) == list(range(400))
    assert len(entries) == 800
    assert oct(log.stat().st_mode & 0o777) == "0o600"


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.mark.parametrize("enabled", ["1", ""])
def test_each_script_run_logs_its_page_and_time_only_when_asked(tiny_dir, monkeypatch, enabled):
    """CHILDSTAT_TIMING_LOG=1: one line per run naming the page file and its seconds (benchmarks/load.py reads
    them), nothing about who asked; unset: no line."""
    from streamlit.testing.v1 import AppTest

    from pages import _frame

    monkeypatch.setenv("CHILDSTAT_DATA", str(tiny_dir))
    monkeypatch.setenv("CHILDSTAT_TIMING_LOG", enabled)
    lines = Lines()
    monkeypatch.setattr(_frame.timing_log, "handlers", [lines])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/caseload.py").run()
    assert not at.exception
    if not enabled:
        assert lines.lines == []
        return
    pattern = re.compile(r"page_run page=(\w+) wall_s=(\d+\.\d{3}) cpu_s=(\d+\.\d{3}) outcome=(\w+)")
    runs = [pattern.fullmatch(line) for line in lines.lines]
    assert all(runs), lines.lines
    assert [(m[1], m[4]) for m in runs] == [("home", "done"), ("caseload", "done")]
    assert all(float(m[2]) > 0 for m in runs)
