"""Named questions: SQL files in sql/, model functions in models/, run by engine.Engine.

`python -m queries list` and `python -m queries run NAME` give every page's
numbers from the command line, through the same code the pages use.

The modelling libraries (scipy.stats, statsmodels, scikit-learn) are not imported with the package:
a question imports what it needs when it first runs, one thread at a time (queries/libraries.py).
"""
