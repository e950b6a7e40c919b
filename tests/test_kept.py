"""The bounded store of kept answers the NEET, services and compliance questions share."""

from __future__ import annotations

import threading

from queries.kept import KeptAnswers


def test_keeps_at_most_its_limit_dropping_the_least_recently_used():
    kept = KeptAnswers(2)
    kept.put("a", 1)
    kept.put("b", 2)
    assert kept.get("a") == 1  # "a" is now the more recently used
    kept.put("c", 3)
    assert len(kept) == 2
    assert kept.get("b") is None
    assert (kept.get("a"), kept.get("c")) == (1, 3)


def test_get_or_build_builds_once_and_keeps_falsy_answers():
    kept, calls = KeptAnswers(4), []

    def build():
        calls.append(1)
        return 0  # a falsy answer is still an answer

    assert kept.get_or_build("k", build) == 0
    assert kept.get_or_build("k", build) == 0
    assert calls == [1]


def test_many_threads_at_once_keep_it_bounded():
    kept = KeptAnswers(5)

    def work(start):
        for i in range(200):
            kept.get_or_build((start, i % 7), lambda i=i: i)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept) == 5
