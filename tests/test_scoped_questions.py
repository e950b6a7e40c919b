"""A question asked for one team or worker gives exactly the rows of the whole answer for that team or worker.

The visit-status macro skips children who never had a referral with the team or worker asked about
(a speed-up for all of England); these tests prove it drops nobody who belongs in the answer.
"""

import polars as pl
import pytest

SCOPED_QUESTIONS = ["overdue_visits", "due_soon", "worker_cases", "open_assessments"]


def whole_answer_for(engine, name: str, **scope) -> pl.DataFrame:
    whole = engine.run(name)
    for column, value in scope.items():
        whole = whole.filter(pl.col(column) == value)
    return whole


@pytest.mark.parametrize("name", SCOPED_QUESTIONS)
def test_team_and_worker_answers_are_the_whole_answer_filtered(sample_engine, name):
    teams = [r[0] for r in sample_engine.con.sql("SELECT team_id FROM teams ORDER BY team_id").fetchall()]
    workers = [
        r[0]
        for r in sample_engine.con.sql(
            "SELECT DISTINCT worker_id FROM referrals WHERE worker_id IS NOT NULL ORDER BY worker_id LIMIT 25"
        ).fetchall()
    ]
    non_empty = 0
    for team in teams:
        scoped = sample_engine.run(name, team_id=team)
        assert scoped.equals(whole_answer_for(sample_engine, name, team_id=team)), (name, team)
        non_empty += scoped.height > 0
    for worker in workers:
        scoped = sample_engine.run(name, worker_id=worker)
        assert scoped.equals(whole_answer_for(sample_engine, name, worker_id=worker)), (name, worker)
        non_empty += scoped.height > 0
    assert non_empty >= 5  # the comparison was about real rows, not empty answers
