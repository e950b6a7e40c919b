"""Named questions: SQL files in sql/, model functions in models/, run by engine.Engine.

`python -m queries list` and `python -m queries run NAME` give every page's
numbers from the command line, through the same code the pages use.
"""

# The heavy modelling libraries are imported here, once, when the package is first imported.
# Streamlit runs each session's script in its own thread, and statsmodels imported lazily from
# two threads at once deadlocked the server under load (benchmarks/load.py, 8 sessions). Every
# import of them now goes through this package's import lock.
import scipy.stats  # noqa: F401
import statsmodels.api  # noqa: F401
from statsmodels.tsa.exponential_smoothing.ets import ETSModel  # noqa: F401
