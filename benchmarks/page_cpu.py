"""CPU seconds per warm page view in one process, without browsers or a server.

    python -m benchmarks.page_cpu [--data DIR] [--passes 3]

Runs app.py through Streamlit's AppTest over every page (Import apart) once to warm it (extract
opened, models fitted, answers cached), then `--passes` more times, and prints the process's CPU
time (`time.process_time`, every thread) per page view of those passes. A quick before/after
measure of a change to the pages' own work; the load benchmark (benchmarks/load.py) measures the
same thing in real servers under concurrent sessions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.page_cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "sample_data"))
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ["CHILDSTAT_DATA"] = str(Path(args.data).resolve())
    sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    from app import page_files

    pages = [p for p in page_files() if p.stem != "import_data"]
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    app.run()
    for page in pages:
        app.switch_page(f"pages/{page.name}").run()
    started = time.process_time()
    for _ in range(args.passes):
        for page in pages:
            app.switch_page(f"pages/{page.name}").run()
    per_view = (time.process_time() - started) / (args.passes * len(pages))
    print(f"{per_view:.3f} s CPU per warm page view ({len(pages)} pages x {args.passes} passes, {args.data})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
