"""The modelling libraries (scipy, statsmodels, scikit-learn, pandas), imported when first used, one thread at a time.

Most questions are SQL and need none of them, yet importing them costs 0.3 to 2.5 s each
(`python -X importtime`, docs/performance.md). So `import queries` imports none: a module that
needs one names it at the top,

    stats = library("scipy.stats")

and the first attribute read (`stats.norm.ppf`, when a question first runs) imports it.

Why a lock: Streamlit runs every session's script in its own thread of one process, and statsmodels
imported by two script threads at once deadlocked the server under load (benchmarks/load.py, 8
sessions). Every first import of these libraries goes through `_LOCK`, one re-entrant lock for the
whole process, so only one thread is ever importing them; a thread that wants a library another
is importing waits for it, whole. Nothing else waits on this lock, and the lock is never taken while
a module of ours is being imported (a library is only imported when a question runs, never at a
module's import), so no thread can hold one import and wait for the other. tests/test_lazy_imports.py
checks that no module under queries/ imports these libraries any other way.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

HEAVY = ("scipy", "statsmodels", "sklearn", "pandas")  # top-level packages only ever imported through `library`
_LOCK = threading.RLock()


class Library:
    """A module imported on first attribute read, under the process-wide import lock."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str):
        if name.split(".")[0] not in HEAVY:
            raise ValueError(f"{name} is not one of the modelling libraries ({', '.join(HEAVY)})")
        self._name = name
        self._module: ModuleType | None = None

    def load(self) -> ModuleType:
        module = self._module
        if module is None:
            with _LOCK:
                module = importlib.import_module(self._name)  # whole: another thread's import has ended
            self._module = module
        return module

    def __getattr__(self, attribute: str):
        return getattr(self.load(), attribute)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not yet imported"
        return f"<library {self._name}, {state}>"


def library(name: str) -> Library:
    """`name` (a module of scipy, statsmodels, scikit-learn or pandas), imported when first used."""
    return Library(name)


# What the questions name (kept here so a benchmark can import them all before it starts timing).
MODELLING = ("scipy.special", "scipy.stats", "pandas", "statsmodels.api", "statsmodels.tsa.exponential_smoothing.ets")


def import_all() -> None:
    """Import every modelling library a question uses now (a benchmark timing questions without imports)."""
    for name in MODELLING:
        library(name).load()
