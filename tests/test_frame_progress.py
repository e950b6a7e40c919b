"""The app shows a progress bar while a large extract's database is built (issue 10), each step timed (issue 20)."""

import re

from pages._frame import _progress_bar
from queries.engine import Engine
from schemas.extract import open_extract


class FakePlace:
    """Stands in for st.empty(): records each progress() call."""

    def __init__(self):
        self.calls = []

    def progress(self, value, text):
        self.calls.append((value, text))


def test_building_the_database_moves_a_progress_bar_step_by_step(tiny_dir, tmp_path):
    place = FakePlace()
    engine = Engine(open_extract(tiny_dir), storage="database", cache_dir=tmp_path, progress=_progress_bar(place))
    engine.close()
    values = [value for value, _ in place.calls]
    texts = [text for _, text in place.calls]
    tables = sum("of" in t and t.startswith("Preparing") and "summary" not in t for t in texts)
    assert tables >= 10  # one step per usable table
    assert values == sorted(values) and 0 < values[0] < values[-1] < 1
    assert any("summary child_factor_first" in t for t in texts)
    # every step's time is in the bar's text once it is done
    assert (
        sum(re.search(r" done in \d+\.\d s \(\d+ of \d+\)$", t) is not None for t in texts)
        == len(engine.build_steps) - 1
    )
    assert texts[-1].startswith("Prepared")
    # Opened again: nothing to build, so no bar at all.
    again = FakePlace()
    Engine(open_extract(tiny_dir), storage="database", cache_dir=tmp_path, progress=_progress_bar(again)).close()
    assert again.calls == []
