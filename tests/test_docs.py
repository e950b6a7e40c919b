"""Documentation stays true: the analyst guide's example question runs, and the README's commands exist."""

import re
from pathlib import Path

from queries.registry import parse_sql_file

ROOT = Path(__file__).resolve().parent.parent


def test_adding_a_question_example_runs(tmp_path, tiny_engine):
    guide = (ROOT / "docs/adding-a-question.md").read_text()
    sql = re.search(r"```sql\n(.*?)```", guide, re.DOTALL).group(1)
    path = tmp_path / "seen_alone.sql"
    path.write_text(sql)
    query = parse_sql_file(path)
    assert query.title == "Children seen alone at their last visit"
    assert query.tables == ("visits", "referrals")
    # Tiny extract: visits in the 12 months to 2026-03-31 for C1, C2, C3, C5; seen alone last time: C1, C5.
    assert tiny_engine.run_query(query).row(0) == (4, 2, 50.0)
    assert tiny_engine.run_query(query, team_id="T2").row(0) == (2, 0, 0.0)
    # Its declaration at work: for a head of service the engine hides the small counts and the share.
    from queries.access import Scope
    from queries.disclosure import protect

    protected = protect(tiny_engine.run_query(query), query, Scope("head_of_service", "h"))
    assert protected.row(0) == (None, None, None)


def test_readme_gives_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci/run").read_text()
    assert "streamlit run app.py" in readme
    assert "python -m pytest" in readme and "python -m pytest" in ci
    assert "pip install -r requirements-dev.txt" in readme and "requirements-dev.txt" in ci


def test_every_doc_link_resolves():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(((?!https?:)[^)#]+)\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_files_childstat_writes_names_tests_that_exist():
    deploy = (ROOT / "docs/deploy.md").read_text()
    section = deploy.split("## 7. Files ChildStat writes", 1)[1]
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", section)
    assert len(named) >= 12
    for file, test in named:
        assert f"def {test}(" in (ROOT / file).read_text(), f"docs/deploy.md names missing {file}::{test}"


def test_security_names_tests_that_exist():
    """docs/security.md maps every protection to a test: each one named must exist."""
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", (ROOT / "docs/security.md").read_text())
    assert len(named) >= 30
    for file, test in named:
        assert f"def {test}(" in (ROOT / file).read_text(), f"docs/security.md names missing {file}::{test}"
