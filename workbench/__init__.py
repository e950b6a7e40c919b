"""The analyst's workbench: what analysts write about an extract, kept apart from it.

Case-file audits (a reproducible random sample of a cohort's children, the questions their files
are read for, answers with their history, and estimates for the whole cohort) live in a workspace
database (workbench/workspace.py: SQLite by default, PostgreSQL for a hosted instance), never in the
extract. `python -m workbench` is the command line; docs/workbench.md explains it for an analyst.
"""
